//! Groups on MongoDB: the `groups` document and the `GroupStore` methods.

use async_trait::async_trait;
use bson::{doc, oid::ObjectId, Document};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{options::ReturnDocument, Collection};
use serde::{Deserialize, Serialize};

use super::{indexes::GROUPS, map_err, nullable, to_bson_time, users::regex_escape, MongoStore};
use crate::{
    model::{search_key, Group, GroupId, GroupPatch, UserId},
    store::{GroupStore, MemberRemoval, StoreResult},
};

/// A `groups` document, field for field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    group_name: String,
    /// Makes names unique case-insensitively and searchable without case folding at query time.
    group_name_lower: String,
    #[serde(default)]
    group_description: Option<String>,
    #[serde(default)]
    group_avatar: Option<String>,
    created_by: ObjectId,
    members: Vec<ObjectId>,
    admins: Vec<ObjectId>,
    is_active: bool,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<&Group> for GroupDoc {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id.0,
            group_name: g.group_name.clone(),
            group_name_lower: search_key(&g.group_name),
            group_description: g.group_description.clone(),
            group_avatar: g.group_avatar.clone(),
            created_by: g.created_by.0,
            members: g.members.iter().map(|id| id.0).collect(),
            admins: g.admins.iter().map(|id| id.0).collect(),
            is_active: g.is_active,
            created_at: to_bson_time(&g.created_at),
            updated_at: to_bson_time(&g.updated_at),
        }
    }
}

impl From<GroupDoc> for Group {
    fn from(d: GroupDoc) -> Self {
        Self {
            id: GroupId(d.id),
            group_name: d.group_name,
            group_description: d.group_description,
            group_avatar: d.group_avatar,
            created_by: UserId(d.created_by),
            members: d.members.into_iter().map(UserId).collect(),
            admins: d.admins.into_iter().map(UserId).collect(),
            is_active: d.is_active,
            created_at: d.created_at.to_chrono(),
            updated_at: d.updated_at.to_chrono(),
        }
    }
}

impl MongoStore {
    fn groups(&self) -> Collection<GroupDoc> {
        self.database().collection(GROUPS)
    }

    async fn update_one_group(
        &self,
        filter: Document,
        update: Document,
    ) -> StoreResult<Option<Group>> {
        let updated = self
            .groups()
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(updated.map(Group::from))
    }

    async fn find_groups(
        &self,
        filter: Document,
        sort: Document,
        limit: Option<i64>,
    ) -> StoreResult<Vec<Group>> {
        let groups = self.groups();
        let mut find = groups.find(filter).sort(sort);
        if let Some(limit) = limit {
            find = find.limit(limit);
        }
        let found: Vec<GroupDoc> = find
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found.into_iter().map(Group::from).collect())
    }
}

#[async_trait]
impl GroupStore for MongoStore {
    async fn insert_group(&self, group: Group) -> StoreResult<()> {
        self.groups()
            .insert_one(GroupDoc::from(&group))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn find_group(&self, id: GroupId) -> StoreResult<Option<Group>> {
        let found = self
            .groups()
            .find_one(doc! { "_id": id.0 })
            .await
            .map_err(map_err)?;
        Ok(found.map(Group::from))
    }

    async fn update_group(
        &self,
        id: GroupId,
        patch: GroupPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let mut set = doc! { "updatedAt": to_bson_time(&now) };
        if let Some(name) = &patch.group_name {
            set.insert("groupName", name);
            set.insert("groupNameLower", search_key(name));
        }
        if let Some(description) = patch.group_description {
            set.insert("groupDescription", nullable(description));
        }
        if let Some(avatar) = patch.group_avatar {
            set.insert("groupAvatar", nullable(avatar));
        }
        self.update_one_group(doc! { "_id": id.0 }, doc! { "$set": set })
            .await
    }

    async fn set_group_admins(
        &self,
        id: GroupId,
        admins: &[UserId],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let admins: Vec<ObjectId> = admins.iter().map(|id| id.0).collect();
        self.update_one_group(
            doc! { "_id": id.0, "members": { "$all": &admins } },
            doc! { "$set": { "admins": &admins, "updatedAt": to_bson_time(&now) } },
        )
        .await
    }

    async fn add_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let added = self
            .update_one_group(
                doc! { "_id": id.0, "members": { "$ne": user.0 } },
                doc! { "$push": { "members": user.0 }, "$set": { "updatedAt": to_bson_time(&now) } },
            )
            .await?;
        match added {
            Some(group) => Ok(Some(group)),
            None => self.find_group(id).await,
        }
    }

    async fn remove_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<MemberRemoval> {
        // One atomic update that refuses to remove the only admin.
        let removed = self
            .update_one_group(
                doc! {
                    "_id": id.0,
                    "members": user.0,
                    "$or": [ { "admins": { "$ne": user.0 } }, { "admins.1": { "$exists": true } } ],
                },
                doc! {
                    "$pull": { "members": user.0, "admins": user.0 },
                    "$set": { "updatedAt": to_bson_time(&now) },
                },
            )
            .await?;
        if let Some(group) = removed {
            return Ok(MemberRemoval::Removed(group));
        }
        Ok(match self.find_group(id).await? {
            None => MemberRemoval::NoGroup,
            Some(group) if !group.is_member(user) => MemberRemoval::NotMember,
            Some(_) => MemberRemoval::LastAdmin,
        })
    }

    async fn deactivate_group(
        &self,
        id: GroupId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let changed = self
            .update_one_group(
                doc! { "_id": id.0, "isActive": true },
                doc! { "$set": { "isActive": false, "updatedAt": to_bson_time(&now) } },
            )
            .await?;
        match changed {
            Some(group) => Ok(Some(group)),
            None => self.find_group(id).await,
        }
    }

    async fn groups_of_user(&self, user: UserId) -> StoreResult<Vec<Group>> {
        self.find_groups(
            doc! { "members": user.0, "isActive": true },
            doc! { "createdAt": -1, "_id": -1 },
            None,
        )
        .await
    }

    async fn count_groups_of_user(&self, user: UserId) -> StoreResult<u64> {
        self.groups()
            .count_documents(doc! { "members": user.0, "isActive": true })
            .await
            .map_err(map_err)
    }

    async fn search_groups(&self, needle: &str, limit: u32) -> StoreResult<Vec<Group>> {
        self.find_groups(
            doc! { "isActive": true, "groupNameLower": { "$regex": regex_escape(needle) } },
            doc! { "groupNameLower": 1 },
            Some(i64::from(limit)),
        )
        .await
    }
}

//! Users on MongoDB: the `users` document, profile search and blocks.

use async_trait::async_trait;
use bson::{doc, oid::ObjectId, Bson, Document};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{options::ReturnDocument, Collection};
use serde::{Deserialize, Serialize};

use super::{
    indexes::{BLOCKS, USERS},
    map_err, to_bson_time, MongoStore,
};
use crate::{
    model::{search_key, NewUser, ProfilePatch, Role, Standing, UserId, UserRecord},
    store::{PresenceChange, StoreResult, UserStore},
};

/// A `users` document, field for field.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    username: String,
    /// Lets usernames be unique case-insensitively and served by an index (filled in at start-up
    /// for users of the NestJS service, `backfill`).
    #[serde(default)]
    username_lower: String,
    email: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
    /// Lower-cased copies of the names, for indexed prefix search.
    #[serde(default)]
    first_name_lower: Option<String>,
    #[serde(default)]
    last_name_lower: Option<String>,
    avatar: Option<String>,
    #[serde(default = "never")]
    last_seen: bson::DateTime,
    #[serde(default)]
    is_online: bool,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    banned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suspended_until: Option<bson::DateTime>,
    /// Set on a deleted account's tombstone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_at: Option<bson::DateTime>,
}

/// `lastSeen` of a user who never connected (documents of the NestJS service may lack it).
fn never() -> bson::DateTime {
    bson::DateTime::from_millis(0)
}

impl From<&UserRecord> for UserDoc {
    fn from(user: &UserRecord) -> Self {
        Self {
            id: user.id.0,
            username: user.username.clone(),
            username_lower: search_key(&user.username),
            email: user.email.clone(),
            password: user.password_hash.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            first_name_lower: user.first_name.as_deref().map(search_key),
            last_name_lower: user.last_name.as_deref().map(search_key),
            avatar: user.avatar.clone(),
            last_seen: to_bson_time(&user.last_seen),
            is_online: user.is_online,
            created_at: to_bson_time(&user.created_at),
            updated_at: to_bson_time(&user.updated_at),
            roles: user.roles.clone(),
            banned: user.standing.banned(),
            suspended_until: user.standing.suspended_until().as_ref().map(to_bson_time),
            deleted_at: user.deleted_at.as_ref().map(to_bson_time),
        }
    }
}

impl From<UserDoc> for UserRecord {
    fn from(doc: UserDoc) -> Self {
        Self {
            id: UserId(doc.id),
            username: doc.username,
            email: doc.email,
            password_hash: doc.password,
            first_name: doc.first_name,
            last_name: doc.last_name,
            avatar: doc.avatar,
            last_seen: doc.last_seen.to_chrono(),
            is_online: doc.is_online,
            created_at: doc.created_at.to_chrono(),
            updated_at: doc.updated_at.to_chrono(),
            roles: doc.roles,
            standing: Standing::from_parts(
                doc.banned,
                doc.suspended_until.map(|at| at.to_chrono()),
            ),
            deleted_at: doc.deleted_at.map(|at| at.to_chrono()),
        }
    }
}

impl UserDoc {
    /// What a change of `isOnline` tells the realtime nodes.
    pub(crate) fn presence(&self) -> PresenceChange {
        PresenceChange {
            user_id: UserId(self.id),
            is_online: self.is_online,
            last_seen: self.last_seen.to_chrono(),
        }
    }
}

/// A `blocks` document: `blocker` blocks `blocked`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDoc {
    blocker: ObjectId,
    blocked: ObjectId,
    created_at: bson::DateTime,
}

impl MongoStore {
    pub(crate) fn users(&self) -> Collection<UserDoc> {
        self.database().collection(USERS)
    }

    fn blocks_collection(&self) -> Collection<BlockDoc> {
        self.database().collection(BLOCKS)
    }
}

#[async_trait]
impl UserStore for MongoStore {
    async fn insert_user(&self, user: NewUser) -> StoreResult<UserRecord> {
        let record = user.into_record();
        self.users()
            .insert_one(UserDoc::from(&record))
            .await
            .map_err(map_err)?;
        Ok(record)
    }

    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let found = self
            .users()
            .find_one(doc! { "_id": id.0 })
            .await
            .map_err(map_err)?;
        Ok(found.map(UserRecord::from))
    }

    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        let found = self
            .users()
            .find_one(doc! { "email": email.to_lowercase() })
            .await
            .map_err(map_err)?;
        Ok(found.map(UserRecord::from))
    }

    async fn update_user_profile(
        &self,
        id: UserId,
        patch: ProfilePatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        let mut set = doc! { "updatedAt": to_bson_time(&now) };
        if let Some(username) = &patch.username {
            set.insert("username", username);
            set.insert("usernameLower", search_key(username));
        }
        set_name(&mut set, "firstName", "firstNameLower", &patch.first_name);
        set_name(&mut set, "lastName", "lastNameLower", &patch.last_name);
        if let Some(avatar) = &patch.avatar {
            set.insert("avatar", avatar.clone().map_or(Bson::Null, Bson::String));
        }
        let updated = self
            .users()
            .find_one_and_update(doc! { "_id": id.0 }, doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(updated.map(UserRecord::from))
    }

    async fn set_user_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = self
            .users()
            .update_one(
                doc! { "_id": id.0 },
                doc! { "$set": { "password": password_hash, "updatedAt": to_bson_time(&now) } },
            )
            .await
            .map_err(map_err)?;
        Ok(result.matched_count == 1)
    }

    async fn find_users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserRecord>> {
        let ids: Vec<ObjectId> = ids.iter().map(|id| id.0).collect();
        let found: Vec<UserDoc> = self
            .users()
            .find(doc! { "_id": { "$in": ids } })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found.into_iter().map(UserRecord::from).collect())
    }

    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = self
            .blocks_collection()
            .update_one(
                doc! { "blocker": blocker.0, "blocked": blocked.0 },
                doc! { "$setOnInsert": { "createdAt": to_bson_time(&now) } },
            )
            .upsert(true)
            .await
            .map_err(map_err)?;
        Ok(result.upserted_id.is_some())
    }

    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
        let result = self
            .blocks_collection()
            .delete_one(doc! { "blocker": blocker.0, "blocked": blocked.0 })
            .await
            .map_err(map_err)?;
        Ok(result.deleted_count == 1)
    }

    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>> {
        let blocks: Vec<BlockDoc> = self
            .blocks_collection()
            .find(doc! { "blocker": blocker.0 })
            .sort(doc! { "createdAt": -1, "blocked": 1 })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(blocks
            .into_iter()
            .map(|block| UserId(block.blocked))
            .collect())
    }

    async fn blocks(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
        let found = self
            .blocks_collection()
            .find_one(doc! { "blocker": blocker.0, "blocked": blocked.0 })
            .await
            .map_err(map_err)?;
        Ok(found.is_some())
    }

    async fn set_user_roles(
        &self,
        id: UserId,
        roles: Vec<Role>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        let roles: Vec<&str> = roles.iter().map(Role::as_str).collect();
        let updated = self
            .users()
            .find_one_and_update(
                doc! { "_id": id.0, "deletedAt": Bson::Null },
                doc! { "$set": { "roles": roles, "updatedAt": to_bson_time(&now) } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(updated.map(UserRecord::from))
    }

    async fn set_user_standing(
        &self,
        id: UserId,
        standing: Standing,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        let until = standing
            .suspended_until()
            .as_ref()
            .map_or(Bson::Null, |at| Bson::DateTime(to_bson_time(at)));
        let updated = self
            .users()
            .find_one_and_update(
                doc! { "_id": id.0, "deletedAt": Bson::Null },
                doc! { "$set": {
                    "banned": standing.banned(),
                    "suspendedUntil": until,
                    "updatedAt": to_bson_time(&now),
                } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(updated.map(UserRecord::from))
    }

    async fn tombstone_user(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<bool> {
        let at = to_bson_time(&now);
        let result = self
            .users()
            .update_one(
                doc! { "_id": id.0, "deletedAt": Bson::Null },
                doc! {
                    "$set": {
                        "email": format!("{id}@deleted.invalid"),
                        "password": "",
                        "firstName": Bson::Null,
                        "firstNameLower": Bson::Null,
                        "lastName": Bson::Null,
                        "lastNameLower": Bson::Null,
                        "avatar": Bson::Null,
                        "roles": [],
                        "isOnline": false,
                        "deletedAt": at,
                        "updatedAt": at,
                    },
                },
            )
            .await
            .map_err(map_err)?;
        self.blocks_collection()
            .delete_many(doc! { "$or": [{ "blocker": id.0 }, { "blocked": id.0 }] })
            .await
            .map_err(map_err)?;
        Ok(result.modified_count == 1)
    }

    async fn release_usernames(&self, deleted_before: DateTime<Utc>) -> StoreResult<u64> {
        let held: Vec<UserDoc> = self
            .users()
            .find(doc! {
                "deletedAt": { "$lt": to_bson_time(&deleted_before) },
                "usernameReleased": { "$ne": true },
            })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        let mut released = 0;
        for user in held {
            let freed = format!("deleted-{}", UserId(user.id));
            if user.username_lower == freed {
                continue;
            }
            let result = self
                .users()
                .update_one(
                    doc! { "_id": user.id },
                    doc! { "$set": {
                        "username": &freed,
                        "usernameLower": &freed,
                        "usernameReleased": true,
                    } },
                )
                .await
                .map_err(map_err)?;
            released += result.modified_count;
        }
        Ok(released)
    }

    async fn set_last_seen(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        let updated = self
            .users()
            .find_one_and_update(
                doc! { "_id": id.0 },
                doc! { "$set": { "lastSeen": to_bson_time(&at) } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(updated.map(UserRecord::from))
    }

    async fn search_users(
        &self,
        prefix: &str,
        exclude: UserId,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        // Anchored, case-sensitive regexes on the lower-cased fields: each is an index range scan.
        let anchored = format!("^{}", regex_escape(prefix));
        let filter = doc! {
            "_id": { "$ne": exclude.0 },
            "deletedAt": Bson::Null,
            "$or": [
                { "usernameLower": { "$regex": &anchored } },
                { "firstNameLower": { "$regex": &anchored } },
                { "lastNameLower": { "$regex": &anchored } },
            ],
        };
        let found: Vec<UserDoc> = self
            .users()
            .find(filter)
            .sort(doc! { "usernameLower": 1 })
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found.into_iter().map(UserRecord::from).collect())
    }
}

fn set_name(set: &mut Document, field: &str, lower_field: &str, change: &Option<Option<String>>) {
    if let Some(value) = change {
        set.insert(field, value.clone().map_or(Bson::Null, Bson::String));
        set.insert(
            lower_field,
            value
                .as_deref()
                .map(search_key)
                .map_or(Bson::Null, Bson::String),
        );
    }
}

/// Escapes every regex metacharacter so user input matches literally.
pub fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\^$.|?*+()[]{}-/#".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(super::regex_escape("a.b*(c)"), "a\\.b\\*\\(c\\)");
        assert_eq!(super::regex_escape("plain"), "plain");
    }
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{
    feed::record, map_err, parse_column, parse_id_list, parse_time, placeholders, SqliteStore,
};
use crate::{
    model::{search_key, Group, GroupId, GroupPatch, UserId},
    store::{Change, GroupStore, MemberRemoval, StoreResult},
    time::to_iso,
};

/// Every column of a group; members and admins as JSON arrays in joining order.
const COLUMNS: &str = "g.id, g.group_name, g.group_description, g.group_avatar, g.created_by, \
    g.is_active, g.created_at, g.updated_at, \
    (SELECT json_group_array(user_id) FROM (SELECT gm.user_id FROM group_members gm \
      WHERE gm.group_id = g.id ORDER BY gm.rowid)) AS members, \
    (SELECT json_group_array(user_id) FROM (SELECT gm.user_id FROM group_members gm \
      WHERE gm.group_id = g.id AND gm.is_admin = 1 ORDER BY gm.rowid)) AS admins";

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    group_name: String,
    group_description: Option<String>,
    group_avatar: Option<String>,
    created_by: String,
    is_active: bool,
    created_at: String,
    updated_at: String,
    members: String,
    admins: String,
}

impl GroupRow {
    fn into_group(self) -> StoreResult<Group> {
        Ok(Group {
            id: parse_column("groups.id", &self.id)?,
            group_name: self.group_name,
            group_description: self.group_description,
            group_avatar: self.group_avatar,
            created_by: parse_column("groups.created_by", &self.created_by)?,
            members: parse_id_list("group members", &self.members)?,
            admins: parse_id_list("group admins", &self.admins)?,
            is_active: self.is_active,
            created_at: parse_time("groups.created_at", &self.created_at)?,
            updated_at: parse_time("groups.updated_at", &self.updated_at)?,
        })
    }
}

async fn load(conn: &mut SqliteConnection, id: GroupId) -> StoreResult<Option<Group>> {
    let sql = format!("SELECT {COLUMNS} FROM groups g WHERE g.id = ?");
    sqlx::query_as::<_, GroupRow>(&sql)
        .bind(id.to_hex())
        .fetch_optional(conn)
        .await
        .map_err(map_err)?
        .map(GroupRow::into_group)
        .transpose()
}

async fn touch(conn: &mut SqliteConnection, id: GroupId, now: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE groups SET updated_at = ? WHERE id = ?")
        .bind(to_iso(&now))
        .bind(id.to_hex())
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Loads the group after a change, records the change on the feed and commits.
async fn finish(
    mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    id: GroupId,
    now: DateTime<Utc>,
) -> StoreResult<Option<Group>> {
    let group = load(&mut tx, id).await?;
    if let Some(group) = &group {
        record(&mut tx, &Change::GroupChanged(group.clone()), now).await?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(group)
}

fn collect(rows: Vec<GroupRow>) -> StoreResult<Vec<Group>> {
    rows.into_iter().map(GroupRow::into_group).collect()
}

/// `%`, `_` and `\` match literally in a LIKE pattern once escaped.
fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[async_trait]
impl GroupStore for SqliteStore {
    async fn insert_group(&self, group: Group) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO groups (id, group_name, group_name_lower, group_description, group_avatar, \
             created_by, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(group.id.to_hex())
        .bind(&group.group_name)
        .bind(search_key(&group.group_name))
        .bind(&group.group_description)
        .bind(&group.group_avatar)
        .bind(group.created_by.to_hex())
        .bind(group.is_active)
        .bind(to_iso(&group.created_at))
        .bind(to_iso(&group.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        for member in &group.members {
            sqlx::query("INSERT INTO group_members (group_id, user_id, is_admin) VALUES (?, ?, ?)")
                .bind(group.id.to_hex())
                .bind(member.to_hex())
                .bind(group.is_admin(*member))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let at = group.created_at;
        record(&mut tx, &Change::GroupChanged(group), at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_group(&self, id: GroupId) -> StoreResult<Option<Group>> {
        let mut conn = self.pool().acquire().await.map_err(map_err)?;
        load(&mut conn, id).await
    }

    async fn update_group(
        &self,
        id: GroupId,
        patch: GroupPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let mut tx = self.write().await?;
        let updated = sqlx::query(
            "UPDATE groups SET \
               group_name = COALESCE(?1, group_name), \
               group_name_lower = COALESCE(?2, group_name_lower), \
               group_description = CASE WHEN ?3 THEN ?4 ELSE group_description END, \
               group_avatar = CASE WHEN ?5 THEN ?6 ELSE group_avatar END, \
               updated_at = ?7 \
             WHERE id = ?8",
        )
        .bind(&patch.group_name)
        .bind(patch.group_name.as_deref().map(search_key))
        .bind(patch.group_description.is_some())
        .bind(patch.group_description.flatten())
        .bind(patch.group_avatar.is_some())
        .bind(patch.group_avatar.flatten())
        .bind(to_iso(&now))
        .bind(id.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        finish(tx, id, now).await
    }

    async fn set_group_admins(
        &self,
        id: GroupId,
        admins: &[UserId],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let mut tx = self.write().await?;
        let sql = format!(
            "UPDATE group_members SET is_admin = (user_id IN ({})) WHERE group_id = ?",
            placeholders(admins.len())
        );
        let mut query = sqlx::query(&sql);
        for admin in admins {
            query = query.bind(admin.to_hex());
        }
        let touched = query
            .bind(id.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if touched == 0 {
            return Ok(None);
        }
        touch(&mut tx, id, now).await?;
        finish(tx, id, now).await
    }

    async fn add_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let mut tx = self.write().await?;
        let added = sqlx::query(
            "INSERT OR IGNORE INTO group_members (group_id, user_id, is_admin) \
             SELECT id, ?, 0 FROM groups WHERE id = ?",
        )
        .bind(user.to_hex())
        .bind(id.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if added == 0 {
            let group = load(&mut tx, id).await?;
            return Ok(group);
        }
        touch(&mut tx, id, now).await?;
        finish(tx, id, now).await
    }

    async fn remove_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<MemberRemoval> {
        let mut tx = self.write().await?;
        let Some(group) = load(&mut tx, id).await? else {
            return Ok(MemberRemoval::NoGroup);
        };
        if !group.is_member(user) {
            return Ok(MemberRemoval::NotMember);
        }
        if group.admins == [user] {
            return Ok(MemberRemoval::LastAdmin);
        }
        sqlx::query("DELETE FROM group_members WHERE group_id = ? AND user_id = ?")
            .bind(id.to_hex())
            .bind(user.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        touch(&mut tx, id, now).await?;
        Ok(match finish(tx, id, now).await? {
            Some(group) => MemberRemoval::Removed(group),
            None => MemberRemoval::NoGroup,
        })
    }

    async fn deactivate_group(
        &self,
        id: GroupId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(
            "UPDATE groups SET is_active = 0, updated_at = ? WHERE id = ? AND is_active = 1",
        )
        .bind(to_iso(&now))
        .bind(id.to_hex())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if changed == 0 {
            return load(&mut tx, id).await;
        }
        finish(tx, id, now).await
    }

    async fn groups_of_user(&self, user: UserId) -> StoreResult<Vec<Group>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM groups g JOIN group_members mine ON mine.group_id = g.id \
             WHERE mine.user_id = ? AND g.is_active = 1 ORDER BY g.created_at DESC, g.id DESC"
        );
        let rows = sqlx::query_as::<_, GroupRow>(&sql)
            .bind(user.to_hex())
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        collect(rows)
    }

    async fn count_groups_of_user(&self, user: UserId) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_members mine JOIN groups g ON g.id = mine.group_id \
             WHERE mine.user_id = ? AND g.is_active = 1",
        )
        .bind(user.to_hex())
        .fetch_one(self.pool())
        .await
        .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn search_groups(&self, needle: &str, limit: u32) -> StoreResult<Vec<Group>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM groups g WHERE g.is_active = 1 \
             AND g.group_name_lower LIKE ? ESCAPE '\\' ORDER BY g.group_name_lower LIMIT ?"
        );
        let rows = sqlx::query_as::<_, GroupRow>(&sql)
            .bind(format!("%{}%", like_escape(needle)))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        collect(rows)
    }
}

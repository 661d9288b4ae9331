//! Groups on SQLite: groups, members and admins, and a sender's standing in a group.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, Connection, Row};

use super::{
    all, count, execute, feed::record, one, optional, parse_column, parse_id_list, parse_time,
    placeholders, SqliteStore,
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
    /// Reads the columns of `COLUMNS`, in order.
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            group_name: row.get(1)?,
            group_description: row.get(2)?,
            group_avatar: row.get(3)?,
            created_by: row.get(4)?,
            is_active: row.get(5)?,
            created_at: row.get(6)?,
            updated_at: row.get(7)?,
            members: row.get(8)?,
            admins: row.get(9)?,
        })
    }

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

fn load(conn: &Connection, id: GroupId) -> StoreResult<Option<Group>> {
    let sql = format!("SELECT {COLUMNS} FROM groups g WHERE g.id = ?");
    optional(conn, &sql, [id.to_hex()], GroupRow::read)?
        .map(GroupRow::into_group)
        .transpose()
}

/// Where a sender stands towards a group (inside another operation's transaction).
pub(crate) enum Standing {
    NoGroup,
    NotMember,
    Member,
}

pub(crate) fn standing(conn: &Connection, id: GroupId, user: UserId) -> StoreResult<Standing> {
    let member = optional(
        conn,
        "SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2) \
         FROM groups WHERE id = ?1 AND is_active = 1",
        params![id.to_hex(), user.to_hex()],
        |row| row.get::<_, bool>(0),
    )?;
    Ok(match member {
        None => Standing::NoGroup,
        Some(false) => Standing::NotMember,
        Some(true) => Standing::Member,
    })
}

fn touch(conn: &Connection, id: GroupId, now: DateTime<Utc>) -> StoreResult<()> {
    execute(
        conn,
        "UPDATE groups SET updated_at = ? WHERE id = ?",
        params![to_iso(&now), id.to_hex()],
    )?;
    Ok(())
}

/// Loads the group after a change and records the change on the feed.
fn finish(conn: &Connection, id: GroupId, now: DateTime<Utc>) -> StoreResult<Option<Group>> {
    let group = load(conn, id)?;
    if let Some(group) = &group {
        record(conn, &Change::GroupChanged(group.clone()), now)?;
    }
    Ok(group)
}

fn groups(rows: Vec<GroupRow>) -> StoreResult<Vec<Group>> {
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
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT INTO groups (id, group_name, group_name_lower, group_description, \
                     group_avatar, created_by, is_active, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        group.id.to_hex(),
                        group.group_name,
                        search_key(&group.group_name),
                        group.group_description,
                        group.group_avatar,
                        group.created_by.to_hex(),
                        group.is_active,
                        to_iso(&group.created_at),
                        to_iso(&group.updated_at),
                    ],
                )?;
                for member in &group.members {
                    execute(
                        conn,
                        "INSERT INTO group_members (group_id, user_id, is_admin) VALUES (?, ?, ?)",
                        params![group.id.to_hex(), member.to_hex(), group.is_admin(*member)],
                    )?;
                }
                let at = group.created_at;
                record(conn, &Change::GroupChanged(group), at)
            })
            .await
    }

    async fn find_group(&self, id: GroupId) -> StoreResult<Option<Group>> {
        self.engine().read(move |conn| load(conn, id)).await
    }

    async fn update_group(
        &self,
        id: GroupId,
        patch: GroupPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        self.engine()
            .write(move |conn| {
                let updated = execute(
                    conn,
                    "UPDATE groups SET \
                       group_name = COALESCE(?1, group_name), \
                       group_name_lower = COALESCE(?2, group_name_lower), \
                       group_description = CASE WHEN ?3 THEN ?4 ELSE group_description END, \
                       group_avatar = CASE WHEN ?5 THEN ?6 ELSE group_avatar END, \
                       updated_at = ?7 \
                     WHERE id = ?8",
                    params![
                        patch.group_name,
                        patch.group_name.as_deref().map(search_key),
                        patch.group_description.is_some(),
                        patch.group_description.clone().flatten(),
                        patch.group_avatar.is_some(),
                        patch.group_avatar.clone().flatten(),
                        to_iso(&now),
                        id.to_hex(),
                    ],
                )?;
                if updated == 0 {
                    return Ok(None);
                }
                finish(conn, id, now)
            })
            .await
    }

    async fn set_group_admins(
        &self,
        id: GroupId,
        admins: &[UserId],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        let mut values: Vec<String> = admins.iter().map(UserId::to_hex).collect();
        values.push(id.to_hex());
        self.engine()
            .write(move |conn| {
                let sql = format!(
                    "UPDATE group_members SET is_admin = (user_id IN ({})) WHERE group_id = ?",
                    placeholders(values.len() - 1)
                );
                let touched = execute(conn, &sql, params_from_iter(&values))?;
                if touched == 0 {
                    return Ok(None);
                }
                touch(conn, id, now)?;
                finish(conn, id, now)
            })
            .await
    }

    async fn add_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        self.engine()
            .write(move |conn| {
                let added = execute(
                    conn,
                    "INSERT OR IGNORE INTO group_members (group_id, user_id, is_admin) \
                     SELECT id, ?, 0 FROM groups WHERE id = ?",
                    params![user.to_hex(), id.to_hex()],
                )?;
                if added == 0 {
                    return load(conn, id);
                }
                touch(conn, id, now)?;
                finish(conn, id, now)
            })
            .await
    }

    async fn remove_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<MemberRemoval> {
        self.engine()
            .write(move |conn| {
                let Some(group) = load(conn, id)? else {
                    return Ok(MemberRemoval::NoGroup);
                };
                if !group.is_member(user) {
                    return Ok(MemberRemoval::NotMember);
                }
                if group.admins == [user] {
                    return Ok(MemberRemoval::LastAdmin);
                }
                execute(
                    conn,
                    "DELETE FROM group_members WHERE group_id = ? AND user_id = ?",
                    params![id.to_hex(), user.to_hex()],
                )?;
                touch(conn, id, now)?;
                Ok(match finish(conn, id, now)? {
                    Some(group) => MemberRemoval::Removed(group),
                    None => MemberRemoval::NoGroup,
                })
            })
            .await
    }

    async fn deactivate_group(
        &self,
        id: GroupId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>> {
        self.engine()
            .write(move |conn| {
                let changed = execute(
                    conn,
                    "UPDATE groups SET is_active = 0, updated_at = ? WHERE id = ? AND is_active = 1",
                    params![to_iso(&now), id.to_hex()],
                )?;
                if changed == 0 {
                    return load(conn, id);
                }
                finish(conn, id, now)
            })
            .await
    }

    async fn groups_of_user(&self, user: UserId) -> StoreResult<Vec<Group>> {
        self.engine()
            .read(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM groups g JOIN group_members mine ON mine.group_id = g.id \
                     WHERE mine.user_id = ? AND g.is_active = 1 ORDER BY g.created_at DESC, g.id DESC"
                );
                groups(all(conn, &sql, [user.to_hex()], GroupRow::read)?)
            })
            .await
    }

    async fn count_groups_of_user(&self, user: UserId) -> StoreResult<u64> {
        self.engine()
            .read(move |conn| {
                one(
                    conn,
                    "SELECT COUNT(*) FROM group_members mine JOIN groups g ON g.id = mine.group_id \
                     WHERE mine.user_id = ? AND g.is_active = 1",
                    [user.to_hex()],
                    |row| row.get::<_, i64>(0),
                )
                .map(count)
            })
            .await
    }

    async fn search_groups(&self, needle: &str, limit: u32) -> StoreResult<Vec<Group>> {
        let pattern = format!("%{}%", like_escape(needle));
        self.engine()
            .read(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM groups g WHERE g.is_active = 1 \
                     AND g.group_name_lower LIKE ? ESCAPE '\\' ORDER BY g.group_name_lower LIMIT ?"
                );
                groups(all(
                    conn,
                    &sql,
                    params![pattern, i64::from(limit)],
                    GroupRow::read,
                )?)
            })
            .await
    }
}

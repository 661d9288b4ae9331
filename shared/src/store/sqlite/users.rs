//! Users on SQLite: accounts, prefix search on lower-cased copies, blocks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, Connection, Row};

use super::{all, execute, optional, parse_column, parse_time, placeholders, SqliteStore};
use crate::{
    model::{
        roles_from_text, roles_to_text, search_key, NewUser, ProfilePatch, Role, Standing, UserId,
        UserRecord,
    },
    store::{StoreResult, UserStore},
    time::to_iso,
};

struct UserRow {
    id: String,
    username: String,
    email: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
    avatar: Option<String>,
    last_seen: String,
    is_online: bool,
    created_at: String,
    updated_at: String,
    roles: String,
    banned: bool,
    suspended_until: Option<String>,
    deleted_at: Option<String>,
}

impl UserRow {
    /// Reads the columns of `COLUMNS`, in order.
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            username: row.get(1)?,
            email: row.get(2)?,
            password: row.get(3)?,
            first_name: row.get(4)?,
            last_name: row.get(5)?,
            avatar: row.get(6)?,
            last_seen: row.get(7)?,
            is_online: row.get(8)?,
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
            roles: row.get(11)?,
            banned: row.get(12)?,
            suspended_until: row.get(13)?,
            deleted_at: row.get(14)?,
        })
    }

    fn into_record(self) -> StoreResult<UserRecord> {
        Ok(UserRecord {
            id: parse_column("users.id", &self.id)?,
            username: self.username,
            email: self.email,
            password_hash: self.password,
            first_name: self.first_name,
            last_name: self.last_name,
            avatar: self.avatar,
            last_seen: parse_time("users.last_seen", &self.last_seen)?,
            is_online: self.is_online,
            created_at: parse_time("users.created_at", &self.created_at)?,
            updated_at: parse_time("users.updated_at", &self.updated_at)?,
            roles: roles_from_text(&self.roles),
            standing: Standing::from_parts(
                self.banned,
                self.suspended_until
                    .map(|at| parse_time("users.suspended_until", &at))
                    .transpose()?,
            ),
            deleted_at: self
                .deleted_at
                .map(|at| parse_time("users.deleted_at", &at))
                .transpose()?,
        })
    }
}

const COLUMNS: &str = "id, username, email, password, first_name, last_name, avatar, last_seen, \
                       is_online, created_at, updated_at, roles, banned, suspended_until, \
                       deleted_at";

fn records(rows: Vec<UserRow>) -> StoreResult<Vec<UserRecord>> {
    rows.into_iter().map(UserRow::into_record).collect()
}

/// Whether user `id` exists and was not deleted (inside another operation's transaction).
pub(crate) fn exists(conn: &Connection, id: UserId) -> StoreResult<bool> {
    Ok(optional(
        conn,
        "SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL",
        [id.to_hex()],
        |row| row.get::<_, i64>(0),
    )?
    .is_some())
}

/// Whether `blocker` blocks `blocked` (inside another operation's transaction).
pub(crate) fn blocks(conn: &Connection, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
    Ok(optional(
        conn,
        "SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?",
        [blocker.to_hex(), blocked.to_hex()],
        |row| row.get::<_, i64>(0),
    )?
    .is_some())
}

impl SqliteStore {
    async fn find_user_where(
        &self,
        column: &'static str,
        value: String,
    ) -> StoreResult<Option<UserRecord>> {
        self.engine()
            .read(move |conn| {
                let sql = format!("SELECT {COLUMNS} FROM users WHERE {column} = ?");
                optional(conn, &sql, [value], UserRow::read)?
                    .map(UserRow::into_record)
                    .transpose()
            })
            .await
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: NewUser) -> StoreResult<UserRecord> {
        let record = user.into_record();
        let stored = record.clone();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT INTO users (id, username, username_lower, email, password, first_name, \
                     first_name_lower, last_name, last_name_lower, avatar, last_seen, is_online, \
                     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        stored.id.to_hex(),
                        stored.username,
                        search_key(&stored.username),
                        stored.email,
                        stored.password_hash,
                        stored.first_name,
                        stored.first_name.as_deref().map(search_key),
                        stored.last_name,
                        stored.last_name.as_deref().map(search_key),
                        stored.avatar,
                        to_iso(&stored.last_seen),
                        stored.is_online,
                        to_iso(&stored.created_at),
                        to_iso(&stored.updated_at),
                    ],
                )
            })
            .await?;
        Ok(record)
    }

    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.find_user_where("id", id.to_hex()).await
    }

    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        self.find_user_where("email", email.to_lowercase()).await
    }

    async fn update_user_profile(
        &self,
        id: UserId,
        patch: ProfilePatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        self.engine()
            .write(move |conn| {
                // One statement: each optional field is "keep" (flag 0) or "set to this value"
                // (flag 1).
                let sql = format!(
                    "UPDATE users SET \
                       username = COALESCE(?1, username), \
                       username_lower = COALESCE(?2, username_lower), \
                       first_name = CASE WHEN ?3 THEN ?4 ELSE first_name END, \
                       first_name_lower = CASE WHEN ?3 THEN ?5 ELSE first_name_lower END, \
                       last_name = CASE WHEN ?6 THEN ?7 ELSE last_name END, \
                       last_name_lower = CASE WHEN ?6 THEN ?8 ELSE last_name_lower END, \
                       avatar = CASE WHEN ?9 THEN ?10 ELSE avatar END, \
                       updated_at = ?11 \
                     WHERE id = ?12 RETURNING {COLUMNS}"
                );
                let first_name = patch.first_name.clone().flatten();
                let last_name = patch.last_name.clone().flatten();
                optional(
                    conn,
                    &sql,
                    params![
                        patch.username,
                        patch.username.as_deref().map(search_key),
                        patch.first_name.is_some(),
                        first_name,
                        first_name.as_deref().map(search_key),
                        patch.last_name.is_some(),
                        last_name,
                        last_name.as_deref().map(search_key),
                        patch.avatar.is_some(),
                        patch.avatar.clone().flatten(),
                        to_iso(&now),
                        id.to_hex(),
                    ],
                    UserRow::read,
                )?
                .map(UserRow::into_record)
                .transpose()
            })
            .await
    }

    async fn set_user_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let password_hash = password_hash.to_owned();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "UPDATE users SET password = ?, updated_at = ? WHERE id = ?",
                    params![password_hash, to_iso(&now), id.to_hex()],
                )
                .map(|changed| changed == 1)
            })
            .await
    }

    async fn search_users(
        &self,
        prefix: &str,
        exclude: UserId,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        let prefix = prefix.to_owned();
        self.engine()
            .read(move |conn| {
                let sql = format!("SELECT {COLUMNS} FROM users WHERE {SEARCH_USERS_WHERE}");
                let upper = prefix_upper_bound(&prefix);
                records(all(
                    conn,
                    &sql,
                    params![prefix, upper, exclude.to_hex(), i64::from(limit)],
                    UserRow::read,
                )?)
            })
            .await
    }

    async fn find_users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(UserId::to_hex).collect();
        self.engine()
            .read(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM users WHERE id IN ({})",
                    placeholders(ids.len())
                );
                records(all(conn, &sql, params_from_iter(&ids), UserRow::read)?)
            })
            .await
    }

    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT OR IGNORE INTO blocks (blocker, blocked, created_at) VALUES (?, ?, ?)",
                    params![blocker.to_hex(), blocked.to_hex(), to_iso(&now)],
                )
                .map(|added| added == 1)
            })
            .await
    }

    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM blocks WHERE blocker = ? AND blocked = ?",
                    params![blocker.to_hex(), blocked.to_hex()],
                )
                .map(|removed| removed == 1)
            })
            .await
    }

    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>> {
        let ids = self
            .engine()
            .read(move |conn| {
                all(
                    conn,
                    "SELECT blocked FROM blocks WHERE blocker = ? ORDER BY created_at DESC, blocked",
                    [blocker.to_hex()],
                    |row| row.get::<_, String>(0),
                )
            })
            .await?;
        ids.iter()
            .map(|id| parse_column("blocks.blocked", id))
            .collect()
    }

    async fn blocks(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
        self.engine()
            .read(move |conn| blocks(conn, blocker, blocked))
            .await
    }

    async fn set_user_roles(
        &self,
        id: UserId,
        roles: Vec<Role>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        self.engine()
            .write(move |conn| {
                let sql = format!(
                    "UPDATE users SET roles = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL \
                     RETURNING {COLUMNS}"
                );
                optional(
                    conn,
                    &sql,
                    params![roles_to_text(&roles), to_iso(&now), id.to_hex()],
                    UserRow::read,
                )?
                .map(UserRow::into_record)
                .transpose()
            })
            .await
    }

    async fn set_user_standing(
        &self,
        id: UserId,
        standing: Standing,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        self.engine()
            .write(move |conn| {
                let sql = format!(
                    "UPDATE users SET banned = ?, suspended_until = ?, updated_at = ? \
                     WHERE id = ? AND deleted_at IS NULL RETURNING {COLUMNS}"
                );
                optional(
                    conn,
                    &sql,
                    params![
                        standing.banned(),
                        standing.suspended_until().as_ref().map(to_iso),
                        to_iso(&now),
                        id.to_hex()
                    ],
                    UserRow::read,
                )?
                .map(UserRow::into_record)
                .transpose()
            })
            .await
    }

    async fn tombstone_user(&self, id: UserId, now: DateTime<Utc>) -> StoreResult<bool> {
        self.engine()
            .write(move |conn| {
                let changed = execute(
                    conn,
                    "UPDATE users SET email = id || '@deleted.invalid', password = '', \
                     first_name = NULL, first_name_lower = NULL, last_name = NULL, \
                     last_name_lower = NULL, avatar = NULL, roles = '', is_online = 0, \
                     deleted_at = ?1, updated_at = ?1 WHERE id = ?2 AND deleted_at IS NULL",
                    params![to_iso(&now), id.to_hex()],
                )?;
                execute(
                    conn,
                    "DELETE FROM blocks WHERE blocker = ?1 OR blocked = ?1",
                    [id.to_hex()],
                )?;
                Ok(changed == 1)
            })
            .await
    }

    async fn release_usernames(&self, deleted_before: DateTime<Utc>) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "UPDATE users SET username = 'deleted-' || id, username_lower = 'deleted-' || id \
                     WHERE deleted_at IS NOT NULL AND username_lower NOT LIKE 'deleted-%' \
                     AND deleted_at < ?",
                    [to_iso(&deleted_before)],
                )
                .map(|changed| changed as u64)
            })
            .await
    }

    async fn set_last_seen(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        self.engine()
            .write(move |conn| {
                let sql =
                    format!("UPDATE users SET last_seen = ? WHERE id = ? RETURNING {COLUMNS}");
                optional(conn, &sql, params![to_iso(&at), id.to_hex()], UserRow::read)?
                    .map(UserRow::into_record)
                    .transpose()
            })
            .await
    }
}

/// Prefix search as index range scans (`x >= prefix AND x < prefix + U+10FFFF`), one per indexed
/// column; public so a test can check the query plan.
pub const SEARCH_USERS_WHERE: &str = "((username_lower >= ?1 AND username_lower < ?2) \
     OR (first_name_lower >= ?1 AND first_name_lower < ?2) \
     OR (last_name_lower >= ?1 AND last_name_lower < ?2)) \
     AND id <> ?3 AND deleted_at IS NULL ORDER BY username_lower LIMIT ?4";

/// The smallest string above every string that starts with `prefix` (in SQLite's byte order).
fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

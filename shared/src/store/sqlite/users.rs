use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{map_err, parse_column, parse_time, placeholders, SqliteStore};
use crate::{
    model::{search_key, NewUser, ProfilePatch, UserId, UserRecord},
    store::{StoreResult, UserStore},
    time::to_iso,
};

#[derive(sqlx::FromRow)]
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
}

impl UserRow {
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
        })
    }
}

const COLUMNS: &str = "id, username, email, password, first_name, last_name, avatar, last_seen, \
                       is_online, created_at, updated_at";

impl SqliteStore {
    async fn find_user_where(
        &self,
        clause: &str,
        value: String,
    ) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE {clause} = ?");
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(value)
            .fetch_optional(self.pool())
            .await
            .map_err(map_err)?
            .map(UserRow::into_record)
            .transpose()
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: NewUser) -> StoreResult<UserRecord> {
        let record = user.into_record();
        sqlx::query(
            "INSERT INTO users (id, username, username_lower, email, password, first_name, \
             first_name_lower, last_name, last_name_lower, avatar, last_seen, is_online, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.id.to_hex())
        .bind(&record.username)
        .bind(search_key(&record.username))
        .bind(&record.email)
        .bind(&record.password_hash)
        .bind(&record.first_name)
        .bind(record.first_name.as_deref().map(search_key))
        .bind(&record.last_name)
        .bind(record.last_name.as_deref().map(search_key))
        .bind(&record.avatar)
        .bind(to_iso(&record.last_seen))
        .bind(record.is_online)
        .bind(to_iso(&record.created_at))
        .bind(to_iso(&record.updated_at))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
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
        // One statement: each optional field is "keep" (flag 0) or "set to this value" (flag 1).
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
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(&patch.username)
            .bind(patch.username.as_deref().map(search_key))
            .bind(patch.first_name.is_some())
            .bind(&first_name)
            .bind(first_name.as_deref().map(search_key))
            .bind(patch.last_name.is_some())
            .bind(&last_name)
            .bind(last_name.as_deref().map(search_key))
            .bind(patch.avatar.is_some())
            .bind(patch.avatar.flatten())
            .bind(to_iso(&now))
            .bind(id.to_hex())
            .fetch_optional(self.writer())
            .await
            .map_err(map_err)?
            .map(UserRow::into_record)
            .transpose()
    }

    async fn set_user_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = sqlx::query("UPDATE users SET password = ?, updated_at = ? WHERE id = ?")
            .bind(password_hash)
            .bind(to_iso(&now))
            .bind(id.to_hex())
            .execute(self.writer())
            .await
            .map_err(map_err)?;
        Ok(result.rows_affected() == 1)
    }

    async fn search_users(
        &self,
        prefix: &str,
        exclude: UserId,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE {SEARCH_USERS_WHERE}");
        let rows = sqlx::query_as::<_, UserRow>(&sql)
            .bind(prefix)
            .bind(prefix_upper_bound(prefix))
            .bind(exclude.to_hex())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        rows.into_iter().map(UserRow::into_record).collect()
    }

    async fn find_users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE id IN ({})",
            placeholders(ids.len())
        );
        let mut query = sqlx::query_as::<_, UserRow>(&sql);
        for id in ids {
            query = query.bind(id.to_hex());
        }
        let rows = query.fetch_all(self.pool()).await.map_err(map_err)?;
        rows.into_iter().map(UserRow::into_record).collect()
    }

    async fn set_last_seen(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        let sql = format!("UPDATE users SET last_seen = ? WHERE id = ? RETURNING {COLUMNS}");
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(to_iso(&at))
            .bind(id.to_hex())
            .fetch_optional(self.writer())
            .await
            .map_err(map_err)?
            .map(UserRow::into_record)
            .transpose()
    }
}

/// Prefix search as index range scans (`x >= prefix AND x < prefix + U+10FFFF`), one per indexed
/// column; public so a test can check the query plan.
pub const SEARCH_USERS_WHERE: &str = "((username_lower >= ?1 AND username_lower < ?2) \
     OR (first_name_lower >= ?1 AND first_name_lower < ?2) \
     OR (last_name_lower >= ?1 AND last_name_lower < ?2)) \
     AND id <> ?3 ORDER BY username_lower LIMIT ?4";

/// The smallest string above every string that starts with `prefix` (in SQLite's byte order).
fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

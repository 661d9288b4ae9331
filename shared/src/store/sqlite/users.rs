use async_trait::async_trait;

use super::{map_err, parse_column, parse_time, SqliteStore};
use crate::{
    model::{NewUser, UserId, UserRecord},
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
             last_name, avatar, last_seen, is_online, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.id.to_hex())
        .bind(&record.username)
        .bind(record.username.to_lowercase())
        .bind(&record.email)
        .bind(&record.password_hash)
        .bind(&record.first_name)
        .bind(&record.last_name)
        .bind(&record.avatar)
        .bind(to_iso(&record.last_seen))
        .bind(record.is_online)
        .bind(to_iso(&record.created_at))
        .bind(to_iso(&record.updated_at))
        .execute(self.pool())
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
}

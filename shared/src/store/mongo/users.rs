use async_trait::async_trait;
use bson::{doc, oid::ObjectId};
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{indexes::USERS, map_err, to_bson_time, MongoStore};
use crate::{
    model::{NewUser, UserId, UserRecord},
    store::{StoreResult, UserStore},
};

/// A `users` document, field for field.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    username: String,
    /// Lets usernames be unique case-insensitively and served by an index.
    username_lower: String,
    email: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
    avatar: Option<String>,
    last_seen: bson::DateTime,
    is_online: bool,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

impl From<&UserRecord> for UserDoc {
    fn from(user: &UserRecord) -> Self {
        Self {
            id: user.id.0,
            username: user.username.clone(),
            username_lower: user.username.to_lowercase(),
            email: user.email.clone(),
            password: user.password_hash.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            avatar: user.avatar.clone(),
            last_seen: to_bson_time(&user.last_seen),
            is_online: user.is_online,
            created_at: to_bson_time(&user.created_at),
            updated_at: to_bson_time(&user.updated_at),
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
        }
    }
}

impl MongoStore {
    fn users(&self) -> Collection<UserDoc> {
        self.database().collection(USERS)
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
}

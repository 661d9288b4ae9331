//! A user as stored, as created, its own and public views, profile changes and the search key.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Role, Standing, UserId};

/// What everyone else sees instead of a deleted account's name.
pub const DELETED_USER_NAME: &str = "Deleted user";

/// A user as stored, password hash included. Never serialized: see [`User`].
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub last_seen: DateTime<Utc>,
    pub is_online: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Sorted, without repeats.
    pub roles: Vec<Role>,
    pub standing: Standing,
    /// Set: the account was deleted and this is its tombstone (no email, no names, no password).
    pub deleted_at: Option<DateTime<Utc>>,
}

impl UserRecord {
    pub fn has_role(&self, needed: Role) -> bool {
        self.roles.iter().any(|role| role.covers(needed))
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// What the storage port needs to create a user; the service has validated and normalized it.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub now: DateTime<Utc>,
}

impl NewUser {
    pub fn into_record(self) -> UserRecord {
        UserRecord {
            id: self.id,
            username: self.username,
            email: self.email,
            password_hash: self.password_hash,
            first_name: self.first_name,
            last_name: self.last_name,
            avatar: self.avatar,
            last_seen: self.now,
            is_online: false,
            created_at: self.now,
            updated_at: self.now,
            roles: Vec::new(),
            standing: Standing::Good,
            deleted_at: None,
        }
    }
}

/// The caller's own account as the API returns it (`_id` and `id` both, as Mongoose clients expect).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "_id")]
    pub underscore_id: UserId,
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    #[serde(with = "crate::time::iso")]
    pub last_seen: DateTime<Utc>,
    pub is_online: bool,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::iso")]
    pub updated_at: DateTime<Utc>,
    /// `moderator`, `admin`: what the web client's admin page is shown for (the server checks
    /// the stored roles on every admin request, not this).
    pub roles: Vec<Role>,
}

impl From<&UserRecord> for User {
    fn from(record: &UserRecord) -> Self {
        Self {
            underscore_id: record.id,
            id: record.id,
            username: record.username.clone(),
            email: record.email.clone(),
            first_name: record.first_name.clone(),
            last_name: record.last_name.clone(),
            avatar: record.avatar.clone(),
            last_seen: record.last_seen,
            is_online: record.is_online,
            created_at: record.created_at,
            updated_at: record.updated_at,
            roles: record.roles.clone(),
        }
    }
}

/// What anyone else may see of a user: no email, no secrets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicUser {
    #[serde(rename = "_id")]
    pub underscore_id: UserId,
    pub id: UserId,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub is_online: bool,
    #[serde(with = "crate::time::iso")]
    pub last_seen: DateTime<Utc>,
    /// The account was deleted: `username` is "Deleted user" and nothing else of it is left.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl From<&UserRecord> for PublicUser {
    fn from(record: &UserRecord) -> Self {
        if record.is_deleted() {
            return Self {
                underscore_id: record.id,
                id: record.id,
                username: DELETED_USER_NAME.to_owned(),
                first_name: None,
                last_name: None,
                avatar: None,
                is_online: false,
                last_seen: record.deleted_at.unwrap_or(record.last_seen),
                deleted: true,
            };
        }
        Self {
            underscore_id: record.id,
            id: record.id,
            username: record.username.clone(),
            first_name: record.first_name.clone(),
            last_name: record.last_name.clone(),
            avatar: record.avatar.clone(),
            is_online: record.is_online,
            last_seen: record.last_seen,
            deleted: false,
        }
    }
}

/// A change to a profile: `None` leaves a field alone; for the optional fields `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfilePatch {
    pub username: Option<String>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub avatar: Option<Option<String>>,
}

impl ProfilePatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The record with this patch applied (adapters that rewrite whole documents use it).
    pub fn apply(self, mut user: UserRecord, now: DateTime<Utc>) -> UserRecord {
        if let Some(username) = self.username {
            user.username = username;
        }
        if let Some(first_name) = self.first_name {
            user.first_name = first_name;
        }
        if let Some(last_name) = self.last_name {
            user.last_name = last_name;
        }
        if let Some(avatar) = self.avatar {
            user.avatar = avatar;
        }
        user.updated_at = now;
        user
    }
}

/// The lower-cased copy of a name that prefix search runs on.
pub fn search_key(name: &str) -> String {
    name.to_lowercase()
}

//! A group as stored, and the changes a group can take.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GroupId, UserId};

/// A group as stored. Members and admins keep the order in which they joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(rename = "_id")]
    pub id: GroupId,
    pub group_name: String,
    #[serde(default)]
    pub group_description: Option<String>,
    #[serde(default)]
    pub group_avatar: Option<String>,
    pub created_by: UserId,
    pub members: Vec<UserId>,
    pub admins: Vec<UserId>,
    pub is_active: bool,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::iso")]
    pub updated_at: DateTime<Utc>,
}

impl Group {
    pub fn is_member(&self, user: UserId) -> bool {
        self.members.contains(&user)
    }

    pub fn is_admin(&self, user: UserId) -> bool {
        self.admins.contains(&user)
    }
}

/// A change to a group's details: `None` keeps a field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupPatch {
    pub group_name: Option<String>,
    pub group_description: Option<Option<String>>,
    pub group_avatar: Option<Option<String>>,
}

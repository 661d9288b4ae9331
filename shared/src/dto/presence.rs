//! Response bodies of the presence routes: last seen and online status.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::UserId;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastSeen {
    pub user_id: UserId,
    #[serde(with = "crate::time::iso")]
    pub last_seen: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnlineStatus {
    pub user_id: UserId,
    pub is_online: bool,
    #[serde(with = "crate::time::iso")]
    pub last_seen: DateTime<Utc>,
}

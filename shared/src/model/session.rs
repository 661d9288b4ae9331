//! A login session (one device) as stored, and the client (user agent, address) it was opened from.

use chrono::{DateTime, Utc};

use super::{SessionId, UserId};

/// One logged-in device. Only a hash of its current refresh token is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub type NewSession = Session;

/// Who is calling, as far as the channel can tell: the client address and user agent. Sessions
/// record it; per-address rate limits count under it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The key per-address rate limits count under.
    pub fn rate_limit_key(&self) -> &str {
        self.ip.as_deref().unwrap_or("unknown")
    }
}

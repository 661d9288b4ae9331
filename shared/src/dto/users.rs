//! Request and response bodies of `/api/v1/users/*`: profile changes, password, sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use validator::Validate;

use crate::model::{Session, SessionId};

/// `PATCH /users/me`: fields left out are kept; `null` clears firstName, lastName or avatar.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProfileRequest {
    #[validate(custom(function = "super::rules::username"))]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(
        function = "super::rules::display_name",
        message = "firstName must be 1 to 50 characters"
    ))]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(
        function = "super::rules::display_name",
        message = "lastName must be 1 to 50 characters"
    ))]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[validate(custom(
        function = "super::rules::http_url",
        message = "avatar must be an http:// or https:// URL"
    ))]
    pub avatar: Option<Option<String>>,
}

/// Tells a field sent as `null` (`Some(None)`) from a field left out (`None`, via `default`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[validate(length(
        min = 1,
        max = 1024,
        message = "currentPassword must be 1 to 1024 characters"
    ))]
    pub current_password: String,
    #[validate(custom(
        function = "super::rules::new_password",
        message = "newPassword must be at least 8 characters and at most 72 bytes"
    ))]
    #[schema(min_length = 8, max_length = 72)]
    pub new_password: String,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Prefix of a username, first name or last name (case-insensitive).
    #[validate(length(min = 1, max = 50, message = "q must be 1 to 50 characters"))]
    #[param(min_length = 1, max_length = 50)]
    pub q: String,
}

/// One of the caller's sessions (a logged-in device).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: SessionId,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::iso")]
    pub last_used_at: DateTime<Utc>,
    #[serde(with = "crate::time::iso")]
    pub expires_at: DateTime<Utc>,
    /// True for the session of the token making this request.
    pub current: bool,
}

impl SessionView {
    pub fn new(session: &Session, current: SessionId) -> Self {
        Self {
            id: session.id,
            user_agent: session.user_agent.clone(),
            ip: session.ip.clone(),
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expires_at,
            current: session.id == current,
        }
    }
}

/// The answer to blocking or unblocking a user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockState {
    pub user_id: crate::model::UserId,
    pub blocked: bool,
}

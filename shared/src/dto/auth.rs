//! Request and response bodies of `/api/v1/auth/*`: register, login, refresh, logout.

use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::model::User;

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    #[validate(custom(function = "super::rules::username"))]
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,30}$", example = "alice")]
    pub username: String,
    #[validate(
        email(message = "email must be a valid email address"),
        length(max = 254, message = "email must be at most 254 characters")
    )]
    #[schema(format = Email, max_length = 254, example = "alice@example.com")]
    pub email: String,
    #[validate(custom(function = "super::rules::new_password"))]
    #[schema(min_length = 8, max_length = 72, example = "correct-horse-battery")]
    pub password: String,
    #[validate(custom(
        function = "super::rules::display_name",
        message = "firstName must be 1 to 50 characters"
    ))]
    pub first_name: Option<String>,
    #[validate(custom(
        function = "super::rules::display_name",
        message = "lastName must be 1 to 50 characters"
    ))]
    pub last_name: Option<String>,
    #[validate(custom(
        function = "super::rules::http_url",
        message = "avatar must be an http:// or https:// URL"
    ))]
    pub avatar: Option<String>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(
        email(message = "email must be a valid email address"),
        length(max = 254, message = "email must be at most 254 characters")
    )]
    #[schema(format = Email, max_length = 254, example = "alice@example.com")]
    pub email: String,
    #[validate(length(min = 1, max = 1024, message = "password must be 1 to 1024 characters"))]
    #[schema(min_length = 1, max_length = 1024, example = "correct-horse-battery")]
    pub password: String,
}

/// The refresh token may come in this body or as `Authorization: Bearer <refreshToken>`.
#[derive(Debug, Default, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(
        min = 1,
        max = 4096,
        message = "refreshToken must be a non-empty string"
    ))]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub user: User,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

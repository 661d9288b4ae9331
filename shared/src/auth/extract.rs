//! `CurrentUser`: the caller, proven by a bearer access token. Handlers that take it are protected.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use http::{header::AUTHORIZATION, HeaderMap};

use super::{TokenError, TokenKind};
use crate::{
    error::AppError,
    model::{SessionId, UserId},
    AppContext,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub session_id: SessionId,
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AppContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = AppContext::from_ref(state);
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| AppError::unauthorized("Missing bearer access token"))?;
        let verified = ctx
            .tokens
            .verify(token, TokenKind::Access)
            .map_err(|err| match err {
                TokenError::Expired => AppError::unauthorized("Access token has expired"),
                _ => AppError::unauthorized("Invalid access token"),
            })?;
        Ok(Self {
            id: verified.user_id,
            session_id: verified.session_id,
        })
    }
}

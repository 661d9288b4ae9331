//! Who is calling: an access token turned into the caller. Every channel (REST handlers, the
//! socket.io handshake, API Gateway `$connect`) comes through `authenticate`, so one token gets one
//! answer everywhere.

use chrono::{DateTime, Utc};

use super::{TokenError, TokenKeys, TokenKind};
use crate::{
    error::AppError,
    model::{SessionId, UserId},
};

/// The caller, proven by an access token: the user and the session (device) it was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub session_id: SessionId,
}

/// Why a caller was not let in; the text is what the client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    #[error(
        "Authentication required: send an access token (Authorization: Bearer, auth.token on \
         socket.io, ?token= on the WebSocket API)"
    )]
    Missing,
    #[error("Access token has expired")]
    Expired,
    #[error("Invalid access token")]
    Invalid,
}

impl From<Unauthenticated> for AppError {
    fn from(err: Unauthenticated) -> Self {
        AppError::unauthorized(err.to_string())
    }
}

/// The caller an access token proves, whichever channel it came on. A refresh token, a token
/// signed with another key or a malformed one is `Invalid`.
pub fn authenticate(
    tokens: &TokenKeys,
    token: Option<&str>,
) -> Result<CurrentUser, Unauthenticated> {
    authenticate_until(tokens, token).map(|(caller, _)| caller)
}

/// The same, with the moment the token expires: a connection that outlives its request (a
/// socket) must end then.
pub fn authenticate_until(
    tokens: &TokenKeys,
    token: Option<&str>,
) -> Result<(CurrentUser, DateTime<Utc>), Unauthenticated> {
    let token = token
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(Unauthenticated::Missing)?;
    let verified = tokens
        .verify(token, TokenKind::Access)
        .map_err(|err| match err {
            TokenError::Expired => Unauthenticated::Expired,
            _ => Unauthenticated::Invalid,
        })?;
    let caller = CurrentUser {
        id: verified.user_id,
        session_id: verified.session_id,
    };
    Ok((caller, verified.expires_at))
}

//! The HTTP side of authentication: the bearer token of a request, and the `CurrentUser`
//! extractor every protected handler takes.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use http::{header::AUTHORIZATION, HeaderMap};

use super::{authenticate, CurrentUser};
use crate::{error::AppError, AppContext};

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
        let caller = authenticate(&ctx.tokens, bearer_token(&parts.headers))?;
        crate::service::auth::ensure_session(&ctx, caller).await?;
        Ok(caller)
    }
}

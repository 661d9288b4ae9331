//! What the OpenAPI document says about failures: every route can answer with the one error body.

use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify,
};

use crate::error::ErrorBody;

/// The error answers any route may give, all in the one error shape.
#[allow(dead_code)]
#[derive(utoipa::IntoResponses)]
pub enum ErrorResponses {
    /// Bad input: validation (every failing field listed), malformed JSON, a bad id.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// A missing, invalid or expired token.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ErrorBody),
    /// Authenticated, but not allowed to do this.
    #[response(status = 403)]
    Forbidden(#[to_schema] ErrorBody),
    /// No such resource (or not visible to the caller).
    #[response(status = 404)]
    NotFound(#[to_schema] ErrorBody),
    /// A duplicate or a state that does not allow it.
    #[response(status = 409)]
    Conflict(#[to_schema] ErrorBody),
    /// Too many requests: see the Retry-After header.
    #[response(status = 429)]
    TooManyRequests(#[to_schema] ErrorBody),
}

/// Adds the `bearer` security scheme (JWT access token) that protected routes name.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The accessToken from /auth/register, /auth/login or /auth/refresh",
                    ))
                    .build(),
            ),
        );
    }
}

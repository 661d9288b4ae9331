//! The `auth` function: `/api/v1/auth/{register,login,refresh,logout}`.

use axum::{extract::State, http::StatusCode, Json};
use shared::{
    auth::{extract::bearer_token, CurrentUser},
    dto::auth::{AuthResponse, LoginRequest, MessageResponse, RefreshRequest, RegisterRequest},
    http::{Api, ClientInfo, OptionalJson, ValidJson},
    service::auth,
    AppContext, AppError,
};

/// This function's routes and their table.
pub fn api() -> Api {
    Api::new()
        .post("/api/v1/auth/register", register)
        .post("/api/v1/auth/login", login)
        .post("/api/v1/auth/refresh", refresh)
        .post("/api/v1/auth/logout", logout)
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses((status = 201, description = "Registered and signed in", body = AuthResponse), shared::http::docs::ErrorResponses),
)]
async fn register(
    State(ctx): State<AppContext>,
    client: ClientInfo,
    ValidJson(input): ValidJson<RegisterRequest>,
) -> Result<(StatusCode, Json<AuthResponse>), AppError> {
    let response = auth::register(&ctx, input, &client).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = AuthResponse), shared::http::docs::ErrorResponses),
)]
async fn login(
    State(ctx): State<AppContext>,
    client: ClientInfo,
    ValidJson(input): ValidJson<LoginRequest>,
) -> Result<Json<AuthResponse>, AppError> {
    Ok(Json(auth::login(&ctx, input, &client).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = Option<RefreshRequest>,
    responses((status = 200, description = "A new token pair; the old refresh token stops working", body = AuthResponse), shared::http::docs::ErrorResponses),
    security((), ("bearer" = []))
)]
async fn refresh(
    State(ctx): State<AppContext>,
    client: ClientInfo,
    headers: axum::http::HeaderMap,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Json<AuthResponse>, AppError> {
    let from_body = body.and_then(|body| body.refresh_token);
    let token = from_body.as_deref().or_else(|| bearer_token(&headers));
    Ok(Json(auth::refresh(&ctx, token, &client).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    responses((status = 200, description = "This session ended", body = MessageResponse), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn logout(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
) -> Result<Json<MessageResponse>, AppError> {
    auth::logout(&ctx, caller).await?;
    Ok(Json(MessageResponse {
        message: "Logged out successfully".into(),
    }))
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, login, refresh, logout))]
pub struct Docs;

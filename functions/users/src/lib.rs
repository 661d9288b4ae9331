//! The `users` function: the caller's profile, other users' public profiles, user search and the
//! caller's sessions, blocks, reports of other users, and the account itself (deletion, data
//! export), under `/api/v1/users`.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use shared::{
    auth::CurrentUser,
    dto::{
        auth::MessageResponse,
        moderation::{DeleteAccountRequest, ReportReceipt, ReportRequest},
        notifications::{PushSubscriptionView, SubscribeRequest, VapidPublicKey},
        users::{
            BlockState, ChangePasswordRequest, SearchQuery, SessionView, UpdateProfileRequest,
        },
    },
    http::{Api, ValidJson, ValidQuery},
    model::{parse_id, PublicUser, User},
    service::{account, moderation::reports, notifications, users},
    AppContext, AppError,
};

pub fn api() -> Api {
    Api::new()
        .get("/api/v1/users/me", me)
        .patch("/api/v1/users/me", update_me)
        .delete("/api/v1/users/me", delete_me)
        .get("/api/v1/users/me/export", export)
        .post("/api/v1/users/{user_id}/report", report)
        .post("/api/v1/users/me/push-subscriptions", subscribe)
        .get("/api/v1/users/me/push-subscriptions", push_subscriptions)
        .get(
            "/api/v1/users/me/push-subscriptions/vapid-public-key",
            vapid_public_key,
        )
        .delete(
            "/api/v1/users/me/push-subscriptions/{subscription_id}",
            unsubscribe,
        )
        .post("/api/v1/users/me/password", change_password)
        .get("/api/v1/users/me/sessions", sessions)
        .delete("/api/v1/users/me/sessions/{session_id}", end_session)
        .get("/api/v1/users/me/blocks", blocks)
        .put("/api/v1/users/me/blocks/{user_id}", block)
        .delete("/api/v1/users/me/blocks/{user_id}", unblock)
        .get("/api/v1/users/search", search)
        .get("/api/v1/users/{user_id}", profile)
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    tag = "users",
    responses((status = 200, description = "Your profile", body = User), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn me(State(ctx): State<AppContext>, caller: CurrentUser) -> Result<Json<User>, AppError> {
    Ok(Json(users::me(&ctx, caller).await?))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    tag = "users",
    request_body = UpdateProfileRequest,
    responses((status = 200, description = "The updated profile", body = User), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn update_me(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<UpdateProfileRequest>,
) -> Result<Json<User>, AppError> {
    Ok(Json(users::update_me(&ctx, caller, input).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{userId}",
    tag = "users",
    params(("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "A public profile", body = PublicUser), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn profile(
    State(ctx): State<AppContext>,
    _caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<PublicUser>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(users::profile(&ctx, user_id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/search",
    tag = "users",
    params(SearchQuery),
    responses((status = 200, description = "Up to 20 users", body = Vec<PublicUser>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn search(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidQuery(query): ValidQuery<SearchQuery>,
) -> Result<Json<Vec<PublicUser>>, AppError> {
    Ok(Json(users::search(&ctx, caller, &query.q).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/me/password",
    tag = "users",
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Changed; other sessions ended", body = MessageResponse), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn change_password(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<ChangePasswordRequest>,
) -> Result<Json<MessageResponse>, AppError> {
    let ended = users::change_password(&ctx, caller, input).await?;
    Ok(Json(MessageResponse {
        message: format!("Password changed; {ended} other session(s) ended"),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me/sessions",
    tag = "users",
    responses((status = 200, description = "Your live sessions", body = Vec<SessionView>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn sessions(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
) -> Result<Json<Vec<SessionView>>, AppError> {
    Ok(Json(users::sessions(&ctx, caller).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/me/sessions/{sessionId}",
    tag = "users",
    params(("sessionId" = shared::model::SessionId, Path)),
    responses((status = 200, description = "Session ended", body = MessageResponse), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn end_session(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(session_id): Path<String>,
) -> Result<Json<MessageResponse>, AppError> {
    let session_id = parse_id("sessionId", &session_id)?;
    users::end_session(&ctx, caller, session_id).await?;
    Ok(Json(MessageResponse {
        message: "Session ended".into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me/blocks",
    tag = "users",
    responses((status = 200, description = "Public profiles of the users you block, most recent first", body = Vec<PublicUser>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn blocks(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
) -> Result<Json<Vec<PublicUser>>, AppError> {
    Ok(Json(users::blocked(&ctx, caller).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/users/me/blocks/{userId}",
    tag = "users",
    params(("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "Blocked (idempotent): they cannot send you private messages or typing events, nor see your presence", body = BlockState), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn block(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<BlockState>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(users::set_block(&ctx, caller, user_id, true).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/me/blocks/{userId}",
    tag = "users",
    params(("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "Not blocked (idempotent)", body = BlockState), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn unblock(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<BlockState>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(users::set_block(&ctx, caller, user_id, false).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/me",
    tag = "users",
    request_body = DeleteAccountRequest,
    responses((status = 200, description = "Deleted: every session ended, your messages, files, reactions, receipts, blocks, reports and group memberships removed; others see \"Deleted user\"", body = MessageResponse), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn delete_me(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<DeleteAccountRequest>,
) -> Result<Json<MessageResponse>, AppError> {
    account::delete(&ctx, caller, input).await?;
    Ok(Json(MessageResponse {
        message: "Account deleted".to_owned(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me/export",
    tag = "users",
    responses((status = 200, description = "A JSON document of your data (profile, sessions, blocks, groups, files, every message you sent), streamed", content_type = "application/json", body = Object), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn export(State(ctx): State<AppContext>, caller: CurrentUser) -> Result<Response, AppError> {
    let chunks = account::export(&ctx, caller).await?;
    let body = Body::from_stream(chunks);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"chat-export.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{userId}/report",
    tag = "users",
    params(("userId" = shared::model::UserId, Path)),
    request_body = ReportRequest,
    responses((status = 201, description = "Filed for the moderators", body = ReportReceipt), (status = 200, description = "You already have an open report of this user: that one", body = ReportReceipt), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn report(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
    ValidJson(input): ValidJson<ReportRequest>,
) -> Result<(StatusCode, Json<ReportReceipt>), AppError> {
    let user_id = parse_id("userId", &user_id)?;
    let filed = reports::report_user(&ctx, caller, user_id, input).await?;
    let status = shared::http::created_or_ok(filed.created);
    Ok((status, Json(filed.receipt)))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/me/push-subscriptions",
    tag = "users",
    request_body = SubscribeRequest,
    responses((status = 201, description = "Registered for this session (ending the session removes it)", body = PushSubscriptionView), (status = 200, description = "The same device again: its registration, now for this session", body = PushSubscriptionView), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn subscribe(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<SubscribeRequest>,
) -> Result<(StatusCode, Json<PushSubscriptionView>), AppError> {
    let (view, created) = notifications::subscribe(&ctx, caller, input.0).await?;
    let status = shared::http::created_or_ok(created);
    Ok((status, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me/push-subscriptions",
    tag = "users",
    responses((status = 200, description = "Your devices, of your live sessions", body = Vec<PushSubscriptionView>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn push_subscriptions(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
) -> Result<Json<Vec<PushSubscriptionView>>, AppError> {
    Ok(Json(notifications::subscriptions(&ctx, caller).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/me/push-subscriptions/vapid-public-key",
    tag = "users",
    responses((status = 200, description = "The key browsers subscribe with (applicationServerKey)", body = VapidPublicKey), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn vapid_public_key(
    State(ctx): State<AppContext>,
    _caller: CurrentUser,
) -> Result<Json<VapidPublicKey>, AppError> {
    Ok(Json(notifications::vapid_public_key(&ctx)?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/me/push-subscriptions/{subscriptionId}",
    tag = "users",
    params(("subscriptionId" = shared::model::PushSubscriptionId, Path)),
    responses((status = 200, description = "Removed", body = MessageResponse), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn unsubscribe(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(subscription_id): Path<String>,
) -> Result<Json<MessageResponse>, AppError> {
    let id = parse_id("subscriptionId", &subscription_id)?;
    notifications::unsubscribe(&ctx, caller, id).await?;
    Ok(Json(MessageResponse {
        message: "Push subscription removed".to_owned(),
    }))
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    me,
    update_me,
    delete_me,
    export,
    report,
    subscribe,
    push_subscriptions,
    vapid_public_key,
    unsubscribe,
    change_password,
    sessions,
    end_session,
    blocks,
    block,
    unblock,
    search,
    profile
))]
pub struct Docs;

//! The `presence` function: last seen, online status, bulk delivered/read, private rooms.

use axum::{
    extract::{Path, State},
    Json, Router,
};
use shared::{
    auth::CurrentUser,
    dto::{
        chat::{ModifiedCount, PrivateRoom},
        presence::{LastSeen, OnlineStatus},
    },
    http::{parse_id, Api},
    model::MessageStatus,
    service::{messages, presence},
    AppContext, AppError,
};

pub fn api() -> Api {
    Api::new()
        .put("/api/v1/chat/user/{user_id}/last-seen", touch_last_seen)
        .get("/api/v1/chat/user/{user_id}/last-seen", last_seen)
        .get("/api/v1/chat/user/{user_id}/online-status", online_status)
        .put(
            "/api/v1/chat/messages/delivered/{user_id}/{partner_id}",
            mark_delivered,
        )
        .put(
            "/api/v1/chat/messages/read/{user_id}/{partner_id}",
            mark_read,
        )
        .get("/api/v1/chat/rooms/{user_id}", rooms)
}

pub fn routes() -> Router<AppContext> {
    api().into_router()
}

pub fn router(ctx: AppContext) -> Router {
    shared::http::finish(routes(), ctx)
}

async fn touch_last_seen(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<LastSeen>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(
        presence::touch_last_seen(&ctx, caller, user_id).await?,
    ))
}

async fn last_seen(
    State(ctx): State<AppContext>,
    _caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<LastSeen>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(presence::last_seen(&ctx, user_id).await?))
}

async fn online_status(
    State(ctx): State<AppContext>,
    _caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<OnlineStatus>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(presence::online_status(&ctx, user_id).await?))
}

async fn mark(
    ctx: AppContext,
    caller: CurrentUser,
    (user_id, partner_id): (String, String),
    status: MessageStatus,
) -> Result<Json<ModifiedCount>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    let partner_id = parse_id("partnerId", &partner_id)?;
    let modified_count =
        messages::mark_conversation(&ctx, caller, user_id, partner_id, status).await?;
    Ok(Json(ModifiedCount { modified_count }))
}

async fn mark_delivered(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(ids): Path<(String, String)>,
) -> Result<Json<ModifiedCount>, AppError> {
    mark(ctx, caller, ids, MessageStatus::Delivered).await
}

async fn mark_read(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(ids): Path<(String, String)>,
) -> Result<Json<ModifiedCount>, AppError> {
    mark(ctx, caller, ids, MessageStatus::Read).await
}

async fn rooms(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<Vec<PrivateRoom>>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(presence::private_rooms(&ctx, caller, user_id).await?))
}

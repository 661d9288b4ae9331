//! The `presence` function: last seen, online status, bulk delivered/read, private rooms and
//! muting a conversation.

use axum::{
    extract::{Path, State},
    Json,
};
use shared::{
    auth::CurrentUser,
    dto::{
        chat::{ModifiedCount, PrivateRoom, RoomsQuery},
        notifications::{MuteRequest, MuteState},
        presence::{LastSeen, OnlineStatus},
    },
    http::{Api, OptionalJson, ValidQuery},
    model::{parse_id, MessageStatus},
    service::{messages, notifications, presence},
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
        .put("/api/v1/chat/rooms/{chat_room_id}/mute", mute)
        .delete("/api/v1/chat/rooms/{chat_room_id}/mute", unmute)
}

#[utoipa::path(
    put,
    path = "/api/v1/chat/rooms/{chatRoomId}/mute",
    tag = "presence",
    params(("chatRoomId" = String, Path)),
    request_body(content = Option<MuteRequest>, description = "`{until}` to mute until a time; no body (or no `until`) for good"),
    responses((status = 200, description = "Muted: no push notifications for it; both rooms lists show `muted` (participants)", body = MuteState), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn mute(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(chat_room_id): Path<String>,
    OptionalJson(body): OptionalJson<MuteRequest>,
) -> Result<Json<MuteState>, AppError> {
    let until = body.and_then(|body| body.until);
    Ok(Json(
        notifications::mute(&ctx, caller, &chat_room_id, until).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/chat/rooms/{chatRoomId}/mute",
    tag = "presence",
    params(("chatRoomId" = String, Path)),
    responses((status = 200, description = "Not muted (idempotent; participants)", body = MuteState), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn unmute(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(chat_room_id): Path<String>,
) -> Result<Json<MuteState>, AppError> {
    Ok(Json(
        notifications::unmute(&ctx, caller, &chat_room_id).await?,
    ))
}

#[utoipa::path(
    put,
    path = "/api/v1/chat/user/{userId}/last-seen",
    tag = "presence",
    params(("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "Updated to now", body = LastSeen), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/chat/user/{userId}/last-seen",
    tag = "presence",
    params(("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "When the user was last seen", body = LastSeen), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn last_seen(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<LastSeen>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(presence::last_seen(&ctx, caller, user_id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/user/{userId}/online-status",
    tag = "presence",
    params(("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "Online now?", body = OnlineStatus), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn online_status(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<OnlineStatus>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(presence::online_status(&ctx, caller, user_id).await?))
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

#[utoipa::path(
    put,
    path = "/api/v1/chat/messages/delivered/{userId}/{partnerId}",
    tag = "presence",
    params(("userId" = shared::model::UserId, Path), ("partnerId" = shared::model::UserId, Path)),
    responses((status = 200, description = "How many moved to DELIVERED", body = ModifiedCount), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn mark_delivered(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(ids): Path<(String, String)>,
) -> Result<Json<ModifiedCount>, AppError> {
    mark(ctx, caller, ids, MessageStatus::Delivered).await
}

#[utoipa::path(
    put,
    path = "/api/v1/chat/messages/read/{userId}/{partnerId}",
    tag = "presence",
    params(("userId" = shared::model::UserId, Path), ("partnerId" = shared::model::UserId, Path)),
    responses((status = 200, description = "How many moved to READ", body = ModifiedCount), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn mark_read(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(ids): Path<(String, String)>,
) -> Result<Json<ModifiedCount>, AppError> {
    mark(ctx, caller, ids, MessageStatus::Read).await
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/rooms/{userId}",
    tag = "presence",
    params(("userId" = shared::model::UserId, Path), RoomsQuery),
    responses((status = 200, description = "Your private conversations", body = Vec<PrivateRoom>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn rooms(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
    ValidQuery(page): ValidQuery<RoomsQuery>,
) -> Result<Json<Vec<PrivateRoom>>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(
        shared::service::rooms::private(&ctx, caller, user_id, &page).await?,
    ))
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    touch_last_seen,
    last_seen,
    online_status,
    mark_delivered,
    mark_read,
    rooms,
    mute,
    unmute
))]
pub struct Docs;

//! The `messages` function: create, fetch history, status, undelivered; edit, delete, reactions;
//! attachments (declare an upload, download).

use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use shared::{
    auth::CurrentUser,
    dto::attachments::{CreateAttachmentRequest, DownloadLink, DownloadQuery, UploadTicket},
    dto::chat::{
        CreateMessageRequest, EditMessageRequest, FetchMessagesRequest, MessageDeleted,
        MessagePage, MessageReactions, MessageSearchPage, SearchMessagesQuery, UpdateStatusRequest,
    },
    dto::moderation::{ReportReceipt, ReportRequest},
    http::{Api, ValidJson, ValidQuery},
    model::{parse_id, Message},
    service::{attachments, message_changes, messages, moderation::reports},
    AppContext, AppError,
};

pub fn api() -> Api {
    Api::new()
        .post("/api/v1/chat/message", create)
        .post("/api/v1/chat/messages/fetch", fetch)
        .put("/api/v1/chat/message/{message_id}/status", update_status)
        .get(
            "/api/v1/chat/messages/undelivered/{user_id}/{partner_id}",
            undelivered,
        )
        .get("/api/v1/chat/messages/search", search)
        .patch("/api/v1/chat/message/{message_id}", edit)
        .delete("/api/v1/chat/message/{message_id}", delete)
        .put(
            "/api/v1/chat/message/{message_id}/reactions/{emoji}",
            add_reaction,
        )
        .delete(
            "/api/v1/chat/message/{message_id}/reactions/{emoji}",
            remove_reaction,
        )
        .post("/api/v1/chat/message/{message_id}/report", report)
        .post("/api/v1/chat/attachments", create_attachment)
        .get(
            "/api/v1/chat/attachments/{attachment_id}",
            download_attachment,
        )
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/message",
    tag = "messages",
    request_body = CreateMessageRequest,
    responses((status = 201, description = "Stored", body = Message), (status = 200, description = "A repeated clientMessageId: the stored message", body = Message), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// 201 with the new message; 200 with the stored one when `clientMessageId` repeats.
async fn create(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<CreateMessageRequest>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let sent = messages::send(&ctx, caller, input).await?;
    let status = shared::http::created_or_ok(sent.created);
    Ok((status, Json(sent.message)))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/messages/fetch",
    tag = "messages",
    request_body = FetchMessagesRequest,
    responses((status = 200, description = "One page of a conversation", body = MessagePage), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn fetch(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<FetchMessagesRequest>,
) -> Result<Json<MessagePage>, AppError> {
    Ok(Json(messages::fetch(&ctx, caller, input).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/chat/message/{messageId}/status",
    tag = "messages",
    params(("messageId" = String, Path)),
    request_body = UpdateStatusRequest,
    responses((status = 200, description = "The message after the change", body = Message), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn update_status(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(message_id): Path<String>,
    ValidJson(input): ValidJson<UpdateStatusRequest>,
) -> Result<Json<Message>, AppError> {
    Ok(Json(
        messages::update_status(&ctx, caller, &message_id, input.status).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/messages/undelivered/{userId}/{partnerId}",
    tag = "messages",
    params(("userId" = shared::model::UserId, Path), ("partnerId" = shared::model::UserId, Path)),
    responses((status = 200, description = "Messages from the partner still SENT", body = Vec<Message>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn undelivered(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path((user_id, partner_id)): Path<(String, String)>,
) -> Result<Json<Vec<Message>>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    let partner_id = parse_id("partnerId", &partner_id)?;
    Ok(Json(
        messages::undelivered(&ctx, caller, user_id, partner_id).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/messages/search",
    tag = "messages",
    params(SearchMessagesQuery),
    responses((status = 200, description = "Matching messages of your conversations, newest first (deleted ones never match)", body = MessageSearchPage), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// Full-text search (SPEC §7), served by the full-text index of each adapter.
async fn search(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidQuery(query): ValidQuery<SearchMessagesQuery>,
) -> Result<Json<MessageSearchPage>, AppError> {
    Ok(Json(messages::search(&ctx, caller, query).await?))
}

#[utoipa::path(
    patch,
    path = "/api/v1/chat/message/{messageId}",
    tag = "messages",
    params(("messageId" = String, Path)),
    request_body = EditMessageRequest,
    responses((status = 200, description = "The message with its new text and `editedAt`; the conversation hears `messageEdited`", body = Message), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// The sender only; a deleted message cannot be edited (409).
async fn edit(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(message_id): Path<String>,
    ValidJson(input): ValidJson<EditMessageRequest>,
) -> Result<Json<Message>, AppError> {
    Ok(Json(
        message_changes::edit(&ctx, caller, &message_id, input).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/chat/message/{messageId}",
    tag = "messages",
    params(("messageId" = String, Path)),
    responses((status = 200, description = "The message is a tombstone (again: the same answer); the conversation hears `messageDeleted`", body = MessageDeleted), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// The sender, or an admin of the group for group messages.
async fn delete(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(message_id): Path<String>,
) -> Result<Json<MessageDeleted>, AppError> {
    Ok(Json(
        message_changes::delete(&ctx, caller, &message_id).await?,
    ))
}

#[utoipa::path(
    put,
    path = "/api/v1/chat/message/{messageId}/reactions/{emoji}",
    tag = "messages",
    params(("messageId" = String, Path), ("emoji" = String, Path, description = "1–32 characters, URL-encoded")),
    responses((status = 200, description = "The caller's reaction is there (idempotent); the conversation hears `messageReactions`", body = MessageReactions), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// Participants only; at most 20 distinct emoji per message (409 beyond).
async fn add_reaction(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path((message_id, emoji)): Path<(String, String)>,
) -> Result<Json<MessageReactions>, AppError> {
    Ok(Json(
        message_changes::react(&ctx, caller, &message_id, &emoji, true).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/chat/message/{messageId}/reactions/{emoji}",
    tag = "messages",
    params(("messageId" = String, Path), ("emoji" = String, Path, description = "1–32 characters, URL-encoded")),
    responses((status = 200, description = "The caller's reaction is gone (idempotent)", body = MessageReactions), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn remove_reaction(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path((message_id, emoji)): Path<(String, String)>,
) -> Result<Json<MessageReactions>, AppError> {
    Ok(Json(
        message_changes::react(&ctx, caller, &message_id, &emoji, false).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/attachments",
    tag = "attachments",
    request_body = CreateAttachmentRequest,
    responses((status = 201, description = "Send the bytes with `upload`, then the message with `attachmentId`", body = UploadTicket), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// Declares a file for a conversation (a participant: `receiver` or a group of yours) and
/// answers where to upload its bytes.
async fn create_attachment(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<CreateAttachmentRequest>,
) -> Result<(StatusCode, Json<UploadTicket>), AppError> {
    let ticket = attachments::create_upload(&ctx, caller, input).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/attachments/{attachment_id}",
    tag = "attachments",
    params(("attachment_id" = String, Path, description = "The attachmentId a message carries"), DownloadQuery),
    responses((status = 302, description = "To a short-lived signed URL of the bytes"), (status = 200, description = "With `redirect=false`: that URL", body = DownloadLink), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// The file, for participants of its conversation (404 for anybody else).
async fn download_attachment(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(attachment_id): Path<String>,
    ValidQuery(query): ValidQuery<DownloadQuery>,
) -> Result<Response, AppError> {
    let link = attachments::download(&ctx, caller, &attachment_id).await?;
    if query.redirect == Some(false) {
        return Ok(Json(link).into_response());
    }
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, link.url),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/message/{messageId}/report",
    tag = "messages",
    params(("messageId" = String, Path)),
    request_body = ReportRequest,
    responses((status = 201, description = "Filed for the moderators", body = ReportReceipt), (status = 200, description = "You already have an open report of this message: that one", body = ReportReceipt), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// Participants of the conversation report a message of someone else's.
async fn report(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(message_id): Path<String>,
    ValidJson(input): ValidJson<ReportRequest>,
) -> Result<(StatusCode, Json<ReportReceipt>), AppError> {
    let filed = reports::report_message(&ctx, caller, &message_id, input).await?;
    let status = shared::http::created_or_ok(filed.created);
    Ok((status, Json(filed.receipt)))
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    fetch,
    update_status,
    undelivered,
    search,
    edit,
    delete,
    add_reaction,
    remove_reaction,
    report,
    create_attachment,
    download_attachment
))]
pub struct Docs;

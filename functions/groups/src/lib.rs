//! The `groups` function: create, details, update, membership, the user's groups and group rooms,
//! soft delete, search.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use shared::{
    auth::CurrentUser,
    dto::{
        auth::MessageResponse,
        chat::{GroupRoom, ModifiedCount, RoomsQuery},
        groups::{
            AddMemberRequest, CreateGroupRequest, GroupDetails, GroupSearchQuery, GroupSummary,
            GroupView, UpdateGroupRequest,
        },
    },
    http::{Api, ValidJson, ValidQuery},
    model::parse_id,
    service::groups,
    AppContext, AppError,
};

pub fn api() -> Api {
    Api::new()
        .post("/api/v1/chat/group", create)
        .get("/api/v1/chat/group/{group_id}", details)
        .put("/api/v1/chat/group/{group_id}", update)
        .delete("/api/v1/chat/group/{group_id}", deactivate)
        .post("/api/v1/chat/group/{group_id}/member", add_member)
        .delete(
            "/api/v1/chat/group/{group_id}/member/{user_id}",
            remove_member,
        )
        .get("/api/v1/chat/user/{user_id}/groups", of_user)
        .get("/api/v1/chat/group-rooms/{user_id}", rooms)
        .get("/api/v1/chat/groups/search", search)
        .put("/api/v1/chat/group/{group_id}/read", mark_read)
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/group",
    tag = "groups",
    request_body = CreateGroupRequest,
    responses((status = 201, description = "Created", body = GroupView), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn create(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidJson(input): ValidJson<CreateGroupRequest>,
) -> Result<(StatusCode, Json<GroupView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(groups::create(&ctx, caller, input).await?),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/group/{groupId}",
    tag = "groups",
    params(("groupId" = shared::model::GroupId, Path)),
    responses((status = 200, description = "The group with member profiles", body = GroupDetails), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn details(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(group_id): Path<String>,
) -> Result<Json<GroupDetails>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    Ok(Json(groups::details(&ctx, caller, group_id).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/chat/group/{groupId}",
    tag = "groups",
    params(("groupId" = shared::model::GroupId, Path)),
    request_body = UpdateGroupRequest,
    responses((status = 200, description = "Updated", body = GroupView), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn update(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(group_id): Path<String>,
    ValidJson(input): ValidJson<UpdateGroupRequest>,
) -> Result<Json<GroupView>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    Ok(Json(groups::update(&ctx, caller, group_id, input).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/chat/group/{groupId}/read",
    tag = "groups",
    params(("groupId" = shared::model::GroupId, Path)),
    responses((status = 200, description = "How many messages became read by the caller; their senders hear `messageStatus`", body = ModifiedCount), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
/// Members only (SPEC §7 group read marker).
async fn mark_read(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(group_id): Path<String>,
) -> Result<Json<ModifiedCount>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    Ok(Json(groups::mark_read(&ctx, caller, group_id).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/chat/group/{groupId}",
    tag = "groups",
    params(("groupId" = shared::model::GroupId, Path)),
    responses((status = 200, description = "Deleted (soft)", body = MessageResponse), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn deactivate(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(group_id): Path<String>,
) -> Result<Json<MessageResponse>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    groups::deactivate(&ctx, caller, group_id).await?;
    Ok(Json(MessageResponse {
        message: "Group deleted".into(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/group/{groupId}/member",
    tag = "groups",
    params(("groupId" = shared::model::GroupId, Path)),
    request_body = AddMemberRequest,
    responses((status = 200, description = "Member added", body = GroupView), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn add_member(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(group_id): Path<String>,
    ValidJson(input): ValidJson<AddMemberRequest>,
) -> Result<Json<GroupView>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    Ok(Json(
        groups::add_member(&ctx, caller, group_id, input.user_id).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/chat/group/{groupId}/member/{userId}",
    tag = "groups",
    params(("groupId" = shared::model::GroupId, Path), ("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "Member removed", body = GroupView), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn remove_member(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path((group_id, user_id)): Path<(String, String)>,
) -> Result<Json<GroupView>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(
        groups::remove_member(&ctx, caller, group_id, user_id).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/user/{userId}/groups",
    tag = "groups",
    params(("userId" = shared::model::UserId, Path)),
    responses((status = 200, description = "Your active groups", body = Vec<GroupView>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn of_user(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<Vec<GroupView>>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(groups::of_user(&ctx, caller, user_id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/group-rooms/{userId}",
    tag = "groups",
    params(("userId" = shared::model::UserId, Path), RoomsQuery),
    responses((status = 200, description = "Your groups with latest message and unread count", body = Vec<GroupRoom>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn rooms(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
    ValidQuery(page): ValidQuery<RoomsQuery>,
) -> Result<Json<Vec<GroupRoom>>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(
        shared::service::rooms::groups(&ctx, caller, user_id, &page).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/groups/search",
    tag = "groups",
    params(GroupSearchQuery),
    responses((status = 200, description = "Up to 20 active groups", body = Vec<GroupSummary>), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn search(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidQuery(query): ValidQuery<GroupSearchQuery>,
) -> Result<Json<Vec<GroupSummary>>, AppError> {
    Ok(Json(groups::search(&ctx, caller, &query.q).await?))
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    details,
    update,
    deactivate,
    mark_read,
    add_member,
    remove_member,
    of_user,
    rooms,
    search
))]
pub struct Docs;

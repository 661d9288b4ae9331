//! The `groups` function: create, details, update, membership, the user's groups and group rooms,
//! soft delete, search.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json, Router,
};
use shared::{
    auth::CurrentUser,
    dto::{
        auth::MessageResponse,
        chat::GroupRoom,
        groups::{
            AddMemberRequest, CreateGroupRequest, GroupDetails, GroupSearchQuery, GroupSummary,
            GroupView, UpdateGroupRequest,
        },
    },
    http::{parse_id, Api, ValidJson, ValidQuery},
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
}

pub fn routes() -> Router<AppContext> {
    api().into_router()
}

pub fn router(ctx: AppContext) -> Router {
    shared::http::finish(routes(), ctx)
}

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

async fn details(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(group_id): Path<String>,
) -> Result<Json<GroupDetails>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    Ok(Json(groups::details(&ctx, caller, group_id).await?))
}

async fn update(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(group_id): Path<String>,
    ValidJson(input): ValidJson<UpdateGroupRequest>,
) -> Result<Json<GroupView>, AppError> {
    let group_id = parse_id("groupId", &group_id)?;
    Ok(Json(groups::update(&ctx, caller, group_id, input).await?))
}

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

async fn of_user(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<Vec<GroupView>>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(groups::of_user(&ctx, caller, user_id).await?))
}

async fn rooms(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
) -> Result<Json<Vec<GroupRoom>>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(groups::rooms(&ctx, caller, user_id).await?))
}

async fn search(
    State(ctx): State<AppContext>,
    _caller: CurrentUser,
    ValidQuery(query): ValidQuery<GroupSearchQuery>,
) -> Result<Json<Vec<GroupSummary>>, AppError> {
    Ok(Json(groups::search(&ctx, &query.q).await?))
}

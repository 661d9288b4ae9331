//! The `admin` function: the moderators' reports queue and actions, suspensions and bans, roles
//! and the audit log, under `/api/v1/admin`. Every route reads the caller's stored roles (not the
//! token) and every action is audited.

use axum::{
    extract::{Path, State},
    Json,
};
use shared::{
    auth::CurrentUser,
    dto::moderation::{
        AuditPage, AuditQuery, ReportsPage, ReportsQuery, ResolveReportRequest, StandingRequest,
    },
    http::{Api, ValidJson, ValidQuery},
    model::{parse_id, Report, Role, User},
    service::moderation,
    AppContext, AppError,
};

pub fn api() -> Api {
    Api::new()
        .get("/api/v1/admin/reports", reports)
        .post("/api/v1/admin/reports/{report_id}/resolve", resolve)
        .post("/api/v1/admin/users/{user_id}/suspend", suspend)
        .post("/api/v1/admin/users/{user_id}/ban", ban)
        .post("/api/v1/admin/users/{user_id}/restore", restore)
        .put("/api/v1/admin/users/{user_id}/roles/{role}", grant_role)
        .delete("/api/v1/admin/users/{user_id}/roles/{role}", revoke_role)
        .get("/api/v1/admin/audit", audit)
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/reports",
    tag = "admin",
    params(ReportsQuery),
    responses((status = 200, description = "The reports queue, newest first (moderators)", body = ReportsPage), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn reports(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidQuery(query): ValidQuery<ReportsQuery>,
) -> Result<Json<ReportsPage>, AppError> {
    Ok(Json(moderation::list_reports(&ctx, caller, query).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/reports/{reportId}/resolve",
    tag = "admin",
    params(("reportId" = shared::model::ReportId, Path)),
    request_body = ResolveReportRequest,
    responses((status = 200, description = "Closed, with every other open report of the same target, and the action done (moderators)", body = Report), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn resolve(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(report_id): Path<String>,
    ValidJson(input): ValidJson<ResolveReportRequest>,
) -> Result<Json<Report>, AppError> {
    let report_id = parse_id("reportId", &report_id)?;
    Ok(Json(
        moderation::resolve(&ctx, caller, report_id, input).await?,
    ))
}

async fn standing(
    ctx: AppContext,
    caller: CurrentUser,
    user_id: String,
    action: &str,
    input: StandingRequest,
) -> Result<Json<User>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    Ok(Json(
        moderation::set_standing(&ctx, caller, user_id, action, input.until, input.note).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{userId}/suspend",
    tag = "admin",
    params(("userId" = shared::model::UserId, Path)),
    request_body = StandingRequest,
    responses((status = 200, description = "Suspended until `until`: sessions ended, sockets closed, login refused (moderators)", body = User), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn suspend(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
    ValidJson(input): ValidJson<StandingRequest>,
) -> Result<Json<User>, AppError> {
    standing(ctx, caller, user_id, "suspend", input).await
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{userId}/ban",
    tag = "admin",
    params(("userId" = shared::model::UserId, Path)),
    request_body = StandingRequest,
    responses((status = 200, description = "Banned: sessions ended, sockets closed, login refused (moderators)", body = User), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn ban(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
    ValidJson(input): ValidJson<StandingRequest>,
) -> Result<Json<User>, AppError> {
    standing(ctx, caller, user_id, "ban", input).await
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{userId}/restore",
    tag = "admin",
    params(("userId" = shared::model::UserId, Path)),
    request_body = StandingRequest,
    responses((status = 200, description = "Suspension or ban lifted (moderators)", body = User), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn restore(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(user_id): Path<String>,
    ValidJson(input): ValidJson<StandingRequest>,
) -> Result<Json<User>, AppError> {
    standing(ctx, caller, user_id, "restore", input).await
}

async fn role_change(
    ctx: AppContext,
    caller: CurrentUser,
    (user_id, role): (String, String),
    grant: bool,
) -> Result<Json<User>, AppError> {
    let user_id = parse_id("userId", &user_id)?;
    let role: Role = role
        .parse()
        .map_err(|message: String| AppError::Validation(vec![message]))?;
    Ok(Json(
        moderation::change_role(&ctx, caller, user_id, role, grant).await?,
    ))
}

#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{userId}/roles/{role}",
    tag = "admin",
    params(("userId" = shared::model::UserId, Path), ("role" = Role, Path)),
    responses((status = 200, description = "Granted (idempotent; admins)", body = User), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn grant_role(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(path): Path<(String, String)>,
) -> Result<Json<User>, AppError> {
    role_change(ctx, caller, path, true).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{userId}/roles/{role}",
    tag = "admin",
    params(("userId" = shared::model::UserId, Path), ("role" = Role, Path)),
    responses((status = 200, description = "Revoked (idempotent; admins)", body = User), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn revoke_role(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    Path(path): Path<(String, String)>,
) -> Result<Json<User>, AppError> {
    role_change(ctx, caller, path, false).await
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    params(AuditQuery),
    responses((status = 200, description = "Every moderator and admin action, newest first (admins)", body = AuditPage), shared::http::docs::ErrorResponses),
    security(("bearer" = []))
)]
async fn audit(
    State(ctx): State<AppContext>,
    caller: CurrentUser,
    ValidQuery(query): ValidQuery<AuditQuery>,
) -> Result<Json<AuditPage>, AppError> {
    Ok(Json(moderation::audit_log(&ctx, caller, query).await?))
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    reports,
    resolve,
    suspend,
    ban,
    restore,
    grant_role,
    revoke_role,
    audit
))]
pub struct Docs;

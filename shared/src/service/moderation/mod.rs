//! Trust and safety: who may moderate (the stored roles, read on every request), the reports
//! queue and what moderators do with it (remove a message, suspend or ban its author, dismiss),
//! roles granted by admins, and the audit log of every such action.

pub mod filter;
pub mod reports;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::{
    auth::CurrentUser,
    dto::moderation::{
        cursor, AuditPage, AuditQuery, ModerationAction, ReportsPage, ReportsQuery,
        ResolveReportRequest, MAX_ADMIN_PAGE,
    },
    error::AppError,
    model::{
        AuditEntry, AuditId, Report, ReportId, ReportStatus, ReportTarget, Role, Standing, User,
        UserId, UserRecord,
    },
    service::{access, attachments},
    store::{ReportQuery, Resolution},
    AppContext,
};

const DEFAULT_PAGE: u32 = 50;

/// The caller as stored, if they hold `needed` (an admin holds every role). Read from the
/// database on every request: a role revoked a second ago no longer works, whatever the token.
pub async fn require(
    ctx: &AppContext,
    caller: CurrentUser,
    needed: Role,
) -> Result<UserRecord, AppError> {
    let user = ctx
        .store
        .find_user_by_id(caller.id)
        .await?
        .filter(|user| !user.is_deleted())
        .ok_or_else(|| AppError::unauthorized("Session has ended; log in again"))?;
    if !user.has_role(needed) {
        return Err(AppError::forbidden(format!(
            "This needs the {} role",
            needed.as_str()
        )));
    }
    Ok(user)
}

/// One audit entry; a failure to write it fails the request (an action must not go unrecorded).
async fn audit(
    ctx: &AppContext,
    actor: UserId,
    action: &str,
    target: String,
    reason: Option<String>,
    report_id: Option<ReportId>,
    details: serde_json::Value,
) -> Result<(), AppError> {
    ctx.store
        .record_audit(AuditEntry {
            audit_id: AuditId::new(),
            actor,
            action: action.to_owned(),
            target,
            reason,
            report_id,
            details,
            at: crate::time::now(),
        })
        .await?;
    Ok(())
}

/// The page size asked for, within bounds; the store is asked for one more to tell `hasMore`.
fn page_limit(asked: Option<u32>) -> u32 {
    asked.unwrap_or(DEFAULT_PAGE).min(MAX_ADMIN_PAGE)
}

/// The first `limit` of `items` (read with one extra), and whether there were more.
fn page<T>(mut items: Vec<T>, limit: u32) -> (Vec<T>, bool) {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    (items, has_more)
}

/// `GET /admin/reports`: the queue, newest first (open ones by default).
pub async fn list_reports(
    ctx: &AppContext,
    caller: CurrentUser,
    query: ReportsQuery,
) -> Result<ReportsPage, AppError> {
    require(ctx, caller, Role::Moderator).await?;
    let status = match query.status.as_deref() {
        None => Some(ReportStatus::Open),
        Some("all") => None,
        Some(status) => Some(status.parse().map_err(|_| {
            AppError::Validation(vec![
                "status must be one of: open, actioned, dismissed, all".to_owned(),
            ])
        })?),
    };
    let limit = page_limit(query.limit);
    let reports = ctx
        .store
        .list_reports(ReportQuery {
            status,
            before: cursor("before", query.before.as_deref())?,
            limit: limit + 1,
        })
        .await?;
    let (reports, has_more) = page(reports, limit);
    Ok(ReportsPage { reports, has_more })
}

/// `GET /admin/audit`: admins only.
pub async fn audit_log(
    ctx: &AppContext,
    caller: CurrentUser,
    query: AuditQuery,
) -> Result<AuditPage, AppError> {
    require(ctx, caller, Role::Admin).await?;
    let limit = page_limit(query.limit);
    let entries = ctx
        .store
        .list_audit(cursor("before", query.before.as_deref())?, limit + 1)
        .await?;
    let (entries, has_more) = page(entries, limit);
    Ok(AuditPage { entries, has_more })
}

/// `POST /admin/reports/{id}/resolve`: closes the report (and every other open report of the same
/// target) and does what it says. One moderator wins a race; the other gets 409.
pub async fn resolve(
    ctx: &AppContext,
    caller: CurrentUser,
    report_id: ReportId,
    input: ResolveReportRequest,
) -> Result<Report, AppError> {
    let moderator = require(ctx, caller, Role::Moderator).await?;
    let report = ctx
        .store
        .find_report(report_id)
        .await?
        .ok_or_else(|| AppError::not_found("Report not found"))?;
    if report.status != ReportStatus::Open {
        return Err(already_closed());
    }
    let standing = match input.action {
        ModerationAction::RemoveMessage => {
            if !matches!(report.target, ReportTarget::Message { .. }) {
                return Err(AppError::bad_request(
                    "removeMessage applies to a message report only",
                ));
            }
            None
        }
        ModerationAction::Suspend => Some(suspension(input.until)?),
        ModerationAction::Ban => Some(Standing::Banned),
        ModerationAction::Dismiss => None,
    };
    let offender = report.target.offender();
    if standing.is_some() {
        may_restrict(ctx, &moderator, offender).await?;
    }
    let status = match input.action {
        ModerationAction::Dismiss => ReportStatus::Dismissed,
        _ => ReportStatus::Actioned,
    };
    let resolved = ctx
        .store
        .resolve_reports(
            report_id,
            Resolution {
                status,
                action: input.action.as_str().to_owned(),
                by: moderator.id,
                at: crate::time::now(),
            },
        )
        .await?
        .ok_or_else(already_closed)?;
    if input.action == ModerationAction::RemoveMessage {
        if let ReportTarget::Message { message_id, .. } = &report.target {
            remove_message(ctx, message_id).await?;
        }
    }
    if let Some(standing) = standing {
        restrict(ctx, offender, standing).await?;
    }
    let target = match (&report.target, input.action) {
        (ReportTarget::Message { message_id, .. }, ModerationAction::RemoveMessage) => {
            format!("message:{message_id}")
        }
        (_, ModerationAction::Dismiss) => format!("report:{report_id}"),
        _ => format!("user:{offender}"),
    };
    audit(
        ctx,
        moderator.id,
        input.action.as_str(),
        target,
        input.note,
        Some(report_id),
        json!({ "until": standing.and_then(|s| s.suspended_until()).map(|at| crate::time::to_iso(&at)) }),
    )
    .await?;
    Ok(resolved)
}

fn already_closed() -> AppError {
    AppError::conflict("This report is already closed")
}

/// A suspension that ends at `until`, which must be in the future.
fn suspension(until: Option<DateTime<Utc>>) -> Result<Standing, AppError> {
    match until {
        Some(until) if until > crate::time::now() => Ok(Standing::Suspended { until }),
        Some(_) => Err(AppError::Validation(vec![
            "until must be in the future".to_owned()
        ])),
        None => Err(AppError::Validation(vec![
            "until is required to suspend".to_owned()
        ])),
    }
}

/// Moderators restrict ordinary users; only an admin restricts a moderator or an admin; nobody
/// restricts themself.
async fn may_restrict(
    ctx: &AppContext,
    moderator: &UserRecord,
    offender: UserId,
) -> Result<(), AppError> {
    if offender == moderator.id {
        return Err(AppError::bad_request("You cannot suspend or ban yourself"));
    }
    let target = access::live_user(ctx, offender, "User").await?;
    if !target.roles.is_empty() && !moderator.has_role(Role::Admin) {
        return Err(AppError::forbidden(
            "Only an admin can suspend or ban a moderator or an admin",
        ));
    }
    Ok(())
}

/// The message becomes a tombstone "removed by a moderator" (the feed tells every socket of the
/// conversation, `messageDeleted`); its file goes too.
async fn remove_message(ctx: &AppContext, message_id: &str) -> Result<(), AppError> {
    let Some(message) = ctx.store.find_message(message_id).await? else {
        return Ok(());
    };
    if message.deleted {
        return Ok(());
    }
    ctx.store
        .delete_message(message.id, crate::time::now(), true)
        .await?;
    attachments::remove_for(ctx, &message).await;
    Ok(())
}

/// Sets the user's standing; a suspension or ban ends every session (their sockets close on
/// every node, refresh tokens stop working) and login is refused until it is lifted.
async fn restrict(ctx: &AppContext, user: UserId, standing: Standing) -> Result<(), AppError> {
    ctx.store
        .set_user_standing(user, standing, crate::time::now())
        .await?
        .ok_or_else(|| AppError::not_found("User not found"))?;
    if standing != Standing::Good {
        ctx.store.delete_user_sessions(user).await?;
    }
    Ok(())
}

/// `POST /admin/users/{id}/suspend|ban|restore` without a report.
pub async fn set_standing(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    action: &str,
    until: Option<DateTime<Utc>>,
    note: Option<String>,
) -> Result<User, AppError> {
    let moderator = require(ctx, caller, Role::Moderator).await?;
    let standing = match action {
        "suspend" => suspension(until)?,
        "ban" => Standing::Banned,
        _ => Standing::Good,
    };
    may_restrict(ctx, &moderator, user_id).await?;
    restrict(ctx, user_id, standing).await?;
    audit(
        ctx,
        moderator.id,
        action,
        format!("user:{user_id}"),
        note,
        None,
        json!({ "until": standing.suspended_until().map(|at| crate::time::to_iso(&at)) }),
    )
    .await?;
    let user = ctx
        .store
        .find_user_by_id(user_id)
        .await?
        .ok_or_else(|| AppError::not_found("User not found"))?;
    Ok(User::from(&user))
}

/// `PUT` (grant) or `DELETE` (revoke) `/admin/users/{id}/roles/{role}`: admins only; idempotent.
pub async fn change_role(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    role: Role,
    grant: bool,
) -> Result<User, AppError> {
    let admin = require(ctx, caller, Role::Admin).await?;
    if !grant && role == Role::Admin && user_id == admin.id {
        return Err(AppError::bad_request(
            "You cannot revoke your own admin role: ask another admin",
        ));
    }
    let user = access::live_user(ctx, user_id, "User").await?;
    let mut roles = user.roles.clone();
    roles.retain(|held| *held != role);
    if grant {
        roles.push(role);
        roles.sort();
    }
    let updated = ctx
        .store
        .set_user_roles(user_id, roles, crate::time::now())
        .await?
        .ok_or_else(|| AppError::not_found("User not found"))?;
    audit(
        ctx,
        admin.id,
        if grant { "grantRole" } else { "revokeRole" },
        format!("user:{user_id}"),
        None,
        None,
        json!({ "role": role.as_str() }),
    )
    .await?;
    Ok(User::from(&updated))
}

/// `ADMIN_EMAILS`: the account with one of these emails is an admin (at start-up, registration
/// and login). Returns the user as it is after.
pub async fn apply_admin_emails(
    ctx: &AppContext,
    user: UserRecord,
) -> Result<UserRecord, AppError> {
    let listed = ctx.config.moderation.admin_emails.contains(&user.email);
    if !listed || user.has_role(Role::Admin) || user.is_deleted() {
        return Ok(user);
    }
    let mut roles = user.roles.clone();
    roles.push(Role::Admin);
    roles.sort();
    let Some(updated) = ctx
        .store
        .set_user_roles(user.id, roles, crate::time::now())
        .await?
    else {
        return Ok(user);
    };
    audit(
        ctx,
        user.id,
        "grantRole",
        format!("user:{}", user.id),
        Some("ADMIN_EMAILS".to_owned()),
        None,
        json!({ "role": "admin" }),
    )
    .await?;
    tracing::info!(user = %user.id, "admin role granted from ADMIN_EMAILS");
    Ok(updated)
}

/// At a process's start: every existing account listed in `ADMIN_EMAILS` becomes an admin.
pub async fn bootstrap_admins(ctx: &AppContext) -> Result<(), AppError> {
    for email in &ctx.config.moderation.admin_emails {
        if let Some(user) = ctx.store.find_user_by_email(email).await? {
            apply_admin_emails(ctx, user).await?;
        }
    }
    Ok(())
}

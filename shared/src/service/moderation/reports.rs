//! Filing reports: a participant reports a message of their conversation, anyone reports another
//! user. One open report per reporter and target; rate-limited per reporter.

use crate::{
    auth::CurrentUser,
    dto::moderation::{ReportReceipt, ReportRequest},
    error::AppError,
    model::{
        moderation::REPORT_EXCERPT_CHARS, Report, ReportId, ReportStatus, ReportTarget, UserId,
    },
    service::{access, message_changes, rate_limit},
    store::ReportFiled,
    AppContext,
};

/// The receipt, and whether this call filed it (false: the caller's open report of the same
/// target, unchanged).
pub struct Filed {
    pub receipt: ReportReceipt,
    pub created: bool,
}

/// `POST /chat/message/{messageId}/report`: participants of its conversation, not its sender.
pub async fn report_message(
    ctx: &AppContext,
    caller: CurrentUser,
    message_id: &str,
    input: ReportRequest,
) -> Result<Filed, AppError> {
    let message = message_changes::participation(ctx, caller, message_id)
        .await?
        .message;
    if message.sender == caller.id {
        return Err(AppError::bad_request("You cannot report your own message"));
    }
    let target = ReportTarget::Message {
        message_id: message.message_id.clone(),
        chat_room_id: message.chat_room_id,
        author: message.sender,
        excerpt: message.message.chars().take(REPORT_EXCERPT_CHARS).collect(),
    };
    file(ctx, caller, target, input).await
}

/// `POST /users/{userId}/report`: any user but oneself.
pub async fn report_user(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    input: ReportRequest,
) -> Result<Filed, AppError> {
    if user_id == caller.id {
        return Err(AppError::bad_request("You cannot report yourself"));
    }
    access::existing_user(ctx, user_id, "User").await?;
    file(ctx, caller, ReportTarget::User { user_id }, input).await
}

async fn file(
    ctx: &AppContext,
    caller: CurrentUser,
    target: ReportTarget,
    input: ReportRequest,
) -> Result<Filed, AppError> {
    let limit = ctx.config.moderation.report_rate_limit;
    rate_limit::check(ctx, "report", &rate_limit::user_key(caller.id), limit).await?;
    let report = Report {
        report_id: ReportId::new(),
        reporter: caller.id,
        target,
        reason: input.reason,
        note: input
            .note
            .map(|note| note.trim().to_owned())
            .filter(|note| !note.is_empty()),
        status: ReportStatus::Open,
        created_at: crate::time::now(),
        resolved_at: None,
        resolved_by: None,
        resolution: None,
    };
    let (report, created) = match ctx.store.file_report(report).await? {
        ReportFiled::Created(report) => (report, true),
        ReportFiled::Existing(report) => (report, false),
    };
    Ok(Filed {
        receipt: ReportReceipt::from(&report),
        created,
    })
}

//! Request and response bodies of reports, account deletion and `/api/v1/admin/*`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::model::{AuditEntry, Report, ReportId, ReportReason, ReportStatus};

/// Longest note a reporter or moderator may add.
pub const MAX_NOTE_CHARS: usize = 1000;
/// Largest page of the reports queue or the audit log (default 50).
pub const MAX_ADMIN_PAGE: u32 = 100;

/// `POST /chat/message/{id}/report`, `POST /users/{id}/report`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportRequest {
    pub reason: ReportReason,
    #[validate(length(max = 1000, message = "note must be at most 1000 characters"))]
    pub note: Option<String>,
}

/// What the reporter is told.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportReceipt {
    pub report_id: ReportId,
    pub status: ReportStatus,
}

impl From<&Report> for ReportReceipt {
    fn from(report: &Report) -> Self {
        Self {
            report_id: report.report_id,
            status: report.status,
        }
    }
}

/// `DELETE /users/me`: the password again, so a stolen access token cannot delete an account.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteAccountRequest {
    #[validate(length(min = 1, max = 1024, message = "password must be 1 to 1024 characters"))]
    pub password: String,
}

/// `GET /admin/reports`.
#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// `open` (default), `actioned`, `dismissed` or `all`.
    pub status: Option<String>,
    /// A reportId: only older reports (the next page).
    pub before: Option<String>,
    #[validate(range(min = 1, max = 100, message = "limit must be 1 to 100"))]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportsPage {
    pub reports: Vec<Report>,
    pub has_more: bool,
}

/// `GET /admin/audit`.
#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// An auditId: only older entries.
    pub before: Option<String>,
    #[validate(range(min = 1, max = 100, message = "limit must be 1 to 100"))]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub has_more: bool,
}

/// What a moderator does with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ModerationAction {
    /// A message report: the message becomes a tombstone "removed by a moderator".
    RemoveMessage,
    /// The offender (the message's author, or the reported user) cannot log in or connect until
    /// `until`; their sessions end now.
    Suspend,
    /// The same, with no end.
    Ban,
    /// Nothing is done; the report closes.
    Dismiss,
}

impl ModerationAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RemoveMessage => "removeMessage",
            Self::Suspend => "suspend",
            Self::Ban => "ban",
            Self::Dismiss => "dismiss",
        }
    }
}

/// `POST /admin/reports/{reportId}/resolve`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveReportRequest {
    pub action: ModerationAction,
    /// For `suspend`: when the suspension ends (ISO-8601, in the future).
    #[serde(default, with = "crate::time::iso_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<DateTime<Utc>>,
    /// Why (kept in the audit log).
    #[validate(length(max = 1000, message = "note must be at most 1000 characters"))]
    pub note: Option<String>,
}

/// `POST /admin/users/{userId}/suspend`, `…/ban`, `…/restore` (without a report).
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StandingRequest {
    /// For a suspension: when it ends.
    #[serde(default, with = "crate::time::iso_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<DateTime<Utc>>,
    #[validate(length(max = 1000, message = "note must be at most 1000 characters"))]
    pub note: Option<String>,
}

/// An id cursor of an admin page.
pub fn cursor<T: std::str::FromStr>(
    field: &str,
    raw: Option<&str>,
) -> Result<Option<T>, crate::AppError> {
    raw.map(|raw| crate::model::parse_id(field, raw))
        .transpose()
}

//! The moderation port: reports in their queue and the audit log of moderators' actions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{AuditEntry, AuditId, Report, ReportId, ReportStatus, UserId};

/// What `file_report` did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportFiled {
    Created(Report),
    /// The reporter already has an open report of this target: that one (nothing changed).
    Existing(Report),
}

/// A page of the reports queue, newest first.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub status: Option<ReportStatus>,
    /// Only reports older than this one (the previous page's last).
    pub before: Option<ReportId>,
    pub limit: u32,
}

/// How a moderator closed a report.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub status: ReportStatus,
    /// The action's name, as in the audit log.
    pub action: String,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait ModerationStore: Send + Sync {
    /// Files a report; at most one open report per reporter and target (`Report::target.key`),
    /// safe across processes (a unique key, not a read-then-write).
    async fn file_report(&self, report: Report) -> StoreResult<ReportFiled>;
    async fn find_report(&self, id: ReportId) -> StoreResult<Option<Report>>;
    async fn list_reports(&self, query: ReportQuery) -> StoreResult<Vec<Report>>;
    /// Closes report `id` (when it is open: one caller wins) and every other open report of the
    /// same target the same way. The report after it; `None` when it was not open.
    async fn resolve_reports(
        &self,
        id: ReportId,
        resolution: Resolution,
    ) -> StoreResult<Option<Report>>;
    /// Removes every report `reporter` filed (their account is being deleted); how many.
    async fn delete_reports_by(&self, reporter: UserId) -> StoreResult<u64>;
    async fn record_audit(&self, entry: AuditEntry) -> StoreResult<()>;
    /// The audit log, newest first, older than `before` when given, at most `limit`.
    async fn list_audit(&self, before: Option<AuditId>, limit: u32)
        -> StoreResult<Vec<AuditEntry>>;
}

/// The unique key of a report: reporter and target while open, the report's own id once closed
/// (so a new report of the same target can be filed then).
pub fn open_key(report: &Report) -> String {
    match report.status {
        ReportStatus::Open => format!("{}|{}", report.reporter, report.target.key()),
        _ => format!("closed|{}", report.report_id),
    }
}

/// The report as `resolution` leaves it.
pub fn resolved(mut report: Report, resolution: &Resolution) -> Report {
    report.status = resolution.status;
    report.resolved_at = Some(resolution.at);
    report.resolved_by = Some(resolution.by);
    report.resolution = Some(resolution.action.clone());
    report
}

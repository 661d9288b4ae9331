//! Reports and the audit log on SQLite: a row each, the whole record as JSON beside the columns
//! the queue is queried by.

use async_trait::async_trait;
use rusqlite::{params, Connection};

use super::{all, execute, optional, SqliteStore};
use crate::{
    model::{AuditEntry, AuditId, Report, ReportId, ReportStatus, UserId},
    store::{
        open_key, resolved, ModerationStore, ReportFiled, ReportQuery, Resolution, StoreError,
        StoreResult,
    },
};

fn encode<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|err| StoreError::Backend(format!("cannot encode: {err}")))
}

fn decode<T: serde::de::DeserializeOwned>(table: &str, json: &str) -> StoreResult<T> {
    serde_json::from_str(json).map_err(|_| StoreError::Backend(format!("corrupt {table} row")))
}

fn load(conn: &Connection, id: ReportId) -> StoreResult<Option<Report>> {
    optional(
        conn,
        "SELECT body FROM reports WHERE id = ?",
        [id.to_hex()],
        |row| row.get::<_, String>(0),
    )?
    .map(|body| decode("reports", &body))
    .transpose()
}

fn store(conn: &Connection, report: &Report) -> StoreResult<()> {
    execute(
        conn,
        "UPDATE reports SET status = ?, open_key = ?, body = ? WHERE id = ?",
        params![
            report.status.as_str(),
            open_key(report),
            encode(report)?,
            report.report_id.to_hex()
        ],
    )?;
    Ok(())
}

fn resolve(
    conn: &Connection,
    id: ReportId,
    resolution: &Resolution,
) -> StoreResult<Option<Report>> {
    let Some(report) = load(conn, id)?.filter(|report| report.status == ReportStatus::Open) else {
        return Ok(None);
    };
    let same_target = all(
        conn,
        "SELECT body FROM reports WHERE target_key = ? AND status = 'open' AND id <> ?",
        params![report.target.key(), id.to_hex()],
        |row| row.get::<_, String>(0),
    )?;
    for body in same_target {
        store(conn, &resolved(decode("reports", &body)?, resolution))?;
    }
    let report = resolved(report, resolution);
    store(conn, &report)?;
    Ok(Some(report))
}

#[async_trait]
impl ModerationStore for SqliteStore {
    async fn file_report(&self, report: Report) -> StoreResult<ReportFiled> {
        self.engine()
            .write(move |conn| {
                let key = open_key(&report);
                if let Some(body) = optional(
                    conn,
                    "SELECT body FROM reports WHERE open_key = ?",
                    [&key],
                    |row| row.get::<_, String>(0),
                )? {
                    return Ok(ReportFiled::Existing(decode("reports", &body)?));
                }
                execute(
                    conn,
                    "INSERT INTO reports (id, reporter, target_key, status, open_key, body) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    params![
                        report.report_id.to_hex(),
                        report.reporter.to_hex(),
                        report.target.key(),
                        report.status.as_str(),
                        key,
                        encode(&report)?
                    ],
                )?;
                Ok(ReportFiled::Created(report))
            })
            .await
    }

    async fn find_report(&self, id: ReportId) -> StoreResult<Option<Report>> {
        self.engine().read(move |conn| load(conn, id)).await
    }

    async fn list_reports(&self, query: ReportQuery) -> StoreResult<Vec<Report>> {
        self.engine()
            .read(move |conn| {
                let bodies = all(
                    conn,
                    "SELECT body FROM reports WHERE (?1 IS NULL OR status = ?1) \
                     AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
                    params![
                        query.status.map(|status| status.as_str()),
                        query.before.map(|id| id.to_hex()),
                        i64::from(query.limit)
                    ],
                    |row| row.get::<_, String>(0),
                )?;
                bodies.iter().map(|body| decode("reports", body)).collect()
            })
            .await
    }

    async fn resolve_reports(
        &self,
        id: ReportId,
        resolution: Resolution,
    ) -> StoreResult<Option<Report>> {
        self.engine()
            .write(move |conn| resolve(conn, id, &resolution))
            .await
    }

    async fn delete_reports_by(&self, reporter: UserId) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM reports WHERE reporter = ?",
                    [reporter.to_hex()],
                )
                .map(|removed| removed as u64)
            })
            .await
    }

    async fn record_audit(&self, entry: AuditEntry) -> StoreResult<()> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT INTO audit_log (id, body) VALUES (?, ?)",
                    params![entry.audit_id.to_hex(), encode(&entry)?],
                )
                .map(|_| ())
            })
            .await
    }

    async fn list_audit(
        &self,
        before: Option<AuditId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.engine()
            .read(move |conn| {
                let bodies = all(
                    conn,
                    "SELECT body FROM audit_log WHERE (?1 IS NULL OR id < ?1) \
                     ORDER BY id DESC LIMIT ?2",
                    params![before.map(|id| id.to_hex()), i64::from(limit)],
                    |row| row.get::<_, String>(0),
                )?;
                bodies
                    .iter()
                    .map(|body| decode("audit_log", body))
                    .collect()
            })
            .await
    }
}

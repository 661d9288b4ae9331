//! Reports and the audit log on MongoDB: a document each, the record as the API shows it under
//! `body` beside the fields the queue is queried by (`openKey` unique: one open report per
//! reporter and target).

use async_trait::async_trait;
use bson::{doc, oid::ObjectId, Document};
use futures_util::TryStreamExt;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{
    indexes::{AUDIT_LOG, REPORTS},
    map_err, MongoStore,
};
use crate::{
    model::{AuditEntry, AuditId, Report, ReportId, ReportStatus, UserId},
    store::{
        open_key, resolved, ModerationStore, ReportFiled, ReportQuery, Resolution, StoreError,
        StoreResult,
    },
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    reporter: ObjectId,
    target_key: String,
    status: String,
    open_key: String,
    body: Document,
}

#[derive(Debug, Serialize, Deserialize)]
struct AuditDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    body: Document,
}

fn encode<T: Serialize>(value: &T) -> StoreResult<Document> {
    bson::to_document(value).map_err(|err| StoreError::Backend(format!("cannot encode: {err}")))
}

fn decode<T: serde::de::DeserializeOwned>(body: Document) -> StoreResult<T> {
    bson::from_document(body).map_err(|_| StoreError::Backend("corrupt moderation record".into()))
}

impl ReportDoc {
    fn of(report: &Report) -> StoreResult<Self> {
        Ok(Self {
            id: report.report_id.0,
            reporter: report.reporter.0,
            target_key: report.target.key(),
            status: report.status.as_str().to_owned(),
            open_key: open_key(report),
            body: encode(report)?,
        })
    }
}

impl MongoStore {
    fn reports(&self) -> Collection<ReportDoc> {
        self.database().collection(REPORTS)
    }

    fn audit_log(&self) -> Collection<AuditDoc> {
        self.database().collection(AUDIT_LOG)
    }

    /// Writes `report` over its document if that document is still open; whether it was.
    async fn close(&self, report: &Report) -> StoreResult<bool> {
        let closed = ReportDoc::of(report)?;
        let result = self
            .reports()
            .replace_one(doc! { "_id": closed.id, "status": "open" }, closed)
            .await
            .map_err(map_err)?;
        Ok(result.modified_count == 1)
    }
}

#[async_trait]
impl ModerationStore for MongoStore {
    async fn file_report(&self, report: Report) -> StoreResult<ReportFiled> {
        match self.reports().insert_one(ReportDoc::of(&report)?).await {
            Ok(_) => Ok(ReportFiled::Created(report)),
            Err(err) => match map_err(err) {
                StoreError::Duplicate { .. } => {
                    let existing = self
                        .reports()
                        .find_one(doc! { "openKey": open_key(&report) })
                        .await
                        .map_err(map_err)?
                        .ok_or_else(|| StoreError::Backend("report vanished".into()))?;
                    Ok(ReportFiled::Existing(decode(existing.body)?))
                }
                other => Err(other),
            },
        }
    }

    async fn find_report(&self, id: ReportId) -> StoreResult<Option<Report>> {
        let found = self
            .reports()
            .find_one(doc! { "_id": id.0 })
            .await
            .map_err(map_err)?;
        found.map(|doc| decode(doc.body)).transpose()
    }

    async fn list_reports(&self, query: ReportQuery) -> StoreResult<Vec<Report>> {
        let mut filter = doc! {};
        if let Some(status) = query.status {
            filter.insert("status", status.as_str());
        }
        if let Some(before) = query.before {
            filter.insert("_id", doc! { "$lt": before.0 });
        }
        let found: Vec<ReportDoc> = self
            .reports()
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(i64::from(query.limit))
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        found.into_iter().map(|doc| decode(doc.body)).collect()
    }

    async fn resolve_reports(
        &self,
        id: ReportId,
        resolution: Resolution,
    ) -> StoreResult<Option<Report>> {
        let Some(report) = self
            .find_report(id)
            .await?
            .filter(|report| report.status == ReportStatus::Open)
        else {
            return Ok(None);
        };
        let report = resolved(report, &resolution);
        if !self.close(&report).await? {
            return Ok(None);
        }
        let others: Vec<ReportDoc> = self
            .reports()
            .find(doc! { "targetKey": report.target.key(), "status": "open" })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        for other in others {
            self.close(&resolved(decode(other.body)?, &resolution))
                .await?;
        }
        Ok(Some(report))
    }

    async fn delete_reports_by(&self, reporter: UserId) -> StoreResult<u64> {
        let result = self
            .reports()
            .delete_many(doc! { "reporter": reporter.0 })
            .await
            .map_err(map_err)?;
        Ok(result.deleted_count)
    }

    async fn record_audit(&self, entry: AuditEntry) -> StoreResult<()> {
        self.audit_log()
            .insert_one(AuditDoc {
                id: entry.audit_id.0,
                body: encode(&entry)?,
            })
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn list_audit(
        &self,
        before: Option<AuditId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let filter = match before {
            Some(before) => doc! { "_id": { "$lt": before.0 } },
            None => doc! {},
        };
        let found: Vec<AuditDoc> = self
            .audit_log()
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        found.into_iter().map(|doc| decode(doc.body)).collect()
    }
}

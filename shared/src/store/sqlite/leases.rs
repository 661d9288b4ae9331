//! Job leases on SQLite: one row per job, claimed and renewed inside one writer operation each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::{execute, optional, parse_time, SqliteStore};
use crate::{
    store::{Claimed, LeaseStore, StoreResult},
    time::to_iso,
};

fn claim(
    conn: &Connection,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<Option<Claimed>> {
    let current = optional(
        conn,
        "SELECT holder, token, expires_at, position FROM job_leases WHERE job = ?",
        [job],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        },
    )?;
    let (token, position) = match current {
        None => (1, None),
        Some((current, token, until, position)) => {
            let live = parse_time("job_leases.expires_at", &until)? > now;
            match (current == holder && live, live) {
                (true, _) => (token, position),
                (false, true) => return Ok(None),
                (false, false) => (token + 1, position),
            }
        }
    };
    execute(
        conn,
        "INSERT INTO job_leases (job, holder, token, expires_at, position) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (job) DO UPDATE SET holder = ?2, token = ?3, expires_at = ?4",
        params![job, holder, token, to_iso(&expires_at), position],
    )?;
    Ok(Some(Claimed {
        token: u64::try_from(token).unwrap_or_default(),
        position,
    }))
}

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn claim_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<Option<Claimed>> {
        let (job, holder) = (job.to_owned(), holder.to_owned());
        self.engine()
            .write(move |conn| claim(conn, &job, &holder, now, expires_at))
            .await
    }

    async fn renew_lease(
        &self,
        job: &str,
        holder: &str,
        token: u64,
        expires_at: DateTime<Utc>,
        position: Option<&str>,
    ) -> StoreResult<bool> {
        let (job, holder) = (job.to_owned(), holder.to_owned());
        let position = position.map(str::to_owned);
        let token = i64::try_from(token).unwrap_or(i64::MAX);
        self.engine()
            .write(move |conn| {
                let changed = execute(
                    conn,
                    "UPDATE job_leases SET expires_at = ?, position = COALESCE(?, position) \
                     WHERE job = ? AND holder = ? AND token = ?",
                    params![to_iso(&expires_at), position, job, holder, token],
                )?;
                Ok(changed > 0)
            })
            .await
    }
}

//! The embedded change feed: an `events` table written in the same transaction as each change,
//! read in `seq` order. A position is the last `seq` seen, so a reader resumes exactly where it
//! stopped, across restarts and across processes.
//!
//! Each reader is a thread with a connection of its own that reads events in batches. It does not
//! poll the table: it sleeps until this process's writer commits (`Commits`, at once) or until
//! `PRAGMA data_version` says another process committed (checked every `CROSS_PROCESS_CHECK`).

use std::{collections::VecDeque, path::PathBuf, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use tokio::sync::mpsc;

use super::{all, engine::connect, engine::Commits, execute, map_err, one, SqliteStore};
use crate::{
    store::{Change, ChangeFeed, ChangeStream, FeedEvent, StoreError, StoreResult},
    time::to_iso,
};

/// How often an idle reader asks whether another process committed (a cheap pragma, no query).
const CROSS_PROCESS_CHECK: Duration = Duration::from_millis(5);
/// How long a reader waits after a failed read before trying again.
const RETRY_AFTER_ERROR: Duration = Duration::from_millis(50);
const BATCH: i64 = 256;
/// Batches read ahead of the consumer at most.
const READ_AHEAD: usize = 4;
/// Events older than this are pruned when a store opens; a reader that was away longer resumes
/// from the oldest event kept.
const RETENTION_DAYS: i64 = 7;

/// Appends `change` to the feed inside the caller's transaction.
pub(crate) fn record(conn: &Connection, change: &Change, now: DateTime<Utc>) -> StoreResult<()> {
    let payload = serde_json::to_string(change)
        .map_err(|err| StoreError::Backend(format!("cannot encode event: {err}")))?;
    execute(
        conn,
        "INSERT INTO events (payload, created_at) VALUES (?, ?)",
        params![payload, to_iso(&now)],
    )?;
    Ok(())
}

pub(crate) fn prune(conn: &Connection) -> StoreResult<()> {
    let cutoff = crate::time::now() - chrono::Duration::days(RETENTION_DAYS);
    execute(
        conn,
        "DELETE FROM events WHERE created_at < ?",
        [to_iso(&cutoff)],
    )?;
    Ok(())
}

/// An event that cannot be read is logged and skipped (the reader moves past it): no content can
/// stall the feed.
fn decode(seq: i64, payload: &str) -> Option<Change> {
    match serde_json::from_str(payload) {
        Ok(change) => Some(change),
        Err(err) => {
            tracing::error!(seq, error = %err, "skipping a feed event that cannot be decoded");
            None
        }
    }
}

fn read_after(conn: &Connection, after: i64) -> StoreResult<Vec<FeedEvent>> {
    let rows = all(
        conn,
        "SELECT seq, payload, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        params![after, BATCH],
        |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        },
    )?;
    if !rows.is_empty() {
        ::metrics::counter!(crate::metrics::FEED_BATCHES).increment(1);
        ::metrics::histogram!(crate::metrics::FEED_BATCH_SIZE).record(rows.len() as f64);
    }
    Ok(rows
        .into_iter()
        .map(|(seq, payload, created_at)| FeedEvent {
            position: seq.to_string(),
            change: decode(seq, &payload),
            committed_at: crate::time::from_iso(&created_at),
        })
        .collect())
}

fn data_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
        .map_err(map_err)
        .ok()
}

/// The reader thread: reads every event after `after` into `out`, in batches, until the stream
/// is dropped.
fn follow(
    path: PathBuf,
    mut after: i64,
    commits: Arc<Commits>,
    out: mpsc::Sender<StoreResult<Vec<FeedEvent>>>,
) {
    let conn = match connect(&path) {
        Ok(conn) => conn,
        Err(err) => {
            let _ = out.blocking_send(Err(err));
            return;
        }
    };
    loop {
        // Taken before the read: a commit after this point wakes the wait below at once.
        let generation = commits.current();
        let version = data_version(&conn);
        match read_after(&conn, after) {
            Ok(events) if !events.is_empty() => {
                if let Some(last) = events.last() {
                    after = last.position.parse().unwrap_or(after);
                }
                if out.blocking_send(Ok(events)).is_err() {
                    return;
                }
                continue;
            }
            Ok(_) => {}
            Err(err) => {
                if out.blocking_send(Err(err)).is_err() {
                    return;
                }
                std::thread::sleep(RETRY_AFTER_ERROR);
                continue;
            }
        }
        // Nothing new: sleep until a commit here or in another process.
        loop {
            if out.is_closed() {
                return;
            }
            if commits.wait_after(generation, CROSS_PROCESS_CHECK) != generation {
                break;
            }
            if data_version(&conn) != version {
                break;
            }
        }
    }
}

#[async_trait]
impl ChangeFeed for SqliteStore {
    async fn feed_position(&self) -> StoreResult<String> {
        self.engine()
            .read(|conn| {
                one(
                    conn,
                    "SELECT COALESCE(MAX(seq), 0) FROM events",
                    [],
                    |row| row.get::<_, i64>(0),
                )
            })
            .await
            .map(|seq| seq.to_string())
    }

    async fn changes(&self, position: Option<String>) -> StoreResult<ChangeStream> {
        let after = match position {
            Some(position) => position
                .parse::<i64>()
                .map_err(|_| StoreError::PositionLost(format!("bad feed position {position:?}")))?,
            None => self.feed_position().await?.parse().unwrap_or(0),
        };
        let (out, batches) = mpsc::channel(READ_AHEAD);
        let path = self.engine().path().to_owned();
        let commits = self.engine().commits();
        std::thread::Builder::new()
            .name("sqlite-feed".into())
            .spawn(move || follow(path, after, commits, out))
            .map_err(|err| StoreError::Unavailable(format!("cannot start a feed reader: {err}")))?;
        let stream = futures_util::stream::unfold(
            (batches, VecDeque::new()),
            |(mut batches, mut pending): (_, VecDeque<FeedEvent>)| async move {
                loop {
                    if let Some(event) = pending.pop_front() {
                        return Some((Ok(event), (batches, pending)));
                    }
                    match batches.recv().await? {
                        Ok(events) => pending.extend(events),
                        Err(err) => return Some((Err(err), (batches, pending))),
                    }
                }
            },
        );
        Ok(Box::pin(stream))
    }

    /// A position is an events-table sequence number.
    fn position_order(&self, a: &str, b: &str) -> Option<std::cmp::Ordering> {
        Some(a.parse::<i64>().ok()?.cmp(&b.parse::<i64>().ok()?))
    }
}

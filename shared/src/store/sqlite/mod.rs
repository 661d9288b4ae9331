//! The embedded adapter: one SQLite file in WAL mode, shared by every local process (each function
//! that `cargo lambda watch` spawns, and the realtime node). Statements run on rusqlite
//! connections owned by the engine (`engine.rs`): writes as whole operations on one writer thread
//! with group commit, reads on reader connections; `busy_timeout` orders writers across processes.

use std::{path::Path, str::FromStr};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Params, Row};

use super::{Storage, StoreError, StoreResult};

mod attachments;
mod diagnostics;
mod engine;
mod feed;
mod groups;
mod leases;
mod messages;
mod moderation;
mod notifications;
mod rate_limits;
mod realtime;
mod sessions;
mod users;

pub(crate) use engine::map_err;
use engine::Engine;
pub use messages::{index_for_search, search_sql as search_messages_sql};
pub use users::SEARCH_USERS_WHERE;

const SCHEMA: &str = include_str!("schema.sql");

#[derive(Clone)]
pub struct SqliteStore {
    engine: Engine,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| {
                StoreError::Unavailable(format!("cannot create {}: {err}", dir.display()))
            })?;
        }
        let owned = path.to_owned();
        tokio::task::spawn_blocking(move || prepare(&owned))
            .await
            .map_err(|err| StoreError::Backend(format!("schema set-up did not finish: {err}")))??;
        Ok(Self {
            engine: Engine::start(path)?,
        })
    }

    /// Rebuilds the per-user conversation rows from the messages, for bulk loads that write
    /// messages straight into the file (the benchmarks' seeding) instead of through the port.
    pub async fn rebuild_conversations(&self) -> StoreResult<()> {
        self.engine.write(messages::rebuild_conversations).await
    }

    /// The engine every operation goes through.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Schema, added columns and feed pruning, on a connection of its own before the engine starts.
fn prepare(path: &Path) -> StoreResult<()> {
    let conn = engine::connect(path)?;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
    // A file from before the search index: index what is already there, once.
    let had_search_index = optional(
        &conn,
        "SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'",
        [],
        |row| row.get::<_, i64>(0),
    )?
    .is_some();
    let applied = conn
        .execute_batch(SCHEMA)
        .map_err(map_err)
        .and_then(|()| migrate(&conn))
        .and_then(|()| {
            if had_search_index {
                Ok(())
            } else {
                messages::index_for_search(&conn)
            }
        });
    let end = if applied.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    conn.execute_batch(end).map_err(map_err)?;
    applied?;
    if messages::conversations_missing(&conn)? {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
        // Checked again under the write lock: another process may have rebuilt them meanwhile.
        let rebuilt = if messages::conversations_missing(&conn)? {
            messages::rebuild_conversations(&conn)
        } else {
            Ok(())
        };
        let end = if rebuilt.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        conn.execute_batch(end).map_err(map_err)?;
        rebuilt?;
    }
    feed::prune(&conn)
}

/// Columns added after a database file may have been created (`CREATE TABLE IF NOT EXISTS`
/// leaves an existing table as it is): added when missing, idempotently.
fn migrate(conn: &Connection) -> StoreResult<()> {
    const ADDED: &[(&str, &str, &str)] = &[
        ("sessions", "previous_token_hash", "TEXT"),
        ("sessions", "rotated_at", "TEXT"),
        ("ws_connections", "session_id", "TEXT"),
        ("messages", "edited_at", "TEXT"),
        ("messages", "deleted_at", "TEXT"),
        ("messages", "reply_to", "TEXT"),
        ("messages", "removed_by", "TEXT"),
        ("users", "roles", "TEXT NOT NULL DEFAULT ''"),
        ("users", "banned", "INTEGER NOT NULL DEFAULT 0"),
        ("users", "suspended_until", "TEXT"),
        ("users", "deleted_at", "TEXT"),
    ];
    for (table, column, kind) in ADDED {
        let columns = all(
            conn,
            &format!("SELECT name FROM pragma_table_info('{table}')"),
            [],
            |row| row.get::<_, String>(0),
        )?;
        if !columns.iter().any(|name| name == column) {
            let added = conn.execute(
                &format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"),
                [],
            );
            // Another process may have added it meanwhile.
            if let Err(err) = added {
                if !err.to_string().contains("duplicate column") {
                    return Err(map_err(err));
                }
            }
        }
    }
    // Indexes on added columns (an older file gets them only now).
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS users_held_usernames ON users (deleted_at) \
         WHERE deleted_at IS NOT NULL AND username_lower NOT LIKE 'deleted-%';",
    )
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl Storage for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.engine
            .read(|conn| one(conn, "SELECT 1", [], |row| row.get::<_, i64>(0)).map(|_| ()))
            .await
    }
}

/// Every row of a query, each mapped by `map`.
pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut statement = conn.prepare_cached(sql).map_err(map_err)?;
    let rows = statement.query_map(params, map).map_err(map_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
}

/// The first row of a query, if any.
pub(crate) fn optional<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Option<T>> {
    let mut statement = conn.prepare_cached(sql).map_err(map_err)?;
    statement.query_row(params, map).optional().map_err(map_err)
}

/// The one row a query always has (an aggregate).
pub(crate) fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<T> {
    let mut statement = conn.prepare_cached(sql).map_err(map_err)?;
    statement.query_row(params, map).map_err(map_err)
}

/// Runs a statement; the number of rows it changed.
pub(crate) fn execute(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<usize> {
    let mut statement = conn.prepare_cached(sql).map_err(map_err)?;
    statement.execute(params).map_err(map_err)
}

/// A count column as an unsigned number.
pub(crate) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Parses a stored column back into its type; a bad value means a corrupt row, not bad input.
pub(crate) fn parse_column<T: FromStr>(column: &'static str, text: &str) -> StoreResult<T> {
    text.parse()
        .map_err(|_| StoreError::Backend(format!("corrupt {column} value in database")))
}

/// `?, ?, ?` for binding a list.
pub(crate) fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// Parses a `json_group_array` of ids.
pub(crate) fn parse_id_list<T: FromStr>(column: &'static str, json: &str) -> StoreResult<Vec<T>> {
    let ids: Vec<String> = serde_json::from_str(json)
        .map_err(|_| StoreError::Backend(format!("corrupt {column} list in database")))?;
    ids.iter().map(|id| parse_column(column, id)).collect()
}

pub(crate) fn parse_time(
    column: &'static str,
    text: &str,
) -> StoreResult<chrono::DateTime<chrono::Utc>> {
    crate::time::from_iso(text)
        .ok_or_else(|| StoreError::Backend(format!("corrupt {column} value in database")))
}

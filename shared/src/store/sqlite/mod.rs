//! The embedded adapter: one SQLite file in WAL mode, shared by every local process (each function
//! that `cargo lambda watch` spawns, and the realtime node). Writes are single statements, so they
//! never hold a lock across an await; `busy_timeout` absorbs contention between processes.

use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

use super::{Storage, StoreError, StoreResult};

mod diagnostics;
mod feed;
mod groups;
mod messages;
mod rate_limits;
mod realtime;
mod sessions;
mod users;

pub use users::SEARCH_USERS_WHERE;

const SCHEMA: &str = include_str!("schema.sql");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| {
                StoreError::Unavailable(format!("cannot create {}: {err}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        // SQLite runs one writer at a time. Writers of this process queue for one connection
        // (in order, without sleeping) instead of contending for the file lock, whose busy handler
        // backs off in sleeps of up to 100 ms; `busy_timeout` still orders writers across processes.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let schema = format!("BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;");
        sqlx::raw_sql(&schema)
            .execute(&pool)
            .await
            .map_err(map_err)?;
        let store = Self { pool, writer };
        store.migrate().await?;
        store.prune_feed().await?;
        Ok(store)
    }

    /// Columns added after a database file may have been created (`CREATE TABLE IF NOT EXISTS`
    /// leaves an existing table as it is): added when missing, idempotently.
    async fn migrate(&self) -> StoreResult<()> {
        const ADDED: &[(&str, &str, &str)] = &[
            ("sessions", "previous_token_hash", "TEXT"),
            ("sessions", "rotated_at", "TEXT"),
            ("ws_connections", "session_id", "TEXT"),
        ];
        for (table, column, kind) in ADDED {
            let columns: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
            if !columns.iter().any(|name| name == column) {
                let added = sqlx::query(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))
                    .execute(&self.writer)
                    .await;
                // Another process may have added it meanwhile.
                if let Err(err) = added {
                    if !err.to_string().contains("duplicate column") {
                        return Err(map_err(err));
                    }
                }
            }
        }
        Ok(())
    }

    /// A write transaction that takes the write lock up front, so it never fails half-way on a
    /// lock upgrade; `busy_timeout` makes other processes wait their turn.
    pub(crate) async fn write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }

    /// Connections for reads (WAL: readers never wait for the writer).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The one connection this process writes through (see `open`).
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }
}

#[async_trait]
impl Storage for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}

/// Maps a driver error onto the port's errors; unique violations name the API field.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let message = db.message();
            let field = if message.contains("users.username") {
                "username"
            } else if message.contains("users.email") {
                "email"
            } else if message.contains("messages.client_message_id") {
                "clientMessageId"
            } else if message.contains("groups.group_name") {
                "groupName"
            } else {
                "value"
            };
            StoreError::Duplicate { field }
        }
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("5" | "6" | "517")) => {
            StoreError::Unavailable(err.to_string())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Backend(err.to_string()),
    }
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

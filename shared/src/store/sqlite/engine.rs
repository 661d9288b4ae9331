//! The embedded engine: rusqlite connections on threads of their own, so an operation costs one
//! hop between the async world and SQLite, not one per statement.
//!
//! - **Writes** go to one writer thread as whole operations (closures). Every operation waiting
//!   when a batch starts is committed in one transaction (group commit): each runs in a savepoint
//!   of its own, so one that fails is rolled back alone and gets its own error, and every caller
//!   gets its result only once the batch is committed. Other processes on the same file take their
//!   turn through SQLite's lock (`busy_timeout`).
//! - **Reads** run on reader connections (WAL: they never wait for the writer), kept for reuse.
//! - **Deferred statements** (`defer`): work an operation leaves for the end of its batch, run
//!   once every savepoint closed, in the same transaction, one statement for all the rows that
//!   deferred the same statement. The search index uses it: once FTS5 is written in a
//!   transaction, it writes its pending terms out as a new segment at every savepoint, and
//!   every statement that writes opens one; indexing each message as it was stored made one
//!   segment per message (measured: an eighth of the writer's time).
//! - **Commits** are announced (`Commits`), so this process's change feed wakes at once instead of
//!   polling; commits of other processes are seen through `PRAGMA data_version`.

use std::{
    cell::RefCell,
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
    sync::{mpsc, Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::{
    metrics,
    store::{StoreError, StoreResult},
};

/// This adapter's label on the store metrics.
const ADAPTER: &str = "sqlite";

/// Operations committed together at most (a batch this large commits in a few milliseconds).
const MAX_BATCH: usize = 512;
/// Reader connections: at most this many reads run at once (each on its own connection, kept open
/// for reuse). More would not run faster on a few cores, and under a burst (10k handshakes) an
/// unbounded number of reads opened a connection each: ~50 connections with their page caches and
/// blocking threads (README, *Memory per connection*).
const READERS: usize = 8;
/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the database file each connection maps into memory for reads.
const MMAP_BYTES: u64 = 1 << 30;
/// WAL pages after which the writer checkpoints.
const WAL_CHECKPOINT_PAGES: u32 = 4000;
/// Prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 128;

/// What the writer does with a caller's operation once the batch's fate is known.
type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// An operation for the writer: run it on the connection (or learn that the batch could not
/// start: `None`), say whether it succeeded, and hand back how to deliver its result.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Deliver) + Send>;

/// The statements operations of the running batch deferred (`defer`), and how many of them have
/// run already (`run_deferred`). Only the writer thread runs batches; elsewhere `in_batch` is
/// false and `defer` runs its statement at once.
#[derive(Default)]
struct Deferred {
    in_batch: bool,
    statements: Vec<(&'static str, i64)>,
    done: usize,
}

thread_local! {
    static DEFERRED: RefCell<Deferred> = RefCell::new(Deferred::default());
}

/// Runs `sql` for `rowid` at the end of the running batch, after its last savepoint, in the same
/// transaction, once for every row that deferred it: its one parameter is a JSON array of rowids
/// (`… WHERE rowid IN (SELECT value FROM json_each(?))`). Dropped with the operation if that
/// fails. Outside a batch it runs at once.
pub(crate) fn defer(conn: &Connection, sql: &'static str, rowid: i64) -> StoreResult<()> {
    let deferred = DEFERRED.with_borrow_mut(|deferred| {
        if deferred.in_batch {
            deferred.statements.push((sql, rowid));
        }
        deferred.in_batch
    });
    if deferred {
        Ok(())
    } else {
        execute_for_rows(conn, sql, &[rowid])
    }
}

fn execute_for_rows(conn: &Connection, sql: &str, rowids: &[i64]) -> StoreResult<()> {
    let list = format!(
        "[{}]",
        rowids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([list]))
        .map(|_| ())
        .map_err(map_err)
}

/// Runs the statements deferred so far in this batch now (an operation that is about to change
/// what they read calls it first). Kept for a rollback: an operation that fails after this
/// leaves them to run again at the end of the batch.
pub(crate) fn run_deferred(conn: &Connection) -> StoreResult<()> {
    let pending = DEFERRED.with_borrow(|deferred| deferred.statements[deferred.done..].to_vec());
    // One statement each, in the order each was first deferred.
    let mut statements: Vec<(&'static str, Vec<i64>)> = Vec::new();
    for (sql, rowid) in pending {
        match statements.iter_mut().find(|(known, _)| *known == sql) {
            Some((_, rowids)) => rowids.push(rowid),
            None => statements.push((sql, vec![rowid])),
        }
    }
    for (sql, rowids) in &statements {
        execute_for_rows(conn, sql, rowids)?;
    }
    DEFERRED.with_borrow_mut(|deferred| deferred.done = deferred.statements.len());
    Ok(())
}

/// Where the deferred statements stand, to go back to when an operation is rolled back.
fn deferred_mark() -> (usize, usize) {
    DEFERRED.with_borrow(|deferred| (deferred.statements.len(), deferred.done))
}

fn deferred_back_to((len, done): (usize, usize)) {
    DEFERRED.with_borrow_mut(|deferred| {
        deferred.statements.truncate(len);
        deferred.done = done;
    });
}

fn deferred_batch(in_batch: bool) {
    DEFERRED.with_borrow_mut(|deferred| {
        deferred.in_batch = in_batch;
        deferred.statements.clear();
        deferred.done = 0;
    });
}

/// A generation counter bumped after every commit of this process's writer.
#[derive(Default)]
pub(crate) struct Commits {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Commits {
    fn bump(&self) {
        if let Ok(mut generation) = self.generation.lock() {
            *generation = generation.wrapping_add(1);
        }
        self.changed.notify_all();
    }

    pub(crate) fn current(&self) -> u64 {
        self.generation.lock().map(|g| *g).unwrap_or_default()
    }

    /// Blocks until a commit after `seen`, or `timeout`; returns the generation then.
    pub(crate) fn wait_after(&self, seen: u64, timeout: Duration) -> u64 {
        let Ok(generation) = self.generation.lock() else {
            return seen;
        };
        match self
            .changed
            .wait_timeout_while(generation, timeout, |now| *now == seen)
        {
            Ok((generation, _)) => *generation,
            Err(_) => seen,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Engine {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// One permit per reader connection.
    reading: Arc<tokio::sync::Semaphore>,
    commits: Arc<Commits>,
}

/// Opens a connection with the settings every connection of ours uses.
pub(crate) fn connect(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(map_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // temp_store = MEMORY: the savepoint of each operation journals in memory, not in a
    // temporary file (measured: a fifth of the writer's time went to that file). mmap_size: pages
    // of the database file are read from the OS page cache mapped into memory, shared by every
    // connection, instead of one read() call and copy per page (measured on the rooms list).
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA mmap_size = {MMAP_BYTES};"
    ))
    .map_err(map_err)?;
    Ok(conn)
}

impl Engine {
    /// Starts the writer thread on `path` (the schema already applied).
    pub(crate) fn start(path: &Path) -> StoreResult<Self> {
        let writer = connect(path)?;
        // Checkpoint the WAL every ~16 MiB instead of SQLite's 4 MiB: pages written again and
        // again (the feed's tail, index pages, rate-limit rows) are copied once per checkpoint,
        // so fewer checkpoints copy fewer pages (measured: an eighth of the writer's time).
        writer
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES};"
            ))
            .map_err(map_err)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let commits = Arc::new(Commits::default());
        let announce = commits.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(&writer, &queue, &announce))
            .map_err(|err| StoreError::Unavailable(format!("cannot start the writer: {err}")))?;
        Ok(Self {
            path: path.to_owned(),
            jobs,
            readers: Arc::default(),
            reading: Arc::new(tokio::sync::Semaphore::new(READERS)),
            commits,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn commits(&self) -> Arc<Commits> {
        self.commits.clone()
    }

    /// Runs `op` in this process's next write transaction; its result once that is committed.
    pub(crate) async fn write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let started = Instant::now();
        let operation = metrics::operation_name::<F>();
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Some(conn) => catch_unwind(AssertUnwindSafe(|| op(conn))).unwrap_or_else(|_| {
                    Err(StoreError::Backend("a write operation panicked".into()))
                }),
                None => Err(StoreError::Unavailable(
                    "the write transaction could not start".into(),
                )),
            };
            let succeeded = result.is_ok();
            let deliver: Deliver = Box::new(move |committed| {
                let _ = answer.send(committed.and(result));
            });
            (succeeded, deliver)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        let result = answered
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        metrics::store_operation(ADAPTER, operation, started.elapsed());
        result
    }

    /// Runs `op` on a reader connection (on a blocking thread).
    pub(crate) async fn read<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let started = Instant::now();
        let operation = metrics::operation_name::<F>();
        let readers = self.readers.clone();
        let path = self.path.clone();
        let permit = self
            .reading
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the readers have stopped".into()))?;
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = readers.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match idle {
                Some(conn) => conn,
                None => connect(&path)?,
            };
            let result = catch_unwind(AssertUnwindSafe(|| op(&conn)))
                .unwrap_or_else(|_| Err(StoreError::Backend("a read panicked".into())));
            if let Ok(mut idle) = readers.lock() {
                if idle.len() < READERS && conn.is_autocommit() {
                    idle.push(conn);
                }
            }
            result
        })
        .await
        .map_err(|err| StoreError::Backend(format!("a read did not finish: {err}")))?;
        metrics::store_operation(ADAPTER, operation, started.elapsed());
        result
    }
}

fn write_loop(conn: &Connection, queue: &mpsc::Receiver<Job>, commits: &Commits) {
    // Ends when every sender (every clone of the engine) is gone.
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let operations = batch.len();
        let started = Instant::now();
        run_batch(conn, batch);
        ::metrics::histogram!(crate::metrics::SQLITE_COMMIT)
            .record(started.elapsed().as_secs_f64());
        ::metrics::histogram!(crate::metrics::SQLITE_WRITE_BATCH).record(operations as f64);
        commits.bump();
    }
}

/// One group commit: every job in its own savepoint inside one `BEGIN IMMEDIATE` transaction.
fn run_batch(conn: &Connection, batch: Vec<Job>) {
    let mut jobs = batch.into_iter().peekable();
    while jobs.peek().is_some() {
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            let err = map_err(err);
            for job in jobs {
                let (_, deliver) = job(None);
                deliver(Err(err.clone()));
            }
            return;
        }
        let mut deliveries: Vec<Deliver> = Vec::new();
        let mut lost = false;
        deferred_batch(true);
        for job in jobs.by_ref() {
            if conn.execute_batch("SAVEPOINT op").is_err() {
                let (_, deliver) = job(None);
                deliver(Err(StoreError::Unavailable(
                    "cannot open a savepoint".into(),
                )));
                continue;
            }
            let mark = deferred_mark();
            let (succeeded, deliver) = job(Some(conn));
            deliveries.push(deliver);
            if conn.is_autocommit() {
                // Some errors (a full disk, an I/O error) make SQLite roll back the whole
                // transaction: what ran before in this batch is gone too. Tell those callers,
                // and start a new transaction for the rest.
                lost = true;
                break;
            }
            let closed = if succeeded {
                conn.execute_batch("RELEASE op")
            } else {
                deferred_back_to(mark);
                conn.execute_batch("ROLLBACK TO op; RELEASE op")
            };
            if closed.is_err() && conn.is_autocommit() {
                lost = true;
                break;
            }
        }
        let committed = if lost {
            Err(StoreError::Unavailable(
                "the write transaction was rolled back".into(),
            ))
        } else {
            // A deferred statement that fails fails the batch: nothing is acknowledged half done.
            run_deferred(conn).and_then(|()| conn.execute_batch("COMMIT").map_err(map_err))
        };
        deferred_batch(false);
        if committed.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for deliver in deliveries {
            deliver(committed.clone());
        }
    }
}

/// Maps a driver error onto the port's errors; unique violations name the API field.
pub(crate) fn map_err(err: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &err {
        rusqlite::Error::SqliteFailure(failure, message) => match failure.code {
            ErrorCode::ConstraintViolation
                if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::Duplicate {
                    field: duplicate_field(message.as_deref().unwrap_or_default()),
                }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Backend(err.to_string()),
        },
        _ => StoreError::Backend(err.to_string()),
    }
}

/// The API field a unique index guards, from SQLite's message ("UNIQUE constraint failed: t.c").
pub(crate) fn duplicate_field(message: &str) -> &'static str {
    if message.contains("users.username") {
        "username"
    } else if message.contains("users.email") {
        "email"
    } else if message.contains("messages.client_message_id") {
        "clientMessageId"
    } else if message.contains("groups.group_name") {
        "groupName"
    } else {
        "value"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("engine.db");
        let setup = connect(&path).expect("open");
        setup
            .execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
            .expect("schema");
        (dir, Engine::start(&path).expect("engine"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_operation_fails_alone_in_its_batch() {
        let (_dir, engine) = engine();
        let writes = (0..200).map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .write(move |conn| {
                        // Every tenth operation writes, then fails: its write must not survive.
                        conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (format!("k{i}"), i))
                            .map_err(map_err)?;
                        if i % 10 == 0 {
                            return Err(StoreError::Backend("refused".into()));
                        }
                        Ok(i)
                    })
                    .await
            })
        });
        let results = futures_util::future::join_all(writes).await;
        for (i, result) in results.into_iter().enumerate() {
            let result = result.expect("task");
            assert_eq!(result.is_ok(), i % 10 != 0, "operation {i}: {result:?}");
        }
        let count: i64 = engine
            .read(|conn| {
                conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
                    .map_err(map_err)
            })
            .await
            .expect("count");
        assert_eq!(count, 180);
    }

    const COPY_TO_LOG: &str =
        "INSERT INTO log (v) SELECT v FROM t WHERE rowid IN (SELECT value FROM json_each(?))";

    /// Inserts `v`, defers copying it to `log`; runs the deferred statements first when `early`;
    /// fails (after writing) when `fail`.
    async fn deferring(engine: &Engine, v: i64, early: bool, fail: bool) -> StoreResult<()> {
        engine
            .write(move |conn| {
                if early {
                    run_deferred(conn)?;
                }
                conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (format!("k{v}"), v))
                    .map_err(map_err)?;
                defer(conn, COPY_TO_LOG, conn.last_insert_rowid())?;
                if fail {
                    return Err(StoreError::Backend("refused".into()));
                }
                Ok(())
            })
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deferred_statements_run_at_commit_and_go_with_a_failed_operation() {
        let (_dir, engine) = engine();
        engine
            .write(|conn| {
                conn.execute_batch("CREATE TABLE log (v INTEGER NOT NULL)")
                    .map_err(map_err)
            })
            .await
            .expect("log table");
        // Many at once, so they share batches: every third fails (after deferring), every fifth
        // runs what earlier operations deferred before its own writes.
        let writes = (0..300).map(|v| {
            let engine = engine.clone();
            tokio::spawn(async move { deferring(&engine, v, v % 5 == 0, v % 3 == 0).await })
        });
        for (v, result) in futures_util::future::join_all(writes)
            .await
            .into_iter()
            .enumerate()
        {
            assert_eq!(result.expect("task").is_ok(), v % 3 != 0, "operation {v}");
        }
        let logged: Vec<i64> = engine
            .read(|conn| {
                let mut statement = conn
                    .prepare("SELECT v FROM log ORDER BY v")
                    .map_err(map_err)?;
                let rows = statement.query_map([], |row| row.get(0)).map_err(map_err)?;
                rows.collect::<Result<_, _>>().map_err(map_err)
            })
            .await
            .expect("log");
        let expected: Vec<i64> = (0..300).filter(|v| v % 3 != 0).collect();
        assert_eq!(
            logged, expected,
            "each committed insert copied once, no other"
        );
    }

    #[test]
    fn outside_a_batch_a_deferred_statement_runs_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = connect(&dir.path().join("direct.db")).expect("open");
        conn.execute_batch(
            "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL); \
             CREATE TABLE log (v INTEGER NOT NULL); INSERT INTO t VALUES ('a', 7);",
        )
        .expect("schema");
        defer(&conn, COPY_TO_LOG, conn.last_insert_rowid()).expect("runs");
        let logged: i64 = conn
            .query_row("SELECT v FROM log", [], |row| row.get(0))
            .expect("logged");
        assert_eq!(logged, 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_duplicate_names_its_field_and_a_panic_is_an_error() {
        let (_dir, engine) = engine();
        async fn insert(engine: &Engine) -> StoreResult<usize> {
            engine
                .write(|conn| {
                    conn.execute("INSERT INTO t (k, v) VALUES ('same', 1)", [])
                        .map_err(map_err)
                })
                .await
        }
        insert(&engine).await.expect("first");
        assert!(matches!(
            insert(&engine).await,
            Err(StoreError::Duplicate { .. })
        ));
        let panicked = engine
            .write(|_conn| -> StoreResult<()> { panic!("bad operation") })
            .await;
        assert!(matches!(panicked, Err(StoreError::Backend(_))));
        // The writer is still there.
        insert(&engine).await.expect_err("still a duplicate");
    }
}

//! Every metric the realtime node exports, by name, and the helpers that record them (the `metrics`
//! facade: without an installed recorder each is a no-op). Names and labels follow Prometheus
//! conventions: `_total` counters, base units (`_seconds`, `_bytes`), label values from fixed
//! sets only (an event name from the dispatcher's table, never a user id).

use std::time::Duration;

pub const SOCKETS_OPEN: &str = "chat_sockets_open";
pub const HANDSHAKES: &str = "chat_handshakes_total";
pub const CLIENT_EVENTS: &str = "chat_client_events_total";
pub const SERVER_EVENTS: &str = "chat_server_events_total";
pub const FEED_LAG: &str = "chat_feed_lag_seconds";
pub const FEED_CHANGES: &str = "chat_feed_changes_total";
pub const FEED_BATCHES: &str = "chat_feed_batches_total";
pub const FEED_BATCH_SIZE: &str = "chat_feed_batch_changes";
pub const FEED_RESUMES: &str = "chat_feed_resumes_total";
pub const FEED_GAPS: &str = "chat_feed_gaps_total";
pub const STORE_OPERATION: &str = "chat_store_operation_duration_seconds";
pub const SQLITE_WRITE_BATCH: &str = "chat_sqlite_write_batch_operations";
pub const SQLITE_COMMIT: &str = "chat_sqlite_commit_duration_seconds";
pub const RATE_LIMITED: &str = "chat_rate_limited_total";
pub const APIGW_LAG: &str = "chat_apigw_lag_seconds";
pub const APIGW_POSTS: &str = "chat_apigw_posts_total";
pub const PUSH_LAG: &str = "chat_push_lag_seconds";
pub const PUSH_DELIVERIES: &str = "chat_push_deliveries_total";
pub const JOB_HOLDER: &str = "chat_job_holder";
pub const DRAINING: &str = "chat_draining";
pub const PROCESS_RESIDENT_MEMORY: &str = "process_resident_memory_bytes";
pub const PROCESS_CPU: &str = "process_cpu_seconds_total";

/// Every name above: the dashboards test checks each plotted metric against this list.
pub const EXPORTED: &[&str] = &[
    SOCKETS_OPEN,
    HANDSHAKES,
    CLIENT_EVENTS,
    SERVER_EVENTS,
    FEED_LAG,
    FEED_CHANGES,
    FEED_BATCHES,
    FEED_BATCH_SIZE,
    FEED_RESUMES,
    FEED_GAPS,
    STORE_OPERATION,
    SQLITE_WRITE_BATCH,
    SQLITE_COMMIT,
    RATE_LIMITED,
    APIGW_LAG,
    APIGW_POSTS,
    PUSH_LAG,
    PUSH_DELIVERIES,
    JOB_HOLDER,
    DRAINING,
    PROCESS_RESIDENT_MEMORY,
    PROCESS_CPU,
];

/// Histogram buckets in seconds: 0.1 ms … 10 s (store operations, commits, feed lag).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Histogram buckets for counts (operations per group commit, changes per feed batch).
pub const COUNT_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// One storage operation took `elapsed` on `adapter` (`sqlite` or `mongodb`).
pub fn store_operation(adapter: &'static str, operation: &'static str, elapsed: Duration) {
    metrics::histogram!(STORE_OPERATION, "adapter" => adapter, "operation" => operation)
        .record(elapsed.as_secs_f64());
}

/// How long ago a change was committed, on the lag histogram `name` (a clock behind the
/// database's counts as no lag).
pub fn lag_since(name: &'static str, committed_at: Option<chrono::DateTime<chrono::Utc>>) {
    if let Some(at) = committed_at {
        let micros = (crate::time::now() - at)
            .num_microseconds()
            .unwrap_or(0)
            .max(0);
        metrics::histogram!(name).record(micros as f64 / 1e6);
    }
}

/// A request refused by the limit named `limit` (`message`, `signal`, `login`, …).
pub fn rate_limited(limit: &'static str) {
    metrics::counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// The name of the function a closure was written in, from its type name
/// (`shared::store::sqlite::messages::writes::send::{{closure}}` → `send`): a label from a fixed
/// set (the code's own function names), for operations handed around as closures.
pub fn operation_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    full.rsplit("::")
        // `send_message<'_, '_>` → `send_message`; `<impl …` and `…Store>` are no names.
        .map(|segment| segment.split('<').next().unwrap_or_default())
        .filter(|segment| {
            !segment.is_empty() && !segment.starts_with('{') && !segment.contains('>')
        })
        .find(|segment| {
            !segment.starts_with(|c: char| c.is_ascii_uppercase())
                && !matches!(*segment, "closure" | "async_block" | "async_fn")
        })
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of<F>(_: &F) -> &'static str {
        operation_name::<F>()
    }

    fn read_something() -> &'static str {
        let op = |x: u32| x + 1;
        name_of(&op)
    }

    #[test]
    fn an_operation_is_named_by_the_function_its_closure_is_in() {
        assert_eq!(read_something(), "read_something");
    }

    #[test]
    fn generic_and_trait_impl_segments_are_skipped() {
        struct Store;
        trait Port {
            fn hit(&self, key: &str) -> &'static str;
        }
        impl Port for Store {
            fn hit(&self, _key: &str) -> &'static str {
                let op = || 1;
                name_of(&op)
            }
        }
        assert_eq!(Store.hit("k"), "hit");
    }

    #[test]
    fn every_name_is_listed_once_and_follows_the_conventions() {
        let mut names = EXPORTED.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EXPORTED.len());
        for name in EXPORTED {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
    }
}

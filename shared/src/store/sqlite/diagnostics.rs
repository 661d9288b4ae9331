//! Query plans of the hot queries, for the benchmarks (which show that no query scans a table).

use rusqlite::params;

use super::{all, messages, SqliteStore};
use crate::store::StoreResult;

impl SqliteStore {
    /// `EXPLAIN QUERY PLAN` of the history page, the private rooms list and the message search, with
    /// sample arguments.
    pub async fn query_plans(&self) -> StoreResult<Vec<(&'static str, Vec<String>)>> {
        self.engine()
            .read(|conn| {
                let sample_user = "507f1f77bcf86cd799439011";
                let detail = |row: &rusqlite::Row<'_>| row.get::<_, String>(3);
                let history = all(
                    conn,
                    &format!("EXPLAIN QUERY PLAN {}", messages::room_page_sql()),
                    params!["room", 20_i64, 0_i64],
                    detail,
                )?;
                let rooms = all(
                    conn,
                    &format!("EXPLAIN QUERY PLAN {}", messages::private_rooms_sql()),
                    // A page after the first: a cursor and a limit.
                    params![sample_user, "2026-12-01T00:00:00.000Z", "room", 20_i64],
                    detail,
                )?;
                let search = all(
                    conn,
                    &format!("EXPLAIN QUERY PLAN {}", messages::search_sql()),
                    params![
                        format!("message : (\"w1\"*) AND participants : (\"{sample_user}\")"),
                        21_i64
                    ],
                    detail,
                )?;
                Ok(vec![
                    ("history page", history),
                    ("private rooms", rooms),
                    ("message search", search),
                ])
            })
            .await
    }
}

//! Query plans of the hot queries, for the benchmarks (which show that no query scans a table).

use super::{map_err, messages, SqliteStore};
use crate::store::StoreResult;

impl SqliteStore {
    /// `EXPLAIN QUERY PLAN` of the history page and the private rooms list, with sample arguments.
    pub async fn query_plans(&self) -> StoreResult<Vec<(&'static str, Vec<String>)>> {
        let sample_user = "507f1f77bcf86cd799439011";
        let history: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", messages::room_page_sql()))
                .bind("room")
                .bind(20_i64)
                .bind(0_i64)
                .fetch_all(self.pool())
                .await
                .map_err(map_err)?;
        let rooms: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!(
            "EXPLAIN QUERY PLAN {}",
            messages::private_rooms_sql()
        ))
        .bind(sample_user)
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        let details = |rows: Vec<(i64, i64, i64, String)>| rows.into_iter().map(|r| r.3).collect();
        Ok(vec![
            ("history page", details(history)),
            ("private rooms", details(rooms)),
        ])
    }
}

//! Fixed-window rate limits whose counters live in the database, so the limit holds across every
//! function instance and process. Every limit is applied by the service that owns the action; a
//! limit counts under a plain key: a client address (`ClientInfo::rate_limit_key`) or a user
//! (`user_key`).

use chrono::{TimeZone, Utc};

use crate::{config::RateLimit, error::AppError, model::UserId, AppContext};

/// The key a per-user limit counts under.
pub fn user_key(user: UserId) -> String {
    format!("user:{user}")
}

/// Counts one hit against `scope` for `key`; `TooManyRequests` (with the seconds until the window
/// ends) once `key` has used up `limit`.
pub async fn check(
    ctx: &AppContext,
    scope: &str,
    key: &str,
    limit: RateLimit,
) -> Result<(), AppError> {
    let now = crate::time::now();
    let window_secs = i64::try_from(limit.window.as_secs().max(1)).unwrap_or(i64::MAX);
    let window = now.timestamp().div_euclid(window_secs);
    let window_end_ts = (window + 1).saturating_mul(window_secs);
    let window_end = Utc
        .timestamp_opt(window_end_ts, 0)
        .single()
        .ok_or_else(|| AppError::internal("rate limit window out of range"))?;
    let counter = format!("{scope}:{key}:{window}");
    let count = ctx.store.hit(&counter, window_end, now).await?;
    if count > u64::from(limit.max) {
        let retry_after_secs = u64::try_from(window_end_ts - now.timestamp())
            .unwrap_or(1)
            .max(1);
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    Ok(())
}

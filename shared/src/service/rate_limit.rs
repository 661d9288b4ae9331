//! Fixed-window rate limits whose counters live in the database, so the limit holds across every
//! function instance and process. Every limit is applied by the service that owns the action; a
//! limit counts under a plain key: a client address (`ClientInfo::rate_limit_key`) or a user
//! (`user_key`).

use chrono::{DateTime, TimeZone, Utc};

use crate::{config::RateLimit, error::AppError, model::UserId, store::RateLimitHit, AppContext};

/// The key a per-user limit counts under.
pub fn user_key(user: UserId) -> String {
    format!("user:{user}")
}

/// One hit against `scope` for `key` in the current window of `limit`, and the seconds until
/// that window ends (for `Retry-After`).
pub fn window(
    scope: &str,
    key: &str,
    limit: RateLimit,
    now: DateTime<Utc>,
) -> Result<(RateLimitHit, u64), AppError> {
    let window_secs = i64::try_from(limit.window.as_secs().max(1)).unwrap_or(i64::MAX);
    let window = now.timestamp().div_euclid(window_secs);
    let window_end_ts = (window + 1).saturating_mul(window_secs);
    let expires_at = Utc
        .timestamp_opt(window_end_ts, 0)
        .single()
        .ok_or_else(|| AppError::internal("rate limit window out of range"))?;
    let retry_after_secs = u64::try_from(window_end_ts - now.timestamp())
        .unwrap_or(1)
        .max(1);
    let hit = RateLimitHit {
        key: format!("{scope}:{key}:{window}"),
        expires_at,
        max: u64::from(limit.max),
        now,
    };
    Ok((hit, retry_after_secs))
}

/// Counts one hit against `scope` for `key`; `TooManyRequests` (with the seconds until the window
/// ends) once `key` has used up `limit`.
pub async fn check(
    ctx: &AppContext,
    scope: &'static str,
    key: &str,
    limit: RateLimit,
) -> Result<(), AppError> {
    let (hit, retry_after_secs) = window(scope, key, limit, crate::time::now())?;
    let count = ctx.store.hit(&hit.key, hit.expires_at, hit.now).await?;
    if count > hit.max {
        crate::metrics::rate_limited(scope);
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    Ok(())
}

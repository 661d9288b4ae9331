//! Fixed-window rate limits whose counters live in the database, so the limit holds across every
//! function instance and process.

use chrono::{TimeZone, Utc};

use crate::{config::RateLimit, error::AppError, http::ClientInfo, model::UserId, AppContext};

/// Counts this request against `scope` for the client; `TooManyRequests` (with the seconds until the
/// window ends) once the client has used up `limit`.
pub async fn check(
    ctx: &AppContext,
    scope: &str,
    client: &ClientInfo,
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
    let key = format!("{scope}:{}:{window}", client.rate_limit_key());
    let count = ctx.store.hit(&key, window_end, now).await?;
    if count > u64::from(limit.max) {
        let retry_after_secs = u64::try_from(window_end_ts - now.timestamp())
            .unwrap_or(1)
            .max(1);
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    Ok(())
}

/// The same limit, counted per signed-in user instead of per address.
pub async fn check_user(
    ctx: &AppContext,
    scope: &str,
    user: UserId,
    limit: RateLimit,
) -> Result<(), AppError> {
    let client = ClientInfo {
        ip: Some(format!("user:{user}")),
        user_agent: None,
    };
    check(ctx, scope, &client, limit).await
}

//! API Gateway WebSocket connections (the `ws` function's clients): recorded at `$connect`, trusted
//! until their token expires (API Gateway's 2 hours at most), found by user for the fan-out,
//! forgotten when closed, gone (410) or their session ends.

use chrono::{DateTime, Utc};

use crate::{
    auth::CurrentUser,
    error::AppError,
    model::{SessionId, UserId},
    AppContext,
};

/// API Gateway closes a WebSocket connection after 2 hours at the latest.
const CONNECTION_LIFETIME_SECS: i64 = 2 * 60 * 60;

/// Records a connection of `caller`, trusted until its token expires (at most API Gateway's 2
/// hours): after that its frames are refused, and the client reconnects with a fresh token.
pub async fn connected(
    ctx: &AppContext,
    connection_id: &str,
    caller: CurrentUser,
    token_expires: DateTime<Utc>,
) -> Result<(), AppError> {
    let now = crate::time::now();
    let expires = token_expires.min(now + crate::time::seconds(CONNECTION_LIFETIME_SECS));
    ctx.store
        .add_ws_connection(connection_id, caller.id, caller.session_id, now, expires)
        .await?;
    Ok(())
}

/// Forgets a connection (closed, or gone at API Gateway).
pub async fn disconnected(ctx: &AppContext, connection_id: &str) -> Result<(), AppError> {
    Ok(ctx.store.remove_ws_connection(connection_id).await?)
}

/// Who holds a live connection: `None` for an unknown or expired one.
pub async fn caller(
    ctx: &AppContext,
    connection_id: &str,
) -> Result<Option<CurrentUser>, AppError> {
    let owner = ctx
        .store
        .ws_connection_owner(connection_id, crate::time::now())
        .await?;
    Ok(owner.map(|(id, session_id)| CurrentUser { id, session_id }))
}

/// The live connection ids of `users`.
pub async fn connections_of(ctx: &AppContext, users: &[UserId]) -> Result<Vec<String>, AppError> {
    let connections = ctx
        .store
        .ws_connections(Some(users), crate::time::now())
        .await?;
    Ok(connections.into_iter().map(|(id, _)| id).collect())
}

/// Forgets the connections of an ended session; their ids, to tell and close them.
pub async fn end_session(ctx: &AppContext, session: SessionId) -> Result<Vec<String>, AppError> {
    Ok(ctx.store.remove_session_ws_connections(session).await?)
}

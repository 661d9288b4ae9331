//! Handshake and connection lifecycle. An access token from `auth.token` (or `Authorization:
//! Bearer`) or the connection is refused with a `connect_error` that says why. The socket's user is
//! the token's subject; it joins its personal room and the rooms of its active groups (where the
//! feed stood at its handshake: `joins`), and counts for presence until it disconnects.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use shared::{
    auth::{authenticate_until, extract::bearer_token, CurrentUser, Unauthenticated},
    http::handshake_origin::{self, OriginRefused, OwnOrigin},
    service::realtime::{self, event},
    AppContext,
};
use socketioxide::{
    extract::{SocketRef, State, TryData},
    SocketIo,
};

use crate::{
    drain::Draining,
    events,
    joins::{self, Joins},
    turns::{LastTurn, TurnQueue},
    NodeId, NAMESPACE,
};

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error(transparent)]
    Unauthenticated(#[from] Unauthenticated),
    #[error(transparent)]
    OriginRefused(#[from] OriginRefused),
    /// The session ended, or the account was banned, suspended or deleted: the reason.
    #[error("{0}")]
    SessionEnded(String),
    #[error("Too many open connections for this user (at most {0}): close another one first")]
    TooManySockets(u64),
    #[error("Service unavailable, try again")]
    Unavailable,
    #[error("This server is restarting: reconnect (you will be served by another one)")]
    Draining,
}

impl HandshakeError {
    /// The `result` label of the handshake metric.
    fn label(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "unauthenticated",
            Self::OriginRefused(_) => "origin_refused",
            Self::SessionEnded(_) => "session_ended",
            Self::TooManySockets(_) => "too_many_sockets",
            Self::Unavailable => "unavailable",
            Self::Draining => "draining",
        }
    }
}

/// When the socket's access token expires: the socket closes then (`close_expired`), and the
/// client reconnects with a fresh token.
#[derive(Debug, Clone, Copy)]
pub struct TokenExpiry(pub DateTime<Utc>);

/// The socket's presence record. Written during the handshake; removed by the disconnect handler, or
/// (when the handshake failed after it was written, so no disconnect handler will ever run) when
/// socketioxide drops the socket.
struct Presence {
    ctx: AppContext,
    socket_id: String,
    user: CurrentUser,
    removed: AtomicBool,
}

impl Presence {
    /// Removes the record unless that was already done.
    async fn remove(&self) {
        if !self.removed.swap(true, Ordering::AcqRel) {
            remove_record(&self.ctx, &self.socket_id, self.user).await;
        }
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        if self.removed.load(Ordering::Acquire) {
            return;
        }
        let (ctx, socket_id, user) = (self.ctx.clone(), self.socket_id.clone(), self.user);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { remove_record(&ctx, &socket_id, user).await });
        }
    }
}

async fn remove_record(ctx: &AppContext, socket_id: &str, user: CurrentUser) {
    if let Err(err) = realtime::disconnected(ctx, socket_id, user.id).await {
        tracing::error!(error = %err, "cannot record disconnection");
    }
}

/// Runs before socketioxide acknowledges the connection, so everything a client may rely on once
/// it is connected is in place here: its user, its rooms (for what is committed from the
/// handshake on), its event handlers and its presence (the user is online before its first
/// event). The connect handler itself runs as a separate task that can start after the client's
/// first events, so it does nothing that events depend on.
pub async fn authenticate(
    socket: SocketRef,
    State(ctx): State<AppContext>,
    State(node): State<NodeId>,
    State(draining): State<Draining>,
    State(joins): State<Joins>,
    TryData(auth): TryData<Value>,
) -> Result<(), HandshakeError> {
    let outcome = if draining.is_on() {
        Err(HandshakeError::Draining)
    } else {
        admit(socket, ctx, node, joins, auth.ok()).await
    };
    let result = outcome
        .as_ref()
        .map_or_else(HandshakeError::label, |()| "accepted");
    metrics::counter!(shared::metrics::HANDSHAKES, "result" => result).increment(1);
    outcome
}

async fn admit(
    socket: SocketRef,
    ctx: AppContext,
    node: NodeId,
    joins: Joins,
    auth: Option<Value>,
) -> Result<(), HandshakeError> {
    handshake_origin::admit(
        &ctx.config,
        &socket.req_parts().headers,
        OwnOrigin::from_config(&ctx.config),
    )?;
    let from_auth =
        auth.and_then(|auth| auth.get("token").and_then(Value::as_str).map(str::to_owned));
    let token = from_auth.or_else(|| bearer_token(&socket.req_parts().headers).map(str::to_owned));
    let (user, expires_at) = authenticate_until(&ctx.tokens, token.as_deref())?;
    // The token may outlive its session (logout, password change): an ended session connects no
    // socket.
    if let Err(err) = shared::service::auth::ensure_session(&ctx, user).await {
        if err.status().is_server_error() {
            tracing::error!(error = %err, "cannot check the session of a connecting user");
            return Err(HandshakeError::Unavailable);
        }
        return Err(HandshakeError::SessionEnded(
            err.public_message().into_text(),
        ));
    }
    let allowed = realtime::has_room_for_a_socket(&ctx, user.id)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "cannot count the sockets of a connecting user");
            HandshakeError::Unavailable
        })?;
    if !allowed {
        return Err(HandshakeError::TooManySockets(
            ctx.config.sockets_per_user_max,
        ));
    }
    let rooms = realtime::socket_rooms(&ctx, user).await.map_err(|err| {
        tracing::error!(error = %err, "cannot load the rooms of a connecting user");
        HandshakeError::Unavailable
    })?;
    let socket_id = socket.id.to_string();
    // Installed before the write, so a refused or failed handshake still removes what it wrote.
    let presence = Arc::new(Presence {
        ctx: ctx.clone(),
        socket_id: socket_id.clone(),
        user,
        removed: AtomicBool::new(false),
    });
    socket.extensions.insert(presence);
    realtime::connected(&ctx, &node.0, &socket_id, user.id)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "cannot record connection");
            HandshakeError::Unavailable
        })?;
    socket.extensions.insert(user);
    socket.extensions.insert(TokenExpiry(expires_at));
    socket.extensions.insert(TurnQueue::default());
    events::register(&socket);
    socket.on_disconnect(on_disconnect);
    // Last, so what is committed from here on reaches the socket live.
    joins.start(&ctx, socket, rooms).await;
    Ok(())
}

/// How often sockets are checked for an expired access token.
const EXPIRY_SWEEP: Duration = Duration::from_secs(1);

/// Closes every socket whose access token has expired (told why first), once a second.
pub async fn close_expired(io: SocketIo) {
    let mut every = tokio::time::interval(EXPIRY_SWEEP);
    loop {
        every.tick().await;
        let Some(chat) = io.of(NAMESPACE) else {
            continue;
        };
        let now = shared::time::now();
        for socket in chat.sockets() {
            let expired = socket
                .extensions
                .get::<TokenExpiry>()
                .is_some_and(|TokenExpiry(at)| at <= now);
            if expired {
                let notice =
                    json!({ "message": "Access token has expired; reconnect with a fresh one" });
                let _ = socket.emit(event::TOKEN_EXPIRED, &notice);
                let _ = socket.disconnect();
            }
        }
    }
}

pub async fn on_connect(socket: SocketRef) {
    if let Some(user) = socket.extensions.get::<CurrentUser>() {
        tracing::info!(user = %user.id, socket = %socket.id, "socket connected");
    }
}

/// After every event the socket sent before it went away, its presence record is removed
/// (`userOffline` when it was the user's last connection anywhere).
async fn on_disconnect(socket: SocketRef, LastTurn(turn): LastTurn) {
    joins::depart(&socket);
    if let Some(turn) = &turn {
        turn.wait().await;
    }
    if let Some(presence) = socket.extensions.get::<Arc<Presence>>() {
        presence.remove().await;
        tracing::info!(user = %presence.user.id, socket = %socket.id, "socket disconnected");
    }
    crate::memory::socket_left();
}

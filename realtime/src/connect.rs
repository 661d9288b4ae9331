//! Handshake and connection lifecycle. An access token from `auth.token` (or `Authorization:
//! Bearer`) or the connection is refused with a `connect_error` that says why. The socket's user is
//! the token's subject; it joins its personal room and the rooms of its active groups, and counts
//! for presence until it disconnects.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use shared::{
    auth::{extract::bearer_token, CurrentUser, TokenError, TokenKind},
    model::group_room_id,
    service::realtime::{self, user_room},
    AppContext,
};
use socketioxide::extract::{SocketRef, State, TryData};

use crate::{
    events,
    turns::{LastTurn, Turn, TurnQueue},
    NodeId,
};

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("Authentication required: send an access token as auth.token")]
    MissingToken,
    #[error("Access token has expired")]
    Expired,
    #[error("Invalid access token")]
    Invalid,
    #[error("Service unavailable, try again")]
    Unavailable,
}

/// The turn that records the connection for presence, handed from the middleware to `on_connect`
/// so that the socket's events (and its disconnect) queue behind it.
#[derive(Clone, Default)]
struct ConnectTurn(Arc<Mutex<Option<Turn>>>);

/// Runs before socketioxide acknowledges the connection, so everything a client may rely on once
/// it is connected is in place here: its user, its rooms and its event handlers. (The connect
/// handler itself runs as a separate task that can start after the client's first events.)
pub async fn authenticate(
    socket: SocketRef,
    State(ctx): State<AppContext>,
    TryData(auth): TryData<Value>,
) -> Result<(), HandshakeError> {
    let from_auth = auth
        .ok()
        .and_then(|auth| auth.get("token").and_then(Value::as_str).map(str::to_owned));
    let token = from_auth
        .or_else(|| bearer_token(&socket.req_parts().headers).map(str::to_owned))
        .ok_or(HandshakeError::MissingToken)?;
    let verified = ctx
        .tokens
        .verify(&token, TokenKind::Access)
        .map_err(|err| match err {
            TokenError::Expired => HandshakeError::Expired,
            _ => HandshakeError::Invalid,
        })?;
    let groups = ctx
        .store
        .groups_of_user(verified.user_id)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "cannot load groups of a connecting user");
            HandshakeError::Unavailable
        })?;
    let user = CurrentUser {
        id: verified.user_id,
        session_id: verified.session_id,
    };
    socket.extensions.insert(user);
    socket.join(user_room(user.id));
    for group in groups {
        socket.join(group_room_id(group.id));
    }
    let queue = TurnQueue::default();
    let first = queue.take();
    socket.extensions.insert(queue);
    socket
        .extensions
        .insert(ConnectTurn(Arc::new(Mutex::new(first))));
    events::register(&socket);
    socket.on_disconnect(on_disconnect);
    Ok(())
}

/// Records the connection for presence (`userOnline` to contacts on the first device).
pub async fn on_connect(
    socket: SocketRef,
    State(ctx): State<AppContext>,
    State(node): State<NodeId>,
) {
    let Some(user) = socket.extensions.get::<CurrentUser>() else {
        let _ = socket.disconnect();
        return;
    };
    let turn = socket
        .extensions
        .get::<ConnectTurn>()
        .and_then(|slot| slot.0.lock().ok().and_then(|mut turn| turn.take()));
    if let Err(err) = realtime::connected(&ctx, &node.0, &socket.id.to_string(), user.id).await {
        tracing::error!(error = %err, "cannot record connection");
    }
    drop(turn);
    tracing::info!(user = %user.id, socket = %socket.id, "socket connected");
}

async fn on_disconnect(socket: SocketRef, State(ctx): State<AppContext>, LastTurn(turn): LastTurn) {
    if let Some(turn) = &turn {
        turn.wait().await;
    }
    let Some(user) = socket.extensions.get::<CurrentUser>() else {
        return;
    };
    if let Err(err) = realtime::disconnected(&ctx, &socket.id.to_string(), user.id).await {
        tracing::error!(error = %err, "cannot record disconnection");
    }
    tracing::info!(user = %user.id, socket = %socket.id, "socket disconnected");
}

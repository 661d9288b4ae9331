//! Handshake and connection lifecycle. An access token from `auth.token` (or `Authorization:
//! Bearer`) or the connection is refused with a `connect_error` that says why. The socket's user is
//! the token's subject; it joins its personal room and the rooms of its active groups, and counts
//! for presence until it disconnects.

use serde_json::Value;
use shared::{
    auth::{extract::bearer_token, CurrentUser, TokenError, TokenKind},
    model::group_room_id,
    service::realtime::{self, user_room},
    AppContext,
};
use socketioxide::extract::{SocketRef, State, TryData};

use crate::{events, NodeId};

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("Authentication required: send an access token as auth.token")]
    MissingToken,
    #[error("Access token has expired")]
    Expired,
    #[error("Invalid access token")]
    Invalid,
}

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
    socket.extensions.insert(CurrentUser {
        id: verified.user_id,
        session_id: verified.session_id,
    });
    Ok(())
}

pub async fn on_connect(
    socket: SocketRef,
    State(ctx): State<AppContext>,
    State(node): State<NodeId>,
) {
    let Some(user) = socket.extensions.get::<CurrentUser>() else {
        let _ = socket.disconnect();
        return;
    };
    socket.join(user_room(user.id));
    match ctx.store.groups_of_user(user.id).await {
        Ok(groups) => {
            for group in groups {
                socket.join(group_room_id(group.id));
            }
        }
        Err(err) => tracing::error!(error = %err, "cannot load groups of a connecting user"),
    }
    events::register(&socket);
    socket.on_disconnect(on_disconnect);
    if let Err(err) = realtime::connected(&ctx, &node.0, &socket.id.to_string(), user.id).await {
        tracing::error!(error = %err, "cannot record connection");
    }
    tracing::info!(user = %user.id, socket = %socket.id, "socket connected");
}

async fn on_disconnect(socket: SocketRef, State(ctx): State<AppContext>) {
    let Some(user) = socket.extensions.get::<CurrentUser>() else {
        return;
    };
    if let Err(err) = realtime::disconnected(&ctx, &socket.id.to_string(), user.id).await {
        tracing::error!(error = %err, "cannot record disconnection");
    }
    tracing::info!(user = %user.id, socket = %socket.id, "socket disconnected");
}

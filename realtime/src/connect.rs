//! Handshake: an access token from `auth.token` (or `Authorization: Bearer`) or the connection is
//! refused with a `connect_error` that says why. The socket's user is the token's subject.

use serde_json::Value;
use shared::{
    auth::{extract::bearer_token, CurrentUser, TokenError, TokenKind},
    AppContext,
};
use socketioxide::extract::{SocketRef, State, TryData};

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

/// The room every socket of one user is in; private deliveries go here.
pub fn user_room(user: &CurrentUser) -> String {
    user.id.to_hex()
}

pub async fn on_connect(socket: SocketRef) {
    let Some(user) = socket.extensions.get::<CurrentUser>() else {
        socket.disconnect().ok();
        return;
    };
    socket.join(user_room(&user));
    tracing::info!(user = %user.id, socket = %socket.id, "socket connected");
}

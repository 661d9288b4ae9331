//! The `ws` function: the serverless WebSocket path through an API Gateway WebSocket API, for
//! clients that cannot hold a socket.io connection to the realtime node.
//!
//! - `$connect`: an access token as `?token=` or `Authorization: Bearer`; refused (401) without a
//!   valid one or when its session has ended, and (403) from a browser page whose origin may not
//!   open sockets (`http::handshake_origin`, the realtime node's rule). The connection id is stored with the user and is
//!   trusted until the token expires (API Gateway's 2 hours at most).
//! - `$disconnect`: forgets the connection.
//! - `$default`: JSON frames `{"action": "<client event>", ...payload}`: every action socket.io
//!   clients have, through the same dispatcher (`service::realtime::actions`). An action that
//!   answers with an event (messageSent, userStatus, messagesFetched…) or fails (`error`) is
//!   answered as an `{"event", "data"}` frame via PostToConnection; deliveries come from the
//!   realtime node's change-feed consumer, exactly as socket.io clients get them. Joining a chat
//!   or group room tells the others but puts the connection in no room (it has none).

use aws_lambda_events::{
    apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest},
    encodings::Body,
};
use serde_json::Value;
use shared::{
    apigw::Gateway,
    auth::{authenticate_until, extract::bearer_token},
    http::handshake_origin::{self, OwnOrigin},
    service::{
        auth,
        realtime::{actions, event, gateway},
    },
    AppContext,
};

fn respond(status: i64, body: &str) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = Some(Body::Text(body.to_owned()));
    response
}

/// Handles one API Gateway WebSocket event.
pub async fn handle(
    ctx: &AppContext,
    gateway: &Gateway,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let Some(connection_id) = event.request_context.connection_id.clone() else {
        return respond(400, "missing connectionId");
    };
    match event.request_context.route_key.as_deref() {
        Some("$connect") => connect(ctx, &connection_id, &event).await,
        Some("$disconnect") => {
            if let Err(err) = gateway::disconnected(ctx, &connection_id).await {
                tracing::error!(error = %err, "cannot forget a ws connection");
            }
            respond(200, "bye")
        }
        _ => frame(ctx, gateway, &connection_id, event.body.as_deref()).await,
    }
}

async fn connect(
    ctx: &AppContext,
    connection_id: &str,
    event: &ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    // API Gateway sets the forwarded headers of the handshake it received.
    if let Err(refused) = handshake_origin::admit(&ctx.config, &event.headers, OwnOrigin::Forwarded)
    {
        return respond(403, &refused.to_string());
    }
    let token = event
        .query_string_parameters
        .first("token")
        .or_else(|| bearer_token(&event.headers));
    let (caller, token_expires) = match authenticate_until(&ctx.tokens, token) {
        Ok(caller) => caller,
        Err(err) => return respond(401, &err.to_string()),
    };
    if let Err(err) = auth::ensure_session(ctx, caller).await {
        if err.status().is_server_error() {
            tracing::error!(error = %err, "cannot check the session of a ws connection");
            return respond(500, "Internal server error");
        }
        return respond(
            i64::from(err.status().as_u16()),
            &err.public_message().into_text(),
        );
    }
    match gateway::connected(ctx, connection_id, caller, token_expires).await {
        Ok(()) => respond(200, "connected"),
        Err(err) => {
            tracing::error!(error = %err, "cannot store a ws connection");
            respond(500, "Internal server error")
        }
    }
}

/// A `$default` frame: run the action, answer the caller on its connection.
async fn frame(
    ctx: &AppContext,
    gateway: &Gateway,
    connection_id: &str,
    body: Option<&str>,
) -> ApiGatewayProxyResponse {
    let caller = match gateway::caller(ctx, connection_id).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return respond(403, "unknown or expired connection"),
        Err(err) => {
            tracing::error!(error = %err, "cannot look up a ws connection");
            return respond(500, "Internal server error");
        }
    };
    let mut payload: Value = body
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    // `action` is this channel's envelope, not part of the event's payload.
    let action = match &mut payload {
        Value::Object(fields) => match fields.remove("action") {
            Some(Value::String(action)) => action,
            _ => String::new(),
        },
        _ => String::new(),
    };
    let (name, data) = match actions::dispatch(ctx, caller, &action, payload).await {
        Ok(answer) => match answer.emit {
            Some(name) => (name, answer.body),
            None => return respond(200, "ok"),
        },
        Err(err) => (event::ERROR, actions::error_payload(&action, &err)),
    };
    if let Err(err) = gateway.post(connection_id, name, &data).await {
        tracing::warn!(error = %err, "cannot answer a ws connection");
    }
    respond(200, "ok")
}

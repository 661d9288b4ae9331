//! The `ws` function: the serverless WebSocket path through an API Gateway WebSocket API, for
//! clients that cannot hold a socket.io connection to the realtime node.
//!
//! - `$connect`: an access token as `?token=` or `Authorization: Bearer`; refused (401) without a
//!   valid one. The connection id is stored with the user and expires after API Gateway's 2 hours.
//! - `$disconnect`: forgets the connection.
//! - `$default`: JSON frames `{"action": "<seed event>", ...}` for sendMessage, messageDelivered,
//!   messageRead, userTyping, userStoppedTyping and getUserStatus. Answers and deliveries come back
//!   as `{"event", "data"}` frames via PostToConnection — deliveries from the realtime node's
//!   change-feed consumer, exactly as socket.io clients get them.

use aws_lambda_events::{
    apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest},
    encodings::Body,
};
use serde_json::{json, Value};
use shared::{
    apigw::Gateway,
    auth::{extract::bearer_token, CurrentUser, TokenKind},
    dto::chat::CreateMessageRequest,
    http::{json::from_value, parse_id_str},
    model::{MessageStatus, SessionId, UserId},
    service::{messages, presence, realtime},
    AppContext, AppError,
};

/// API Gateway closes a WebSocket connection after 2 hours at the latest.
const CONNECTION_LIFETIME_SECS: i64 = 2 * 60 * 60;

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
            if let Err(err) = ctx.store.remove_ws_connection(&connection_id).await {
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
    let token = event
        .query_string_parameters
        .first("token")
        .map(str::to_owned)
        .or_else(|| bearer_token(&event.headers).map(str::to_owned));
    let Some(token) = token else {
        return respond(
            401,
            "Authentication required: pass an access token as ?token=",
        );
    };
    let Ok(verified) = ctx.tokens.verify(&token, TokenKind::Access) else {
        return respond(401, "Invalid or expired access token");
    };
    let now = shared::time::now();
    let expires = now + shared::time::seconds(CONNECTION_LIFETIME_SECS);
    match ctx
        .store
        .add_ws_connection(connection_id, verified.user_id, now, expires)
        .await
    {
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
    let user = match ctx
        .store
        .ws_connection_user(connection_id, shared::time::now())
        .await
    {
        Ok(Some(user)) => user,
        Ok(None) => return respond(403, "unknown or expired connection"),
        Err(err) => {
            tracing::error!(error = %err, "cannot look up a ws connection");
            return respond(500, "Internal server error");
        }
    };
    let caller = CurrentUser {
        id: user,
        // The connection stands for the session; nothing here needs its id.
        session_id: SessionId::default(),
    };
    let payload: Value = body
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let (event, data) = match act(ctx, caller, &action, payload).await {
        Ok(Some(reply)) => reply,
        Ok(None) => return respond(200, "ok"),
        Err(err) => {
            let message = err.public_message().into_text();
            ("error", json!({ "event": action, "message": message }))
        }
    };
    if let Err(err) = gateway.post(connection_id, event, &data).await {
        tracing::warn!(error = %err, "cannot answer a ws connection");
    }
    respond(200, "ok")
}

fn to_json(value: impl serde::Serialize) -> Result<Value, AppError> {
    serde_json::to_value(value).map_err(AppError::internal)
}

/// The seed events that make sense without socket.io; the answer to send back, if any.
async fn act(
    ctx: &AppContext,
    caller: CurrentUser,
    action: &str,
    payload: Value,
) -> Result<Option<(&'static str, Value)>, AppError> {
    match action {
        "sendMessage" => {
            let body = payload.get("messageData").cloned().unwrap_or(payload);
            let mut input: Value = body;
            if let Value::Object(map) = &mut input {
                map.remove("action");
            }
            let input: CreateMessageRequest = from_value(input)?;
            let sent = messages::send(ctx, caller, input).await?;
            Ok(Some(("messageSent", to_json(sent.message)?)))
        }
        "messageDelivered" | "messageRead" => {
            let status = if action == "messageRead" {
                MessageStatus::Read
            } else {
                MessageStatus::Delivered
            };
            let message_id = payload
                .get("messageId")
                .and_then(Value::as_str)
                .ok_or_else(|| AppError::Validation(vec!["messageId is required".into()]))?;
            messages::update_status(ctx, caller, message_id, status).await?;
            Ok(None)
        }
        "userTyping" | "userStoppedTyping" => {
            let event = if action == "userTyping" {
                "userTyping"
            } else {
                "userStoppedTyping"
            };
            realtime::typing(ctx, caller, &payload, event).await?;
            Ok(None)
        }
        "getUserStatus" => {
            let raw = payload
                .get("userId")
                .and_then(Value::as_str)
                .ok_or_else(|| AppError::Validation(vec!["userId is required".into()]))?;
            let user: UserId = parse_id_str("userId", raw)?;
            Ok(Some((
                "userStatus",
                to_json(presence::online_status(ctx, user).await?)?,
            )))
        }
        other => Err(AppError::bad_request(format!(
            "unknown action {other:?}: use sendMessage, messageDelivered, messageRead, \
             userTyping, userStoppedTyping or getUserStatus"
        ))),
    }
}

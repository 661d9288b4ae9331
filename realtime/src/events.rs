//! Client → server events: every action of the shared dispatcher (`service::realtime::actions`),
//! served by one handler per socket. Failures reach the client as `error {event, message}` (and as
//! `{error}` in the ack when one was asked for); a bad payload never disconnects the socket. A
//! socket's events run one at a time in the order they arrived (`turns`), so a client's messages
//! are stored in the order it sent them.

use serde_json::{json, Value};
use shared::{
    auth::CurrentUser,
    service::realtime::{
        actions::{self, Answer, RoomMove},
        event,
    },
    AppContext, AppError,
};
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};

use crate::turns::EventTurn;

/// One handler for every client event (socketioxide's fallback, so a socket holds one boxed
/// handler, not one per action in a map of its own: ~1.6 KB less per connection). The dispatcher
/// answers an unknown event with an error naming the known ones.
pub fn register(socket: &SocketRef) {
    socket.on_fallback(on_event);
}

async fn on_event(
    socket: SocketRef,
    State(ctx): State<AppContext>,
    Event(action): Event,
    EventTurn(turn): EventTurn,
    TryData(data): TryData<Value>,
    ack: AckSender,
) {
    let Some(user) = socket.extensions.get::<CurrentUser>() else {
        return;
    };
    let payload = data.unwrap_or(Value::Null);
    let outcome = match &turn {
        Some(turn) => {
            turn.wait().await;
            actions::dispatch(&ctx, user, &action, payload).await
        }
        None => {
            shared::metrics::rate_limited("socket_queue");
            Err(AppError::TooManyRequests {
                retry_after_secs: 1,
            })
        }
    };
    drop(turn);
    record(&action, &outcome);
    match outcome {
        Ok(answer) => reply(&socket, ack, answer),
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(action, error = %err, "socket event failed");
            }
            let body = actions::error_payload(&action, &err);
            let _ = socket.emit(event::ERROR, &body);
            emitted(event::ERROR);
            let _ = ack.send(&json!({ "error": body }));
        }
    }
}

/// The client-event metric: the event by its name in the dispatcher's table (`unknown` for any
/// other, so a client cannot mint labels) and its outcome.
fn record(action: &str, outcome: &Result<Answer, AppError>) {
    let name = actions::Action::from_name(action).map_or("unknown", actions::Action::name);
    let outcome = match outcome {
        Ok(_) => "ok",
        Err(AppError::TooManyRequests { .. }) => "throttled",
        Err(err) if err.status().is_server_error() => "failed",
        Err(_) => "refused",
    };
    metrics::counter!(shared::metrics::CLIENT_EVENTS, "event" => name, "outcome" => outcome)
        .increment(1);
}

/// A server event sent to one socket (answers; the fan-out counts its own).
fn emitted(name: &'static str) {
    metrics::counter!(shared::metrics::SERVER_EVENTS, "event" => name).increment(1);
}

fn reply(socket: &SocketRef, ack: AckSender, answer: Answer) {
    match answer.rooms {
        Some(RoomMove::Join(room)) => socket.join(room.to_string()),
        Some(RoomMove::Leave(room)) => socket.leave(room.to_string()),
        None => {}
    }
    if let Some(name) = answer.emit {
        let _ = socket.emit(name, &answer.body);
        emitted(name);
    }
    let _ = ack.send(&answer.body);
}

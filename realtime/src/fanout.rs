//! Change feed → socket.io rooms. Every node reads the whole feed and serves its own sockets; the
//! position it reached is saved often, so a restarted node resumes where it stopped.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::StreamExt;
use serde_json::json;
use shared::{
    apigw::Gateway,
    model::{group_room_id, ChatType},
    service::realtime::user_room,
    store::Change,
    AppContext,
};
use socketioxide::SocketIo;

use crate::NAMESPACE;

const SAVE_INTERVAL: Duration = Duration::from_millis(200);
const RETRY: Duration = Duration::from_secs(1);

/// The last feed position this node has delivered.
#[derive(Clone, Default)]
pub struct Position(Arc<Mutex<Option<String>>>);

impl Position {
    fn set(&self, position: String) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(position);
        }
    }

    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }

    /// Stores the position under the node's name (if there is one to store).
    pub async fn save(&self, ctx: &AppContext, node_id: &str) {
        if let Some(position) = self.get() {
            if let Err(err) = ctx
                .store
                .save_feed_position(node_id, &position, shared::time::now())
                .await
            {
                tracing::warn!(error = %err, "cannot save feed position");
            }
        }
    }
}

/// Reads the feed forever, from the saved position (or from now on a first start).
pub async fn run(
    io: SocketIo,
    ctx: AppContext,
    node_id: String,
    position: Position,
    gateway: Option<Gateway>,
) {
    // Where to start is decided now; delivery waits a moment so reconnecting clients are back.
    let start = match ctx.store.load_feed_position(&node_id).await {
        Ok(Some(saved)) => Some(saved),
        _ => ctx.store.feed_position().await.ok(),
    };
    if let Some(start) = start {
        position.set(start);
    }
    tokio::time::sleep(ctx.config.realtime_resume_delay).await;
    tokio::spawn(save_periodically(
        ctx.clone(),
        node_id.clone(),
        position.clone(),
    ));
    loop {
        let mut stream = match ctx.store.changes(position.get()).await {
            Ok(stream) => stream,
            Err(err) => {
                tracing::warn!(error = %err, "cannot open the change feed; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    apply(&io, &event.change).await;
                    if let Some(gateway) = &gateway {
                        crate::apigw::deliver(&ctx, gateway, &event.change).await;
                    }
                    position.set(event.position);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "change feed interrupted; resuming");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

async fn save_periodically(ctx: AppContext, node_id: String, position: Position) {
    let mut saved = None;
    loop {
        tokio::time::sleep(SAVE_INTERVAL).await;
        let current = position.get();
        if current != saved {
            position.save(&ctx, &node_id).await;
            saved = current;
        }
    }
}

/// Emits one change to the sockets of this node that should see it.
pub async fn apply(io: &SocketIo, change: &Change) {
    let Some(chat) = io.of(NAMESPACE) else {
        return;
    };
    let result = match change {
        Change::MessageCreated(message) => {
            match (message.chat_type, message.receiver, message.group_id) {
                (ChatType::Private, Some(receiver), _) => {
                    chat.to(user_room(receiver))
                        .emit("messageReceived", &message)
                        .await
                }
                (ChatType::Group, _, Some(group)) => {
                    chat.to(group_room_id(group))
                        .except(user_room(message.sender))
                        .emit("groupMessageReceived", &message)
                        .await
                }
                _ => Ok(()),
            }
        }
        Change::MessageUpdated(message) => {
            chat.to(user_room(message.sender))
                .emit("messageStatus", &message)
                .await
        }
        Change::GroupChanged(group) => {
            // Re-derive the room from the member list: removed members leave at once.
            let room = group_room_id(group.id);
            let _ = chat.clone().within(room.clone()).leave(room.clone()).await;
            if group.is_active {
                for member in &group.members {
                    let _ = chat
                        .clone()
                        .within(user_room(*member))
                        .join(room.clone())
                        .await;
                }
            }
            Ok(())
        }
        Change::Presence(presence) if presence.is_online => {
            chat.emit("userOnline", &json!({ "userId": presence.user_id }))
                .await
        }
        Change::Presence(presence) => {
            let data = json!({ "userId": presence.user_id, "lastSeen": shared::time::to_iso(&presence.last_seen) });
            chat.emit("userOffline", &data).await
        }
        Change::Signal(signal) => {
            let mut target = chat.to(signal.room.clone());
            if let Some(except) = signal.except.clone() {
                target = target.except(except);
            }
            target.emit(&signal.event, &signal.data).await
        }
    };
    if let Err(err) = result {
        tracing::debug!(error = %err, "broadcast failed");
    }
}

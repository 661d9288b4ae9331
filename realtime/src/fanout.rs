//! Change feed → socket.io rooms. Every node reads the whole feed and serves its own sockets; the
//! position it reached is saved often, so a restarted node resumes where it stopped.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use shared::{
    apigw::Gateway,
    model::{Group, Room},
    service::realtime::{client_events, Recipients},
    store::Change,
    AppContext,
};
use socketioxide::{operators::BroadcastOperators, SocketIo};

use crate::NAMESPACE;

const SAVE_INTERVAL: Duration = Duration::from_millis(200);
const RETRY: Duration = Duration::from_secs(1);

/// How far back a restarted node replays: frames emitted just before a crash may never have left
/// the machine, so the stored position trails the delivered one by this much. Replays are
/// duplicates, which clients drop by `messageId`; nothing is lost.
const REPLAY_MARGIN: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Progress {
    /// The position of the last delivered change.
    latest: Option<String>,
    /// Delivered positions younger than the margin, oldest first.
    recent: VecDeque<(Instant, String)>,
    /// The newest position delivered at least `REPLAY_MARGIN` ago: safe to store.
    durable: Option<String>,
}

/// This node's progress through the feed.
#[derive(Clone, Default)]
pub struct Position(Arc<Mutex<Progress>>);

impl Position {
    fn start_at(&self, position: String) {
        if let Ok(mut progress) = self.0.lock() {
            progress.latest = Some(position.clone());
            progress.durable = Some(position);
        }
    }

    fn delivered(&self, position: String) {
        if let Ok(mut progress) = self.0.lock() {
            progress.latest = Some(position.clone());
            progress.recent.push_back((Instant::now(), position));
        }
    }

    fn latest(&self) -> Option<String> {
        self.0
            .lock()
            .ok()
            .and_then(|progress| progress.latest.clone())
    }

    fn durable(&self) -> Option<String> {
        let mut progress = self.0.lock().ok()?;
        while progress
            .recent
            .front()
            .is_some_and(|(at, _)| at.elapsed() >= REPLAY_MARGIN)
        {
            if let Some((_, position)) = progress.recent.pop_front() {
                progress.durable = Some(position);
            }
        }
        progress.durable.clone()
    }

    async fn store(ctx: &AppContext, node_id: &str, position: &str) {
        if let Err(err) = ctx
            .store
            .save_feed_position(node_id, position, shared::time::now())
            .await
        {
            tracing::warn!(error = %err, "cannot save feed position");
        }
    }

    /// On a clean shutdown every socket was closed first: store the latest position.
    pub async fn save(&self, ctx: &AppContext, node_id: &str) {
        if let Some(position) = self.latest() {
            Self::store(ctx, node_id, &position).await;
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
    // Where to start is decided (and stored) now, so a crash during the resume delay loses nothing;
    // delivery waits a moment so reconnecting clients are back.
    let start = match ctx.store.load_feed_position(&node_id).await {
        Ok(Some(saved)) => Some(saved),
        _ => ctx.store.feed_position().await.ok(),
    };
    if let Some(start) = start {
        position.start_at(start.clone());
        Position::store(&ctx, &node_id, &start).await;
    }
    tokio::spawn(save_periodically(
        ctx.clone(),
        node_id.clone(),
        position.clone(),
    ));
    tokio::time::sleep(ctx.config.realtime_resume_delay).await;
    loop {
        let mut stream = match ctx.store.changes(position.latest()).await {
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
                    position.delivered(event.position);
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
        let durable = position.durable();
        if durable != saved {
            if let Some(durable) = &durable {
                Position::store(&ctx, &node_id, durable).await;
            }
            saved = durable;
        }
    }
}

/// Emits one change to the sockets of this node that should see it.
pub async fn apply(io: &SocketIo, change: &Change) {
    let Some(chat) = io.of(NAMESPACE) else {
        return;
    };
    if let Change::GroupChanged(group) = change {
        regroup(&chat, group).await;
    }
    for outbound in client_events(change) {
        let sent = match outbound.to {
            Recipients::Everyone => chat.clone().emit(&*outbound.event, &outbound.payload).await,
            Recipients::Room { room, except } => {
                let mut target = chat.clone().to(room.to_string());
                if let Some(except) = except {
                    target = target.except(except.to_string());
                }
                target.emit(&*outbound.event, &outbound.payload).await
            }
        };
        if let Err(err) = sent {
            // A socket whose queue is full (a client that does not read) misses this event; it
            // can catch up with `fetch … after`.
            tracing::warn!(error = %err, "broadcast did not reach every socket");
        }
    }
}

/// Re-derives a group's room from its member list: removed members leave at once, and nobody
/// stays in the room of a deleted group.
async fn regroup(chat: &BroadcastOperators, group: &Group) {
    let room = Room::Group(group.id).to_string();
    let _ = chat.clone().within(room.clone()).leave(room.clone()).await;
    if group.is_active {
        for member in &group.members {
            let _ = chat
                .clone()
                .within(Room::User(*member).to_string())
                .join(room.clone())
                .await;
        }
    }
}

//! Change feed → socket.io rooms. Every node reads the whole feed and serves its own sockets; the
//! position it reached is saved often, so a restarted node resumes where it stopped.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use futures_util::StreamExt;
use shared::{
    model::{Group, Room},
    service::realtime::{client_events, feed, reach},
    store::{Change, StoreError},
    AppContext,
};
use socketioxide::{operators::BroadcastOperators, SocketIo};

use crate::{joins::Joins, NAMESPACE};

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
    /// When the node reached `latest`.
    latest_at: Option<DateTime<Utc>>,
    /// Delivered positions younger than the margin, oldest first.
    recent: VecDeque<(Instant, String)>,
    /// The newest position delivered at least `REPLAY_MARGIN` ago: safe to store.
    durable: Option<String>,
}

/// This node's progress through the feed.
#[derive(Clone, Default)]
pub struct Position(Arc<Mutex<Progress>>);

impl Position {
    fn start_at(&self, position: String, at: DateTime<Utc>) {
        if let Ok(mut progress) = self.0.lock() {
            progress.latest = Some(position.clone());
            progress.latest_at = Some(at);
            progress.recent.clear();
            progress.durable = Some(position);
        }
    }

    fn delivered(&self, position: String) {
        if let Ok(mut progress) = self.0.lock() {
            progress.latest = Some(position.clone());
            progress.latest_at = Some(shared::time::now());
            progress.recent.push_back((Instant::now(), position));
        }
    }

    /// The last position reached and when.
    fn last_delivered(&self) -> (Option<String>, Option<DateTime<Utc>>) {
        self.0
            .lock()
            .map(|progress| (progress.latest.clone(), progress.latest_at))
            .unwrap_or_default()
    }

    pub(crate) fn latest(&self) -> Option<String> {
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
        if let Err(err) = feed::save_position(ctx, node_id, position).await {
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

/// Whether this node's feed consumer is reading (the realtime node's `/health` reports it). Up
/// from the start (the node checked the feed before it started), down while the feed fails.
#[derive(Clone)]
pub struct FeedHealth(Arc<AtomicBool>);

impl Default for FeedHealth {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl FeedHealth {
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, up: bool) {
        self.0.store(up, Ordering::Relaxed);
    }
}

/// Reads the feed forever, from the saved position (or from now on a first start).
pub async fn run(
    io: SocketIo,
    ctx: AppContext,
    node_id: String,
    position: Position,
    health: FeedHealth,
    joins: Joins,
) {
    // Where to start is decided (and stored) now, so a crash during the resume delay loses nothing;
    // delivery waits a moment so reconnecting clients are back.
    let saved = match feed::saved_position(&ctx, &node_id).await {
        Ok(saved) => saved,
        Err(err) => {
            tracing::warn!(error = %err, "cannot load this node's feed position; starting from now");
            None
        }
    };
    let start = match saved {
        Some(saved) => {
            // What this node missed is replayed to the clients that come back to it.
            match feed::now(&ctx).await {
                Ok(end) => joins.replay_until(end),
                Err(err) => tracing::warn!(error = %err, "cannot read the feed's end"),
            }
            Some((saved.position, saved.saved_at))
        }
        None => feed::now(&ctx)
            .await
            .ok()
            .map(|now| (now, shared::time::now())),
    };
    if let Some((start, at)) = start {
        position.start_at(start.clone(), at);
        // A position the feed no longer holds is found out now, so the gap ends at this start,
        // not after the resume delay (what is sent from now on is delivered).
        match feed::changes(&ctx, Some(start.clone())).await {
            Err(StoreError::PositionLost(reason)) => {
                resume_from_now(&ctx, &node_id, &position, &joins, &reason).await;
            }
            _ => Position::store(&ctx, &node_id, &start).await,
        }
    }
    tokio::spawn(save_periodically(
        ctx.clone(),
        node_id.clone(),
        position.clone(),
    ));
    tokio::time::sleep(ctx.config.realtime_resume_delay).await;
    loop {
        let mut stream = match feed::changes(&ctx, position.latest()).await {
            Ok(stream) => {
                health.set(true);
                stream
            }
            Err(StoreError::PositionLost(reason)) => {
                resume_from_now(&ctx, &node_id, &position, &joins, &reason).await;
                continue;
            }
            Err(err) => {
                health.set(false);
                metrics::counter!(shared::metrics::FEED_RESUMES).increment(1);
                tracing::warn!(error = %err, "cannot open the change feed; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        while let Some(item) = stream.next().await {
            match item {
                Ok(event) => {
                    joins.before(&ctx, &event.position);
                    if let Some(change) = &event.change {
                        observe_change(change, event.committed_at);
                        apply(&io, &ctx, change).await;
                    }
                    // Delivered, then the sockets waiting for it join (a handshake in between
                    // sees the new position and joins by itself).
                    position.delivered(event.position.clone());
                    joins.reached(&ctx, &event.position);
                }
                Err(StoreError::PositionLost(reason)) => {
                    resume_from_now(&ctx, &node_id, &position, &joins, &reason).await;
                    break;
                }
                Err(err) => {
                    health.set(false);
                    metrics::counter!(shared::metrics::FEED_RESUMES).increment(1);
                    tracing::warn!(error = %err, "change feed interrupted; resuming");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

/// The feed no longer holds this node's position (a resume token older than the oplog, or one
/// that cannot be read): say which time range was not delivered, and go on from now. Clients
/// catch up on the gap with `fetchMessages … after`.
async fn resume_from_now(
    ctx: &AppContext,
    node_id: &str,
    position: &Position,
    joins: &Joins,
    reason: &str,
) {
    let now = match feed::now(ctx).await {
        Ok(now) => now,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the feed's current position; retrying");
            tokio::time::sleep(RETRY).await;
            return;
        }
    };
    metrics::counter!(shared::metrics::FEED_GAPS).increment(1);
    let (lost, since) = position.last_delivered();
    tracing::error!(
        lost_position = lost.as_deref().unwrap_or("none"),
        gap_from = since.map(|at| shared::time::to_iso(&at)).as_deref().unwrap_or("unknown"),
        gap_to = %shared::time::to_iso(&shared::time::now()),
        reason,
        "feed gap: this node's position is no longer in the change feed; changes in that time \
         range were not delivered; resuming from now"
    );
    position.start_at(now.clone(), shared::time::now());
    joins.reached(ctx, &now);
    Position::store(ctx, node_id, &now).await;
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

/// The feed metrics of one change: its kind, and how long after its commit it is fanned out.
fn observe_change(change: &Change, committed_at: Option<DateTime<Utc>>) {
    metrics::counter!(shared::metrics::FEED_CHANGES, "kind" => change.kind()).increment(1);
    shared::metrics::lag_since(shared::metrics::FEED_LAG, committed_at);
}

/// A server event's name as a label: one of `event::ALL`, or `other` (a signal's event is ours,
/// but it travels through the database, so it is checked like any stored value).
fn event_label(name: &str) -> &'static str {
    shared::service::realtime::event::ALL
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("other")
}

/// Emits one change to the sockets of this node that should see it.
pub async fn apply(io: &SocketIo, ctx: &AppContext, change: &Change) {
    let Some(chat) = io.of(NAMESPACE) else {
        return;
    };
    if let Change::GroupChanged(group) = change {
        regroup(&chat, group).await;
    }
    for outbound in client_events(change) {
        let (rooms, except) = match reach::rooms(ctx, &outbound.to).await {
            Ok(reached) => reached,
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell whom an event reaches");
                continue;
            }
        };
        if rooms.is_empty() {
            continue;
        }
        // Most events go to one room: name it without a list (this runs for every event).
        let mut target = match rooms.as_slice() {
            [room] => chat.clone().to(room.to_string()),
            _ => chat
                .clone()
                .to(rooms.iter().map(Room::to_string).collect::<Vec<_>>()),
        };
        if let Some(except) = except {
            target = target.except(except.to_string());
        }
        let sent = target.emit(&*outbound.event, &outbound.payload).await;
        metrics::counter!(shared::metrics::SERVER_EVENTS, "event" => event_label(&outbound.event))
            .increment(1);
        if let Err(err) = sent {
            // A socket whose queue is full (a client that does not read) misses this event; it
            // can catch up with `fetch … after`.
            tracing::warn!(error = %err, "broadcast did not reach every socket");
        }
    }
    if let Change::SessionEnded(session) = change {
        // Revocation reaches open sockets: every socket of the ended session closes.
        let room = Room::Session(*session).to_string();
        if let Err(err) = chat.within(room).disconnect().await {
            tracing::warn!(error = %err, "cannot close the sockets of an ended session");
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

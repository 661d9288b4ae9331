//! Where a new socket starts hearing the change feed: at the position the feed stood at during its
//! handshake. It joins its rooms once this node's reader has fanned out everything up to there, so
//! what was committed before the handshake comes from history (`fetchMessages … after`) and what
//! follows arrives live, once: a client that moves to another node (a drain, a reconnect) is not
//! sent again what it already got because that node's reader was a few milliseconds behind.
//! While a restarted node replays what it missed, sockets join at once: the replay is for them.

use std::{
    cmp::Ordering,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use shared::{model::Room, service::realtime::feed, AppContext};
use socketioxide::extract::SocketRef;

use crate::fanout::Position;

/// The sockets of this node waiting for the reader to reach their start.
#[derive(Clone)]
pub struct Joins {
    position: Position,
    pending: Arc<Mutex<Pending<Starter>>>,
}

/// A socket and the rooms it joins.
struct Starter {
    socket: SocketRef,
    rooms: Vec<Room>,
}

/// Put on a socket when its disconnect begins (before socketioxide removes it from its rooms), so a
/// join that comes late does not put a gone socket back.
#[derive(Clone, Copy)]
struct Departed;

/// The socket is leaving: a join still waiting for it is dropped.
pub fn depart(socket: &SocketRef) {
    socket.extensions.insert(Departed);
}

fn is_gone(socket: &SocketRef) -> bool {
    socket.extensions.get::<Departed>().is_some()
}

impl Starter {
    /// Joins; a socket that leaves meanwhile leaves its rooms again (the handshake may still be
    /// running, so `connected()` cannot tell).
    fn join(self) {
        if is_gone(&self.socket) {
            return;
        }
        self.socket
            .join(self.rooms.iter().map(Room::to_string).collect::<Vec<_>>());
        if is_gone(&self.socket) {
            self.socket.leave_all();
        }
    }
}

impl Joins {
    pub fn new(position: Position) -> Self {
        Self {
            position,
            pending: Arc::default(),
        }
    }

    /// The socket joins `rooms` now, or when the reader reaches the feed's current position.
    pub async fn start(&self, ctx: &AppContext, socket: SocketRef, rooms: Vec<Room>) {
        let starter = Starter { socket, rooms };
        let head = match feed::now(ctx).await {
            Ok(head) => head,
            Err(err) => {
                // Joining now can repeat what came just before (delivery stays at least once).
                tracing::warn!(error = %err, "cannot read the feed position for a new socket");
                return starter.join();
            }
        };
        let order = |a: &str, b: &str| feed::order(ctx, a, b);
        let now = self
            .pending()
            .admit(starter, head, self.position.latest().as_deref(), &order);
        if let Some(starter) = now {
            starter.join();
        }
    }

    /// A restarted node replays up to `position` (the feed's end when it started): sockets join
    /// at once until the reader gets there.
    pub fn replay_until(&self, position: String) {
        self.pending().replay_until = Some(position);
    }

    /// Before the reader fans out what is at `position`: sockets that started before it join.
    pub fn before(&self, ctx: &AppContext, position: &str) {
        self.release(ctx, position, Ordering::Greater);
    }

    /// The reader delivered everything up to `position`: sockets that started there join.
    pub fn reached(&self, ctx: &AppContext, position: &str) {
        self.release(ctx, position, Ordering::Equal);
    }

    /// The list, also after a panic elsewhere (nothing here leaves it half changed).
    fn pending(&self) -> MutexGuard<'_, Pending<Starter>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn release(&self, ctx: &AppContext, position: &str, at_least: Ordering) {
        let order = |a: &str, b: &str| feed::order(ctx, a, b);
        let due = self.pending().due(position, at_least, &order, |starter| {
            !is_gone(&starter.socket)
        });
        for starter in due {
            starter.join();
        }
    }
}

type PositionOrder<'a> = &'a dyn Fn(&str, &str) -> Option<Ordering>;

/// What waits, in start order, and the end of a replay.
struct Pending<T> {
    replay_until: Option<String>,
    waiting: Vec<(T, String)>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Self {
            replay_until: None,
            waiting: Vec::new(),
        }
    }
}

impl<T> Pending<T> {
    /// `item` starting at `head`, with the reader at `reader_at`: returned when it starts now
    /// (a replay, the reader already there, or positions that cannot be compared).
    fn admit(
        &mut self,
        item: T,
        head: String,
        reader_at: Option<&str>,
        order: PositionOrder,
    ) -> Option<T> {
        let behind = self.replay_until.is_none()
            && reader_at.is_some_and(|at| order(at, &head) == Some(Ordering::Less));
        if behind {
            self.waiting.push((item, head));
            None
        } else {
            Some(item)
        }
    }

    /// The items due with the reader at `position` (`at_least` `Equal`: there, `Greater`: past
    /// their start); items no longer `wanted` are dropped.
    fn due(
        &mut self,
        position: &str,
        at_least: Ordering,
        order: PositionOrder,
        wanted: impl Fn(&T) -> bool,
    ) -> Vec<T> {
        if self
            .replay_until
            .as_deref()
            .is_some_and(|until| order(position, until) != Some(Ordering::Less))
        {
            self.replay_until = None;
        }
        if self.waiting.is_empty() {
            return Vec::new();
        }
        let (due, waiting) = std::mem::take(&mut self.waiting)
            .into_iter()
            .filter(|(item, _)| wanted(item))
            .partition(|(_, head)| order(position, head).is_none_or(|seen| seen >= at_least));
        self.waiting = waiting;
        due.into_iter().map(|(item, _)| item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(a: &str, b: &str) -> Option<Ordering> {
        Some(a.parse::<i64>().ok()?.cmp(&b.parse::<i64>().ok()?))
    }

    #[test]
    fn a_socket_waits_for_the_reader_to_reach_its_start() {
        let mut pending = Pending::default();
        assert_eq!(pending.admit("a", "7".into(), Some("5"), &numbers), None);
        assert_eq!(pending.admit("b", "9".into(), Some("5"), &numbers), None);
        // Before the change at 7 is fanned out: nobody started before it.
        assert!(pending
            .due("7", Ordering::Greater, &numbers, |_| true)
            .is_empty());
        // 7 delivered: `a` started there.
        assert_eq!(pending.due("7", Ordering::Equal, &numbers, |_| true), ["a"]);
        // The next change is past 9 (the feed skipped positions): `b` joins before it.
        assert_eq!(
            pending.due("12", Ordering::Greater, &numbers, |_| true),
            ["b"]
        );
    }

    #[test]
    fn a_socket_starts_at_once_when_the_reader_is_there_or_positions_cannot_be_compared() {
        let mut pending = Pending::default();
        assert_eq!(
            pending.admit("a", "5".into(), Some("5"), &numbers),
            Some("a")
        );
        assert_eq!(
            pending.admit("b", "5".into(), Some("8"), &numbers),
            Some("b")
        );
        assert_eq!(pending.admit("c", "5".into(), None, &numbers), Some("c"));
        assert_eq!(
            pending.admit("d", "x".into(), Some("8"), &numbers),
            Some("d")
        );
    }

    #[test]
    fn during_a_replay_sockets_start_at_once_and_wait_again_after_it() {
        let mut pending = Pending {
            replay_until: Some("20".into()),
            waiting: Vec::new(),
        };
        assert_eq!(
            pending.admit("a", "20".into(), Some("3"), &numbers),
            Some("a")
        );
        assert!(pending
            .due("19", Ordering::Equal, &numbers, |_| true)
            .is_empty());
        assert_eq!(
            pending.admit("b", "20".into(), Some("19"), &numbers),
            Some("b")
        );
        pending.due("20", Ordering::Equal, &numbers, |_| true);
        assert_eq!(pending.admit("c", "25".into(), Some("20"), &numbers), None);
    }

    #[test]
    fn a_socket_gone_while_waiting_is_dropped() {
        let mut pending = Pending::default();
        assert_eq!(pending.admit("gone", "7".into(), Some("5"), &numbers), None);
        assert!(pending
            .due("6", Ordering::Equal, &numbers, |_| false)
            .is_empty());
        assert!(pending.waiting.is_empty());
    }
}

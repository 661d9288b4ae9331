//! One socket's events run one at a time, in the order they arrived.
//!
//! socketioxide spawns a task per event, so without this two `sendMessage`s from one client could be
//! stored in either order, and a burst of thousands would all hit the database at once. Each event
//! takes a numbered [`Turn`] while socketioxide still handles the packet in arrival order (extractors
//! run before the task is spawned); the task then waits until every earlier turn of that socket has
//! finished. A socket with too many events still waiting gets an error instead of a turn.

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use socketioxide::{
    adapter::Adapter,
    handler::{FromDisconnectParts, FromMessageParts, Value},
    socket::{DisconnectReason, Socket},
};
use tokio::sync::watch;

/// Events a socket may have waiting before new ones are refused.
pub const MAX_WAITING: u64 = 1_024;

/// The per-socket counter of turns handed out and finished; kept in the socket's extensions.
#[derive(Clone)]
pub struct TurnQueue(Arc<Counters>);

struct Counters {
    issued: AtomicU64,
    finished: watch::Sender<u64>,
}

impl Default for TurnQueue {
    fn default() -> Self {
        Self(Arc::new(Counters {
            issued: AtomicU64::new(0),
            finished: watch::Sender::new(0),
        }))
    }
}

impl TurnQueue {
    /// The next turn, or `None` when `MAX_WAITING` are already queued. Called from the socket's
    /// packet loop, so turns are numbered in arrival order.
    pub fn take(&self) -> Option<Turn> {
        let finished = *self.0.finished.borrow();
        let issued = self.0.issued.load(Ordering::Acquire);
        if issued.saturating_sub(finished) >= MAX_WAITING {
            return None;
        }
        Some(self.issue())
    }

    /// The next turn, whatever is waiting.
    fn issue(&self) -> Turn {
        Turn {
            number: self.0.issued.fetch_add(1, Ordering::AcqRel),
            queue: self.clone(),
        }
    }
}

/// A place in the socket's queue. Waiting for it returns once every earlier turn is over; dropping
/// it (after the work, or if the task ends early) lets the next one go.
pub struct Turn {
    number: u64,
    queue: TurnQueue,
}

impl Turn {
    pub async fn wait(&self) {
        let mut finished = self.queue.0.finished.subscribe();
        // The sender lives in `self.queue`, so the channel cannot close while we wait.
        let _ = finished.wait_for(|done| *done >= self.number).await;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (number, queue) = (self.number, self.queue.clone());
        if *queue.0.finished.borrow() >= number {
            queue
                .0
                .finished
                .send_modify(|done| *done = (*done).max(number + 1));
            return;
        }
        // Given up before its turn came (its task never ran): it still passes the turn on, once
        // the earlier ones are done, so nothing behind it waits forever and nothing overtakes.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let turn = Turn { number, queue };
                turn.wait().await;
            });
        }
    }
}

/// The turn of one event: `None` when the socket has too many waiting (or no queue, which
/// `connect::authenticate` always installs).
pub struct EventTurn(pub Option<Turn>);

fn turn_of<A: Adapter>(socket: &Arc<Socket<A>>) -> Option<Turn> {
    socket
        .extensions
        .get::<TurnQueue>()
        .and_then(|queue| queue.take())
}

impl<A: Adapter> FromMessageParts<A> for EventTurn {
    type Error = Infallible;

    fn from_message_parts(
        socket: &Arc<Socket<A>>,
        _: &mut Value,
        _: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        Ok(Self(turn_of(socket)))
    }
}

/// The disconnect handler waits behind every event the socket sent before it went away (a
/// disconnect is never refused: it waits for a turn past the limit if need be).
pub struct LastTurn(pub Option<Turn>);

impl<A: Adapter> FromDisconnectParts<A> for LastTurn {
    type Error = Infallible;

    fn from_disconnect_parts(
        socket: &Arc<Socket<A>>,
        _: DisconnectReason,
    ) -> Result<Self, Self::Error> {
        Ok(Self(
            socket
                .extensions
                .get::<TurnQueue>()
                .map(|queue| queue.issue()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn turns_run_in_the_order_they_were_taken() {
        let queue = TurnQueue::default();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        let turns: Vec<Turn> = (0..5).map(|_| queue.take().expect("room")).collect();
        // Spawned in reverse, each sleeping less than the one before: only the turns order them.
        for (n, turn) in turns.into_iter().enumerate().rev() {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                turn.wait().await;
                tokio::time::sleep(Duration::from_millis(5 * (5 - n as u64))).await;
                log.lock().unwrap().push(n);
                drop(turn);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_until_a_turn_finishes() {
        let queue = TurnQueue::default();
        let mut held: Vec<Turn> = (0..MAX_WAITING).map(|_| queue.take().unwrap()).collect();
        assert!(queue.take().is_none());
        held.remove(0);
        assert!(queue.take().is_some());
        assert!(queue.take().is_none());
    }

    #[tokio::test]
    async fn a_turn_given_up_early_does_not_let_later_ones_overtake() {
        let queue = TurnQueue::default();
        let first = queue.take().unwrap();
        let abandoned = queue.take().unwrap();
        let third = queue.take().unwrap();
        drop(abandoned);
        let waited = tokio::time::timeout(Duration::from_millis(50), third.wait()).await;
        assert!(waited.is_err(), "the third waits for the first");
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), third.wait())
            .await
            .expect("then the third goes");
    }
}

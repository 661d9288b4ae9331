//! Graceful drain on SIGTERM (a deploy): `/health` answers 503 at once so the load balancer stops
//! sending handshakes here, new handshakes are refused with a reconnect hint, every socket is told
//! (`serverDraining`) and the sockets are closed in even batches spread over `DRAIN_SECONDS`, so
//! their clients reconnect to other nodes a few at a time instead of all in the same second.
//! A socket's events already received finish before its disconnect handler runs (`turns`).

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use serde_json::json;
use shared::service::realtime::event;
use socketioxide::SocketIo;

use crate::NAMESPACE;

/// How often a batch of sockets is closed during the drain.
const STEP: Duration = Duration::from_millis(250);

/// Whether this node is draining (shared by the health check and the handshake).
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn start(&self) {
        self.0.store(true, Ordering::Release);
        metrics::gauge!(shared::metrics::DRAINING).set(1.0);
    }
}

/// Drains the node: refuses new handshakes, tells every socket, closes them over `window`.
pub async fn run(io: &SocketIo, draining: &Draining, window: Duration) {
    draining.start();
    let Some(chat) = io.of(NAMESPACE) else {
        return;
    };
    let sockets = chat.sockets();
    tracing::info!(
        sockets = sockets.len(),
        seconds = window.as_secs_f64(),
        "draining: closing sockets in batches"
    );
    let notice = json!({
        "message": "This server is restarting: reconnect (you will be served by another one)",
        "reconnectWithinMs": u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
    });
    for socket in &sockets {
        let _ = socket.emit(event::SERVER_DRAINING, &notice);
    }
    // As many batches as there are sockets, at most one per STEP, evenly spaced over the window.
    let count = sockets.len();
    let batches = count.clamp(1, (window.as_millis() / STEP.as_millis()).max(1) as usize);
    let pause = window / u32::try_from(batches).unwrap_or(u32::MAX);
    let mut remaining = sockets.into_iter();
    for batch in 0..batches {
        // Sockets up to this batch's share of the whole, so rounding never leaves any behind.
        let due = (count * (batch + 1)).div_ceil(batches) - (count * batch).div_ceil(batches);
        for socket in remaining.by_ref().take(due) {
            let _ = socket.disconnect();
        }
        if batch + 1 < batches {
            tokio::time::sleep(pause).await;
        }
    }
    tracing::info!("draining: every socket closed");
}

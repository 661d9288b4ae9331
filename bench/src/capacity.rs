//! Realtime capacity (benchmark 1): N authenticated socket.io connections to one node; connect
//! rate and the node's resident memory per connection.

use std::time::{Duration, Instant};

use chat_tests::realtime::RealtimeNode;
use futures_util::{stream, StreamExt};

use crate::{raw_socket, setup, stats};

const USERS: usize = 100;
const IN_FLIGHT: usize = 64;

/// The node's RSS once the work a burst of handshakes leaves behind (presence writes) is done:
/// sampled every second until it changes by less than 1 % (at most 30 s).
async fn settled_rss(pid: u32) -> u64 {
    let mut last = stats::rss_kib(pid);
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = stats::rss_kib(pid);
        if now.abs_diff(last) * 100 < last {
            return now;
        }
        last = now;
    }
    last
}

pub async fn run(counts: &[usize]) {
    println!("## Realtime capacity (one node, {USERS} users, {IN_FLIGHT} handshakes in flight)");
    for &count in counts {
        let app = setup::app().await;
        let node = RealtimeNode::start(&app).await;
        let pid = node.pid().expect("node runs");
        let users = setup::users(&app, "cap", USERS).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let baseline = stats::rss_kib(pid);

        let started = Instant::now();
        let sockets: Vec<_> = stream::iter(0..count)
            .map(|i| raw_socket::connect(node.port, &users[i % USERS].token))
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let elapsed = started.elapsed();
        let connected = sockets.iter().filter(|s| s.is_ok()).count();
        let loaded = settled_rss(pid).await;
        let per_connection = loaded.saturating_sub(baseline) as f64 / connected.max(1) as f64;
        println!(
            "- {count} connections: {connected} connected in {:.2} s ({:.0}/s); node RSS {:.1} MiB \
             (baseline {:.1} MiB, {:.1} KiB per connection)",
            elapsed.as_secs_f64(),
            stats::per_second(connected, elapsed),
            loaded as f64 / 1024.0,
            baseline as f64 / 1024.0,
            per_connection
        );
        if let Some(err) = sockets.iter().find_map(|s| s.as_ref().err()) {
            println!("  first failure: {err}");
        }
        drop(sockets);
    }
}

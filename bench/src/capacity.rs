//! Realtime capacity (benchmark 1): N authenticated socket.io connections to one node, then the
//! same N to the same-work Node.js socket.io server (bench/node-reference/same-work.js: a
//! `jsonwebtoken` handshake, the user's room), in one run: connect rate, resident memory per
//! connection once settled, and memory after every socket has left, as a share of the baseline
//! (taken after a warm-up round of one socket per user).

use std::time::{Duration, Instant};

use chat_tests::realtime::RealtimeNode;
use futures_util::{stream, StreamExt};

use crate::{
    raw_socket,
    setup::{self, BenchUser},
    side_by_side::{install_references, SameWork},
    stats,
};

const USERS: usize = 100;
const IN_FLIGHT: usize = 64;
const AFTER_LEAVING: Duration = Duration::from_secs(15);

/// The server's RSS once the work a burst of handshakes or disconnections leaves behind is done:
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

/// Open file descriptors of a process (its sockets among them).
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

/// Waits (at most 60 s) until the server has closed all but 1 % of the connections it had.
async fn connections_closed(pid: u32, baseline_fds: usize, count: usize) {
    for _ in 0..600 {
        if open_fds(pid) <= baseline_fds + count / 100 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One server's figures.
struct Footprint {
    baseline_kib: u64,
    loaded_kib: u64,
    connected: usize,
}

impl Footprint {
    fn per_connection_bytes(&self) -> f64 {
        self.loaded_kib.saturating_sub(self.baseline_kib) as f64 * 1024.0
            / self.connected.max(1) as f64
    }
}

/// Connects `count` sockets to the server at `port` (process `pid`), holds them until memory
/// settles, closes them all and waits again.
async fn measure(label: &str, port: u16, pid: u32, users: &[BenchUser], count: usize) -> Footprint {
    // A warm-up round first, so the baseline includes what any first use allocates once (database
    // caches, worker threads' arenas and stacks), not only the memory of a server that did nothing.
    let idle_fds = open_fds(pid);
    let warm_up: Vec<_> = stream::iter(users)
        .map(|user| raw_socket::connect(port, &user.token))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    drop(warm_up);
    connections_closed(pid, idle_fds, users.len()).await;
    tokio::time::sleep(AFTER_LEAVING).await;
    let baseline_kib = stats::rss_kib(pid);
    let baseline_anon_kib = stats::rss_anon_kib(pid);
    let baseline_fds = open_fds(pid);
    let started = Instant::now();
    let sockets: Vec<_> = stream::iter(0..count)
        .map(|i| raw_socket::connect(port, &users[i % users.len()].token))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let connected = sockets.iter().filter(|s| s.is_ok()).count();
    let loaded_kib = settled_rss(pid).await;
    if let Some(err) = sockets.iter().find_map(|s| s.as_ref().err()) {
        println!("  {label}: first failure: {err}");
    }
    drop(sockets);
    connections_closed(pid, baseline_fds, count).await;
    // Time for a garbage collector or an allocator's trim to run before memory is read again.
    tokio::time::sleep(AFTER_LEAVING).await;
    let after_kib = settled_rss(pid).await;
    let after_anon_kib = stats::rss_anon_kib(pid);
    let footprint = Footprint {
        baseline_kib,
        loaded_kib,
        connected,
    };
    println!(
        "- {label}, {count} connections: {connected} connected in {:.2} s ({:.0}/s); RSS {:.1} MiB \
         (baseline {:.1} MiB, {:.1} KiB per connection); after they left {:.1} MiB ({:+.0} % of baseline; \
         anonymous memory {:.1} MiB, baseline {:.1} MiB: {:+.0} %)",
        elapsed.as_secs_f64(),
        stats::per_second(connected, elapsed),
        loaded_kib as f64 / 1024.0,
        baseline_kib as f64 / 1024.0,
        footprint.per_connection_bytes() / 1024.0,
        after_kib as f64 / 1024.0,
        (after_kib as f64 / baseline_kib.max(1) as f64 - 1.0) * 100.0,
        after_anon_kib as f64 / 1024.0,
        baseline_anon_kib as f64 / 1024.0,
        (after_anon_kib as f64 / baseline_anon_kib.max(1) as f64 - 1.0) * 100.0,
    );
    footprint
}

pub async fn run(counts: &[usize]) {
    install_references();
    println!(
        "## Realtime capacity: ours vs the same-work Node.js server ({USERS} users, {IN_FLIGHT} handshakes in flight)"
    );
    for &count in counts {
        let app = setup::app().await;
        let node = RealtimeNode::start(&app).await;
        let users = setup::users(&app, "cap", USERS).await;
        let ours = measure(
            "ours",
            node.port,
            node.pid().expect("node runs"),
            &users,
            count,
        )
        .await;
        drop(node);

        let reference = SameWork::start(&users).await;
        let theirs = measure(
            "Node.js same-work",
            reference.port,
            reference.server.pid(),
            &users,
            count,
        )
        .await;
        drop(reference);
        println!(
            "- ratio at {count}: bytes per connection {:.2}× ({:.0} vs {:.0} B)",
            ours.per_connection_bytes() / theirs.per_connection_bytes().max(1.0),
            ours.per_connection_bytes(),
            theirs.per_connection_bytes(),
        );
    }
}

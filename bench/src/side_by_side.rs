//! Side by side (benchmark 3): the same group fan-out workload against our realtime node and against
//! a minimal Node.js socket.io server (bench/node-reference) doing only the emit work, in one run.
//!
//! Both get 100 members connected, 5 of them sending `sendMessage` over their own sockets; each
//! message reaches the other 99. Ours also verifies tokens, stores every message in SQLite and
//! delivers from the change feed; the reference does none of that.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use chat_tests::{process::free_port, process::repo_root, realtime::RealtimeNode};
use serde_json::json;

use crate::{
    delivery::{self, Path, Workload},
    setup::{self, BenchUser},
    stats,
};

const MEMBERS: usize = 100;
const SENDERS: usize = 5;

/// The reference server as a child process, killed on drop.
struct Reference(Child);

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_reference(port: u16) -> Reference {
    let dir = repo_root().join("bench/node-reference");
    if !dir.join("node_modules/socket.io").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (Node.js 18+ is needed for the side-by-side benchmark)");
        assert!(status.success(), "npm ci in bench/node-reference");
    }
    let reference = Reference(
        Command::new("node")
            .arg("server.js")
            .env("PORT", port.to_string())
            .current_dir(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("node starts"),
    );
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return reference;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the reference server did not start");
}

fn workload<'a>(
    label: &str,
    members: &'a [BenchUser],
    group: &str,
    messages: usize,
) -> Workload<'a> {
    Workload {
        label: format!("{label}: group of {MEMBERS}, {messages} messages × 99 recipients"),
        senders: &members[..SENDERS],
        receivers: members,
        bodies: (0..messages)
            .map(|_| json!({ "chatType": "GROUP", "groupId": group }))
            .collect(),
        expected: messages * (MEMBERS - 1),
        path: Path::Socket,
    }
}

pub async fn run(messages: usize) {
    println!("## Side by side: group fan-out via sendMessage, our node vs a minimal Node.js socket.io server");

    let app = setup::app().await;
    let node = RealtimeNode::start(&app).await;
    let members = setup::users(&app, "m", MEMBERS).await;
    let group = delivery::group_of(&app, &members).await;
    let ours = delivery::measure(
        &app,
        node.port,
        workload("ours", &members, &group, messages),
    )
    .await;
    let ours_rss = node.pid().map(stats::rss_kib).unwrap_or_default();
    drop(node);

    let port = free_port();
    let reference = start_reference(port).await;
    let stand_ins: Vec<BenchUser> = members
        .iter()
        .map(|member| BenchUser {
            id: member.id,
            token: format!("{}:{group}", member.id),
        })
        .collect();
    let theirs = delivery::measure(
        &app,
        port,
        workload("Node.js socket.io 4", &stand_ins, &group, messages),
    )
    .await;
    let theirs_rss = stats::rss_kib(reference.0.id());
    drop(reference);

    println!(
        "- ratio (ours / Node.js): throughput {:.2}×, p50 latency {:.2}×, p99 latency {:.2}×; RSS after the run {} MiB vs {} MiB",
        ours.per_second / theirs.per_second.max(1e-9),
        ratio(ours.latencies.percentile(50.0), theirs.latencies.percentile(50.0)),
        ratio(ours.latencies.percentile(99.0), theirs.latencies.percentile(99.0)),
        ours_rss / 1024,
        theirs_rss / 1024,
    );
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

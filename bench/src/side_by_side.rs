//! Side by side: the same load against our realtime node and two Node.js socket.io 4 servers, in
//! one run (bench/node-reference):
//! - `same-work.js` does per private message the work ours does: a `jsonwebtoken` handshake, and
//!   in one better-sqlite3 transaction the receiver check, the rate-limit counter and the message
//!   row, then the emits;
//! - `server.js` does only the emits (no token check, no storage): the ceiling of socket.io itself.
//!
//! Private: 20 senders → 20 receivers over `sendMessage`, 8 unanswered sends per sender. Group:
//! 100 members, 5 of them sending, each message reaching the other 99. For each server:
//! deliveries/s, send→receive p50/p99 and the server's CPU-seconds per 1,000 messages (from
//! `/proc/<pid>/stat`), then ours as a ratio of each reference.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use chat_tests::{process::free_port, process::repo_root, realtime::RealtimeNode, ACCESS_SECRET};
use serde_json::json;

use crate::{
    delivery::{self, Outcome, Path, Workload},
    setup::{self, BenchUser},
};

pub const PAIRS: usize = 20;
const IN_FLIGHT_PER_SENDER: usize = 8;
const MEMBERS: usize = 100;
const GROUP_SENDERS: usize = 5;

/// A reference server as a child process, killed on drop.
pub struct Reference(Child);

impl Reference {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn install_references() {
    let dir = repo_root().join("bench/node-reference");
    let installed = ["socket.io", "better-sqlite3", "jsonwebtoken"]
        .iter()
        .all(|package| dir.join("node_modules").join(package).exists());
    if !installed {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (Node.js 20 is needed for the side-by-side benchmark)");
        assert!(status.success(), "npm ci in bench/node-reference");
    }
}

pub async fn start_reference(script: &str, port: u16, vars: &[(&str, String)]) -> Reference {
    let dir = repo_root().join("bench/node-reference");
    let reference = Reference(
        Command::new("node")
            .arg(script)
            .env("PORT", port.to_string())
            .envs(vars.iter().map(|(name, value)| (name, value)))
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
    panic!("the reference server {script} did not start");
}

/// `same-work.js` on a database of its own that knows `users`, with our access-token secret.
pub struct SameWork {
    pub server: Reference,
    pub port: u16,
    _database: tempfile::TempDir,
}

impl SameWork {
    pub async fn start(users: impl IntoIterator<Item = &BenchUser>) -> Self {
        let database = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let user_ids = users
            .into_iter()
            .map(|user| user.id.to_hex())
            .collect::<Vec<_>>()
            .join(",");
        let path = database.path().join("reference.db").display().to_string();
        let server = start_reference(
            "same-work.js",
            port,
            &[
                ("JWT_SECRET", ACCESS_SECRET.to_owned()),
                ("USER_IDS", user_ids),
                ("DATABASE_PATH", path),
            ],
        )
        .await;
        Self {
            server,
            port,
            _database: database,
        }
    }
}

/// The storage-free reference takes `<userId>:<groupId>` as its token.
fn stand_in_tokens(users: &[BenchUser], group: &str) -> Vec<BenchUser> {
    users
        .iter()
        .map(|user| BenchUser {
            id: user.id,
            token: format!("{}:{group}", user.id),
        })
        .collect()
}

pub fn private_workload<'a>(
    label: &str,
    senders: &'a [BenchUser],
    receivers: &'a [BenchUser],
    messages: usize,
) -> Workload<'a> {
    Workload {
        label: format!(
            "{label}: private, {messages} messages, {PAIRS} senders → {PAIRS} receivers, {IN_FLIGHT_PER_SENDER} in flight per sender"
        ),
        senders,
        receivers,
        bodies: (0..messages)
            .map(|i| json!({ "chatType": "PRIVATE", "receiver": receivers[i % receivers.len()].id }))
            .collect(),
        expected: messages,
        path: Path::Socket {
            in_flight: Some(IN_FLIGHT_PER_SENDER),
        },
    }
}

fn group_workload<'a>(
    label: &str,
    members: &'a [BenchUser],
    group: &str,
    messages: usize,
) -> Workload<'a> {
    Workload {
        label: format!("{label}: group of {MEMBERS}, {messages} messages × 99 recipients"),
        senders: &members[..GROUP_SENDERS],
        receivers: members,
        bodies: (0..messages)
            .map(|_| json!({ "chatType": "GROUP", "groupId": group }))
            .collect(),
        expected: messages * (MEMBERS - 1),
        path: Path::Socket { in_flight: None },
    }
}

pub async fn run(private_messages: usize, group_messages: usize) {
    install_references();
    println!("## Side by side: our node vs Node.js socket.io 4 servers, same load, one run");

    // Private messages.
    let app = setup::app().await;
    let node = RealtimeNode::start(&app).await;
    let senders = setup::users(&app, "s", PAIRS).await;
    let receivers = setup::users(&app, "r", PAIRS).await;
    let ours = delivery::measure(
        &app,
        node.port,
        node.pid().unwrap_or_default(),
        private_workload(
            "ours (realtime node, SQLite)",
            &senders,
            &receivers,
            private_messages,
        ),
    )
    .await;
    drop(node);

    let same_work = SameWork::start(senders.iter().chain(&receivers)).await;
    let port = same_work.port;
    let theirs = delivery::measure(
        &app,
        port,
        same_work.server.pid(),
        private_workload(
            "Node.js same work (better-sqlite3)",
            &senders,
            &receivers,
            private_messages,
        ),
    )
    .await;
    drop(same_work);

    let port = free_port();
    let bare = start_reference("server.js", port, &[]).await;
    let (bare_senders, bare_receivers) = (
        stand_in_tokens(&senders, ""),
        stand_in_tokens(&receivers, ""),
    );
    let emits_only = delivery::measure(
        &app,
        port,
        bare.0.id(),
        private_workload(
            "Node.js emits only",
            &bare_senders,
            &bare_receivers,
            private_messages,
        ),
    )
    .await;
    drop(bare);
    compare("private, ours vs same-work Node.js", &ours, &theirs);
    compare("private, ours vs emits-only Node.js", &ours, &emits_only);

    // Group fan-out.
    let app = setup::app().await;
    let node = RealtimeNode::start(&app).await;
    let members = setup::users(&app, "m", MEMBERS).await;
    let group = delivery::group_of(&app, &members).await;
    let ours = delivery::measure(
        &app,
        node.port,
        node.pid().unwrap_or_default(),
        group_workload("ours", &members, &group, group_messages),
    )
    .await;
    drop(node);
    let port = free_port();
    let bare = start_reference("server.js", port, &[]).await;
    let stand_ins = stand_in_tokens(&members, &group);
    let emits_only = delivery::measure(
        &app,
        port,
        bare.0.id(),
        group_workload("Node.js emits only", &stand_ins, &group, group_messages),
    )
    .await;
    drop(bare);
    compare("group, ours vs emits-only Node.js", &ours, &emits_only);
}

fn compare(label: &str, ours: &Outcome, theirs: &Outcome) {
    println!(
        "- ratio {label}: deliveries/s {:.2}×, p50 {:.2}×, p99 {:.2}×, server CPU per message {:.2}× ({:.3} vs {:.3} CPU-s per 1,000)",
        ours.per_second / theirs.per_second.max(1e-9),
        ratio(ours.latencies.percentile(50.0), theirs.latencies.percentile(50.0)),
        ratio(ours.latencies.percentile(99.0), theirs.latencies.percentile(99.0)),
        ours.cpu_per_1000() / theirs.cpu_per_1000().max(1e-9),
        ours.cpu_per_1000(),
        theirs.cpu_per_1000(),
    );
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

//! Delivery latency and throughput (benchmark 2): messages sent through REST and through
//! `sendMessage`, private (pairs) and group (fan-out to 100 members), timed from send to receipt.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::{Duration, Instant},
};

use chat_tests::{realtime::RealtimeNode, TestApp};
use futures_util::{stream, StreamExt};
use serde_json::{json, Value};

use crate::{
    raw_socket,
    setup::{self, BenchUser},
    stats::{self, Latencies},
};

const IN_FLIGHT: usize = 32;
const DEADLINE: Duration = Duration::from_secs(120);

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn stamp() -> String {
    format!("bench:{}", origin().elapsed().as_micros())
}

fn latency(text: &str) -> Option<Duration> {
    let sent: u64 = text.strip_prefix("bench:")?.parse().ok()?;
    Some(
        origin()
            .elapsed()
            .saturating_sub(Duration::from_micros(sent)),
    )
}

struct Receipts {
    latencies: Mutex<Vec<Duration>>,
    count: AtomicUsize,
}

/// Connects a reader per user that records every delivery's latency.
async fn readers(port: u16, users: &[BenchUser], receipts: &Arc<Receipts>) {
    for user in users {
        let mut socket = raw_socket::connect(port, &user.token)
            .await
            .expect("reader connects");
        let receipts = receipts.clone();
        tokio::spawn(async move {
            while let Ok((event, data)) = raw_socket::next_event(&mut socket).await {
                if event == "messageReceived" || event == "groupMessageReceived" {
                    if let Some(took) = data["message"].as_str().and_then(latency) {
                        receipts.latencies.lock().unwrap().push(took);
                        receipts.count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
}

#[derive(Clone, Copy)]
pub enum Path {
    Rest,
    /// `sendMessage` over each sender's socket, at most `in_flight` unanswered at a time (`None`:
    /// all at once).
    Socket {
        in_flight: Option<usize>,
    },
}

/// What the senders learnt: how many sends the server confirmed (`messageSent` or 2xx), which
/// errors came back, and the sockets to keep open until delivery is measured.
#[derive(Default)]
struct SendReport {
    confirmed: usize,
    errors: Vec<String>,
    sockets: Vec<raw_socket::Socket>,
}

/// Sends `messages` bodies from `senders` (round robin) through `path`, `IN_FLIGHT` at a time.
async fn send_all(
    app: &TestApp,
    port: u16,
    senders: &[BenchUser],
    bodies: Vec<Value>,
    path: Path,
) -> SendReport {
    match path {
        Path::Rest => {
            let url = app.url("/api/v1/chat/message");
            let report = Mutex::new(SendReport::default());
            stream::iter(bodies.into_iter().enumerate())
                .for_each_concurrent(IN_FLIGHT, |(i, mut body)| {
                    let (client, url) = (app.client.clone(), url.clone());
                    let token = senders[i % senders.len()].token.clone();
                    let report = &report;
                    async move {
                        body["message"] = json!(stamp());
                        let response = client.post(url).bearer_auth(token).json(&body).send().await;
                        let mut report = report.lock().unwrap();
                        match response {
                            Ok(r) if r.status().is_success() => report.confirmed += 1,
                            Ok(r) => report.errors.push(r.status().to_string()),
                            Err(err) => report.errors.push(err.to_string()),
                        }
                    }
                })
                .await;
            report.into_inner().unwrap()
        }
        Path::Socket { in_flight } => {
            // One socket per sender; each sends its share in order, keeping at most `in_flight`
            // sends unanswered, and reads one answer per send.
            let shares: Vec<Vec<Value>> = (0..senders.len())
                .map(|s| {
                    bodies
                        .iter()
                        .skip(s)
                        .step_by(senders.len())
                        .cloned()
                        .collect()
                })
                .collect();
            let window = in_flight.unwrap_or(usize::MAX);
            let tasks = senders
                .iter()
                .zip(shares)
                .map(|(sender, share)| async move {
                    let mut socket = raw_socket::connect(port, &sender.token)
                        .await
                        .expect("sender connects");
                    let count = share.len();
                    let mut share = share.into_iter();
                    let mut sent = 0;
                    let mut report = SendReport::default();
                    let exchange = async {
                        while report.confirmed + report.errors.len() < count {
                            let answered = report.confirmed + report.errors.len();
                            if sent < count && sent - answered < window {
                                if let Some(mut body) = share.next() {
                                    body["message"] = json!(stamp());
                                    raw_socket::emit(
                                        &mut socket,
                                        "sendMessage",
                                        &json!({ "messageData": body }),
                                    )
                                    .await
                                    .expect("emit");
                                    sent += 1;
                                }
                                continue;
                            }
                            match raw_socket::next_event(&mut socket).await {
                                Ok((event, _)) if event == "messageSent" => report.confirmed += 1,
                                Ok((event, data)) if event == "error" => {
                                    report.errors.push(data["message"].to_string())
                                }
                                Ok(_) => {}
                                Err(err) => {
                                    report.errors.push(format!("socket: {err}"));
                                    break;
                                }
                            }
                        }
                    };
                    let _ = tokio::time::timeout(DEADLINE, exchange).await;
                    // The caller keeps the socket open until its messages are through.
                    report.sockets.push(socket);
                    report
                });
            let mut total = SendReport::default();
            for report in futures_util::future::join_all(tasks).await {
                total.confirmed += report.confirmed;
                total.errors.extend(report.errors);
                total.sockets.extend(report.sockets);
            }
            total
        }
    }
}

/// One run: who sends what to whom, and how many deliveries that makes.
pub struct Workload<'a> {
    pub label: String,
    pub senders: &'a [BenchUser],
    pub receivers: &'a [BenchUser],
    pub bodies: Vec<Value>,
    pub expected: usize,
    pub path: Path,
}

/// What one run measured.
pub struct Outcome {
    pub per_second: f64,
    pub latencies: Latencies,
    /// Messages sent (not deliveries).
    pub messages: usize,
    /// CPU time the server process used from the first send to the last delivery.
    pub server_cpu: Duration,
}

impl Outcome {
    /// Server CPU-seconds per 1,000 messages sent.
    pub fn cpu_per_1000(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1000.0 / self.messages.max(1) as f64
    }
}

/// Runs `run` against the socket.io server on `port`, whose process is `server_pid` (for its CPU
/// time).
pub async fn measure(app: &TestApp, port: u16, server_pid: u32, run: Workload<'_>) -> Outcome {
    let Workload {
        label,
        senders,
        receivers,
        bodies,
        expected,
        path,
    } = run;
    let receipts = Arc::new(Receipts {
        latencies: Mutex::default(),
        count: AtomicUsize::new(0),
    });
    readers(port, receivers, &receipts).await;
    // Past the node's resume delay: measure steady delivery, not the start-up pause.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let messages = bodies.len();
    let cpu_before = stats::cpu_time(server_pid);
    let started = Instant::now();
    let sent = send_all(app, port, senders, bodies, path).await;
    let sent_in = started.elapsed();
    if !sent.errors.is_empty() {
        let mut kinds = sent.errors.clone();
        kinds.sort();
        kinds.dedup();
        println!(
            "  {} sends failed; distinct errors: {:?}",
            sent.errors.len(),
            &kinds[..kinds.len().min(5)]
        );
    }
    while receipts.count.load(Ordering::Relaxed) < expected && started.elapsed() < DEADLINE {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    let server_cpu = stats::cpu_time(server_pid).saturating_sub(cpu_before);
    let received = receipts.count.load(Ordering::Relaxed);
    let latencies = Latencies::new(receipts.latencies.lock().unwrap().clone());
    println!(
        "- {label}: {} sends confirmed, {received}/{expected} deliveries in {:.2} s = {:.0} deliveries/s (sends took {:.2} s); \
         send→receive {}; server CPU {:.2} s = {:.3} CPU-s per 1,000 messages",
        sent.confirmed,
        elapsed.as_secs_f64(),
        stats::per_second(received, elapsed),
        sent_in.as_secs_f64(),
        latencies.summary(),
        server_cpu.as_secs_f64(),
        server_cpu.as_secs_f64() * 1000.0 / messages.max(1) as f64,
    );
    Outcome {
        per_second: stats::per_second(received, elapsed),
        latencies,
        messages,
        server_cpu,
    }
}

pub async fn run(messages: usize) {
    println!("## Delivery (one node, SQLite, {IN_FLIGHT} REST requests in flight)");
    for path in [Path::Rest, Path::Socket { in_flight: None }] {
        let name = match path {
            Path::Rest => "REST",
            Path::Socket { .. } => "sendMessage",
        };
        // Private: 20 pairs.
        let app = setup::app().await;
        let node = RealtimeNode::start(&app).await;
        let senders = setup::users(&app, "s", 20).await;
        let receivers = setup::users(&app, "r", 20).await;
        let bodies = (0..messages)
            .map(|i| json!({ "chatType": "PRIVATE", "receiver": receivers[i % 20].id }))
            .collect();
        let label = format!("private via {name}, {messages} messages, 20 senders → 20 receivers");
        let run = Workload {
            label,
            senders: &senders,
            receivers: &receivers,
            bodies,
            expected: messages,
            path,
        };
        measure(&app, node.port, node.pid().unwrap_or_default(), run).await;
        drop(node);

        // Group: 100 members, 5 of them sending; each message reaches the 99 others.
        let app = setup::app().await;
        let node = RealtimeNode::start(&app).await;
        let members = setup::users(&app, "m", 100).await;
        let group = group_of(&app, &members).await;
        let group_messages = (messages / 20).max(10);
        let bodies = (0..group_messages)
            .map(|_| json!({ "chatType": "GROUP", "groupId": group }))
            .collect();
        let label = format!("group of 100 via {name}, {group_messages} messages × 99 recipients");
        let expected = group_messages * 99;
        let run = Workload {
            label,
            senders: &members[..5],
            receivers: &members,
            bodies,
            expected,
            path,
        };
        measure(&app, node.port, node.pid().unwrap_or_default(), run).await;
        drop(node);
    }
}

pub async fn group_of(app: &TestApp, members: &[BenchUser]) -> String {
    let ids: Vec<String> = members[1..].iter().map(|m| m.id.to_hex()).collect();
    let response = app
        .client
        .post(app.url("/api/v1/chat/group"))
        .bearer_auth(&members[0].token)
        .json(&json!({ "groupName": "bench", "members": ids }))
        .send()
        .await
        .expect("group created");
    let group: Value = response.json().await.expect("json");
    group["_id"].as_str().expect("group id").to_owned()
}

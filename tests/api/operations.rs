//! Running the node as an operator would: `/metrics` scraped during real traffic and read with
//! Prometheus's own text parser (python `prometheus-client`), counters moving with that traffic;
//! the dashboards plot only what the code exports; a SIGTERM drains one of two nodes while its
//! clients move to the other and nothing sent meanwhile is lost.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use chat_tests::{
    process::{free_port, repo_root},
    python::parse_prometheus,
    realtime::RealtimeNode,
    socket::{connect, SocketClient},
    spawn_app_with, Account, Backend, TestApp,
};
use serde_json::{json, Value};

const TOKEN: &str = "scrape-secret";

async fn scrape(port: u16, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("metrics answer")
}

/// The samples of one scrape.
async fn samples(port: u16) -> Vec<Value> {
    let answer = scrape(port, Some(TOKEN)).await;
    assert_eq!(answer.status(), 200);
    parse_prometheus(&answer.text().await.expect("metrics text"))
}

/// The sum of the samples named `name` whose labels include `labels`.
fn total(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample["name"] == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample["labels"][*key] == *value)
        })
        .filter_map(|sample| sample["value"].as_f64())
        .sum()
}

async fn send_over(socket: &SocketClient, to: &Account, text: &str) -> Value {
    socket
        .emit_ack(
            "sendMessage",
            json!({ "messageData": { "chatType": "PRIVATE", "receiver": to.id, "message": text } }),
        )
        .await
}

#[tokio::test]
async fn metrics_are_scraped_with_a_token_parsed_by_prometheus_and_move_with_the_traffic() {
    let app = spawn_app_with(&Backend::Sqlite, &[("MESSAGE_RATE_LIMIT_MAX", "1000")]).await;
    let metrics_port = free_port().to_string();
    let node = RealtimeNode::start_with(
        &app,
        free_port(),
        "metrics-node",
        &[
            ("METRICS_PORT", metrics_port.as_str()),
            ("METRICS_TOKEN", TOKEN),
        ],
    )
    .await;
    let port: u16 = metrics_port.parse().unwrap();
    assert_eq!(scrape(port, None).await.status(), 401);
    assert_eq!(scrape(port, Some("wrong")).await.status(), 401);

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let alice_socket = connect(&node.url(), Some(&alice.access_token))
        .await
        .unwrap();
    let bob_socket = connect(&node.url(), Some(&bob.access_token)).await.unwrap();
    assert!(connect(&node.url(), Some("bad-token")).await.is_err());
    let before = samples(port).await;
    for n in 0..5 {
        let sent = send_over(&alice_socket, &bob, &format!("metered {n}")).await;
        bob_socket
            .expect("messageReceived", |m| m["messageId"] == sent["messageId"])
            .await;
    }
    alice_socket.emit("noSuchEvent", json!({})).await;
    alice_socket
        .expect("error", |e| e["event"] == "noSuchEvent")
        .await;
    let after = samples(port).await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        total(&after, name, labels) - total(&before, name, labels)
    };
    assert_eq!(
        moved(
            "chat_client_events_total",
            &[("event", "sendMessage"), ("outcome", "ok")]
        ),
        5.0
    );
    assert_eq!(
        moved(
            "chat_client_events_total",
            &[("event", "unknown"), ("outcome", "refused")]
        ),
        1.0
    );
    assert!(moved("chat_server_events_total", &[("event", "messageReceived")]) >= 5.0);
    assert!(moved("chat_server_events_total", &[("event", "messageSent")]) >= 5.0);
    assert!(moved("chat_feed_changes_total", &[("kind", "message_created")]) >= 5.0);
    assert!(moved("chat_feed_lag_seconds_count", &[]) >= 5.0);
    assert!(
        moved(
            "chat_store_operation_duration_seconds_count",
            &[("adapter", "sqlite"), ("operation", "send_message")]
        ) >= 5.0
    );
    assert!(moved("chat_sqlite_write_batch_operations_count", &[]) >= 1.0);
    assert!(moved("chat_sqlite_commit_duration_seconds_count", &[]) >= 1.0);
    assert!(moved("chat_feed_batches_total", &[]) >= 1.0);
    assert!(total(&after, "chat_handshakes_total", &[("result", "accepted")]) >= 2.0);
    assert!(
        total(
            &after,
            "chat_handshakes_total",
            &[("result", "unauthenticated")]
        ) >= 1.0
    );
    assert_eq!(total(&after, "chat_sockets_open", &[]), 2.0);
    assert!(total(&after, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(total(&after, "process_cpu_seconds_total", &[]) > 0.0);
    // No label carries a user id.
    for sample in &after {
        let labels = sample["labels"].to_string();
        assert!(
            !labels.contains(&alice.id) && !labels.contains(&bob.id),
            "{labels}"
        );
    }
    drop(node);
}

/// Every metric a dashboard plots is one the node exports (Grafana's JSON in the repo, the
/// CloudWatch dashboard in the template for the node's EMF metrics).
#[test]
fn the_dashboards_plot_only_exported_metrics() {
    let grafana: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/grafana/realtime-node.json"))
            .expect("the Grafana dashboard"),
    )
    .expect("dashboard JSON");
    let mut plotted = HashSet::new();
    for panel in grafana["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("a PromQL expression");
            plotted.extend(metric_names(expr));
        }
    }
    assert!(plotted.len() >= 10, "{plotted:?}");
    let exported: HashSet<String> = shared::metrics::EXPORTED
        .iter()
        .map(|name| name.to_string())
        .collect();
    for name in &plotted {
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|base| exported.contains(*base))
            .unwrap_or(name);
        assert!(
            exported.contains(base),
            "the dashboard plots {name}, which nothing exports"
        );
    }
}

/// The CloudWatch dashboards in the template plot only what the EMF lines carry in our namespaces.
#[test]
fn the_cloudwatch_dashboards_plot_only_emitted_metrics() {
    let template = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let mut plotted = Vec::new();
    for (namespace, metrics) in shared::http::emf::EXPORTED {
        // `["ChatRealtime", "OpenSockets", …]` and `SEARCH('{ChatApi,…} MetricName=\"Requests\"'…)`.
        for marker in [format!("[\"{namespace}\", \""), format!("{{{namespace},")] {
            for (at, _) in template.match_indices(&marker) {
                let rest = &template[at + marker.len()..];
                let name = if marker.starts_with('[') {
                    rest.split('"').next()
                } else {
                    rest.split("MetricName=\\\"")
                        .nth(1)
                        .and_then(|m| m.split('\\').next())
                };
                let name = name.expect("a metric name").to_owned();
                assert!(
                    metrics.contains(&name.as_str()),
                    "the template plots {namespace}/{name}, which no EMF line carries"
                );
                plotted.push(format!("{namespace}/{name}"));
            }
        }
    }
    for expected in [
        "ChatApi/Requests",
        "ChatApi/Latency",
        "ChatApi/ColdStart",
        "ChatRealtime/OpenSockets",
    ] {
        assert!(
            plotted.iter().any(|p| p == expected),
            "{expected} is not plotted: {plotted:?}"
        );
    }
    assert!(
        template.contains("MetricName: OpenSockets"),
        "the socket autoscaling metric"
    );
}

/// The metric names in a PromQL expression: identifiers that are neither functions, keywords nor
/// label names.
fn metric_names(expr: &str) -> Vec<String> {
    const WORDS: &[&str] = &[
        "sum",
        "rate",
        "irate",
        "increase",
        "by",
        "without",
        "histogram_quantile",
        "avg",
        "max",
        "min",
        "count",
        "le",
        "on",
        "ignoring",
        "group_left",
        "topk",
        "clamp_min",
        "offset",
    ];
    let mut names = Vec::new();
    let mut in_labels = false;
    let mut word = String::new();
    let flush = |word: &mut String, in_labels: bool, names: &mut Vec<String>| {
        if !word.is_empty()
            && !in_labels
            && !WORDS.contains(&word.as_str())
            && word.contains('_')
            && !word.starts_with(|c: char| c.is_ascii_digit())
        {
            names.push(word.clone());
        }
        word.clear();
    };
    // A dashboard variable (`$instance`, `$__rate_interval`) is no metric.
    let mut variable = false;
    for c in expr.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            if !variable {
                word.push(c);
            }
            continue;
        }
        variable = c == '$';
        flush(&mut word, in_labels, &mut names);
        match c {
            '{' => in_labels = true,
            '}' => in_labels = false,
            _ => {}
        }
    }
    flush(&mut word, in_labels, &mut names);
    // `by (a, b)` lists label names.
    let grouped: HashSet<String> = expr
        .split("by (")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .flat_map(|labels| labels.split(',').map(|label| label.trim().to_owned()))
        .collect();
    names.retain(|name| !grouped.contains(name));
    names
}

/// Sends one message from `from` to each of `to` every 100 ms until `until`; their ids by receiver.
async fn keep_sending(
    app: &TestApp,
    from: &Account,
    to: &[Account],
    until: Instant,
) -> HashMap<String, Vec<String>> {
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    let mut n = 0;
    while Instant::now() < until {
        for receiver in to {
            let message = app
                .send_private(from, receiver, &format!("during drain {n}"))
                .await;
            let id = message["messageId"].as_str().expect("messageId").to_owned();
            sent.entry(receiver.id.clone()).or_default().push(id);
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sent
}

#[tokio::test]
async fn sigterm_drains_a_node_its_clients_move_to_another_and_nothing_is_lost() {
    let app = spawn_app_with(&Backend::Sqlite, &[("MESSAGE_RATE_LIMIT_MAX", "100000")]).await;
    let mut first =
        RealtimeNode::start_with(&app, free_port(), "drain-a", &[("DRAIN_SECONDS", "3")]).await;
    let second = RealtimeNode::start(&app).await;
    let sender = app.register("sender").await;
    let mut receivers = Vec::new();
    for n in 0..6 {
        receivers.push(app.register(&format!("reader{n}")).await);
    }
    let mut on_first = Vec::new();
    for receiver in &receivers {
        on_first.push(
            connect(&first.url(), Some(&receiver.access_token))
                .await
                .unwrap(),
        );
    }
    let health = format!("{}/health", first.url());
    let client = reqwest::Client::new();

    let started = Instant::now();
    first.terminate();
    // Health fails at once, before the first socket closes.
    let mut unhealthy_at = None;
    while started.elapsed() < Duration::from_secs(2) {
        match client.get(&health).send().await {
            Ok(answer) if answer.status() == 503 => {
                unhealthy_at = Some(started.elapsed());
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let unhealthy_at = unhealthy_at.expect("/health answers 503 while draining");
    // A new handshake is refused with the reconnect hint.
    let refused = connect(&first.url(), Some(&receivers[0].access_token)).await;
    assert!(
        refused
            .as_ref()
            .err()
            .is_some_and(|err| err.contains("restarting")),
        "{:?}",
        refused.err()
    );

    let sending = keep_sending(
        &app,
        &sender,
        &receivers,
        Instant::now() + Duration::from_secs(4),
    );
    // Each client: told, closed some time in the window, then back on the second node, where it
    // catches up with the `after` cursor from the last message it saw, as the web client does.
    let movers = on_first
        .into_iter()
        .zip(&receivers)
        .map(|(socket, receiver)| {
            let second = second.url();
            async move {
                socket
                    .expect("serverDraining", |notice| {
                        notice["reconnectWithinMs"] == 3000
                    })
                    .await;
                socket.expect("close", |_| true).await;
                let closed_at = started.elapsed();
                let live_before: Vec<String> = ids(&socket, "messageReceived");
                let again = connect(&second, Some(&receiver.access_token))
                    .await
                    .unwrap();
                (closed_at, live_before, again)
            }
        });
    let (moved, sent) = tokio::join!(futures_util::future::join_all(movers), sending);
    let closes: Vec<Duration> = moved.iter().map(|(at, _, _)| *at).collect();
    let (earliest, latest) = (*closes.iter().min().unwrap(), *closes.iter().max().unwrap());
    assert!(
        unhealthy_at < earliest,
        "health {unhealthy_at:?}, first close {earliest:?}"
    );
    assert!(
        latest - earliest >= Duration::from_millis(1500),
        "closes spread over the window: {closes:?}"
    );
    // Give the second node's feed a moment, then each client catches up and holds every message
    // sent to it once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for ((_, live_before, again), receiver) in moved.iter().zip(&receivers) {
        let live_after = ids(again, "messageReceived");
        let mut seen: Vec<String> = live_before.clone();
        seen.extend(live_after.iter().cloned());
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a live message arrived twice");
        let caught_up = history(&app, receiver, &sender).await;
        let mut all: HashSet<String> = unique.into_iter().cloned().collect();
        all.extend(caught_up);
        for id in &sent[&receiver.id] {
            assert!(all.contains(id), "{} lost {id}", receiver.username);
        }
    }
    // The node exits once drained.
    let deadline = Instant::now() + Duration::from_secs(10);
    while first.is_running() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!first.is_running(), "the drained node exited");
}

fn ids(socket: &SocketClient, event: &str) -> Vec<String> {
    socket
        .events()
        .into_iter()
        .filter(|(name, _)| name == event)
        .filter_map(|(_, message)| message["messageId"].as_str().map(str::to_owned))
        .collect()
}

/// Every message of the conversation with `partner`, as a client's catch-up reads it.
async fn history(app: &TestApp, who: &Account, partner: &Account) -> Vec<String> {
    let answer: Value = app
        .call(
            reqwest::Method::POST,
            "/api/v1/chat/messages/fetch",
            &who.access_token,
            Some(&json!({ "receiverId": partner.id, "limit": 100 })),
        )
        .await
        .json()
        .await
        .expect("a page of messages");
    answer["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|message| message["messageId"].as_str().map(str::to_owned))
        .collect()
}

//! Operations figures, in one run on this machine:
//! - **the cost of metrics**: the side-by-side private load against our node with `/metrics` off
//!   and on (scraped every 5 s, as Prometheus would), alternated twice; CPU per message, on/off.
//!   That ratio is noisy on a shared machine, so the cost is also computed from two measurements:
//!   the recordings the node made per message (counted from its own `/metrics`) times the time one
//!   recording takes with the same exporter (timed here, in this process);
//! - **scale-out**: three nodes on one database file, every socket on the first: the CPU the other
//!   two spend on changes none of their sockets needs (each node reads the whole feed), as a share
//!   of the first's.

use std::time::Duration;

use chat_tests::{process::free_port, realtime::RealtimeNode};

use crate::{
    delivery::{self, Outcome},
    setup,
    side_by_side::{private_workload, PAIRS},
    stats,
};

/// How often the benchmark scrapes `/metrics` while metrics are on.
const SCRAPE_EVERY: Duration = Duration::from_secs(5);

pub async fn run(messages: usize) {
    println!("## Operations: metrics on vs off, and three nodes on one database");
    let app = setup::app().await;
    let senders = setup::users(&app, "s", PAIRS).await;
    let receivers = setup::users(&app, "r", PAIRS).await;

    let (mut off, mut on) = (Vec::new(), Vec::new());
    let mut per_message = Vec::new();
    for round in 1..=2 {
        for metrics in [false, true] {
            let metrics_port = free_port().to_string();
            let setting = if metrics {
                metrics_port.as_str()
            } else {
                "off"
            };
            let node = RealtimeNode::start_with(
                &app,
                free_port(),
                &format!("metrics-{metrics}-{round}"),
                &[("METRICS_PORT", setting)],
            )
            .await;
            let scraper = metrics.then(|| {
                let url = format!("http://127.0.0.1:{metrics_port}/metrics");
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    loop {
                        let _ = client.get(&url).send().await;
                        tokio::time::sleep(SCRAPE_EVERY).await;
                    }
                })
            });
            let label = format!(
                "round {round}, metrics {}",
                if metrics { "on" } else { "off" }
            );
            let scrape_url = format!("http://127.0.0.1:{metrics_port}/metrics");
            let recorded_before = if metrics {
                recordings(&scrape_url).await
            } else {
                0.0
            };
            let outcome = delivery::measure(
                &app,
                node.port,
                node.pid().unwrap_or_default(),
                private_workload(&label, &senders, &receivers, messages),
            )
            .await;
            if let Some(scraper) = scraper {
                scraper.abort();
                let made = recordings(&scrape_url).await - recorded_before;
                per_message.push(made / messages.max(1) as f64);
            }
            if metrics { &mut on } else { &mut off }.push(outcome);
        }
    }
    let cpu =
        |runs: &[Outcome]| runs.iter().map(Outcome::cpu_per_1000).sum::<f64>() / runs.len() as f64;
    let rate =
        |runs: &[Outcome]| runs.iter().map(|o| o.per_second).sum::<f64>() / runs.len() as f64;
    println!(
        "- ratio metrics on / off: server CPU per message {:.3}× ({:.3} vs {:.3} CPU-s per 1,000), deliveries/s {:.3}×",
        cpu(&on) / cpu(&off).max(1e-9),
        cpu(&on),
        cpu(&off),
        rate(&on) / rate(&off).max(1e-9),
    );

    let recordings_per_message = per_message.iter().sum::<f64>() / per_message.len().max(1) as f64;
    let nanos = nanos_per_recording();
    let cost_ms = recordings_per_message * nanos / 1e6;
    println!(
        "- metrics cost, computed: {recordings_per_message:.1} recordings per message (from the node's /metrics) × {nanos:.0} ns per recording (this exporter, timed here) = {:.4} CPU-ms per message = {:.2} % of the {:.3} CPU-ms a message costs with metrics off",
        cost_ms,
        100.0 * cost_ms / cpu(&off).max(1e-9),
        cpu(&off),
    );

    let first = RealtimeNode::start_with(&app, free_port(), "scale-a", &[]).await;
    let others = [
        RealtimeNode::start_with(&app, free_port(), "scale-b", &[]).await,
        RealtimeNode::start_with(&app, free_port(), "scale-c", &[]).await,
    ];
    let before: Vec<Duration> = others
        .iter()
        .map(|node| stats::cpu_time(node.pid().unwrap_or_default()))
        .collect();
    let served = delivery::measure(
        &app,
        first.port,
        first.pid().unwrap_or_default(),
        private_workload(
            "three nodes, every socket on the first",
            &senders,
            &receivers,
            messages,
        ),
    )
    .await;
    for (node, before) in others.iter().zip(before) {
        let spent = stats::cpu_time(node.pid().unwrap_or_default()).saturating_sub(before);
        let per_1000 = spent.as_secs_f64() * 1000.0 / messages.max(1) as f64;
        println!(
            "- {} (no sockets, reads the whole feed): CPU {:.2} s = {:.3} CPU-s per 1,000 messages = {:.2} of the serving node's {:.3}",
            node.node_id,
            spent.as_secs_f64(),
            per_1000,
            per_1000 / served.cpu_per_1000().max(1e-9),
            served.cpu_per_1000(),
        );
    }
}

/// Every counter increment and histogram sample a node has made so far: the sum of its `_total`
/// counters and histogram `_count`s (process metrics left out: they are read, not recorded).
async fn recordings(url: &str) -> f64 {
    let Ok(answer) = reqwest::get(url).await else {
        return 0.0;
    };
    let text = answer.text().await.unwrap_or_default();
    text.lines()
        .filter(|line| !line.starts_with('#') && line.starts_with("chat_"))
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            let name = name.split('{').next()?;
            (name.ends_with("_total") || name.ends_with("_count"))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

/// Nanoseconds per recording (a labelled counter increment and a labelled histogram sample, as
/// the node makes them) with metrics-exporter-prometheus installed as the recorder of this
/// process, as the node does. Installed last: nothing before this measured with a recorder.
fn nanos_per_recording() -> f64 {
    const ROUNDS: u32 = 1_000_000;
    let installed = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            shared::metrics::SECONDS_BUCKETS,
        )
        .and_then(|builder| builder.install_recorder());
    if installed.is_err() {
        return f64::NAN;
    }
    let started = std::time::Instant::now();
    for n in 0..ROUNDS {
        metrics::counter!(shared::metrics::CLIENT_EVENTS, "event" => "sendMessage", "outcome" => "ok")
            .increment(1);
        metrics::histogram!(shared::metrics::STORE_OPERATION, "adapter" => "sqlite", "operation" => "send_message")
            .record(f64::from(n % 1000) * 1e-6);
    }
    started.elapsed().as_secs_f64() * 1e9 / f64::from(ROUNDS * 2)
}

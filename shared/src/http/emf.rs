//! Metrics of a Lambda function the AWS-native way: one CloudWatch Embedded Metric Format line per
//! request on standard output (CloudWatch Logs turns it into metrics; no agent, no extra call):
//! `Requests`, `Latency` (ms) and `ColdStart` in namespace `ChatApi`, by function, route (the
//! matched path template, a fixed set) and status class, and by function alone; and the realtime
//! node's open sockets once a minute (namespace `ChatRealtime`), for autoscaling.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use serde_json::json;

/// The CloudWatch namespace of the functions' metrics.
pub const NAMESPACE: &str = "ChatApi";
/// The CloudWatch namespace of the realtime node's metrics.
pub const REALTIME_NAMESPACE: &str = "ChatRealtime";

/// The functions' metrics, by name.
pub const REQUESTS: &str = "Requests";
pub const LATENCY: &str = "Latency";
pub const COLD_START: &str = "ColdStart";
/// The realtime node's metric.
pub const OPEN_SOCKETS: &str = "OpenSockets";
/// Every metric the EMF lines carry, by namespace (the template's dashboards are checked against
/// these).
pub const EXPORTED: &[(&str, &[&str])] = &[
    (NAMESPACE, &[REQUESTS, LATENCY, COLD_START]),
    (REALTIME_NAMESPACE, &[OPEN_SOCKETS]),
];

/// The first request a process serves is its cold start.
static SERVED: AtomicBool = AtomicBool::new(false);

/// Which function this process is (`AWS_LAMBDA_FUNCTION_NAME`).
#[derive(Clone)]
pub struct FunctionName(pub std::sync::Arc<str>);

pub async fn emit_metrics(
    State(FunctionName(function)): State<FunctionName>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_owned(), |path| {
            format!("{} {}", request.method(), path.as_str())
        });
    let response = next.run(request).await;
    let cold = !SERVED.swap(true, Ordering::Relaxed);
    println!(
        "{}",
        line(
            &function,
            &route,
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0,
            cold
        )
    );
    response
}

/// The realtime node's EMF line: its open sockets, by service (what the template's autoscaling
/// tracks per task).
pub fn realtime_line(service: &str, open_sockets: usize) -> String {
    json!({
        "_aws": {
            "Timestamp": now_ms(),
            "CloudWatchMetrics": [{
                "Namespace": REALTIME_NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": [{ "Name": OPEN_SOCKETS, "Unit": "Count" }],
            }],
        },
        "Service": service,
        OPEN_SOCKETS: open_sockets,
    })
    .to_string()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_millis() as u64)
        .unwrap_or_default()
}

/// One EMF line.
pub fn line(function: &str, route: &str, status: u16, latency_ms: f64, cold: bool) -> String {
    let timestamp = now_ms();
    json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function", "Route", "StatusClass"], ["Function"]],
                "Metrics": [
                    { "Name": REQUESTS, "Unit": "Count" },
                    { "Name": LATENCY, "Unit": "Milliseconds" },
                    { "Name": COLD_START, "Unit": "Count" },
                ],
            }],
        },
        "Function": function,
        "Route": route,
        "StatusClass": format!("{}xx", status / 100),
        REQUESTS: 1,
        LATENCY: latency_ms,
        COLD_START: u8::from(cold),
    })
    .to_string()
}

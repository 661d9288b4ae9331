//! The node's metrics at `/metrics` on `METRICS_PORT`, in the Prometheus text format: everything
//! `shared::metrics` names, recorded through the `metrics` facade and rendered by
//! `metrics-exporter-prometheus`, plus what is read at scrape time (open sockets by transport,
//! process memory and CPU). A separate port, so the load balancer never exposes it; with
//! `METRICS_TOKEN` set, a scrape must carry it as a bearer token.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use shared::{
    auth::extract::bearer_token,
    metrics::{COUNT_BUCKETS, PROCESS_CPU, PROCESS_RESIDENT_MEMORY, SECONDS_BUCKETS, SOCKETS_OPEN},
    AppContext,
};
use socketioxide::{SocketIo, TransportType};

use crate::NAMESPACE;

/// How often histograms are compacted (the exporter's upkeep).
const UPKEEP: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    io: SocketIo,
    token: Option<Arc<str>>,
}

/// How often the node writes its open sockets as a CloudWatch EMF line.
const EMF_EVERY: Duration = Duration::from_secs(60);

/// With `METRICS_EMF` on (the template sets it on ECS), writes the open sockets once a minute as
/// an EMF line on standard output (CloudWatch Logs makes it a metric; autoscaling tracks it).
pub fn start_emf(ctx: &AppContext, io: SocketIo) {
    let Some(service) = ctx.config.emf_function.clone() else {
        return;
    };
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EMF_EVERY);
        loop {
            every.tick().await;
            let open = io.of(NAMESPACE).map_or(0, |chat| chat.sockets().len());
            println!("{}", shared::http::emf::realtime_line(&service, open));
        }
    });
}

/// Installs the recorder and serves `/metrics`, when `METRICS_PORT` is set (or defaulted). A port
/// that cannot be bound is logged and the node runs on without metrics.
pub async fn start(ctx: &AppContext, io: SocketIo) {
    let Some(port) = ctx.config.metrics_port else {
        return;
    };
    let handle = match recorder() {
        Ok(handle) => handle,
        Err(err) => {
            tracing::warn!(error = %err, "metrics are off: the recorder cannot be installed");
            return;
        }
    };
    let listener = match tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await
    {
        Ok(listener) => listener,
        Err(err) => {
            tracing::warn!(port, error = %err, "metrics are off: METRICS_PORT cannot be bound");
            return;
        }
    };
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let scrape = Scrape {
        handle,
        io,
        token: ctx.config.metrics_token.as_deref().map(Arc::from),
    };
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(scrape);
    tracing::info!(port, "metrics at /metrics");
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::warn!(error = %err, "the metrics listener stopped");
        }
    });
}

fn recorder() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_operations".into()), COUNT_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_changes".into()), COUNT_BUCKETS)?
        .install_recorder()
}

async fn metrics(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(expected) = &scrape.token {
        let presented = bearer_token(&headers).unwrap_or_default();
        if !shared::http::origin_verify::same_bytes(presented.as_bytes(), expected.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                "a valid METRICS_TOKEN is required\n",
            )
                .into_response();
        }
    }
    count_sockets(&scrape.io);
    let mut body = scrape.handle.render();
    body.push_str(&process_metrics());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Open sockets by transport, counted now (a socket that upgraded from polling counts as
/// websocket).
fn count_sockets(io: &SocketIo) {
    let (mut websocket, mut polling) = (0_u64, 0_u64);
    if let Some(chat) = io.of(NAMESPACE) {
        for socket in chat.sockets() {
            match socket.transport_type() {
                TransportType::Websocket => websocket += 1,
                TransportType::Polling => polling += 1,
            }
        }
    }
    metrics::gauge!(SOCKETS_OPEN, "transport" => "websocket").set(websocket as f64);
    metrics::gauge!(SOCKETS_OPEN, "transport" => "polling").set(polling as f64);
}

/// `process_resident_memory_bytes` and `process_cpu_seconds_total` from `/proc/self` (Linux), in
/// the text format (the facade's counters are whole numbers; CPU seconds are not).
fn process_metrics() -> String {
    let mut out = String::new();
    // SAFETY-free: sysconf only reads configuration values.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if let Some(pages) = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<i64>().ok())
    {
        out.push_str(&format!(
            "# HELP {PROCESS_RESIDENT_MEMORY} Resident memory size in bytes.\n\
             # TYPE {PROCESS_RESIDENT_MEMORY} gauge\n{PROCESS_RESIDENT_MEMORY} {}\n",
            pages * page
        ));
    }
    // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after_name = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after_name.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / ticks.max(1) as f64)
        });
    if let Some(seconds) = cpu {
        out.push_str(&format!(
            "# HELP {PROCESS_CPU} Total user and system CPU time spent in seconds.\n\
             # TYPE {PROCESS_CPU} counter\n{PROCESS_CPU} {seconds}\n"
        ));
    }
    out
}

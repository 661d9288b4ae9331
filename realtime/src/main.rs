//! The realtime node: socket.io v4 on `REALTIME_PORT` (3002), namespace `/chat`.
//!
//! Sockets authenticate with an access token; client events go through the shared services; every
//! server event (messages, status, presence, typing, calls) comes from the change feed, so REST and
//! socket sends behave the same and several nodes can serve side by side.

mod apigw;
mod connect;
mod drain;
mod events;
mod fanout;
mod joins;
mod lean_request;
mod leased;
mod memory;
mod observe;
mod push;
mod sweep;
mod turns;

use std::net::SocketAddr;

use axum::{extract::State, routing::get, Router};
use shared::{
    service::{
        health::{self, Health},
        realtime,
    },
    AppContext,
};
use socketioxide::{handler::ConnectHandler, SocketIo};

pub const NAMESPACE: &str = "/chat";
const SOCKET_BUFFER_PACKETS: usize = 16_384;
const WS_READ_BUFFER_BYTES: usize = 1_024;

/// This node's name (socket.io state).
#[derive(Clone)]
pub struct NodeId(pub String);

#[tokio::main]
async fn main() {
    let ctx = match AppContext::from_env().await {
        Ok(ctx) => ctx,
        Err(err) => {
            eprintln!("realtime: refusing to start: {err}");
            std::process::exit(1);
        }
    };
    if let Err(err) = serve(ctx).await {
        tracing::error!(error = %err, "realtime node stopped");
        std::process::exit(1);
    }
}

/// The push sender of this node: its VAPID key (`VAPID_PRIVATE_KEY`, required in production;
/// elsewhere the development key file's) and the webhook; `None` with `PUSH_ENABLED=false`.
fn push_sender(ctx: &AppContext) -> Result<Option<shared::push::Sender>, shared::push::PushError> {
    if !ctx.config.push.enabled {
        tracing::info!("not sending pushes (PUSH_ENABLED=false)");
        return Ok(None);
    }
    let vapid = shared::push::VapidKey::load(&ctx.config.push)?;
    tracing::info!(
        public_key = vapid.public_key(),
        webhook = ctx.config.push.webhook_url.is_some(),
        "sending pushes (while holding that job)"
    );
    shared::push::Sender::new(&ctx.config.push, vapid).map(Some)
}

async fn serve(ctx: AppContext) -> std::io::Result<()> {
    let node_id = ctx.config.realtime_node_id.clone();
    let port = ctx.config.realtime_port;
    if let Err(err) = realtime::restarted(&ctx, &node_id).await {
        tracing::warn!(error = %err, "cannot clean up a previous run's connections");
    }

    let draining = drain::Draining::default();
    let position = fanout::Position::default();
    let joins = joins::Joins::new(position.clone());
    let (layer, io) = SocketIo::builder()
        // Packets queued per socket before emits to it fail: large enough for a replay burst after
        // a restart or a slow client's backlog (memory is only used when packets are queued).
        .max_buffer_size(SOCKET_BUFFER_PACKETS)
        // Each WebSocket keeps a read buffer for its whole life; client frames are small (a larger
        // one grows it), so 1 KiB instead of 4 KiB saves ~30 MB per 10k idle connections.
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
        .with_state(ctx.clone())
        .with_state(NodeId(node_id.clone()))
        .with_state(draining.clone())
        .with_state(joins.clone())
        .build_layer();
    io.ns(NAMESPACE, connect::on_connect.with(connect::authenticate));

    observe::start(&ctx, io.clone()).await;
    observe::start_emf(&ctx, io.clone());

    // Without a change feed this node would serve sockets that never hear anything: refuse.
    if let Err(err) = realtime::feed::now(&ctx).await {
        eprintln!("realtime: refusing to start: the change feed is unavailable: {err}");
        std::process::exit(1);
    }
    let feed_health = fanout::FeedHealth::default();
    let mut apigw_job = None;
    if let Some(endpoint) = &ctx.config.apigw_ws_endpoint {
        tracing::info!(
            endpoint,
            "also delivering to API Gateway WebSocket connections (while holding that job)"
        );
        let gateway = shared::apigw::Gateway::from_environment(endpoint).await;
        apigw_job = Some(tokio::spawn(leased::run(
            ctx.clone(),
            apigw::ApigwFanout(gateway),
            node_id.clone(),
            draining.clone(),
        )));
    }
    let push_job = match push_sender(&ctx) {
        Ok(Some(sender)) => Some(tokio::spawn(leased::run(
            ctx.clone(),
            push::PushJob::new(&ctx, sender),
            node_id.clone(),
            draining.clone(),
        ))),
        Ok(None) => None,
        Err(err) => {
            eprintln!("realtime: refusing to start: {err}");
            std::process::exit(1);
        }
    };
    tokio::spawn(fanout::run(
        io.clone(),
        ctx.clone(),
        node_id.clone(),
        position.clone(),
        feed_health.clone(),
        joins,
    ));
    tokio::spawn(heartbeat(ctx.clone(), node_id.clone()));
    tokio::spawn(connect::close_expired(io.clone()));
    tokio::spawn(memory::trim_after_departures());
    tokio::spawn(sweep::run(ctx.clone()));
    if let Err(err) = shared::service::moderation::bootstrap_admins(&ctx).await {
        tracing::warn!(error = %err, "cannot apply ADMIN_EMAILS");
    }

    let mut app = Router::new()
        .route("/health", get(health_check))
        .with_state((ctx.clone(), feed_health, draining.clone()));
    // The local object storage's signed URLs (attachments without S3).
    match shared::objects::local_router(&ctx.config.attachments) {
        Ok(Some(files)) => app = app.merge(files),
        Ok(None) => {}
        Err(err) => {
            eprintln!("realtime: refusing to start: {err}");
            std::process::exit(1);
        }
    }
    let app = app
        .layer(layer)
        .layer(shared::http::cors_layer(&ctx.config))
        .layer(axum::middleware::map_request(lean_request::detach_head));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await?;
    tracing::info!(port, node = %node_id, "realtime node listening (socket.io namespace /chat)");
    let shutdown_io = io.clone();
    let window = ctx.config.drain;
    let release_wait = shared::service::jobs::renew_every(&ctx) + std::time::Duration::from_secs(1);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Sockets leave a few at a time (their clients reconnect elsewhere), then whatever
            // is left; the disconnect handlers update presence.
            drain::run(&shutdown_io, &draining, window).await;
            // The API Gateway fan-out and the push sender give their leases up at their next
            // renewal (another node takes each over at once, from where this one stopped).
            if let Some(job) = apigw_job {
                let _ = tokio::time::timeout(release_wait, job).await;
            }
            if let Some(job) = push_job {
                let _ = tokio::time::timeout(release_wait, job).await;
            }
            shutdown_io.close().await;
        })
        .await;
    position.save(&ctx, &node_id).await;
    served
}

async fn heartbeat(ctx: AppContext, node_id: String) {
    let mut every = tokio::time::interval(realtime::HEARTBEAT_INTERVAL);
    loop {
        every.tick().await;
        if let Err(err) = realtime::heartbeat(&ctx, &node_id).await {
            tracing::warn!(error = %err, "heartbeat failed");
        }
    }
}

/// The database, and whether this node's change-feed consumer is reading (a node whose feed is
/// down serves sockets that hear nothing: 503, so a load balancer takes it out); 503 as soon as
/// the node drains.
async fn health_check(
    State((ctx, feed, draining)): State<(AppContext, fanout::FeedHealth, drain::Draining)>,
) -> Health {
    if draining.is_on() {
        return health::check(&ctx).await.draining(true);
    }
    health::check(&ctx).await.with_feed(feed.is_up())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

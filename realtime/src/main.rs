//! The realtime node: socket.io v4 on `REALTIME_PORT` (3002), namespace `/chat`.
//!
//! So far it authenticates connections and joins each user's personal room; the seed's events and the
//! change-feed fan-out come with the realtime issue.

mod connect;

use std::net::SocketAddr;

use axum::{extract::State, routing::get, Router};
use shared::{
    service::health::{self, Health},
    AppContext,
};
use socketioxide::{handler::ConnectHandler, SocketIo};

#[tokio::main]
async fn main() {
    let ctx = match AppContext::from_env().await {
        Ok(ctx) => ctx,
        Err(err) => {
            eprintln!("realtime: refusing to start: {err}");
            std::process::exit(1);
        }
    };
    let port = ctx.config.realtime_port;
    if let Err(err) = serve(ctx, port).await {
        tracing::error!(error = %err, "realtime node stopped");
        std::process::exit(1);
    }
}

async fn serve(ctx: AppContext, port: u16) -> std::io::Result<()> {
    let (layer, io) = SocketIo::builder().with_state(ctx.clone()).build_layer();
    io.ns("/chat", connect::on_connect.with(connect::authenticate));

    let app = Router::new()
        .route("/health", get(health_check))
        .with_state(ctx)
        .layer(layer);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await?;
    tracing::info!(port, "realtime node listening (socket.io namespace /chat)");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn health_check(State(ctx): State<AppContext>) -> Health {
    health::check(&ctx).await
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

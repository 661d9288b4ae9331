//! The web client at `/app`: plain HTML, CSS and JavaScript built into the binary (no build step),
//! with the socket.io browser client vendored from npm. It uses only the public API, so it is also
//! the reference client. `config.json` tells the page where the realtime node is.

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use serde::Serialize;
use shared::{config::is_plain_host, AppContext, AppError};

use crate::assets::{self, Asset};

pub const APP: &str = "/app";

const ASSETS: &[Asset] = &[
    Asset {
        name: "",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../app/index.html"),
        gzipped: false,
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../app/app.js"),
        gzipped: false,
    },
    Asset {
        name: "sw.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../app/sw.js"),
        gzipped: false,
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../app/app.css"),
        gzipped: false,
    },
    Asset {
        name: "vendor/socket.io.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../app/vendor/socket.io.min.js"),
        gzipped: false,
    },
];

pub async fn redirect() -> Redirect {
    Redirect::permanent("/app/")
}

pub async fn index(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    asset(&ctx, &headers, "")
}

pub async fn file(
    State(ctx): State<AppContext>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    asset(&ctx, &headers, &file)
}

/// What the page needs to know that only the server does.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// The socket.io node's origin (the page adds the `/chat` namespace).
    realtime_url: String,
    api_base: &'static str,
}

pub async fn config(State(ctx): State<AppContext>, headers: HeaderMap) -> Response {
    let realtime_url = realtime_url(&ctx, &headers);
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(ClientConfig {
            realtime_url,
            api_base: "/api/v1",
        }),
    )
        .into_response()
}

fn asset(ctx: &AppContext, headers: &HeaderMap, name: &str) -> Result<Response, AppError> {
    let found = assets::find(ASSETS, APP, name)?;
    let policy = content_security_policy(
        &realtime_url(ctx, headers),
        &ctx.config.attachments.origins(),
    );
    let policy = HeaderValue::from_str(&policy).map_err(AppError::internal)?;
    found.respond(
        headers,
        &[
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
    )
}

/// `APP_REALTIME_URL`, or the host name the page was loaded from on `REALTIME_PORT` (the local
/// stack: `http://localhost:3002` for a page on `http://localhost:3000`).
fn realtime_url(ctx: &AppContext, headers: &HeaderMap) -> String {
    if let Some(url) = &ctx.config.app_realtime_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(host_name)
        .filter(|name| is_plain_host(name))
        .unwrap_or("localhost");
    format!("http://{host}:{}", ctx.config.realtime_port)
}

/// `localhost:3000` → `localhost`, `[::1]:3000` → `[::1]`.
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon) if !host[colon..].contains(']') => &host[..colon],
        _ => host,
    }
}

/// Helmet's policy, plus the realtime node for `connect-src` (its WebSocket and polling URLs) and
/// object storage for `connect-src` (uploads) and `img-src` (images in messages).
fn content_security_policy(realtime_url: &str, storage_origins: &[String]) -> String {
    let websocket = realtime_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let storage = storage_origins.join(" ");
    format!(
        "default-src 'self';base-uri 'self';connect-src 'self' {realtime_url} {websocket} {storage};\
         font-src 'self' data:;form-action 'self';frame-ancestors 'self';\
         img-src 'self' data: blob: {storage};object-src 'none';script-src 'self';\
         script-src-attr 'none';style-src 'self'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port_only() {
        assert_eq!(host_name("localhost:3000"), "localhost");
        assert_eq!(host_name("example.com"), "example.com");
        assert_eq!(host_name("[::1]:3000"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert!(!is_plain_host("evil.com;script-src *"));
        assert!(!is_plain_host("a b"));
    }

    #[test]
    fn the_policy_allows_the_realtime_node_and_nothing_else_remote() {
        let storage = ["https://files.example.com".to_owned()];
        let policy = content_security_policy("https://rt.example.com", &storage);
        assert!(policy.contains(
            "connect-src 'self' https://rt.example.com wss://rt.example.com https://files.example.com;"
        ));
        assert!(policy.contains("img-src 'self' data: blob: https://files.example.com;"));
        assert!(policy.contains("script-src 'self';"));
    }
}

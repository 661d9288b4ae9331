//! The web client at /app, in a real browser: two people in two headless Chromium contexts chat
//! through the page against a real realtime node (`tests/browser/web-client.mjs` drives them),
//! photos and files included (uploaded to the node's local object storage).

use chat_tests::{
    node,
    process::{free_port, repo_root},
    realtime::RealtimeNode,
    spawn_app, spawn_app_with, Backend,
};
use reqwest::StatusCode;

#[tokio::test]
async fn the_web_client_is_served_with_its_assets_and_a_policy() {
    let app = spawn_app(&Backend::Sqlite).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = client.get(app.url("/app")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/app/");
    let index = client.get(app.url("/app/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let policy = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        policy.contains("connect-src 'self' http://127.0.0.1:3002 ws://127.0.0.1:3002"),
        "the page may reach the realtime node of its own host: {policy}"
    );
    let html = index.text().await.unwrap();
    for asset in [
        "/app/app.js",
        "/app/app.css",
        "/app/vendor/socket.io.min.js",
    ] {
        assert!(html.contains(asset), "{asset} is linked");
        let response = client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
    }
    let config: serde_json::Value = client
        .get(app.url("/app/config.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["realtimeUrl"], "http://127.0.0.1:3002");
    assert_eq!(config["apiBase"], "/api/v1");
    let missing = client.get(app.url("/app/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // A Host header is client text: anything but a plain name falls back to localhost.
    let forged = client
        .get(app.url("/app/config.json"))
        .header("host", "evil.example;script-src *")
        .send()
        .await
        .unwrap();
    let forged: serde_json::Value = forged.json().await.unwrap();
    assert_eq!(forged["realtimeUrl"], "http://localhost:3002");

    let configured = spawn_app_with(
        &Backend::Sqlite,
        &[("APP_REALTIME_URL", "https://rt.example.com")],
    )
    .await;
    let config: serde_json::Value = configured
        .get("/app/config.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["realtimeUrl"], "https://rt.example.com");
}

#[tokio::test]
async fn the_vendored_socket_io_client_is_the_pinned_npm_release() {
    let vendored = std::fs::read(repo_root().join("functions/meta/app/vendor/socket.io.min.js"))
        .expect("vendored client");
    let npm = std::fs::read(
        node::tools_dir().join("node_modules/socket.io-client/dist/socket.io.min.js"),
    )
    .expect("socket.io-client from npm");
    assert!(
        vendored == npm,
        "functions/meta/app/vendor/socket.io.min.js differs from tests/browser's socket.io-client: copy it again"
    );
}

/// The account the browser's admin registers with (`ADMIN_EMAILS`).
const ADMIN_EMAIL: &str = "root-admin@example.com";

/// With default settings: the page opened at `127.0.0.1` (the whole conversation, then reporting,
/// moderation, data export and account deletion) and at
/// `localhost` connects its socket; at a host name the node does not allow, the page says why.
#[tokio::test]
async fn two_people_chat_through_the_web_client_in_a_real_browser() {
    let realtime_port = free_port();
    let port = realtime_port.to_string();
    // Files go where the stack puts them: to the realtime node's /files, at `localhost` (another
    // origin than the page at 127.0.0.1: CORS and the page's policy must let the upload through).
    let files = format!("http://localhost:{realtime_port}/files");
    // Short access tokens, so the page's refresh (and the node's tokenExpired) happen in the test.
    let app = spawn_app_with(
        &Backend::Sqlite,
        &[
            ("REALTIME_PORT", port.as_str()),
            ("ATTACHMENTS_PUBLIC_URL", files.as_str()),
            ("JWT_EXPIRATION", "20s"),
            ("MESSAGE_RATE_LIMIT_MAX", "1000"),
            ("ADMIN_EMAILS", ADMIN_EMAIL),
        ],
    )
    .await;
    // The node knows the stack's PORT, as the local stack's processes do; no ALLOWED_ORIGINS.
    let app_port = app.address.rsplit(':').next().expect("app port").to_owned();
    let _node = RealtimeNode::start_with(
        &app,
        realtime_port,
        "browser-node",
        &[("PORT", app_port.as_str())],
    )
    .await;
    let shots = repo_root().join("target").join("web-client");
    let shots = shots.to_str().expect("path");
    for (host, mode) in [
        ("127.0.0.1", "chat"),
        ("localhost", "connects"),
        ("foreign.test", "refused"),
        ("127.0.0.1", "safety"),
        ("127.0.0.1", "push"),
    ] {
        let page = format!("http://{host}:{app_port}/app/");
        let output = node::run("web-client.mjs", &[&page, shots, mode, ADMIN_EMAIL]).await;
        assert!(
            output.contains("ok: every step passed"),
            "{page} ({mode}): {output}"
        );
    }
    let shots = std::path::Path::new(shots);
    assert!(shots.join("web-client.png").exists());
    assert!(shots.join("web-client-alice.png").exists());
    assert!(shots.join("web-client-refused.png").exists());
    assert!(shots.join("web-client-moderation.png").exists());
}

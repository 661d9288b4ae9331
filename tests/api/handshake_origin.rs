//! The Origin rule of socket handshakes, tried with the clients users have against a node with
//! default settings: python-socketio over both transports, raw WebSocket handshakes with no Origin,
//! the server's own origin and a foreign one, and an explicit `ALLOWED_ORIGINS` list.

use chat_tests::{
    python::PythonSocket, realtime::RealtimeNode, spawn_app, spawn_app_with, Backend,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{client::IntoClientRequest, Message as Frame},
};

/// A socket.io handshake on a raw WebSocket, sending `origin` (if any): the namespace's answer,
/// `Ok(sid)` or `Err(message)`.
async fn raw_handshake(port: u16, origin: Option<&str>, token: &str) -> Result<String, String> {
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let mut request = url.into_client_request().expect("request");
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("origin header"));
    }
    let (mut socket, _) = connect_async(request).await.expect("websocket opens");
    let open = socket.next().await.expect("open packet").expect("frame");
    assert!(
        open.to_text().is_ok_and(|text| text.starts_with('0')),
        "{open:?}"
    );
    let auth = json!({ "token": token });
    socket
        .send(Frame::Text(format!("40/chat,{auth}")))
        .await
        .expect("connect packet sent");
    loop {
        let frame = socket.next().await.expect("an answer").expect("frame");
        let Ok(text) = frame.to_text() else { continue };
        if let Some(body) = text.strip_prefix("40/chat,") {
            let body: Value = serde_json::from_str(body).expect("connect body");
            return Ok(body["sid"].as_str().expect("sid").to_owned());
        }
        if let Some(body) = text.strip_prefix("44/chat,") {
            let body: Value = serde_json::from_str(body).expect("error body");
            return Err(body["message"].as_str().expect("message").to_owned());
        }
    }
}

#[tokio::test]
async fn raw_websocket_handshakes_pass_without_origin_or_from_the_server_itself_and_not_from_elsewhere(
) {
    let app = spawn_app(&Backend::Sqlite).await;
    let node = RealtimeNode::start(&app).await;
    let alice = app.register("alice").await;
    let token = alice.access_token.as_str();

    assert!(raw_handshake(node.port, None, token).await.is_ok());
    let own = format!("http://127.0.0.1:{}", node.port);
    let same = raw_handshake(node.port, Some(&own), token).await;
    assert!(same.is_ok(), "the server's own origin: {same:?}");
    let refused = raw_handshake(node.port, Some("https://evil.example"), token)
        .await
        .expect_err("a foreign origin is refused");
    assert!(refused.contains("https://evil.example"), "{refused}");
    assert!(refused.contains("ALLOWED_ORIGINS"), "{refused}");
    // Same host, another port: another origin.
    let other_port = raw_handshake(node.port, Some("http://127.0.0.1:1"), token).await;
    assert!(other_port.is_err(), "{other_port:?}");
    // The local stack's default list: the web client on PORT at its local names.
    let web_client = raw_handshake(node.port, Some("http://localhost:3000"), token).await;
    assert!(web_client.is_ok(), "{web_client:?}");
}

#[tokio::test]
async fn python_socketio_connects_with_default_settings_over_websocket_and_polling() {
    let app = spawn_app(&Backend::Sqlite).await;
    let node = RealtimeNode::start(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    for transport in ["websocket", "polling"] {
        // Bob listens; alice sends through python-socketio too, with an ack.
        let bob_client = PythonSocket::start(&node.url(), &bob.access_token, transport, None);
        let connected = bob_client.expect("connect").await;
        assert_eq!(connected["transport"], transport, "{connected}");
        let text = format!("hello over {transport}");
        let alice_client = PythonSocket::start(
            &node.url(),
            &alice.access_token,
            transport,
            Some((&bob.id, &text)),
        );
        let ack = alice_client.expect("ack").await;
        let message_id = ack["messageId"]
            .as_str()
            .unwrap_or_else(|| panic!("ack: {ack}"));
        let received = bob_client.expect("messageReceived").await;
        assert_eq!(received["messageId"], message_id, "{received}");
        assert_eq!(received["message"], text.as_str());
        assert!(!bob_client.printed("connect_error"));
    }
    // A bad token is still refused, with the reason, over python-socketio as well.
    let refused = PythonSocket::start(&node.url(), "not-a-token", "websocket", None);
    let reason = refused.expect("connect_error").await;
    assert!(!refused.printed("connect"), "{reason}");
}

/// An explicit `ALLOWED_ORIGINS` list: a page on another origin cannot open a socket with a token it
/// got hold of, on either transport; listed origins and clients without an `Origin` connect.
#[tokio::test]
async fn browser_handshakes_from_other_origins_are_refused() {
    let app = spawn_app_with(
        &Backend::Sqlite,
        &[("ALLOWED_ORIGINS", "https://chat.example.com")],
    )
    .await;
    let node = RealtimeNode::start(&app).await;
    let alice = app.register("alice").await;
    let token = Some(alice.access_token.as_str());
    let foreign = chat_tests::socket::connect_with_headers(
        &node.url(),
        token,
        &[("Origin", "https://evil.example")],
    )
    .await;
    assert!(
        foreign
            .as_ref()
            .err()
            .is_some_and(|err| err.contains("Origin not allowed: https://evil.example")),
        "{:?}",
        foreign.err()
    );
    let allowed = chat_tests::socket::connect_with_headers(
        &node.url(),
        token,
        &[("Origin", "https://chat.example.com")],
    )
    .await;
    assert!(allowed.is_ok(), "{:?}", allowed.err());
    assert!(
        chat_tests::socket::connect(&node.url(), token)
            .await
            .is_ok(),
        "no Origin: not a browser page"
    );
    // The local defaults are gone once the list is explicit.
    let local = raw_handshake(
        node.port,
        Some("http://localhost:3000"),
        &alice.access_token,
    )
    .await;
    assert!(local.is_err(), "{local:?}");

    // Long-polling answers carry CORS headers for listed origins only (as socket.io's `cors`).
    let client = reqwest::Client::new();
    let polling = format!("{}/socket.io/?EIO=4&transport=polling", node.url());
    for (origin, allowed) in [
        ("https://chat.example.com", true),
        ("https://evil.example", false),
    ] {
        let answer = client
            .get(&polling)
            .header("origin", origin)
            .send()
            .await
            .expect("polling answer");
        let cors = answer
            .headers()
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        assert_eq!(
            cors.as_deref() == Some(origin),
            allowed,
            "{origin}: {cors:?}"
        );
    }
}

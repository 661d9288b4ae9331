//! The serverless WebSocket path: the `ws` function invoked with API Gateway WebSocket events, and
//! the realtime node's change-feed consumer posting to a local endpoint that implements API
//! Gateway's `@connections` contract (AWS itself is unreachable from here).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
    Router,
};
use chat_tests::{on_each_backend, process::free_port, realtime::RealtimeNode, Account, TestApp};
use serde_json::{json, Value};
use shared::apigw::Gateway;

/// What the fake gateway received: (connectionId, frame).
#[derive(Clone, Default)]
struct Received {
    frames: Arc<Mutex<Vec<(String, Value)>>>,
    gone: Arc<Mutex<HashSet<String>>>,
    /// How long each post takes to answer (a slow API Gateway).
    delay: Arc<Mutex<Duration>>,
    /// Connections closed with DeleteConnection.
    closed: Arc<Mutex<Vec<String>>>,
}

/// `DELETE /@connections/{connectionId}`: the server closes a connection.
async fn delete_connection(
    State(received): State<Received>,
    Path(connection): Path<String>,
) -> StatusCode {
    received.closed.lock().unwrap().push(connection);
    StatusCode::NO_CONTENT
}

/// `POST /@connections/{connectionId}`: 200 and record the frame, or 410 GoneException.
async fn post_to_connection(
    State(received): State<Received>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, HeaderMap, String) {
    assert!(
        headers
            .get("authorization")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("AWS4-HMAC-SHA256")),
        "requests are SigV4-signed"
    );
    let delay = *received.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let mut reply = HeaderMap::new();
    if received.gone.lock().unwrap().contains(&connection) {
        reply.insert("x-amzn-errortype", "GoneException".parse().unwrap());
        return (StatusCode::GONE, reply, r#"{"message":"Gone"}"#.into());
    }
    let frame: Value = serde_json::from_slice(&body).expect("frames are JSON");
    received.frames.lock().unwrap().push((connection, frame));
    (StatusCode::OK, reply, String::new())
}

async fn fake_gateway() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route(
            "/@connections/{connection}",
            post(post_to_connection).delete(delete_connection),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

impl Received {
    async fn expect(
        &self,
        connection: &str,
        event: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = self
                .frames
                .lock()
                .unwrap()
                .iter()
                .find(|(id, frame)| {
                    id == connection && frame["event"] == event && matches(&frame["data"])
                })
                .cloned();
            if let Some((_, frame)) = found {
                return frame["data"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "{connection} got no {event}: {:?}",
                self.frames.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn event(
    route: &str,
    connection: &str,
    query: Value,
    body: Option<Value>,
) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(json!({
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {},
        "requestContext": {
            "routeKey": route,
            "eventType": match route { "$connect" => "CONNECT", "$disconnect" => "DISCONNECT", _ => "MESSAGE" },
            "connectionId": connection,
            "stage": "production",
            "apiId": "abc123",
            "requestId": "req-1",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "requestTimeEpoch": 1_764_000_000_000_i64,
            "connectedAt": 1_764_000_000_000_i64,
            "messageId": null,
            "authorizer": {},
            "messageDirection": "IN",
            "identity": { "sourceIp": "127.0.0.1" },
        },
        "isBase64Encoded": false,
        "body": body.map(|b| b.to_string()),
    }))
    .expect("an API Gateway WebSocket event")
}

/// A realtime node that fans out to the fake gateway at `url`, and a client of that gateway.
async fn node_posting_to(app: &TestApp, url: &str, name: &str) -> (RealtimeNode, Gateway) {
    let port = free_port();
    let node = RealtimeNode::start_with(
        app,
        port,
        &format!("{name}-{port}"),
        &[
            ("APIGW_WS_ENDPOINT", url),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    )
    .await;
    (node, Gateway::with_credentials(url, "test", "test"))
}

async fn connect(app: &TestApp, gateway: &Gateway, connection: &str, token: &str) -> i64 {
    ws::handle(
        &app.ctx,
        gateway,
        event("$connect", connection, json!({ "token": token }), None),
    )
    .await
    .status_code
}

async fn send_frame(app: &TestApp, gateway: &Gateway, connection: &str, frame: Value) -> i64 {
    ws::handle(
        &app.ctx,
        gateway,
        event("$default", connection, json!({}), Some(frame)),
    )
    .await
    .status_code
}

async fn connections_of(app: &TestApp, who: &Account) -> Vec<String> {
    let user = who.id.parse().unwrap();
    app.ctx
        .store()
        .ws_connections(Some(&[user]), shared::time::now())
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test]
async fn connect_needs_a_valid_access_token() {
    on_each_backend(|app| async move {
        let (url, _) = fake_gateway().await;
        let gateway = Gateway::with_credentials(&url, "test", "test");
        let alice = app.register("alice").await;
        let none = ws::handle(&app.ctx, &gateway, event("$connect", "c0", json!({}), None)).await;
        assert_eq!(none.status_code, 401);
        assert_eq!(connect(&app, &gateway, "c1", "garbage").await, 401);
        assert_eq!(
            connect(&app, &gateway, "c2", &alice.refresh_token).await,
            401
        );
        assert!(connections_of(&app, &alice).await.is_empty());
        assert_eq!(
            connect(&app, &gateway, "c3", &alice.access_token).await,
            200
        );
        assert_eq!(connections_of(&app, &alice).await, ["c3"]);
        let unknown = send_frame(
            &app,
            &gateway,
            "c-unknown",
            json!({ "action": "getUserStatus" }),
        )
        .await;
        assert_eq!(unknown, 403);
        let bye = ws::handle(
            &app.ctx,
            &gateway,
            event("$disconnect", "c3", json!({}), None),
        )
        .await;
        assert_eq!(bye.status_code, 200);
        assert!(connections_of(&app, &alice).await.is_empty());
    })
    .await;
}

/// `$connect` follows the realtime node's Origin rule: no Origin, the API's own origin (API
/// Gateway's Host, https) or a listed one pass; another page's origin is refused with the reason.
#[tokio::test]
async fn connect_refuses_foreign_browser_origins() {
    let app = chat_tests::spawn_app_with(
        &chat_tests::Backend::Sqlite,
        &[("ALLOWED_ORIGINS", "https://chat.example.com")],
    )
    .await;
    let (url, _) = fake_gateway().await;
    let gateway = Gateway::with_credentials(&url, "test", "test");
    let alice = app.register("alice").await;
    let host = "abc123.execute-api.us-east-1.amazonaws.com";
    let with_origin = |connection: &str, origin: Option<&str>| {
        let mut connect = event(
            "$connect",
            connection,
            json!({ "token": alice.access_token }),
            None,
        );
        connect.headers.insert("host", host.parse().unwrap());
        connect
            .headers
            .insert("x-forwarded-proto", "https".parse().unwrap());
        if let Some(origin) = origin {
            connect.headers.insert("origin", origin.parse().unwrap());
        }
        connect
    };
    for (connection, origin, status) in [
        ("no-origin", None, 200),
        ("own", Some(format!("https://{host}")), 200),
        ("listed", Some("https://chat.example.com".to_owned()), 200),
        ("foreign", Some("https://evil.example".to_owned()), 403),
        ("plain-http", Some(format!("http://{host}")), 403),
    ] {
        let answer = ws::handle(
            &app.ctx,
            &gateway,
            with_origin(connection, origin.as_deref()),
        )
        .await;
        assert_eq!(
            answer.status_code, status,
            "{connection}: {:?}",
            answer.body
        );
        if status == 403 {
            let body = format!("{:?}", answer.body);
            assert!(body.contains("ALLOWED_ORIGINS"), "{body}");
        }
    }
    let mut connected = connections_of(&app, &alice).await;
    connected.sort();
    assert_eq!(connected, ["listed", "no-origin", "own"]);
}

#[tokio::test]
async fn api_gateway_clients_send_and_receive_like_socket_io_clients() {
    on_each_backend(|app| async move {
        let (url, received) = fake_gateway().await;
        let (_node, gateway) = node_posting_to(&app, &url, "apigw-node").await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        assert_eq!(
            connect(&app, &gateway, "alice-1", &alice.access_token).await,
            200
        );
        assert_eq!(
            connect(&app, &gateway, "bob-1", &bob.access_token).await,
            200
        );
        assert_eq!(
            connect(&app, &gateway, "bob-gone", &bob.access_token).await,
            200
        );
        received.gone.lock().unwrap().insert("bob-gone".into());

        // A frame from alice: she gets messageSent, bob gets messageReceived from the feed consumer.
        let status = send_frame(&app, &gateway, "alice-1", json!({
            "action": "sendMessage",
            "messageData": { "chatType": "PRIVATE", "receiver": bob.id, "message": "via API Gateway" },
        }))
        .await;
        assert_eq!(status, 200);
        let sent = received.expect("alice-1", "messageSent", |_| true).await;
        let id = sent["messageId"].clone();
        let delivered = received
            .expect("bob-1", "messageReceived", |m| m["messageId"] == id)
            .await;
        assert_eq!(delivered["message"], "via API Gateway");

        // The 410 connection is forgotten.
        let deadline = Instant::now() + Duration::from_secs(10);
        while connections_of(&app, &bob)
            .await
            .contains(&"bob-gone".to_owned())
        {
            assert!(Instant::now() < deadline, "a gone connection is removed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(connections_of(&app, &bob).await, ["bob-1"]);

        // A REST send reaches the API Gateway client the same way.
        let by_rest = app.send_private(&carol, &bob, "over REST").await;
        received
            .expect("bob-1", "messageReceived", |m| {
                m["messageId"] == by_rest["messageId"]
            })
            .await;

        // Status and typing.
        send_frame(
            &app,
            &gateway,
            "bob-1",
            json!({ "action": "messageRead", "messageId": id }),
        )
        .await;
        received
            .expect("alice-1", "messageStatus", |m| {
                m["messageId"] == id && m["status"] == "READ"
            })
            .await;
        send_frame(
            &app,
            &gateway,
            "alice-1",
            json!({ "action": "userTyping", "receiverId": bob.id }),
        )
        .await;
        received
            .expect("bob-1", "userTyping", |data| {
                data["userId"] == alice.id.as_str()
            })
            .await;
        send_frame(
            &app,
            &gateway,
            "alice-1",
            json!({ "action": "getUserStatus", "userId": bob.id }),
        )
        .await;
        received
            .expect("alice-1", "userStatus", |data| {
                data["userId"] == bob.id.as_str()
            })
            .await;

        // Bad frames get an error frame, and change nothing.
        send_frame(&app, &gateway, "alice-1", json!({ "action": "dropTables" })).await;
        received
            .expect("alice-1", "error", |data| data["event"] == "dropTables")
            .await;
        send_frame(
            &app,
            &gateway,
            "alice-1",
            json!({ "action": "sendMessage", "messageData": { "receiver": { "$gt": "" } } }),
        )
        .await;
        received
            .expect("alice-1", "error", |data| data["event"] == "sendMessage")
            .await;
    })
    .await;
}

/// A slow API Gateway (every post takes 2 s) does not hold back socket.io delivery: its posts run
/// behind a queue of their own. (Before, the feed loop awaited each post, so every socket.io
/// client waited for API Gateway.)
#[tokio::test]
async fn a_slow_api_gateway_does_not_delay_socket_io_clients() {
    let app = chat_tests::spawn_app(&chat_tests::Backend::Sqlite).await;
    let (url, received) = fake_gateway().await;
    *received.delay.lock().unwrap() = Duration::from_secs(2);
    let (node, gateway) = node_posting_to(&app, &url, "slow-gateway").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    assert_eq!(
        connect(&app, &gateway, "bob-apigw", &bob.access_token).await,
        200
    );
    let bob_socket = chat_tests::socket::connect(&node.url(), Some(&bob.access_token))
        .await
        .expect("bob connects");
    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(app.send_private(&alice, &bob, &format!("m{i}")).await["messageId"].clone());
    }
    for id in &ids {
        bob_socket
            .expect("messageReceived", |m| m["messageId"] == *id)
            .await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "socket.io delivery waited for API Gateway: {:?}",
        started.elapsed()
    );
    received
        .expect("bob-apigw", "messageReceived", |m| m["messageId"] == ids[2])
        .await;
}

/// Revocation reaches API Gateway connections too: ending the session (logout) tells its
/// connections (`sessionEnded`), closes them (DeleteConnection) and forgets them; the ended session's
/// token connects no more.
#[tokio::test]
async fn an_ended_session_closes_its_api_gateway_connections() {
    on_each_backend(|app| async move {
        let (url, received) = fake_gateway().await;
        let (_node, gateway) = node_posting_to(&app, &url, "apigw-session").await;
        let alice = app.register("alice").await;
        assert_eq!(
            connect(&app, &gateway, "alice-ws", &alice.access_token).await,
            200
        );
        let logout = app
            .post_with_token("/api/v1/auth/logout", &alice.access_token, None)
            .await;
        assert_eq!(logout.status(), StatusCode::OK);
        received.expect("alice-ws", "sessionEnded", |_| true).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !received
            .closed
            .lock()
            .unwrap()
            .contains(&"alice-ws".to_owned())
        {
            assert!(Instant::now() < deadline, "the connection is closed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(connections_of(&app, &alice).await.is_empty());
        let after = send_frame(
            &app,
            &gateway,
            "alice-ws",
            json!({ "action": "getUserStatus", "userId": alice.id }),
        )
        .await;
        assert_eq!(after, 403, "frames of a forgotten connection are refused");
        assert_eq!(
            connect(&app, &gateway, "alice-ws-2", &alice.access_token).await,
            401,
            "an ended session's token connects no more"
        );
    })
    .await;
}

/// SPEC §7: an edit, a deletion and a reaction made over REST reach an API Gateway client of the
/// conversation as events; the ws function serves the new actions too.
#[tokio::test]
async fn edits_deletions_and_reactions_reach_api_gateway_clients() {
    on_each_backend(|app| async move {
        let (url, received) = fake_gateway().await;
        let (_node, gateway) = node_posting_to(&app, &url, "apigw-changes").await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        assert_eq!(
            connect(&app, &gateway, "bob-1", &bob.access_token).await,
            200
        );
        assert_eq!(
            connect(&app, &gateway, "alice-1", &alice.access_token).await,
            200
        );
        let sent = app.send_private(&alice, &bob, "draft").await;
        let id = sent["messageId"].clone();
        let path = format!("/api/v1/chat/message/{}", id.as_str().unwrap_or_default());
        let edited = app
            .call(
                reqwest::Method::PATCH,
                &path,
                &alice.access_token,
                Some(&json!({ "message": "edited" })),
            )
            .await;
        assert!(edited.status().is_success());
        let event = received
            .expect("bob-1", "messageEdited", |m| m["messageId"] == id)
            .await;
        assert_eq!(event["message"], "edited");

        // A reaction through a frame of the ws function.
        let status = send_frame(
            &app,
            &gateway,
            "bob-1",
            json!({ "action": "addReaction", "messageId": id, "emoji": "👍" }),
        )
        .await;
        assert_eq!(status, 200);
        let event = received
            .expect("alice-1", "messageReactions", |m| m["messageId"] == id)
            .await;
        assert_eq!(event["reactions"][0]["userIds"], json!([bob.id]));

        let deleted = app
            .call(reqwest::Method::DELETE, &path, &alice.access_token, None)
            .await;
        assert!(deleted.status().is_success());
        let event = received
            .expect("bob-1", "messageDeleted", |m| m["messageId"] == id)
            .await;
        assert!(event["deletedAt"].is_string(), "{event}");
    })
    .await;
}

/// The message ids `connection` received as `messageReceived`, in order.
fn received_ids(received: &Received, connection: &str) -> Vec<String> {
    received
        .frames
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, frame)| id == connection && frame["event"] == "messageReceived")
        .filter_map(|(_, frame)| frame["data"]["messageId"].as_str().map(str::to_owned))
        .collect()
}

async fn wait_for_ids(received: &Received, connection: &str, ids: &[String], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let got: HashSet<String> = received_ids(received, connection).into_iter().collect();
        if ids.iter().all(|id| got.contains(id)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{connection} is missing {:?}",
            ids.iter()
                .filter(|id| !got.contains(*id))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Any number of nodes may have the fan-out enabled: exactly one runs it (a lease), so each change
/// reaches an API Gateway connection once; when the holder dies (SIGKILL) another takes the job
/// over within the lease time and resumes from the job's saved position: nothing is lost.
#[tokio::test]
async fn one_of_two_nodes_runs_the_fanout_and_a_killed_holder_hands_it_over() {
    let app = chat_tests::spawn_app_with(
        &chat_tests::Backend::Sqlite,
        &[
            ("JOB_LEASE_SECONDS", "3"),
            ("MESSAGE_RATE_LIMIT_MAX", "100000"),
        ],
    )
    .await;
    let (url, received) = fake_gateway().await;
    let (mut first, gateway) = node_posting_to(&app, &url, "lease-a").await;
    let (mut second, _) = node_posting_to(&app, &url, "lease-b").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    assert_eq!(
        connect(&app, &gateway, "bob-ws", &bob.access_token).await,
        200
    );
    let mut before = Vec::new();
    for i in 0..5 {
        let sent = app.send_private(&alice, &bob, &format!("once {i}")).await;
        before.push(sent["messageId"].as_str().unwrap().to_owned());
    }
    wait_for_ids(&received, "bob-ws", &before, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got = received_ids(&received, "bob-ws");
    assert_eq!(got.len(), before.len(), "each change posted once: {got:?}");

    let holding = |node: &RealtimeNode| node.log_tail().contains("holding the apigw-fanout job");
    let (holder, other) = match (holding(&first), holding(&second)) {
        (true, false) => (&mut first, &second),
        (false, true) => (&mut second, &first),
        both => panic!("exactly one node holds the job: {both:?}"),
    };
    holder.kill();
    let killed = Instant::now();
    let mut after = Vec::new();
    let sent = app.send_private(&alice, &bob, "right after the kill").await;
    after.push(sent["messageId"].as_str().unwrap().to_owned());
    // The lease is 3 s: the other node takes over on its next claim after it expires and catches up
    // from the position the dead holder saved (up to a second's worth may be posted twice: a
    // takeover never loses a change).
    wait_for_ids(&received, "bob-ws", &after, Duration::from_secs(10)).await;
    let handover = killed.elapsed();
    assert!(
        handover < Duration::from_secs(5),
        "handed over in {handover:?}"
    );
    assert!(
        other.log_tail().contains("holding the apigw-fanout job"),
        "{}",
        other.log_tail()
    );
    for i in 0..10 {
        let sent = app.send_private(&alice, &bob, &format!("after {i}")).await;
        after.push(sent["messageId"].as_str().unwrap().to_owned());
    }
    wait_for_ids(&received, "bob-ws", &after, Duration::from_secs(5)).await;
}

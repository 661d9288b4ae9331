//! The change feed recovers from what would otherwise stall it: a stored position the feed no
//! longer holds (a resume token older than the oplog), and events that cannot be decoded.

use std::time::Duration;

use chat_tests::{
    mongo::StandIn, on_each_backend, process::free_port, realtime::RealtimeNode, socket::connect,
    spawn_app, Account, Backend, TestApp,
};
use serde_json::Value;

fn with_id(id: &Value) -> impl Fn(&Value) -> bool + '_ {
    move |message| message["messageId"] == *id
}

/// A node restarted with a resume token older than the stand-in's whole history (it keeps only the
/// last 40 change events) goes on from now, says which time range it could not deliver, and
/// delivers again. (Before the fix it retried the lost token every second and delivered nothing.)
#[tokio::test]
async fn a_node_whose_position_left_the_history_resumes_from_now_and_logs_the_gap() {
    let standin = StandIn::start(40);
    let app = spawn_app(&Backend::Mongo {
        uri: standin.uri.clone(),
    })
    .await;
    let port = free_port();
    let node_id = format!("history-node-{port}");
    let mut node = RealtimeNode::start_as(&app, port, &node_id).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let bob_socket = connect(&node.url(), Some(&bob.access_token))
        .await
        .expect("bob connects");
    let before = app.send_private(&alice, &bob, "before").await;
    let _ = bob_socket
        .expect("messageReceived", with_id(&before["messageId"]))
        .await;
    // Let the node store its position, then stop it while the history moves far past it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    node.kill();
    bob_socket.disconnect().await;
    for i in 0..30 {
        app.send_private(&alice, &bob, &format!("while down {i}"))
            .await;
    }

    node.restart(&app).await;
    let bob_again = connect(&node.url(), Some(&bob.access_token))
        .await
        .expect("bob reconnects");
    let after = app.send_private(&alice, &bob, "after the restart").await;
    bob_again
        .expect("messageReceived", with_id(&after["messageId"]))
        .await;
    let log = node.log_tail();
    assert!(
        log.contains("feed gap") && log.contains("gap_from") && log.contains("gap_to"),
        "the gap is logged with its time range:\n{log}"
    );
}

/// A feed event no node can decode (a signal document holding `{"$oid": "zz"}`, which bson reads
/// as an ObjectId, on MongoDB; a payload that is not a change on SQLite) is logged and skipped, and
/// what follows arrives. Clients cannot write such an event (`groupCall` is allow-listed); another
/// writer or a bad migration can, and before the fix the MongoDB stream failed on it forever.
#[tokio::test]
async fn an_undecodable_event_does_not_stall_the_feed() {
    on_each_backend(|app| async move {
        let node = RealtimeNode::start(&app).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let bob_socket = connect(&node.url(), Some(&bob.access_token))
            .await
            .expect("bob connects");
        write_undecodable_event(&app, &bob).await;
        let after = app.send_private(&alice, &bob, "after the poison").await;
        bob_socket
            .expect("messageReceived", with_id(&after["messageId"]))
            .await;
    })
    .await;
}

async fn write_undecodable_event(app: &TestApp, to: &Account) {
    match &app.backend {
        Backend::Sqlite => {
            let path = &app.vars["DATABASE_PATH"];
            let conn = rusqlite::Connection::open(path).expect("sqlite opens");
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .expect("busy timeout");
            conn.execute(
                "INSERT INTO events (payload, created_at) VALUES (?, ?)",
                [
                    r#"{"kind":"signal","data":{"room":42}}"#,
                    "2026-01-01T00:00:00.000Z",
                ],
            )
            .expect("event written");
        }
        Backend::Mongo { uri } => {
            let client = mongodb::Client::with_uri_str(uri).await.expect("connects");
            client
                .database(&app.vars["MONGO_DB"])
                .collection::<bson::Document>("signals")
                .insert_one(bson::doc! {
                    "room": format!("user_{}", to.id), "event": "userTyping",
                    "data": { "offer": { "$oid": "zz" } },
                    "expiresAt": bson::DateTime::now(),
                })
                .await
                .expect("signal written");
        }
    }
}

/// A standalone mongod (no replica set) has no change streams: the realtime node refuses to start
/// and says why, instead of serving sockets that never hear anything while its health is green.
#[tokio::test]
async fn a_realtime_node_refuses_a_mongodb_without_change_streams() {
    let standin = StandIn::standalone();
    let app = spawn_app(&Backend::Mongo {
        uri: standin.uri.clone(),
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars: Vec<(String, String)> = app.vars.clone().into_iter().collect();
    vars.push(("REALTIME_PORT".into(), free_port().to_string()));
    let log = dir.path().join("node.log");
    let mut node = std::process::Command::new(chat_tests::realtime::binary())
        .envs(vars)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("the node runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = node.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = node.kill();
            panic!("the node started on a MongoDB without change streams");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "it must refuse to start");
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        said.contains("refusing to start") && said.contains("replica set"),
        "{said}"
    );
}

//! REST throughput (benchmark 5) on a seeded database (users and messages generated straight into
//! SQLite), with the query plans that show the hot queries use indexes.

use std::time::{Duration, Instant};

use chat_tests::TestApp;
use futures_util::{stream, StreamExt};
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use shared::{model::Room, store::sqlite::SqliteStore};

use crate::{
    setup,
    stats::{self, Latencies},
};

const IN_FLIGHT: usize = 16;
/// Distinct words in the seeded messages.
const VOCABULARY: usize = 500;

/// Inserts `users` users and `messages` private messages between random pairs; returns user ids.
async fn seed(app: &TestApp, users: usize, messages: usize) -> Vec<String> {
    let path = app.vars["DATABASE_PATH"].clone();
    tokio::task::spawn_blocking(move || seed_file(&path, users, messages))
        .await
        .expect("seeding finishes")
}

fn seed_file(path: &str, users: usize, messages: usize) -> Vec<String> {
    let mut conn = rusqlite::Connection::open(path).expect("db opens");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    let started = Instant::now();
    let now = shared::time::now();
    let at = |offset: usize| {
        shared::time::to_iso(&(now - chrono::Duration::milliseconds((messages - offset) as i64)))
    };
    let ids: Vec<String> = (0..users)
        .map(|_| shared::model::UserId::new().to_hex())
        .collect();
    let tx = conn.transaction().expect("tx");
    {
        let mut insert_user = tx
            .prepare(
                "INSERT INTO users (id, username, username_lower, email, password, last_seen, \
                 is_online, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, 0, ?, ?)",
            )
            .expect("statement");
        for (n, id) in ids.iter().enumerate() {
            let name = format!("seed{n}");
            insert_user
                .execute(rusqlite::params![
                    id,
                    name,
                    name,
                    format!("{name}@seed.example"),
                    at(0),
                    at(0),
                    at(0)
                ])
                .expect("user inserted");
        }
        let mut insert_message = tx
            .prepare(
                "INSERT INTO messages (id, message_id, chat_room_id, chat_type, sender, receiver, \
                 message, status, created_at, updated_at) \
                 VALUES (?, ?, ?, 'PRIVATE', ?, ?, ?, 'READ', ?, ?)",
            )
            .expect("statement");
        let mut rng = rand::thread_rng();
        for n in 0..messages {
            let sender = rng.gen_range(0..users);
            let mut receiver = rng.gen_range(0..users - 1);
            if receiver >= sender {
                receiver += 1;
            }
            let (s, r) = (&ids[sender], &ids[receiver]);
            let room = Room::private(s.parse().expect("id"), r.parse().expect("id")).to_string();
            // Three words of a 500-word vocabulary: each word is in ~0.6 % of the messages.
            let text = (0..3)
                .map(|_| format!("w{:03}", rng.gen_range(0..VOCABULARY)))
                .collect::<Vec<_>>()
                .join(" ");
            insert_message
                .execute(rusqlite::params![
                    shared::model::MessageOid::new().to_hex(),
                    format!("seed-{n}"),
                    room,
                    s,
                    r,
                    format!("seeded {text}"),
                    at(n),
                    at(n)
                ])
                .expect("message inserted");
        }
    }
    shared::store::sqlite::index_for_search(&tx).expect("messages indexed for search");
    tx.commit().expect("commit");
    // A bulk load leaves the full-text index in many small segments (incremental writes merge
    // them as they go): merge them once, as after any bulk load.
    conn.execute_batch("INSERT INTO messages_fts (messages_fts) VALUES ('optimize'); ANALYZE;")
        .expect("optimize and analyze");
    println!(
        "- seeded {users} users and {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ids
}

async fn load(
    label: &str,
    app: &TestApp,
    requests: usize,
    in_flight: usize,
    make: impl Fn(usize) -> (Method, String, Option<Value>),
) {
    let token = app.vars["BENCH_TOKEN"].clone();
    let started = Instant::now();
    let latencies: Vec<Duration> = stream::iter(0..requests)
        .map(|i| {
            let (method, path, body) = make(i);
            let request = app
                .client
                .request(method, app.url(&path))
                .bearer_auth(&token);
            let request = match body {
                Some(body) => request.json(&body),
                None => request,
            };
            async move {
                let sent = Instant::now();
                let response = request.send().await.expect("request");
                assert!(
                    response.status().is_success(),
                    "{label}: {}",
                    response.status()
                );
                let _ = response.bytes().await;
                sent.elapsed()
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let elapsed = started.elapsed();
    println!(
        "- {label}, {in_flight} in flight: {:.0} requests/s; {}",
        stats::per_second(requests, elapsed),
        Latencies::new(latencies).summary()
    );
}

pub async fn run(users: usize, messages: usize) {
    println!("## REST throughput (in-process functions, SQLite)");
    let mut app = setup::app().await;
    let ids = seed(&app, users, messages).await;
    // The seed wrote messages straight into the file: derive the conversation rows from them.
    SqliteStore::open(std::path::Path::new(&app.vars["DATABASE_PATH"]))
        .await
        .expect("store")
        .rebuild_conversations()
        .await
        .expect("conversations rebuilt");
    // The busiest user: the most conversations.
    let hot = ids[0].clone();
    // A real session: every REST request checks that its token's session is live.
    let now = shared::time::now();
    let session = shared::model::Session {
        id: shared::model::SessionId::new(),
        user_id: hot.parse().expect("id"),
        token_hash: String::new(),
        user_agent: None,
        ip: None,
        created_at: now,
        last_used_at: now,
        expires_at: now + chrono::Duration::days(1),
    };
    app.ctx
        .store()
        .create_session(session.clone())
        .await
        .expect("session");
    let token = app
        .ctx
        .tokens
        .issue(
            shared::auth::TokenKind::Access,
            session.user_id,
            session.id,
            now,
        )
        .expect("token")
        .token;
    app.vars.insert("BENCH_TOKEN".into(), token.clone());
    let rooms: Vec<Value> = app
        .call(
            Method::GET,
            &format!("/api/v1/chat/rooms/{hot}"),
            &token,
            None,
        )
        .await
        .json()
        .await
        .expect("rooms");
    let partners: Vec<String> = rooms
        .iter()
        .filter_map(|room| room["partner"]["_id"].as_str().map(str::to_owned))
        .collect();
    println!("- the measured user has {} conversations", partners.len());

    load(
        "history fetch (newest 20 of a conversation)",
        &app,
        2_000,
        IN_FLIGHT,
        |i| {
            let partner = &partners[i % partners.len()];
            (
                Method::POST,
                "/api/v1/chat/messages/fetch".into(),
                Some(json!({ "receiverId": partner, "limit": 20 })),
            )
        },
    )
    .await;
    // Unloaded latency (one request at a time), then throughput under load.
    for in_flight in [1, IN_FLIGHT] {
        load(
            "rooms list (all conversations, unread counts)",
            &app,
            300,
            in_flight,
            |_| (Method::GET, format!("/api/v1/chat/rooms/{hot}"), None),
        )
        .await;
    }
    // What a client shows first: a screenful (`limit=20`), as a phone app asks for it.
    for in_flight in [1, IN_FLIGHT] {
        load(
            "rooms list, first page (limit=20)",
            &app,
            300,
            in_flight,
            |_| {
                (
                    Method::GET,
                    format!("/api/v1/chat/rooms/{hot}?limit=20"),
                    None,
                )
            },
        )
        .await;
    }
    // A word of the vocabulary over all of the user's conversations (full-text index, restricted
    // to them in the query).
    for in_flight in [1, IN_FLIGHT] {
        load(
            "message search (one word, all conversations)",
            &app,
            300,
            in_flight,
            |i| {
                let word = i % VOCABULARY;
                (
                    Method::GET,
                    format!("/api/v1/chat/messages/search?q=w{word:03}"),
                    None,
                )
            },
        )
        .await;
    }
    load("message create (private)", &app, 2_000, IN_FLIGHT, |i| {
        let partner = &partners[i % partners.len()];
        (
            Method::POST,
            "/api/v1/chat/message".into(),
            Some(json!({ "receiver": partner, "message": "bench" })),
        )
    })
    .await;

    let store = SqliteStore::open(std::path::Path::new(&app.vars["DATABASE_PATH"]))
        .await
        .expect("store");
    for (query, plan) in store.query_plans().await.expect("plans") {
        println!("- query plan, {query}: {}", plan.join(" | "));
    }
}

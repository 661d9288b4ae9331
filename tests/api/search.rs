//! SPEC §7 search, on both adapters: words (and, on SQLite, prefixes), case- and
//! accent-insensitive, only the caller's conversations (in the query itself), never deleted
//! messages, edits re-indexed; the SQLite plan goes through the FTS5 index.

use chat_tests::{assert_error, on_each_backend, spawn_app, Account, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn search(app: &TestApp, who: &Account, query: &str) -> reqwest::Response {
    app.call(
        Method::GET,
        &format!("/api/v1/chat/messages/search?{query}"),
        &who.access_token,
        None,
    )
    .await
}

async fn found(app: &TestApp, who: &Account, query: &str) -> Vec<String> {
    let response = search(app, who, query).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let page: Value = response.json().await.expect("json");
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_words_in_your_conversations_only() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let dave = app.register("dave").await;
        app.send_private(&alice, &bob, "Lunch at the Café tomorrow?")
            .await;
        app.send_private(&bob, &alice, "café sounds good").await;
        let group = app.create_group(&alice, "team", &[&carol]).await;
        app.send(
            &carol,
            json!({ "chatType": "GROUP", "groupId": group, "message": "team cafe meeting" }),
        )
        .await;
        // Not alice's: the same word between others.
        app.send_private(&carol, &dave, "secret cafe plans").await;

        // Case- and accent-insensitive, newest first, across private chats and groups.
        assert_eq!(
            found(&app, &alice, "q=CAFE").await,
            [
                "team cafe meeting",
                "café sounds good",
                "Lunch at the Café tomorrow?"
            ]
        );
        // Every word must match.
        assert_eq!(
            found(&app, &alice, "q=cafe%20lunch").await,
            ["Lunch at the Café tomorrow?"]
        );
        if matches!(app.backend, Backend::Sqlite) {
            // Prefixes (FTS5); MongoDB's text index matches whole words only.
            assert_eq!(
                found(&app, &alice, "q=tomor").await,
                ["Lunch at the Café tomorrow?"]
            );
        }
        // One conversation of hers.
        let room = format!(
            "chatRoomId={}",
            shared::model::Room::Group(group.parse().expect("id"))
        );
        assert_eq!(
            found(&app, &alice, &format!("q=cafe&{room}")).await,
            ["team cafe meeting"]
        );
        // Someone else's conversation: refused, not filtered.
        let theirs = shared::model::Room::private(
            carol.id.parse().expect("id"),
            dave.id.parse().expect("id"),
        );
        let path = "/api/v1/chat/messages/search";
        assert_error(
            search(&app, &alice, &format!("q=cafe&chatRoomId={theirs}")).await,
            StatusCode::FORBIDDEN,
            path,
        )
        .await;
        assert_error(
            search(&app, &alice, "q=%21%21").await,
            StatusCode::BAD_REQUEST,
            path,
        )
        .await;
        assert_error(
            search(&app, &alice, "q=x&limit=51").await,
            StatusCode::BAD_REQUEST,
            path,
        )
        .await;

        // Limit and hasMore.
        let page: Value = search(&app, &alice, "q=cafe&limit=2")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["messages"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["hasMore"], true);
    })
    .await;
}

#[tokio::test]
async fn deleted_messages_never_match_and_edits_are_reindexed() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let typo = app.send_private(&alice, &bob, "meet at the statoin").await;
        let gone = app.send_private(&alice, &bob, "burn after reading").await;
        let id = |m: &Value| m["messageId"].as_str().unwrap_or_default().to_owned();
        app.call(
            Method::PATCH,
            &format!("/api/v1/chat/message/{}", id(&typo)),
            &alice.access_token,
            Some(&json!({ "message": "meet at the station" })),
        )
        .await;
        app.call(
            Method::DELETE,
            &format!("/api/v1/chat/message/{}", id(&gone)),
            &alice.access_token,
            None,
        )
        .await;
        assert!(found(&app, &bob, "q=statoin").await.is_empty());
        assert_eq!(
            found(&app, &bob, "q=station").await,
            ["meet at the station"]
        );
        assert!(found(&app, &bob, "q=burn").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_sqlite_search_goes_through_the_full_text_index() {
    let app = spawn_app(&Backend::Sqlite).await;
    app.register("someone").await;
    let conn = rusqlite::Connection::open(&app.vars["DATABASE_PATH"]).expect("opens");
    let sql = format!(
        "EXPLAIN QUERY PLAN {}",
        shared::store::sqlite::search_messages_sql()
    );
    let mut statement = conn.prepare(&sql).expect("plan");
    let plan: Vec<String> = statement
        .query_map(
            rusqlite::params![
                "message : (\"cafe\"*) AND participants : (\"507f1f77bcf86cd799439011\")",
                21_i64
            ],
            |row| row.get(3),
        )
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("plan rows");
    eprintln!("search plan: {plan:?}");
    assert!(
        plan.iter().any(|step| step.contains("VIRTUAL TABLE INDEX")),
        "the FTS5 index answers the match: {plan:?}"
    );
    assert!(
        plan.iter().all(|step| !step.starts_with("SCAN m")),
        "messages are looked up by rowid, never scanned: {plan:?}"
    );
}

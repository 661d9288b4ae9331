//! Messages: sending, history and its cursors, status, idempotency, and who may do what.

use chat_tests::{assert_error, on_each_backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SEND: &str = "/api/v1/chat/message";
const FETCH: &str = "/api/v1/chat/messages/fetch";

async fn fetch(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.call(Method::POST, FETCH, token, Some(&body)).await
}

async fn fetch_ok(app: &TestApp, token: &str, body: Value) -> Value {
    let response = fetch(app, token, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn texts(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap().to_owned())
        .collect()
}

async fn set_status(
    app: &TestApp,
    token: &str,
    message_id: &str,
    status: &str,
) -> reqwest::Response {
    let path = format!("/api/v1/chat/message/{message_id}/status");
    app.call(
        Method::PUT,
        &path,
        token,
        Some(&json!({ "status": status })),
    )
    .await
}

#[tokio::test]
async fn a_private_message_is_stored_with_server_side_fields() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let message = app
            .send(
                &alice,
                json!({ "chatRoomId": "user1_user2", "chatType": "PRIVATE", "receiver": bob.id,
                        "message": "Hello, how are you?" }),
            )
            .await;
        assert_eq!(message["sender"], alice.id.as_str());
        assert_eq!(message["receiver"], bob.id.as_str());
        assert_eq!(message["status"], "SENT");
        assert_eq!(message["chatType"], "PRIVATE");
        assert_eq!(message["readBy"], json!([]));
        let mut pair = [alice.id.clone(), bob.id.clone()];
        pair.sort();
        assert_eq!(
            message["chatRoomId"],
            format!("{}_{}", pair[0], pair[1]),
            "derived, not trusted"
        );
        assert!(message["messageId"].as_str().unwrap().len() >= 16);
        assert_eq!(message["_id"].as_str().unwrap().len(), 24);
        assert!(message["createdAt"].as_str().unwrap().ends_with('Z'));
    })
    .await;
}

#[tokio::test]
async fn private_messages_need_a_real_other_receiver() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let to_self = app
            .call(
                Method::POST,
                SEND,
                &alice.access_token,
                Some(&json!({ "chatType": "PRIVATE", "receiver": alice.id, "message": "me" })),
            )
            .await;
        assert_error(to_self, StatusCode::BAD_REQUEST, SEND).await;
        let nobody = app
            .call(
                Method::POST,
                SEND,
                &alice.access_token,
                Some(&json!({ "receiver": "507f1f77bcf86cd799439011", "message": "hi" })),
            )
            .await;
        assert_error(nobody, StatusCode::NOT_FOUND, SEND).await;
        let missing = app
            .call(
                Method::POST,
                SEND,
                &alice.access_token,
                Some(&json!({ "message": "hi" })),
            )
            .await;
        assert_error(missing, StatusCode::BAD_REQUEST, SEND).await;
    })
    .await;
}

#[tokio::test]
async fn bad_message_input_is_refused_and_changes_nothing() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let cases = [
            json!({ "receiver": "not-an-id", "message": "x" }),
            json!({ "receiver": { "$gt": "" }, "message": "x" }),
            json!({ "receiver": bob.id, "message": { "$ne": null } }),
            json!({ "receiver": bob.id, "message": "x".repeat(5001) }),
            json!({ "receiver": bob.id, "message": "   " }),
            json!({ "receiver": bob.id, "message": "x", "messageId": "mine" }),
            json!({ "receiver": bob.id, "message": "x", "status": "READ" }),
            json!({ "receiver": bob.id, "message": "x", "chatType": "BROADCAST" }),
            json!({ "receiver": bob.id, "message": "x", "attachment": "ftp://x" }),
        ];
        for body in cases {
            let response = app
                .call(Method::POST, SEND, &alice.access_token, Some(&body))
                .await;
            assert_error(response, StatusCode::BAD_REQUEST, SEND).await;
        }
        let impostor = app
            .call(
                Method::POST,
                SEND,
                &alice.access_token,
                Some(&json!({ "sender": bob.id, "receiver": bob.id, "message": "x" })),
            )
            .await;
        assert_error(impostor, StatusCode::FORBIDDEN, SEND).await;
        let page = fetch_ok(&app, &alice.access_token, json!({ "receiverId": bob.id })).await;
        assert_eq!(page["total"], 0, "nothing was stored");
    })
    .await;
}

#[tokio::test]
async fn a_repeated_client_message_id_returns_the_stored_message() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let body = json!({ "receiver": bob.id, "message": "once", "clientMessageId": "c-1" });
        let first = app.send(&alice, body.clone()).await;
        let again = app
            .call(Method::POST, SEND, &alice.access_token, Some(&body))
            .await;
        assert_eq!(again.status(), StatusCode::OK);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["messageId"], first["messageId"]);

        // Concurrent repeats still make one message.
        let body = json!({ "receiver": bob.id, "message": "race", "clientMessageId": "c-2" });
        let (a, b, c) = tokio::join!(
            app.call(Method::POST, SEND, &alice.access_token, Some(&body)),
            app.call(Method::POST, SEND, &alice.access_token, Some(&body)),
            app.call(Method::POST, SEND, &alice.access_token, Some(&body)),
        );
        let ids: std::collections::HashSet<String> = [a, b, c]
            .into_iter()
            .map(|r| async move {
                r.json::<Value>().await.unwrap()["messageId"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect::<futures_util::future::JoinAll<_>>()
            .await
            .into_iter()
            .collect();
        assert_eq!(ids.len(), 1);
        // The same clientMessageId from another sender is another message.
        let from_bob = app
            .send(
                &bob,
                json!({ "receiver": alice.id, "message": "mine", "clientMessageId": "c-1" }),
            )
            .await;
        assert_ne!(from_bob["messageId"], first["messageId"]);
        let page = fetch_ok(&app, &alice.access_token, json!({ "receiverId": bob.id })).await;
        assert_eq!(page["total"], 3);
    })
    .await;
}

#[tokio::test]
async fn history_pages_newest_first_with_totals() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        for i in 0..5 {
            app.send_private(&alice, &bob, &format!("m{i}")).await;
        }
        let body = json!({ "currentUserId": alice.id, "senderId": alice.id, "receiverId": bob.id,
                           "page": 1, "limit": 2 });
        let page = fetch_ok(&app, &alice.access_token, body).await;
        assert_eq!(texts(&page), ["m4", "m3"]);
        assert_eq!(
            (
                page["page"].clone(),
                page["limit"].clone(),
                page["total"].clone()
            ),
            (json!(1), json!(2), json!(5))
        );
        assert_eq!(page["hasMore"], true);
        let last = fetch_ok(
            &app,
            &bob.access_token,
            json!({ "receiverId": alice.id, "page": 3, "limit": 2 }),
        )
        .await;
        assert_eq!(texts(&last), ["m0"]);
        assert_eq!(last["hasMore"], false);
        let default = fetch_ok(&app, &bob.access_token, json!({ "senderId": alice.id })).await;
        assert_eq!(default["limit"], 20);
        for bad in [
            json!({ "receiverId": bob.id, "limit": 0 }),
            json!({ "receiverId": bob.id, "limit": 101 }),
            json!({ "receiverId": bob.id, "page": 0 }),
            json!({}),
            json!({ "receiverId": bob.id, "before": "x", "after": "y" }),
        ] {
            assert_error(
                fetch(&app, &alice.access_token, bad).await,
                StatusCode::BAD_REQUEST,
                FETCH,
            )
            .await;
        }
    })
    .await;
}

#[tokio::test]
async fn the_before_cursor_pages_back_without_gaps_while_messages_arrive() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        for i in 0..7 {
            app.send_private(&alice, &bob, &format!("old{i}")).await;
        }
        let mut seen = Vec::new();
        let mut page = fetch_ok(
            &app,
            &bob.access_token,
            json!({ "receiverId": alice.id, "limit": 3 }),
        )
        .await;
        loop {
            seen.extend(texts(&page));
            // New messages keep arriving while the client pages back.
            app.send_private(&bob, &alice, "new").await;
            if page["hasMore"] == false {
                break;
            }
            let oldest = page["messages"].as_array().unwrap().last().unwrap()["messageId"].clone();
            page = fetch_ok(
                &app,
                &bob.access_token,
                json!({ "receiverId": alice.id, "limit": 3, "before": oldest }),
            )
            .await;
        }
        let expected: Vec<String> = (0..7).rev().map(|i| format!("old{i}")).collect();
        assert_eq!(seen, expected, "no gaps, no duplicates");
    })
    .await;
}

#[tokio::test]
async fn the_after_cursor_returns_exactly_what_was_missed_oldest_first() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let seen = app.send_private(&alice, &bob, "seen").await;
        for i in 0..3 {
            app.send_private(&alice, &bob, &format!("missed{i}")).await;
        }
        let page = fetch_ok(
            &app,
            &bob.access_token,
            json!({ "receiverId": alice.id, "after": seen["messageId"] }),
        )
        .await;
        assert_eq!(texts(&page), ["missed0", "missed1", "missed2"]);
        assert_eq!(page["hasMore"], false);

        // A cursor from another conversation is refused.
        let carol = app.register("carol").await;
        let elsewhere = app.send_private(&carol, &bob, "other room").await;
        let response = fetch(
            &app,
            &bob.access_token,
            json!({ "receiverId": alice.id, "after": elsewhere["messageId"] }),
        )
        .await;
        assert_error(response, StatusCode::BAD_REQUEST, FETCH).await;
    })
    .await;
}

#[tokio::test]
async fn nobody_reads_someone_elses_conversation() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        app.send_private(&alice, &bob, "secret").await;
        let as_other = fetch(
            &app,
            &eve.access_token,
            json!({ "senderId": alice.id, "receiverId": bob.id }),
        )
        .await;
        assert_error(as_other, StatusCode::FORBIDDEN, FETCH).await;
        let claiming = fetch(
            &app,
            &eve.access_token,
            json!({ "currentUserId": alice.id, "receiverId": bob.id }),
        )
        .await;
        assert_error(claiming, StatusCode::FORBIDDEN, FETCH).await;
        // Eve asking for "her conversation with bob" gets her own (empty) room, not alice's.
        let own = fetch_ok(&app, &eve.access_token, json!({ "receiverId": bob.id })).await;
        assert_eq!(own["total"], 0);

        let path = format!("/api/v1/chat/messages/undelivered/{}/{}", bob.id, alice.id);
        let undelivered = app.call(Method::GET, &path, &eve.access_token, None).await;
        assert_error(undelivered, StatusCode::FORBIDDEN, &path).await;
        let mine = app.call(Method::GET, &path, &bob.access_token, None).await;
        assert_eq!(mine.status(), StatusCode::OK);
        let mine: Vec<Value> = mine.json().await.unwrap();
        assert_eq!(mine.len(), 1);
        let bad = format!("/api/v1/chat/messages/undelivered/{}/nope", bob.id);
        assert_error(
            app.call(Method::GET, &bad, &bob.access_token, None).await,
            StatusCode::BAD_REQUEST,
            &bad,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn status_moves_forward_only_and_only_for_the_receiver() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        let message = app.send_private(&alice, &bob, "hi").await;
        let id = message["messageId"].as_str().unwrap();
        let path = format!("/api/v1/chat/message/{id}/status");

        assert_error(
            set_status(&app, &alice.access_token, id, "DELIVERED").await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        assert_error(
            set_status(&app, &eve.access_token, id, "READ").await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        assert_error(
            set_status(&app, &bob.access_token, id, "SENT").await,
            StatusCode::BAD_REQUEST,
            &path,
        )
        .await;
        assert_error(
            set_status(&app, &bob.access_token, id, "SEEN").await,
            StatusCode::BAD_REQUEST,
            &path,
        )
        .await;

        let delivered = set_status(&app, &bob.access_token, id, "DELIVERED").await;
        assert_eq!(delivered.status(), StatusCode::OK);
        assert_eq!(
            delivered.json::<Value>().await.unwrap()["status"],
            "DELIVERED"
        );
        let read = set_status(&app, &bob.access_token, id, "READ").await;
        assert_eq!(read.json::<Value>().await.unwrap()["status"], "READ");
        let back = set_status(&app, &bob.access_token, id, "DELIVERED").await;
        assert_error(back, StatusCode::CONFLICT, &path).await;
        let again = set_status(&app, &bob.access_token, id, "READ").await;
        assert_eq!(
            again.status(),
            StatusCode::OK,
            "repeating the current status is harmless"
        );

        let unknown = "/api/v1/chat/message/no-such-message/status";
        assert_error(
            set_status(&app, &bob.access_token, "no-such-message", "READ").await,
            StatusCode::NOT_FOUND,
            unknown,
        )
        .await;
    })
    .await;
}

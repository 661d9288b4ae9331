//! SPEC §7 blocking, on both adapters: the blocked user cannot send the blocker private messages or
//! typing events and does not see the blocker's presence; group messages are unaffected.

use std::time::Duration;

use chat_tests::{
    assert_error, on_each_backend, realtime::RealtimeNode, socket::connect, Account, TestApp,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn set_block(app: &TestApp, who: &Account, other: &str, method: Method) -> reqwest::Response {
    app.call(
        method,
        &format!("/api/v1/users/me/blocks/{other}"),
        &who.access_token,
        None,
    )
    .await
}

async fn send_to(app: &TestApp, from: &Account, to: &Account) -> reqwest::Response {
    app.call(
        Method::POST,
        "/api/v1/chat/message",
        &from.access_token,
        Some(&json!({ "receiver": to.id, "message": "hello?" })),
    )
    .await
}

#[tokio::test]
async fn a_blocked_user_cannot_message_the_blocker_until_unblocked() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        app.send_private(&alice, &bob, "hi bob").await;
        let group = app.create_group(&bob, "both", &[&alice]).await;

        for _ in 0..2 {
            let blocked = set_block(&app, &bob, &alice.id, Method::PUT).await;
            assert_eq!(blocked.status(), StatusCode::OK);
            let body: Value = blocked.json().await.expect("json");
            assert_eq!(body, json!({ "userId": alice.id, "blocked": true }));
        }
        let list = app
            .get_json("/api/v1/users/me/blocks", &bob.access_token)
            .await;
        assert_eq!(list.as_array().map(Vec::len), Some(1));
        assert_eq!(list[0]["username"], "alice");
        assert!(list[0].get("email").is_none(), "public profiles only");

        let refused = send_to(&app, &alice, &bob).await;
        let body = assert_error(refused, StatusCode::FORBIDDEN, "/api/v1/chat/message").await;
        assert!(body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("does not accept"));
        assert_eq!(
            send_to(&app, &bob, &alice).await.status(),
            StatusCode::CREATED
        );
        let in_group = app
            .call(
                Method::POST,
                "/api/v1/chat/message",
                &alice.access_token,
                Some(&json!({ "chatType": "GROUP", "groupId": group, "message": "still here" })),
            )
            .await;
        assert_eq!(
            in_group.status(),
            StatusCode::CREATED,
            "groups are unaffected"
        );

        // The blocker's presence is hidden from the blocked user, not the other way round.
        let bob_status = format!("/api/v1/chat/user/{}/online-status", bob.id);
        assert_error(
            app.call(Method::GET, &bob_status, &alice.access_token, None)
                .await,
            StatusCode::NOT_FOUND,
            &bob_status,
        )
        .await;
        let alice_status = format!("/api/v1/chat/user/{}/online-status", alice.id);
        assert_eq!(
            app.call(Method::GET, &alice_status, &bob.access_token, None)
                .await
                .status(),
            StatusCode::OK
        );

        let unblocked: Value = set_block(&app, &bob, &alice.id, Method::DELETE)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(unblocked["blocked"], false);
        assert_eq!(
            send_to(&app, &alice, &bob).await.status(),
            StatusCode::CREATED
        );
        let list = app
            .get_json("/api/v1/users/me/blocks", &bob.access_token)
            .await;
        assert_eq!(list, json!([]));

        // Yourself, nobody, not an id.
        let me = format!("/api/v1/users/me/blocks/{}", bob.id);
        assert_error(
            set_block(&app, &bob, &bob.id, Method::PUT).await,
            StatusCode::BAD_REQUEST,
            &me,
        )
        .await;
        let nobody = "507f1f77bcf86cd799439011";
        assert_error(
            set_block(&app, &bob, nobody, Method::PUT).await,
            StatusCode::NOT_FOUND,
            &format!("/api/v1/users/me/blocks/{nobody}"),
        )
        .await;
        assert_error(
            set_block(&app, &bob, "nope", Method::PUT).await,
            StatusCode::BAD_REQUEST,
            "/api/v1/users/me/blocks/nope",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_blocked_user_cannot_type_to_the_blocker_nor_see_them_come_online() {
    on_each_backend(|app| async move {
        let node = RealtimeNode::start(&app).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        app.send_private(&alice, &bob, "hi bob").await;
        app.send_private(&carol, &bob, "hi bob, carol here").await;
        set_block(&app, &bob, &alice.id, Method::PUT).await;

        let alice_socket = connect(&node.url(), Some(&alice.access_token))
            .await
            .expect("connects");
        let carol_socket = connect(&node.url(), Some(&carol.access_token))
            .await
            .expect("connects");
        let bob_socket = connect(&node.url(), Some(&bob.access_token))
            .await
            .expect("connects");
        let is_bob = |value: &Value| value["userId"] == bob.id.as_str();
        carol_socket.expect("userOnline", is_bob).await;

        let refused = alice_socket
            .emit_ack("userTyping", json!({ "receiverId": bob.id }))
            .await;
        assert!(refused.to_string().contains("does not accept"), "{refused}");
        let typing = carol_socket
            .emit_ack("userTyping", json!({ "receiverId": bob.id }))
            .await;
        assert_eq!(typing["ok"], true, "{typing}");
        bob_socket
            .expect("userTyping", |v| v["userId"] == carol.id.as_str())
            .await;

        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(alice_socket.count("userOnline", is_bob), 0);
        assert_eq!(
            bob_socket.count("userTyping", |v| v["userId"] == alice.id.as_str()),
            0
        );
    })
    .await;
}

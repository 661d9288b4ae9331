//! SPEC §7 edit, delete and reactions, on both adapters: who may do what, tombstones in history and
//! rooms, unread counts, and the events the conversation hears over socket.io.

use std::time::Duration;

use chat_tests::{
    assert_error, on_each_backend, realtime::RealtimeNode, socket::connect, Account, TestApp,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn id_of(message: &Value) -> String {
    message["messageId"].as_str().expect("messageId").to_owned()
}

async fn edit(app: &TestApp, who: &Account, message_id: &str, text: &str) -> reqwest::Response {
    app.call(
        Method::PATCH,
        &format!("/api/v1/chat/message/{message_id}"),
        &who.access_token,
        Some(&json!({ "message": text })),
    )
    .await
}

async fn delete(app: &TestApp, who: &Account, message_id: &str) -> reqwest::Response {
    app.call(
        Method::DELETE,
        &format!("/api/v1/chat/message/{message_id}"),
        &who.access_token,
        None,
    )
    .await
}

fn reaction_path(message_id: &str, emoji: &str) -> String {
    let encoded: String = emoji.bytes().map(|byte| format!("%{byte:02X}")).collect();
    format!("/api/v1/chat/message/{message_id}/reactions/{encoded}")
}

async fn react(
    app: &TestApp,
    who: &Account,
    method: Method,
    message_id: &str,
    emoji: &str,
) -> reqwest::Response {
    app.call(
        method,
        &reaction_path(message_id, emoji),
        &who.access_token,
        None,
    )
    .await
}

/// The conversation between `who` and `partner`, newest first.
async fn history(app: &TestApp, who: &Account, partner: &Account) -> Vec<Value> {
    let page: Value = app
        .call(
            Method::POST,
            "/api/v1/chat/messages/fetch",
            &who.access_token,
            Some(&json!({ "senderId": who.id, "receiverId": partner.id })),
        )
        .await
        .json()
        .await
        .expect("page");
    page["messages"].as_array().expect("messages").clone()
}

#[tokio::test]
async fn only_the_sender_edits_and_a_deleted_message_cannot_be_edited() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let sent = app.send_private(&alice, &bob, "helo").await;
        let id = id_of(&sent);
        let path = format!("/api/v1/chat/message/{id}");

        let edited = edit(&app, &alice, &id, "hello").await;
        assert_eq!(edited.status(), StatusCode::OK);
        let edited: Value = edited.json().await.expect("json");
        assert_eq!(edited["message"], "hello");
        assert!(edited["editedAt"].is_string(), "{edited}");
        assert_eq!(history(&app, &bob, &alice).await[0]["message"], "hello");

        // The receiver, a stranger, bad input, an unknown message: refused, nothing changes.
        assert_error(
            edit(&app, &bob, &id, "mine now").await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        assert_error(
            edit(&app, &carol, &id, "hi").await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        assert_error(
            edit(&app, &alice, &id, "   ").await,
            StatusCode::BAD_REQUEST,
            &path,
        )
        .await;
        let unknown = "/api/v1/chat/message/no-such-message";
        assert_error(
            edit(&app, &alice, "no-such-message", "x").await,
            StatusCode::NOT_FOUND,
            unknown,
        )
        .await;
        assert_eq!(history(&app, &bob, &alice).await[0]["message"], "hello");

        assert_eq!(delete(&app, &alice, &id).await.status(), StatusCode::OK);
        assert_error(
            edit(&app, &alice, &id, "back").await,
            StatusCode::CONFLICT,
            &path,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_deleted_message_stays_as_a_tombstone_and_leaves_the_unread_count() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let first = app.send_private(&bob, &alice, "first").await;
        let second = app
            .send(
                &bob,
                json!({ "receiver": alice.id, "message": "oops",
                        "attachment": "https://example.com/a.png" }),
            )
            .await;
        let id = id_of(&second);
        let path = format!("/api/v1/chat/message/{id}");
        assert_eq!(app.private_rooms(&alice).await[0]["unreadCount"], 2);
        assert_eq!(
            react(&app, &alice, Method::PUT, &id, "👍").await.status(),
            StatusCode::OK
        );

        // Only the sender may delete in a private chat.
        assert_error(
            delete(&app, &alice, &id).await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        let answer = delete(&app, &bob, &id).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let answer: Value = answer.json().await.expect("json");
        assert_eq!(answer["messageId"], id.as_str());
        assert_eq!(answer["chatRoomId"], second["chatRoomId"]);
        assert!(answer["deletedAt"].is_string(), "{answer}");
        // Again: the same answer.
        let again: Value = delete(&app, &bob, &id).await.json().await.expect("json");
        assert_eq!(again, answer);

        let newest = &history(&app, &alice, &bob).await[0];
        assert_eq!(newest["messageId"], id.as_str());
        assert_eq!(newest["deleted"], true);
        assert_eq!(newest["message"], "");
        assert!(newest.get("attachment").is_none(), "{newest}");
        assert_eq!(newest["reactions"], json!([]));
        assert_eq!(newest["deletedAt"], answer["deletedAt"]);

        let room = &app.private_rooms(&alice).await[0];
        assert_eq!(room["lastMessage"]["deleted"], true);
        assert_eq!(room["unreadCount"], 1, "the deleted message is not unread");
        // Reading everything afterwards counts nothing twice.
        app.call(
            Method::PUT,
            &format!("/api/v1/chat/messages/read/{}/{}", alice.id, bob.id),
            &alice.access_token,
            None,
        )
        .await;
        assert_eq!(app.private_rooms(&alice).await[0]["unreadCount"], 0);
        assert_eq!(
            history(&app, &alice, &bob).await[1]["messageId"],
            first["messageId"]
        );
    })
    .await;
}

#[tokio::test]
async fn group_admins_may_delete_members_messages_and_members_may_not() {
    on_each_backend(|app| async move {
        let owner = app.register("owner").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let group = app.create_group(&owner, "team", &[&bob, &carol]).await;
        let by_bob = app
            .send(
                &bob,
                json!({ "chatType": "GROUP", "groupId": group, "message": "hi" }),
            )
            .await;
        let by_carol = app
            .send(
                &carol,
                json!({ "chatType": "GROUP", "groupId": group, "message": "yo" }),
            )
            .await;
        let (bob_id, carol_id) = (id_of(&by_bob), id_of(&by_carol));
        assert_error(
            delete(&app, &bob, &carol_id).await,
            StatusCode::FORBIDDEN,
            &format!("/api/v1/chat/message/{carol_id}"),
        )
        .await;
        assert_eq!(delete(&app, &owner, &bob_id).await.status(), StatusCode::OK);
        assert_eq!(
            delete(&app, &carol, &carol_id).await.status(),
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn reactions_are_idempotent_for_participants_and_capped_per_message() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let id = id_of(&app.send_private(&alice, &bob, "react to me").await);

        for _ in 0..2 {
            let answer = react(&app, &bob, Method::PUT, &id, "👍").await;
            assert_eq!(answer.status(), StatusCode::OK);
        }
        let answer: Value = react(&app, &alice, Method::PUT, &id, "👍")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(answer["messageId"], id.as_str());
        assert_eq!(
            answer["reactions"],
            json!([{ "emoji": "👍", "count": 2, "userIds": [bob.id, alice.id] }])
        );
        let answer: Value = react(&app, &bob, Method::DELETE, &id, "👍")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            answer["reactions"],
            json!([{ "emoji": "👍", "count": 1, "userIds": [alice.id] }])
        );
        let repeat = react(&app, &bob, Method::DELETE, &id, "👍").await;
        assert_eq!(repeat.status(), StatusCode::OK);
        assert_eq!(
            history(&app, &bob, &alice).await[0]["reactions"][0]["count"],
            1
        );

        // A stranger, a bad emoji.
        let path = reaction_path(&id, "👍");
        assert_error(
            react(&app, &carol, Method::PUT, &id, "👍").await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        let long = "x".repeat(33);
        assert_error(
            react(&app, &bob, Method::PUT, &id, &long).await,
            StatusCode::BAD_REQUEST,
            &reaction_path(&id, &long),
        )
        .await;

        // 20 distinct emoji fit; the 21st does not; one already there still can be added.
        for n in 1..20 {
            let emoji = format!("e{n}");
            let added = react(&app, &bob, Method::PUT, &id, &emoji).await;
            assert_eq!(added.status(), StatusCode::OK, "{emoji}");
        }
        assert_error(
            react(&app, &bob, Method::PUT, &id, "e20").await,
            StatusCode::CONFLICT,
            &reaction_path(&id, "e20"),
        )
        .await;
        assert_eq!(
            react(&app, &bob, Method::PUT, &id, "👍").await.status(),
            StatusCode::OK
        );
        let reactions = &history(&app, &bob, &alice).await[0]["reactions"];
        assert_eq!(reactions.as_array().map(Vec::len), Some(20));
        assert_eq!(reactions[0]["emoji"], "👍", "in the order first used");

        // A deletion clears them, and a tombstone takes none.
        delete(&app, &alice, &id).await;
        assert_error(
            react(&app, &bob, Method::PUT, &id, "👍").await,
            StatusCode::CONFLICT,
            &path,
        )
        .await;
        assert_eq!(history(&app, &bob, &alice).await[0]["reactions"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn edits_deletions_and_reactions_reach_the_conversation_over_socket_io() {
    on_each_backend(|app| async move {
        let node = RealtimeNode::start(&app).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let alice_socket = connect(&node.url(), Some(&alice.access_token))
            .await
            .expect("connects");
        let bob_socket = connect(&node.url(), Some(&bob.access_token))
            .await
            .expect("connects");
        let carol_socket = connect(&node.url(), Some(&carol.access_token))
            .await
            .expect("connects");
        let id = id_of(&app.send_private(&alice, &bob, "first draft").await);
        let is_it = |value: &Value| value["messageId"] == id.as_str();

        // Over REST.
        edit(&app, &alice, &id, "second draft").await;
        let edited = bob_socket.expect("messageEdited", is_it).await;
        assert_eq!(edited["message"], "second draft");
        react(&app, &bob, Method::PUT, &id, "🎉").await;
        let reactions = alice_socket.expect("messageReactions", is_it).await;
        assert_eq!(reactions["reactions"][0]["emoji"], "🎉");

        // Over the socket, with acks.
        let ack = alice_socket
            .emit_ack(
                "editMessage",
                json!({ "messageId": id, "message": "final" }),
            )
            .await;
        assert_eq!(ack["message"], "final", "{ack}");
        bob_socket
            .expect("messageEdited", |m| is_it(m) && m["message"] == "final")
            .await;
        let ack = bob_socket
            .emit_ack("removeReaction", json!({ "messageId": id, "emoji": "🎉" }))
            .await;
        assert_eq!(ack["reactions"], json!([]), "{ack}");
        alice_socket
            .expect("messageReactions", |m| {
                is_it(m) && m["reactions"] == json!([])
            })
            .await;
        let refused = bob_socket
            .emit_ack("deleteMessage", json!({ "messageId": id }))
            .await;
        assert!(refused.to_string().contains("Only the sender"), "{refused}");
        let ack = alice_socket
            .emit_ack("deleteMessage", json!({ "messageId": id }))
            .await;
        assert!(ack["deletedAt"].is_string(), "{ack}");
        let deleted = bob_socket.expect("messageDeleted", is_it).await;
        assert_eq!(deleted["deletedAt"], ack["deletedAt"]);

        // Nobody outside the conversation heard any of it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for event in ["messageEdited", "messageReactions", "messageDeleted"] {
            assert_eq!(carol_socket.count(event, |_| true), 0, "{event}");
        }
    })
    .await;
}

#[tokio::test]
async fn replies_quote_a_message_of_the_same_conversation_as_it_is_now() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let long = "q".repeat(300);
        let question = app.send_private(&alice, &bob, &long).await;
        let elsewhere = app.send_private(&carol, &alice, "not yours").await;
        let node = RealtimeNode::start(&app).await;
        let alice_socket = connect(&node.url(), Some(&alice.access_token))
            .await
            .expect("connects");

        let reply = app
            .send(
                &bob,
                json!({ "receiver": alice.id, "message": "an answer", "replyTo": question["messageId"] }),
            )
            .await;
        let quote = &reply["replyTo"];
        assert_eq!(quote["messageId"], question["messageId"]);
        assert_eq!(quote["sender"], alice.id.as_str());
        assert_eq!(quote["message"].as_str().map(|t| t.chars().count()), Some(200));
        assert_eq!(quote["deleted"], false);
        let delivered = alice_socket
            .expect("messageReceived", |m| m["messageId"] == reply["messageId"])
            .await;
        assert_eq!(delivered["replyTo"]["messageId"], question["messageId"]);

        // Another conversation's message, or none at all, cannot be quoted.
        for quoted in [elsewhere["messageId"].clone(), json!("no-such-message")] {
            let refused = app
                .call(
                    Method::POST,
                    "/api/v1/chat/message",
                    &bob.access_token,
                    Some(&json!({ "receiver": alice.id, "message": "x", "replyTo": quoted })),
                )
                .await;
            assert_error(refused, StatusCode::BAD_REQUEST, "/api/v1/chat/message").await;
        }

        // The quote follows the quoted message: edited, then deleted.
        let question_id = id_of(&question);
        edit(&app, &alice, &question_id, "a shorter question").await;
        let newest = &history(&app, &bob, &alice).await[0];
        assert_eq!(newest["replyTo"]["message"], "a shorter question");
        delete(&app, &alice, &question_id).await;
        let newest = &history(&app, &bob, &alice).await[0];
        assert_eq!(newest["replyTo"]["deleted"], true);
        assert_eq!(newest["replyTo"]["message"], "");
        assert!(history(&app, &bob, &alice).await[1].get("replyTo").is_none());
    })
    .await;
}

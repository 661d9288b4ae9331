//! SPEC §9 account deletion and data export, on both adapters: deletion leaves no row, index entry
//! or search hit of the user's data, the other party sees "Deleted user"; the export holds exactly
//! the caller's data.

use chat_tests::{
    assert_error, on_each_backend, realtime::RealtimeNode, socket::connect, spawn_app_with,
    Account, Backend, TestApp, PASSWORD,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::model::UserId;

async fn delete_account(app: &TestApp, who: &Account, password: &str) -> reqwest::Response {
    app.call(
        Method::DELETE,
        "/api/v1/users/me",
        &who.access_token,
        Some(&json!({ "password": password })),
    )
    .await
}

/// Uploads a small text file for the conversation with `to` (the local adapter's signed URL) and
/// sends it; the attachment id.
async fn send_file(app: &TestApp, from: &Account, to: &Account) -> String {
    let bytes = b"private notes";
    let ticket: Value = app
        .call(
            Method::POST,
            "/api/v1/chat/attachments",
            &from.access_token,
            Some(&json!({ "fileName": "notes.txt", "contentType": "text/plain", "size": bytes.len(), "receiver": to.id })),
        )
        .await
        .json()
        .await
        .unwrap();
    let upload = &ticket["upload"];
    let mut put = reqwest::Client::new().put(upload["url"].as_str().unwrap());
    for (name, value) in upload["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let stored = put.body(bytes.to_vec()).send().await.unwrap();
    assert!(stored.status().is_success(), "{}", stored.status());
    let id = ticket["attachmentId"].as_str().unwrap().to_owned();
    app.send(from, json!({ "receiver": to.id, "attachmentId": id }))
        .await;
    id
}

async fn search(app: &TestApp, who: &Account, q: &str) -> Value {
    app.get_json(
        &format!("/api/v1/chat/messages/search?q={q}"),
        &who.access_token,
    )
    .await
}

#[tokio::test]
async fn deleting_an_account_leaves_nothing_of_it_and_others_see_deleted_user() {
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        let app = spawn_app_with(&backend, &[("DELETED_USERNAME_HOLD", "1s")]).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let alice_id: UserId = alice.id.parse().unwrap();
        app.send_private(&alice, &bob, "zebracrossing is my secret")
            .await;
        let from_bob = app.send_private(&bob, &alice, "hello alice").await;
        let bob_message = from_bob["messageId"].as_str().unwrap();
        let reacted = app
            .call(
                Method::PUT,
                &format!("/api/v1/chat/message/{bob_message}/reactions/%F0%9F%91%8D"),
                &alice.access_token,
                None,
            )
            .await;
        assert_eq!(reacted.status(), StatusCode::OK);
        let group = app.create_group(&alice, "club", &[&bob]).await;
        app.send(
            &alice,
            json!({ "groupId": group, "message": "zebragroup news" }),
        )
        .await;
        let file = send_file(&app, &alice, &bob).await;
        let key = format!("attachments/{file}");
        assert!(app.ctx.objects().stat(&key).await.unwrap().is_some());
        let blocked = app
            .call(
                Method::PUT,
                &format!("/api/v1/users/me/blocks/{}", carol.id),
                &alice.access_token,
                None,
            )
            .await;
        assert_eq!(blocked.status(), StatusCode::OK);
        let reported = app
            .call(
                Method::POST,
                &format!("/api/v1/users/{}/report", carol.id),
                &alice.access_token,
                Some(&json!({ "reason": "spam", "note": "alice's words" })),
            )
            .await;
        assert_eq!(reported.status(), StatusCode::CREATED);
        assert_eq!(
            search(&app, &bob, "zebracrossing").await["messages"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        let node = RealtimeNode::start(&app).await;
        let socket = connect(&node.url(), Some(&alice.access_token))
            .await
            .unwrap();
        let wrong = delete_account(&app, &alice, "not the password").await;
        assert_error(wrong, StatusCode::FORBIDDEN, "/api/v1/users/me").await;
        let deleted = delete_account(&app, &alice, PASSWORD).await;
        assert_eq!(deleted.status(), StatusCode::OK);
        socket.expect("sessionEnded", |_| true).await;
        socket.expect("close", |_| true).await;

        // Gone for her...
        assert_error(
            app.login(&alice.email).await,
            StatusCode::UNAUTHORIZED,
            "/api/v1/auth/login",
        )
        .await;
        let old_token = app
            .call(Method::GET, "/api/v1/users/me", &alice.access_token, None)
            .await;
        let body = assert_error(old_token, StatusCode::UNAUTHORIZED, "/api/v1/users/me").await;
        assert!(
            body["message"].as_str().unwrap().contains("deleted"),
            "{body}"
        );
        // ...and for everyone else: a tombstone profile, no search hit, no message, no reaction.
        let to_her = app
            .call(
                Method::POST,
                "/api/v1/chat/message",
                &bob.access_token,
                Some(&json!({ "receiver": alice.id, "message": "are you there?" })),
            )
            .await;
        assert_error(to_her, StatusCode::NOT_FOUND, "/api/v1/chat/message").await;
        let profile = app
            .get_json(&format!("/api/v1/users/{}", alice.id), &bob.access_token)
            .await;
        assert_eq!(profile["username"], "Deleted user", "{profile}");
        assert_eq!(profile["deleted"], true);
        assert!(profile["firstName"].is_null() && profile.get("email").is_none());
        let found = app
            .get_json("/api/v1/users/search?q=ali", &bob.access_token)
            .await;
        assert_eq!(found, json!([]));
        for word in ["zebracrossing", "zebragroup"] {
            assert_eq!(
                search(&app, &bob, word).await["messages"],
                json!([]),
                "{word}"
            );
        }
        let rooms = app.private_rooms(&bob).await;
        assert_eq!(rooms.len(), 1, "{rooms:?}");
        assert_eq!(rooms[0]["partner"]["username"], "Deleted user");
        assert_eq!(rooms[0]["lastMessage"]["messageId"], json!(bob_message));
        let page = app
            .fetch_history(&bob, json!({ "senderId": bob.id, "receiverId": alice.id }))
            .await;
        assert_eq!(page["total"], 1, "{page}");
        assert_eq!(page["messages"][0]["reactions"], json!([]));
        let details = app
            .get_json(&format!("/api/v1/chat/group/{group}"), &bob.access_token)
            .await;
        let admins = details["admins"].to_string();
        let members = details["members"].to_string();
        assert!(
            admins.contains(&bob.id) && !admins.contains(&alice.id),
            "{details}"
        );
        assert!(!members.contains(&alice.id), "{details}");
        let group_page = app.fetch_history(&bob, json!({ "groupId": group })).await;
        assert_eq!(group_page["total"], 0, "{group_page}");
        assert_eq!(app.ctx.objects().stat(&key).await.unwrap(), None);

        // In the store itself: no message, file, block, report or email of hers.
        let store = app.ctx.store();
        assert!(store
            .messages_sent_by(alice_id, None, 10)
            .await
            .unwrap()
            .is_empty());
        assert!(store.attachments_of(alice_id).await.unwrap().is_empty());
        assert!(store.blocked_users(alice_id).await.unwrap().is_empty());
        assert!(store
            .find_user_by_email(&alice.email)
            .await
            .unwrap()
            .is_none());
        let reports = store
            .list_reports(shared::store::ReportQuery {
                status: None,
                before: None,
                limit: 10,
            })
            .await
            .unwrap();
        assert!(reports.is_empty(), "{reports:?}");
        let record = store.find_user_by_id(alice_id).await.unwrap().unwrap();
        assert!(
            record.first_name.is_none()
                && record.password_hash.is_empty()
                && record.avatar.is_none()
        );
        if let Some(path) = app
            .vars
            .get("DATABASE_PATH")
            .filter(|_| matches!(backend, Backend::Sqlite))
        {
            let conn = rusqlite::Connection::open(path).unwrap();
            let count =
                |sql: &str| -> i64 { conn.query_row(sql, [&alice.id], |row| row.get(0)).unwrap() };
            assert_eq!(count("SELECT COUNT(*) FROM messages WHERE sender = ?1"), 0);
            assert_eq!(
                count("SELECT COUNT(*) FROM message_reactions WHERE user_id = ?1"),
                0
            );
            assert_eq!(
                count("SELECT COUNT(*) FROM conversations WHERE user_id = ?1"),
                0
            );
            assert_eq!(count("SELECT COUNT(*) FROM sessions WHERE user_id = ?1"), 0);
            assert_eq!(
                count("SELECT COUNT(*) FROM group_members WHERE user_id = ?1"),
                0
            );
            assert_eq!(
                count("SELECT COUNT(*) FROM events WHERE instr(payload, '\"sender\":\"' || ?1 || '\"') > 0"),
                0
            );
            let hits: i64 = conn
                .query_row("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'zebracrossing OR zebragroup'", [], |row| row.get(0))
                .unwrap();
            assert_eq!(hits, 0, "nothing of hers in the search index");
        }

        // Her email is free at once, her username after the hold.
        let taken = app
            .post_json(
                "/api/v1/auth/register",
                &json!({ "username": "alice", "email": "new@example.com", "password": PASSWORD }),
            )
            .await;
        assert_error(taken, StatusCode::CONFLICT, "/api/v1/auth/register").await;
        let same_email = app
            .post_json(
                "/api/v1/auth/register",
                &json!({ "username": "alice_two", "email": alice.email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(same_email.status(), StatusCode::CREATED);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(
            shared::service::account::release_usernames(&app.ctx)
                .await
                .unwrap(),
            1
        );
        let freed = app
            .post_json("/api/v1/auth/register", &json!({ "username": "alice", "email": "alice3@example.com", "password": PASSWORD }))
            .await;
        assert_eq!(freed.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn with_tombstones_configured_the_deleted_accounts_messages_stay_emptied() {
    for backend in Backend::configured() {
        let app = spawn_app_with(&backend, &[("ACCOUNT_DELETION_MESSAGES", "tombstone")]).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        app.send_private(&alice, &bob, "keep the thread").await;
        assert_eq!(
            delete_account(&app, &alice, PASSWORD).await.status(),
            StatusCode::OK
        );
        let page = app
            .fetch_history(&bob, json!({ "senderId": bob.id, "receiverId": alice.id }))
            .await;
        let message = &page["messages"][0];
        assert_eq!(message["deleted"], true, "{page}");
        assert_eq!(message["message"], "");
        assert_eq!(search(&app, &bob, "thread").await["messages"], json!([]));
    }
}

#[tokio::test]
async fn the_export_holds_exactly_the_callers_data() {
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        let app = spawn_app_with(&backend, &[("MESSAGE_RATE_LIMIT_MAX", "10000")]).await;
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        // More than one page of the export (500).
        for i in 0..510 {
            app.send_private(&alice, &bob, &format!("alice says {i}"))
                .await;
        }
        app.send_private(&bob, &alice, "bob's own words").await;
        app.send_private(&carol, &bob, "carol's own words").await;
        let group = app.create_group(&bob, "club", &[&alice]).await;
        app.send(
            &alice,
            json!({ "groupId": group, "message": "alice in the club" }),
        )
        .await;
        app.call(
            Method::PUT,
            &format!("/api/v1/users/me/blocks/{}", carol.id),
            &alice.access_token,
            None,
        )
        .await;

        let response = app
            .call(
                Method::GET,
                "/api/v1/users/me/export",
                &alice.access_token,
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        let text = response.text().await.unwrap();
        let export: Value = serde_json::from_str(&text).expect("one JSON document");
        assert_eq!(export["profile"]["email"], json!(alice.email));
        assert_eq!(export["blocks"], json!([carol.id]));
        assert_eq!(export["groups"][0]["groupName"], "club");
        assert!(!export["sessions"].as_array().unwrap().is_empty());
        let messages = export["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 511);
        assert!(messages
            .iter()
            .all(|message| message["sender"] == json!(alice.id)));
        let mut ids: Vec<&str> = messages
            .iter()
            .map(|m| m["messageId"].as_str().unwrap())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 511, "no message twice across pages");
        assert!(!text.contains("bob's own words") && !text.contains("carol's own words"));
        assert!(!text.contains(&bob.email) && !text.contains(&carol.email));
        assert!(!text.contains("\"password"));

        let limited = spawn_app_with(&backend, &[("EXPORT_RATE_LIMIT_MAX", "1")]).await;
        let dave = limited.register("dave").await;
        let first = limited
            .call(
                Method::GET,
                "/api/v1/users/me/export",
                &dave.access_token,
                None,
            )
            .await;
        assert_eq!(first.status(), StatusCode::OK);
        let second = limited
            .call(
                Method::GET,
                "/api/v1/users/me/export",
                &dave.access_token,
                None,
            )
            .await;
        assert_error(
            second,
            StatusCode::TOO_MANY_REQUESTS,
            "/api/v1/users/me/export",
        )
        .await;
    }
}

#[tokio::test]
async fn deletion_and_export_refuse_bad_input_and_strangers() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let no_body = app
            .call(
                Method::DELETE,
                "/api/v1/users/me",
                &alice.access_token,
                None,
            )
            .await;
        assert_error(no_body, StatusCode::BAD_REQUEST, "/api/v1/users/me").await;
        let extra = app
            .call(
                Method::DELETE,
                "/api/v1/users/me",
                &alice.access_token,
                Some(&json!({ "password": PASSWORD, "x": 1 })),
            )
            .await;
        assert_error(extra, StatusCode::BAD_REQUEST, "/api/v1/users/me").await;
        let anonymous = app.get("/api/v1/users/me/export").await;
        assert_error(
            anonymous,
            StatusCode::UNAUTHORIZED,
            "/api/v1/users/me/export",
        )
        .await;
        // Nothing changed.
        assert_eq!(app.login(&alice.email).await.status(), StatusCode::OK);
    })
    .await;
}

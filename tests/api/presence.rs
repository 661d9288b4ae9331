//! Presence: last seen, online status, bulk delivered/read, and the private rooms list.

use chat_tests::{assert_error, on_each_backend, spawn_app, Backend};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
/// Presence is for the user and their contacts: a contact (eve, who has a conversation with alice)
/// reads it, a stranger gets 404 as for an unknown user, and only the owner writes it.
async fn last_seen_is_readable_by_contacts_and_writable_only_by_its_owner() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let eve = app.register("eve").await;
        let stranger = app.register("stranger").await;
        app.send_private(&eve, &alice, "hi").await;
        let path = format!("/api/v1/chat/user/{}/last-seen", alice.id);
        for hidden in [
            path.clone(),
            format!("/api/v1/chat/user/{}/online-status", alice.id),
        ] {
            assert_error(
                app.call(Method::GET, &hidden, &stranger.access_token, None)
                    .await,
                StatusCode::NOT_FOUND,
                &hidden,
            )
            .await;
        }
        let own = app
            .call(Method::GET, &path, &alice.access_token, None)
            .await;
        assert_eq!(own.status(), StatusCode::OK, "a user reads their own");
        let before: Value = app
            .call(Method::GET, &path, &eve.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(before["userId"], alice.id.as_str());

        assert_error(
            app.call(Method::PUT, &path, &eve.access_token, None).await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let touched = app
            .call(Method::PUT, &path, &alice.access_token, None)
            .await;
        assert_eq!(touched.status(), StatusCode::OK);
        let touched: Value = touched.json().await.unwrap();
        assert!(touched["lastSeen"].as_str().unwrap() > before["lastSeen"].as_str().unwrap());

        let status_path = format!("/api/v1/chat/user/{}/online-status", alice.id);
        let status: Value = app
            .call(Method::GET, &status_path, &eve.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(status["isOnline"], false);
        assert_eq!(status["lastSeen"], touched["lastSeen"]);

        let unknown = "/api/v1/chat/user/507f1f77bcf86cd799439011/last-seen";
        assert_error(
            app.call(Method::GET, unknown, &eve.access_token, None)
                .await,
            StatusCode::NOT_FOUND,
            unknown,
        )
        .await;
        let bad = "/api/v1/chat/user/abc/online-status";
        assert_error(
            app.call(Method::GET, bad, &eve.access_token, None).await,
            StatusCode::BAD_REQUEST,
            bad,
        )
        .await;
        assert_error(app.get(&path).await, StatusCode::UNAUTHORIZED, &path).await;
    })
    .await;
}

#[tokio::test]
async fn bulk_delivered_and_read_move_only_the_partners_messages_forward() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        for i in 0..3 {
            app.send_private(&alice, &bob, &format!("to bob {i}")).await;
        }
        app.send_private(&bob, &alice, "to alice").await;

        let delivered = format!("/api/v1/chat/messages/delivered/{}/{}", bob.id, alice.id);
        let read = format!("/api/v1/chat/messages/read/{}/{}", bob.id, alice.id);
        assert_error(
            app.call(Method::PUT, &delivered, &alice.access_token, None)
                .await,
            StatusCode::FORBIDDEN,
            &delivered,
        )
        .await;

        let moved: Value = app
            .call(Method::PUT, &delivered, &bob.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(moved["modifiedCount"], 3);
        let again: Value = app
            .call(Method::PUT, &delivered, &bob.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["modifiedCount"], 0);
        let moved: Value = app
            .call(Method::PUT, &read, &bob.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(moved["modifiedCount"], 3);
        let back: Value = app
            .call(Method::PUT, &delivered, &bob.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            back["modifiedCount"], 0,
            "READ never moves back to DELIVERED"
        );

        let undelivered = format!("/api/v1/chat/messages/undelivered/{}/{}", alice.id, bob.id);
        let pending: Vec<Value> = app
            .call(Method::GET, &undelivered, &alice.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(pending.len(), 1, "bob's message to alice is untouched");
    })
    .await;
}

#[tokio::test]
async fn private_rooms_show_partner_latest_message_and_unread_count() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        app.send_private(&bob, &alice, "bob 1").await;
        app.send_private(&bob, &alice, "bob 2").await;
        app.send_private(&carol, &alice, "carol 1").await;
        app.send_private(&alice, &carol, "alice to carol").await;
        let last_bob = app.send_private(&bob, &alice, "bob 3").await;

        let path = format!("/api/v1/chat/rooms/{}", alice.id);
        let rooms: Vec<Value> = app
            .call(Method::GET, &path, &alice.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rooms.len(), 2);
        assert_eq!(rooms[0]["partner"]["username"], "bob");
        assert!(rooms[0]["partner"].get("email").is_none());
        assert_eq!(rooms[0]["lastMessage"]["messageId"], last_bob["messageId"]);
        assert_eq!(rooms[0]["unreadCount"], 3);
        assert_eq!(rooms[1]["partner"]["username"], "carol");
        assert_eq!(rooms[1]["lastMessage"]["message"], "alice to carol");
        assert_eq!(rooms[1]["unreadCount"], 1);

        app.call(
            Method::PUT,
            &format!("/api/v1/chat/messages/read/{}/{}", alice.id, bob.id),
            &alice.access_token,
            None,
        )
        .await;
        let rooms: Vec<Value> = app
            .call(Method::GET, &path, &alice.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rooms[0]["unreadCount"], 0);

        let bob_rooms: Vec<Value> = app
            .call(
                Method::GET,
                &format!("/api/v1/chat/rooms/{}", bob.id),
                &bob.access_token,
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(bob_rooms.len(), 1);
        assert_eq!(
            bob_rooms[0]["unreadCount"], 0,
            "bob sent everything in that room"
        );
        assert_error(
            app.call(Method::GET, &path, &bob.access_token, None).await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn unread_counts_follow_single_status_changes() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let first = app.send_private(&bob, &alice, "one").await;
        let second = app.send_private(&bob, &alice, "two").await;
        let status = |message: &Value, status: &str| {
            let path = format!(
                "/api/v1/chat/message/{}/status",
                message["messageId"].as_str().expect("id")
            );
            let body = json!({ "status": status });
            let (app, token) = (&app, alice.access_token.clone());
            async move { app.call(Method::PUT, &path, &token, Some(&body)).await }
        };
        assert!(status(&first, "DELIVERED").await.status().is_success());
        assert_eq!(app.private_rooms(&alice).await[0]["unreadCount"], 2);
        assert!(status(&first, "READ").await.status().is_success());
        assert_eq!(app.private_rooms(&alice).await[0]["unreadCount"], 1);
        // READ again changes nothing, and counts nothing twice.
        status(&first, "READ").await;
        assert_eq!(app.private_rooms(&alice).await[0]["unreadCount"], 1);
        assert!(status(&second, "READ").await.status().is_success());
        let rooms = app.private_rooms(&alice).await;
        assert_eq!(rooms[0]["unreadCount"], 0);
        assert_eq!(rooms[0]["lastMessage"]["messageId"], second["messageId"]);
    })
    .await;
}

/// A SQLite file written before the per-user conversation rows existed has messages but no rows:
/// they are rebuilt from the messages when a process opens it.
#[tokio::test]
async fn conversation_rows_missing_from_an_older_file_are_rebuilt_at_open() {
    let app = spawn_app(&Backend::Sqlite).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.send_private(&bob, &alice, "bob 1").await;
    app.send_private(&alice, &carol, "to carol").await;
    app.send_private(&bob, &alice, "bob 2").await;
    let before = app.private_rooms(&alice).await;
    assert_eq!(before.len(), 2);

    let path = app.vars["DATABASE_PATH"].clone();
    let conn = rusqlite::Connection::open(&path).expect("opens");
    conn.execute("DELETE FROM conversations", [])
        .expect("rows removed");
    assert!(
        app.private_rooms(&alice).await.is_empty(),
        "the rows are what the list reads"
    );

    shared::store::sqlite::SqliteStore::open(std::path::Path::new(&path))
        .await
        .expect("reopens");
    assert_eq!(app.private_rooms(&alice).await, before);
    assert_eq!(app.private_rooms(&bob).await[0]["unreadCount"], 0);
}

/// Both rooms lists page with `limit` and `before` (the previous page's last activity): the pages
/// together are the whole list, in order, without repeats; no parameters: the whole list, as the
/// seed answered; a bad limit or time is a 400.
#[tokio::test]
async fn both_rooms_lists_page_with_limit_and_before() {
    on_each_backend(|app| async move {
        let me = app.register("pager").await;
        let mut partners = Vec::new();
        for n in 0..5 {
            let partner = app.register(&format!("partner{n}")).await;
            app.send_private(&partner, &me, &format!("hello {n}")).await;
            partners.push(partner);
        }
        for n in 0..3 {
            let group = app
                .create_group(&me, &format!("club{n}"), &[&partners[0]])
                .await;
            app.send(
                &me,
                json!({ "groupId": group, "message": format!("in club {n}") }),
            )
            .await;
        }
        for (path, total) in [
            (format!("/api/v1/chat/rooms/{}", me.id), 5),
            (format!("/api/v1/chat/group-rooms/{}", me.id), 3),
        ] {
            let whole = app.get_json(&path, &me.access_token).await;
            let whole: Vec<Value> = whole.as_array().expect("a list").clone();
            assert_eq!(whole.len(), total, "{path}: no parameters, every room");
            let mut paged = Vec::new();
            let mut before: Option<(String, String)> = None;
            loop {
                let query = match &before {
                    Some((at, room)) => format!("?limit=2&before={at}&beforeRoom={room}"),
                    None => "?limit=2".to_owned(),
                };
                let page = app
                    .get_json(&format!("{path}{query}"), &me.access_token)
                    .await;
                let page = page
                    .as_array()
                    .unwrap_or_else(|| panic!("a page: {page}"))
                    .clone();
                assert!(page.len() <= 2);
                let Some(last) = page.last() else { break };
                before = Some((
                    last["lastMessage"]["createdAt"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    last["chatRoomId"].as_str().unwrap().to_owned(),
                ));
                paged.extend(page);
            }
            let ids = |rooms: &[Value]| -> Vec<Value> {
                rooms
                    .iter()
                    .map(|room| room["chatRoomId"].clone())
                    .collect()
            };
            assert_eq!(ids(&paged), ids(&whole), "{path}: the pages are the list");
            for bad in ["?limit=0", "?limit=101", "?before=yesterday"] {
                let answer = app
                    .call(Method::GET, &format!("{path}{bad}"), &me.access_token, None)
                    .await;
                assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{path}{bad}");
            }
        }
    })
    .await;
}

//! SPEC §10's groundwork, on both adapters: muting a conversation (both rooms lists show it) and
//! registering push devices per session (ending the session removes them).

use chat_tests::{assert_error, on_each_backend, Account, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const DEVICES: &str = "/api/v1/users/me/push-subscriptions";
/// A 65-byte P-256 point (0x04 then 64 bytes) and a 16-byte secret, base64url.
const P256DH: &str =
    "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const AUTH: &str = "AAAAAAAAAAAAAAAAAAAAAA";

fn web_push(endpoint: &str) -> Value {
    json!({ "kind": "webpush", "endpoint": endpoint, "keys": { "p256dh": P256DH, "auth": AUTH } })
}

async fn devices(app: &TestApp, who: &Account) -> Vec<Value> {
    app.get_json(DEVICES, &who.access_token)
        .await
        .as_array()
        .expect("list")
        .clone()
}

#[tokio::test]
async fn a_muted_conversation_shows_in_both_rooms_lists_until_unmuted() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let sent = app.send_private(&alice, &bob, "hi").await;
        let room = sent["chatRoomId"].as_str().unwrap().to_owned();
        let group = app.create_group(&alice, "club", &[&bob]).await;
        app.send(&bob, json!({ "groupId": group, "message": "hello club" }))
            .await;
        let mute_path = |room: &str| format!("/api/v1/chat/rooms/{room}/mute");

        // Forever (no body), and a group until a time.
        let (status, state) = {
            let response = app
                .call(Method::PUT, &mute_path(&room), &alice.access_token, None)
                .await;
            (response.status(), response.json::<Value>().await.unwrap())
        };
        assert_eq!(status, StatusCode::OK, "{state}");
        assert_eq!(state, json!({ "chatRoomId": room, "muted": true }));
        let until = (shared::time::now() + chrono::Duration::hours(8)).to_rfc3339();
        let group_room = format!("group_{group}");
        let muted_group = app
            .call(
                Method::PUT,
                &mute_path(&group_room),
                &alice.access_token,
                Some(&json!({ "until": until })),
            )
            .await;
        assert_eq!(muted_group.status(), StatusCode::OK);

        let rooms = app.private_rooms(&alice).await;
        assert_eq!(rooms[0]["muted"], true, "{rooms:?}");
        assert_eq!(
            app.private_rooms(&bob).await[0]["muted"],
            false,
            "a mute is the caller's own"
        );
        let group_rooms = app
            .get_json(
                &format!("/api/v1/chat/group-rooms/{}", alice.id),
                &alice.access_token,
            )
            .await;
        assert_eq!(group_rooms[0]["muted"], true, "{group_rooms}");

        // Outsiders, non-conversations, past times and bad bodies are refused.
        let outsider = app
            .call(Method::PUT, &mute_path(&room), &carol.access_token, None)
            .await;
        assert_error(outsider, StatusCode::FORBIDDEN, &mute_path(&room)).await;
        let not_member = app
            .call(
                Method::PUT,
                &mute_path(&group_room),
                &carol.access_token,
                None,
            )
            .await;
        assert_error(not_member, StatusCode::FORBIDDEN, &mute_path(&group_room)).await;
        let user_room = format!("user_{}", alice.id);
        let not_a_room = app
            .call(
                Method::PUT,
                &mute_path(&user_room),
                &alice.access_token,
                None,
            )
            .await;
        assert_error(not_a_room, StatusCode::BAD_REQUEST, &mute_path(&user_room)).await;
        let past = app
            .call(
                Method::PUT,
                &mute_path(&room),
                &alice.access_token,
                Some(&json!({ "until": "2020-01-01T00:00:00Z" })),
            )
            .await;
        assert_error(past, StatusCode::BAD_REQUEST, &mute_path(&room)).await;
        let unknown = app
            .call(
                Method::PUT,
                &mute_path(&room),
                &alice.access_token,
                Some(&json!({ "forever": true })),
            )
            .await;
        assert_error(unknown, StatusCode::BAD_REQUEST, &mute_path(&room)).await;

        // Unmuting is idempotent and shows at once.
        for _ in 0..2 {
            let unmuted = app
                .call(Method::DELETE, &mute_path(&room), &alice.access_token, None)
                .await;
            assert_eq!(unmuted.status(), StatusCode::OK);
        }
        assert_eq!(app.private_rooms(&alice).await[0]["muted"], false);
    })
    .await;
}

#[tokio::test]
async fn push_devices_belong_to_their_session_and_go_with_it() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let laptop: Value = app.login(&alice.email).await.json().await.unwrap();
        let laptop = Account::from_auth_body(&laptop);
        let bob = app.register("bob").await;

        let browser = app
            .call(Method::POST, DEVICES, &alice.access_token, Some(&web_push("http://127.0.0.1:9/push/1")))
            .await;
        assert_eq!(browser.status(), StatusCode::CREATED);
        let browser: Value = browser.json().await.unwrap();
        assert_eq!(browser["kind"], "webpush");
        assert_eq!(browser["current"], true);
        assert!(browser.get("keys").is_none(), "keys are not echoed: {browser}");
        // The same device again: the same registration, 200.
        let again = app
            .call(Method::POST, DEVICES, &alice.access_token, Some(&web_push("http://127.0.0.1:9/push/1")))
            .await;
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(again.json::<Value>().await.unwrap()["subscriptionId"], browser["subscriptionId"]);
        let phone = app
            .call(
                Method::POST,
                DEVICES,
                &laptop.access_token,
                Some(&json!({ "kind": "webhook-token", "token": "fcm-token-1", "platform": "fcm" })),
            )
            .await;
        assert_eq!(phone.status(), StatusCode::CREATED);
        let listed = devices(&app, &alice).await;
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(listed[1]["platform"], "fcm");
        assert!(devices(&app, &bob).await.is_empty(), "only one's own");

        // Someone else's id is not found; ending the laptop's session removes its device.
        let browser_id = browser["subscriptionId"].as_str().unwrap();
        let path = format!("{DEVICES}/{browser_id}");
        let stranger = app.call(Method::DELETE, &path, &bob.access_token, None).await;
        assert_error(stranger, StatusCode::NOT_FOUND, &path).await;
        let logout = app.post_with_token("/api/v1/auth/logout", &laptop.access_token, None).await;
        assert_eq!(logout.status(), StatusCode::OK);
        let listed = devices(&app, &alice).await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["kind"], "webpush");
        let removed = app.call(Method::DELETE, &path, &alice.access_token, None).await;
        assert_eq!(removed.status(), StatusCode::OK);
        assert!(devices(&app, &alice).await.is_empty());

        // Bad registrations list every problem and store nothing.
        for (body, problem) in [
            (web_push("ftp://push.example.com/x"), "endpoint"),
            (web_push("http://push.example.com/x"), "endpoint"),
            (json!({ "kind": "webpush", "endpoint": "https://push.example.com/x", "keys": { "p256dh": "short", "auth": AUTH } }), "p256dh"),
            (json!({ "kind": "webpush", "endpoint": "https://push.example.com/x", "keys": { "p256dh": P256DH, "auth": "x" } }), "auth"),
            (json!({ "kind": "webhook-token", "token": "", "platform": "fcm" }), "token"),
            (json!({ "kind": "webhook-token", "token": "t", "platform": "Not A Platform" }), "platform"),
            (json!({ "kind": "carrier-pigeon" }), "kind"),
        ] {
            let refused = app.call(Method::POST, DEVICES, &alice.access_token, Some(&body)).await;
            let error = assert_error(refused, StatusCode::BAD_REQUEST, DEVICES).await;
            assert!(error["message"].to_string().contains(problem), "{problem}: {error}");
        }
        assert!(devices(&app, &alice).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn devices_per_user_are_limited() {
    for backend in chat_tests::Backend::configured() {
        let app =
            chat_tests::spawn_app_with(&backend, &[("PUSH_SUBSCRIPTIONS_PER_USER_MAX", "2")]).await;
        let alice = app.register("alice").await;
        for i in 0..2 {
            let added = app
                .call(
                    Method::POST,
                    DEVICES,
                    &alice.access_token,
                    Some(&web_push(&format!("https://push.example.com/{i}"))),
                )
                .await;
            assert_eq!(added.status(), StatusCode::CREATED);
        }
        let third = app
            .call(
                Method::POST,
                DEVICES,
                &alice.access_token,
                Some(&web_push("https://push.example.com/3")),
            )
            .await;
        assert_error(third, StatusCode::CONFLICT, DEVICES).await;
        // The same device again is not a new one.
        let again = app
            .call(
                Method::POST,
                DEVICES,
                &alice.access_token,
                Some(&web_push("https://push.example.com/1")),
            )
            .await;
        assert_eq!(again.status(), StatusCode::OK);
    }
}

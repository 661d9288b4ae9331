//! A MongoDB database written by the NestJS service we replace: its documents lack the fields this
//! adapter adds (`usernameLower`, `firstNameLower`, `groupNameLower`, `isOnline`, `lastSeen`, and
//! `readBy` on old messages). At start-up they are filled in; before, such a user could not be
//! decoded and the group rooms query failed on `$in` over a missing `readBy`.

use bson::{doc, oid::ObjectId, DateTime};
use chat_tests::{spawn_app_with, Backend, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn documents_of_the_nestjs_service_are_backfilled_and_served() {
    let backend = Backend::mongo();
    let Backend::Mongo { uri } = &backend else {
        unreachable!()
    };
    let database_name = format!("chat_test_legacy_{}", ObjectId::new());
    let client = mongodb::Client::with_uri_str(uri)
        .await
        .expect("driver connects");
    let legacy = client.database(&database_name);
    let (user, other, group) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    let now = DateTime::now();
    let password = shared::auth::password::hash(PASSWORD.into(), 4)
        .await
        .expect("hash");
    legacy
        .collection("users")
        .insert_many([
            doc! { "_id": user, "username": "Émile", "email": "emile@example.com",
            "password": &password, "firstName": "Émile", "createdAt": now, "updatedAt": now },
            doc! { "_id": other, "username": "zoe", "email": "zoe@example.com",
            "password": &password, "createdAt": now, "updatedAt": now },
        ])
        .await
        .expect("legacy users");
    legacy
        .collection("groups")
        .insert_one(doc! {
            "_id": group, "groupName": "Legacy Team", "createdBy": user, "members": [user, other],
            "admins": [user], "isActive": true, "createdAt": now, "updatedAt": now,
        })
        .await
        .expect("legacy group");
    legacy
        .collection("messages")
        .insert_one(doc! {
            "_id": ObjectId::new(), "chatRoomId": format!("group_{group}"), "messageId": "legacy-1",
            "chatType": "GROUP", "sender": other, "groupId": group, "message": "from before",
            "status": "SENT", "createdAt": now, "updatedAt": now,
        })
        .await
        .expect("legacy message");

    let app = spawn_app_with(&backend, &[("MONGO_DB", database_name.as_str())]).await;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "emile@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK, "a migrated user logs in");
    let token = login.json::<Value>().await.expect("json")["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let found = app.get_json("/api/v1/users/search?q=zo", &token).await;
    assert_eq!(
        found[0]["username"], "zoe",
        "search finds migrated users: {found}"
    );
    let rooms = app
        .get_json(&format!("/api/v1/chat/group-rooms/{user}"), &token)
        .await;
    assert_eq!(rooms[0]["lastMessage"]["messageId"], "legacy-1", "{rooms}");
    assert_eq!(rooms[0]["unreadCount"], 1, "{rooms}");
    // Names stay unique case-insensitively over migrated groups too.
    let taken = app
        .call(
            reqwest::Method::POST,
            "/api/v1/chat/group",
            &token,
            Some(&json!({ "groupName": "legacy team", "members": [] })),
        )
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
}

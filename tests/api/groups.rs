//! Groups: creation, membership rules, admin actions, details, search, group messages and receipts.

use chat_tests::{assert_error, on_each_backend, Account, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn group_path(id: &str) -> String {
    format!("/api/v1/chat/group/{id}")
}

async fn details(app: &TestApp, who: &Account, id: &str) -> reqwest::Response {
    app.call(Method::GET, &group_path(id), &who.access_token, None)
        .await
}

async fn add(app: &TestApp, who: &Account, group: &str, user: &str) -> reqwest::Response {
    let path = format!("{}/member", group_path(group));
    app.call(
        Method::POST,
        &path,
        &who.access_token,
        Some(&json!({ "userId": user })),
    )
    .await
}

async fn remove(app: &TestApp, who: &Account, group: &str, user: &str) -> reqwest::Response {
    let path = format!("{}/member/{user}", group_path(group));
    app.call(Method::DELETE, &path, &who.access_token, None)
        .await
}

fn ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_creator_is_member_and_admin_and_members_are_deduplicated() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let response = app
            .call(
                Method::POST,
                "/api/v1/chat/group",
                &alice.access_token,
                Some(
                    &json!({ "groupName": "Project Developers", "groupDescription": "team",
                                "members": [bob.id, bob.id, alice.id] }),
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let group: Value = response.json().await.unwrap();
        assert_eq!(group["groupId"], group["_id"]);
        assert_eq!(ids(&group["members"]), [alice.id.as_str(), bob.id.as_str()]);
        assert_eq!(ids(&group["admins"]), [alice.id.as_str()]);
        assert_eq!(group["createdBy"], alice.id.as_str());
        assert_eq!(group["isActive"], true);

        let taken = app
            .call(
                Method::POST,
                "/api/v1/chat/group",
                &bob.access_token,
                Some(&json!({ "groupName": "project developers" })),
            )
            .await;
        assert_error(taken, StatusCode::CONFLICT, "/api/v1/chat/group").await;
        let ghost = app
            .call(
                Method::POST,
                "/api/v1/chat/group",
                &bob.access_token,
                Some(&json!({ "groupName": "Ghosts", "members": ["507f1f77bcf86cd799439011"] })),
            )
            .await;
        assert_error(ghost, StatusCode::BAD_REQUEST, "/api/v1/chat/group").await;
        let bad = app
            .call(
                Method::POST,
                "/api/v1/chat/group",
                &bob.access_token,
                Some(&json!({ "groupName": "", "members": ["nope"] })),
            )
            .await;
        assert_error(bad, StatusCode::BAD_REQUEST, "/api/v1/chat/group").await;
        let listed: Vec<Value> = app
            .call(
                Method::GET,
                &format!("/api/v1/chat/user/{}/groups", bob.id),
                &bob.access_token,
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "refused creations made nothing");
    })
    .await;
}

#[tokio::test]
async fn details_are_for_members_only_with_member_profiles() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        let group = app.create_group(&alice, "Team", &[&bob]).await;
        let response = details(&app, &bob, &group).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let names: Vec<&str> = body["memberProfiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        assert!(body["memberProfiles"][0].get("email").is_none());
        assert_error(
            details(&app, &eve, &group).await,
            StatusCode::FORBIDDEN,
            &group_path(&group),
        )
        .await;
        let missing = group_path("507f1f77bcf86cd799439011");
        assert_error(
            details(&app, &bob, "507f1f77bcf86cd799439011").await,
            StatusCode::NOT_FOUND,
            &missing,
        )
        .await;
        assert_error(
            details(&app, &bob, "xyz").await,
            StatusCode::BAD_REQUEST,
            &group_path("xyz"),
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn only_admins_update_add_remove_and_delete() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let group = app.create_group(&alice, "Team", &[&bob]).await;
        let path = group_path(&group);

        let by_member = app
            .call(
                Method::PUT,
                &path,
                &bob.access_token,
                Some(&json!({ "groupName": "Mine" })),
            )
            .await;
        assert_error(by_member, StatusCode::FORBIDDEN, &path).await;
        assert_error(
            add(&app, &bob, &group, &carol.id).await,
            StatusCode::FORBIDDEN,
            &format!("{path}/member"),
        )
        .await;
        let member_path = format!("{path}/member/{}", alice.id);
        assert_error(
            remove(&app, &bob, &group, &alice.id).await,
            StatusCode::FORBIDDEN,
            &member_path,
        )
        .await;
        assert_error(
            app.call(Method::DELETE, &path, &bob.access_token, None)
                .await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;

        let renamed = app
            .call(
                Method::PUT,
                &path,
                &alice.access_token,
                Some(&json!({ "groupName": "Renamed", "groupDescription": null })),
            )
            .await;
        assert_eq!(renamed.status(), StatusCode::OK);
        assert_eq!(
            renamed.json::<Value>().await.unwrap()["groupName"],
            "Renamed"
        );

        let added = add(&app, &alice, &group, &carol.id).await;
        assert_eq!(added.status(), StatusCode::OK);
        assert_eq!(
            ids(&added.json::<Value>().await.unwrap()["members"]).len(),
            3
        );
        assert_error(
            add(&app, &alice, &group, &carol.id).await,
            StatusCode::CONFLICT,
            &format!("{path}/member"),
        )
        .await;
        assert_error(
            add(&app, &alice, &group, "507f1f77bcf86cd799439011").await,
            StatusCode::NOT_FOUND,
            &format!("{path}/member"),
        )
        .await;
        let injected = app
            .call(
                Method::POST,
                &format!("{path}/member"),
                &alice.access_token,
                Some(&json!({ "userId": { "$ne": "" } })),
            )
            .await;
        assert_error(injected, StatusCode::BAD_REQUEST, &format!("{path}/member")).await;

        let removed = remove(&app, &alice, &group, &carol.id).await;
        assert_eq!(removed.status(), StatusCode::OK);
        assert_error(
            details(&app, &carol, &group).await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;

        let deleted = app
            .call(Method::DELETE, &path, &alice.access_token, None)
            .await;
        assert_eq!(deleted.status(), StatusCode::OK);
        assert_error(
            details(&app, &alice, &group).await,
            StatusCode::NOT_FOUND,
            &path,
        )
        .await;
        let listed: Vec<Value> = app
            .call(
                Method::GET,
                &format!("/api/v1/chat/user/{}/groups", alice.id),
                &alice.access_token,
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(listed.is_empty(), "a deleted group is not listed");
    })
    .await;
}

#[tokio::test]
async fn members_may_leave_but_the_last_admin_must_hand_over_first() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let group = app.create_group(&alice, "Team", &[&bob]).await;
        let leave_path = format!("{}/member/{}", group_path(&group), alice.id);
        assert_error(
            remove(&app, &alice, &group, &alice.id).await,
            StatusCode::CONFLICT,
            &leave_path,
        )
        .await;

        let handover = app
            .call(
                Method::PUT,
                &group_path(&group),
                &alice.access_token,
                Some(&json!({ "admins": [bob.id] })),
            )
            .await;
        assert_eq!(handover.status(), StatusCode::OK);
        assert_eq!(
            ids(&handover.json::<Value>().await.unwrap()["admins"]),
            [bob.id.as_str()]
        );
        let outsider = app
            .call(
                Method::PUT,
                &group_path(&group),
                &bob.access_token,
                Some(&json!({ "admins": ["507f1f77bcf86cd799439011"] })),
            )
            .await;
        assert_error(outsider, StatusCode::BAD_REQUEST, &group_path(&group)).await;

        let left = remove(&app, &alice, &group, &alice.id).await;
        assert_eq!(left.status(), StatusCode::OK);
        let group_after: Value = details(&app, &bob, &group).await.json().await.unwrap();
        assert_eq!(ids(&group_after["members"]), [bob.id.as_str()]);
        let gone = format!("{}/member/{}", group_path(&group), alice.id);
        assert_error(
            remove(&app, &bob, &group, &alice.id).await,
            StatusCode::NOT_FOUND,
            &gone,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn user_groups_are_for_the_user_only() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let eve = app.register("eve").await;
        app.create_group(&alice, "Team", &[]).await;
        let path = format!("/api/v1/chat/user/{}/groups", alice.id);
        assert_error(
            app.call(Method::GET, &path, &eve.access_token, None).await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
        let rooms = format!("/api/v1/chat/group-rooms/{}", alice.id);
        assert_error(
            app.call(Method::GET, &rooms, &eve.access_token, None).await,
            StatusCode::FORBIDDEN,
            &rooms,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn search_finds_active_groups_by_substring_literally() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        app.create_group(&alice, "Rust Developers", &[]).await;
        app.create_group(&alice, "Trusted (a.k.a. core)", &[]).await;
        let gone = app.create_group(&alice, "Rusty Old", &[]).await;
        app.call(
            Method::DELETE,
            &group_path(&gone),
            &alice.access_token,
            None,
        )
        .await;

        let search = |q: &'static str| {
            let app = &app;
            let token = alice.access_token.clone();
            async move {
                let response = app
                    .client
                    .get(app.url("/api/v1/chat/groups/search"))
                    .query(&[("q", q)])
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{q}");
                let found: Vec<Value> = response.json().await.unwrap();
                found
                    .iter()
                    .map(|g| g["groupName"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            search("RUST").await,
            ["Rust Developers", "Trusted (a.k.a. core)"]
        );
        assert_eq!(search("(a.k").await, ["Trusted (a.k.a. core)"]);
        assert!(search(".*").await.is_empty());
        assert!(search("%").await.is_empty());
        let hit: Value = app
            .client
            .get(app.url("/api/v1/chat/groups/search"))
            .query(&[("q", "dev")])
            .bearer_auth(&alice.access_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            hit[0].get("members").is_none(),
            "search shows no member list"
        );
        let path = "/api/v1/chat/groups/search";
        assert_error(
            app.call(Method::GET, path, &alice.access_token, None).await,
            StatusCode::BAD_REQUEST,
            path,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn group_messages_need_membership_and_read_receipts_collect_readers() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        let eve = app.register("eve").await;
        let group = app.create_group(&alice, "Team", &[&bob, &carol]).await;
        let message = app
            .send(
                &alice,
                json!({ "chatRoomId": format!("group_{group}"), "chatType": "GROUP",
                                  "groupId": group, "message": "Great work!" }),
            )
            .await;
        assert_eq!(message["chatRoomId"], format!("group_{group}"));
        assert!(message.get("receiver").is_none());

        let outsider = app
            .call(
                Method::POST,
                "/api/v1/chat/message",
                &eve.access_token,
                Some(&json!({ "chatType": "GROUP", "groupId": group, "message": "hi" })),
            )
            .await;
        assert_error(outsider, StatusCode::FORBIDDEN, "/api/v1/chat/message").await;
        let fetch = app
            .call(
                Method::POST,
                "/api/v1/chat/messages/fetch",
                &eve.access_token,
                Some(&json!({ "groupId": group })),
            )
            .await;
        assert_error(fetch, StatusCode::FORBIDDEN, "/api/v1/chat/messages/fetch").await;

        let id = message["messageId"].as_str().unwrap();
        let status_path = format!("/api/v1/chat/message/{id}/status");
        let read_body = json!({ "status": "READ" });
        let read = |who: &Account| {
            let token = who.access_token.clone();
            let (app, path, body) = (&app, &status_path, &read_body);
            async move { app.call(Method::PUT, path, &token, Some(body)).await }
        };
        assert_error(read(&alice).await, StatusCode::FORBIDDEN, &status_path).await;
        assert_error(read(&eve).await, StatusCode::FORBIDDEN, &status_path).await;
        let by_bob: Value = read(&bob).await.json().await.unwrap();
        assert_eq!(by_bob["status"], "READ");
        assert_eq!(ids(&by_bob["readBy"]), [bob.id.as_str()]);
        let again: Value = read(&bob).await.json().await.unwrap();
        assert_eq!(ids(&again["readBy"]), [bob.id.as_str()], "added once");
        let by_carol: Value = read(&carol).await.json().await.unwrap();
        assert_eq!(
            ids(&by_carol["readBy"]),
            [bob.id.as_str(), carol.id.as_str()]
        );
        // A member's client reporting delivery after others read is normal: no conflict.
        let delivered = app
            .call(
                Method::PUT,
                &status_path,
                &carol.access_token,
                Some(&json!({ "status": "DELIVERED" })),
            )
            .await;
        assert_eq!(delivered.status(), StatusCode::OK);
        let delivered: Value = delivered.json().await.unwrap();
        assert_eq!(delivered["status"], "READ", "and nothing moves back");

        // A removed member can no longer send to or read the group.
        remove(&app, &alice, &group, &carol.id).await;
        let after = app
            .call(
                Method::POST,
                "/api/v1/chat/message",
                &carol.access_token,
                Some(&json!({ "groupId": group, "message": "still here?" })),
            )
            .await;
        assert_error(after, StatusCode::FORBIDDEN, "/api/v1/chat/message").await;
    })
    .await;
}

#[tokio::test]
async fn group_rooms_list_latest_message_and_unread_for_the_caller() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let quiet = app.create_group(&alice, "Quiet", &[&bob]).await;
        let busy = app.create_group(&alice, "Busy", &[&bob]).await;
        for text in ["one", "two", "three"] {
            app.send(&alice, json!({ "groupId": busy, "message": text }))
                .await;
        }
        let mine = app
            .send(&bob, json!({ "groupId": busy, "message": "bob's" }))
            .await;
        let path = format!("/api/v1/chat/group-rooms/{}", bob.id);
        let rooms: Vec<Value> = app
            .call(Method::GET, &path, &bob.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rooms.len(), 2);
        assert_eq!(
            rooms[0]["group"]["_id"],
            busy.as_str(),
            "most recent activity first"
        );
        assert_eq!(rooms[0]["chatRoomId"], format!("group_{busy}"));
        assert_eq!(rooms[0]["lastMessage"]["messageId"], mine["messageId"]);
        assert_eq!(
            rooms[0]["unreadCount"], 3,
            "bob's own message is not unread"
        );
        assert_eq!(rooms[1]["group"]["_id"], quiet.as_str());
        assert!(rooms[1]["lastMessage"].is_null());
        assert_eq!(rooms[1]["unreadCount"], 0);

        let first: Value = app
            .call(
                Method::POST,
                "/api/v1/chat/messages/fetch",
                &bob.access_token,
                Some(&json!({ "groupId": busy, "limit": 100 })),
            )
            .await
            .json()
            .await
            .unwrap();
        let oldest = first["messages"].as_array().unwrap().last().unwrap()["messageId"]
            .as_str()
            .unwrap()
            .to_owned();
        app.call(
            Method::PUT,
            &format!("/api/v1/chat/message/{oldest}/status"),
            &bob.access_token,
            Some(&json!({ "status": "READ" })),
        )
        .await;
        let rooms: Vec<Value> = app
            .call(Method::GET, &path, &bob.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rooms[0]["unreadCount"], 2);
        let alice_rooms: Vec<Value> = app
            .call(
                Method::GET,
                &format!("/api/v1/chat/group-rooms/{}", alice.id),
                &alice.access_token,
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            alice_rooms[0]["unreadCount"], 1,
            "alice has bob's message unread"
        );
    })
    .await;
}

/// Nobody can be put in thousands of groups or groups grow past their cap: the member cap holds on
/// additions too, a user's groups are capped, and creating and adding are rate-limited per user.
#[tokio::test]
async fn group_growth_is_capped_and_rate_limited() {
    for backend in chat_tests::Backend::configured() {
        let app = chat_tests::spawn_app_with(
            &backend,
            &[
                ("GROUP_MEMBERS_MAX", "3"),
                ("GROUPS_PER_USER_MAX", "2"),
                ("GROUP_RATE_LIMIT_MAX", "3"),
                ("GROUP_RATE_LIMIT_WINDOW", "1h"),
            ],
        )
        .await;
        let owner = app.register("owner").await;
        let a = app.register("anna").await;
        let b = app.register("boris").await;
        let c = app.register("cleo").await;
        let victim = app.register("victim").await;
        let create = |by: &Account, name: &str, members: Vec<String>| {
            let (app, token, name) = (&app, by.access_token.clone(), name.to_owned());
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/chat/group",
                    &token,
                    Some(&json!({ "groupName": name, "members": members })),
                )
                .await
                .status()
            }
        };

        let full = app.create_group(&owner, "full", &[&a, &b]).await;
        let path = format!("/api/v1/chat/group/{full}/member");
        let over = app
            .call(
                Method::POST,
                &path,
                &owner.access_token,
                Some(&json!({ "userId": victim.id })),
            )
            .await;
        assert_eq!(
            over.status(),
            StatusCode::CONFLICT,
            "the member cap holds on add"
        );

        assert_eq!(
            create(&a, "g1", vec![victim.id.clone()]).await,
            StatusCode::CREATED
        );
        assert_eq!(
            create(&b, "g2", vec![victim.id.clone()]).await,
            StatusCode::CREATED
        );
        assert_eq!(
            create(&c, "g3", vec![victim.id.clone()]).await,
            StatusCode::CONFLICT,
            "the victim is in the maximum of 2 groups"
        );
        assert_eq!(create(&owner, "solo", vec![]).await, StatusCode::CREATED);
        assert_eq!(
            create(&owner, "solo2", vec![]).await,
            StatusCode::TOO_MANY_REQUESTS,
            "the fourth group write of the owner is over the budget"
        );
    }
}

/// SPEC §7 group read marker: one call reads everything from others; unread counts follow.
#[tokio::test]
async fn the_group_read_marker_reads_everything_from_others_once() {
    on_each_backend(|app| async move {
        let owner = app.register("owner").await;
        let bob = app.register("bob").await;
        let stranger = app.register("stranger").await;
        let group = app.create_group(&owner, "readers", &[&bob]).await;
        let send = |who: &Account, text: &str| {
            let body = json!({ "chatType": "GROUP", "groupId": group, "message": text });
            let (app, who) = (&app, who.clone());
            async move { app.send(&who, body).await }
        };
        send(&bob, "one").await;
        send(&bob, "two").await;
        let gone = send(&bob, "three").await;
        send(&owner, "mine").await;
        let deleted = app
            .call(
                Method::DELETE,
                &format!(
                    "/api/v1/chat/message/{}",
                    gone["messageId"].as_str().unwrap()
                ),
                &bob.access_token,
                None,
            )
            .await;
        assert_eq!(deleted.status(), StatusCode::OK);
        let unread = |who: &Account| {
            let path = format!("/api/v1/chat/group-rooms/{}", who.id);
            let (app, token) = (&app, who.access_token.clone());
            async move { app.get_json(&path, &token).await[0]["unreadCount"].clone() }
        };
        assert_eq!(unread(&owner).await, 2, "the deleted message is not unread");

        let path = format!("/api/v1/chat/group/{group}/read");
        let marked: Value = app
            .call(Method::PUT, &path, &owner.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(marked["modifiedCount"], 2);
        assert_eq!(unread(&owner).await, 0);
        assert_eq!(
            unread(&bob).await,
            1,
            "bob has not read the owner's message"
        );
        let again: Value = app
            .call(Method::PUT, &path, &owner.access_token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["modifiedCount"], 0);
        assert_error(
            app.call(Method::PUT, &path, &stranger.access_token, None)
                .await,
            StatusCode::FORBIDDEN,
            &path,
        )
        .await;
    })
    .await;
}

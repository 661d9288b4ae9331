//! The users function: profile, discovery, password and sessions.

use chat_tests::{assert_error, on_each_backend, spawn_app, Account, Backend, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

const ME: &str = "/api/v1/users/me";
const SESSIONS: &str = "/api/v1/users/me/sessions";
const PASSWORD_PATH: &str = "/api/v1/users/me/password";

async fn get_as(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn patch_me(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(ME))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn search(app: &TestApp, token: &str, q: &str) -> Vec<Value> {
    let response = app
        .client
        .get(app.url("/api/v1/users/search"))
        .query(&[("q", q)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "search {q}");
    response.json::<Vec<Value>>().await.unwrap()
}

fn usernames(found: &[Value]) -> Vec<String> {
    found
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

async fn login_as(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/login",
        &json!({ "email": email, "password": password }),
    )
    .await
}

async fn refresh(app: &TestApp, account: &Account) -> StatusCode {
    app.post_json(
        "/api/v1/auth/refresh",
        &json!({ "refreshToken": account.refresh_token }),
    )
    .await
    .status()
}

#[tokio::test]
async fn me_is_the_callers_own_profile() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let response = get_as(&app, ME, &alice.access_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["_id"], alice.id.as_str());
        assert_eq!(body["email"], "alice@example.com");
        assert!(body.get("password").is_none());

        let anonymous = app.get(ME).await;
        assert_error(anonymous, StatusCode::UNAUTHORIZED, ME).await;
    })
    .await;
}

#[tokio::test]
async fn profile_updates_apply_clear_and_refuse_bad_input() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        app.register("bob").await;

        let response = patch_me(
            &app,
            &alice.access_token,
            json!({ "firstName": " Alice ", "lastName": "Liddell",
                    "avatar": "https://cdn.example.com/a.png", "username": "alice_l" }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["firstName"], "Alice");
        assert_eq!(body["username"], "alice_l");
        assert_eq!(body["avatar"], "https://cdn.example.com/a.png");
        assert!(body["updatedAt"].as_str().unwrap() >= body["createdAt"].as_str().unwrap());

        let cleared = patch_me(&app, &alice.access_token, json!({ "avatar": null })).await;
        let body: Value = cleared.json().await.unwrap();
        assert!(body["avatar"].is_null());
        assert_eq!(body["lastName"], "Liddell", "fields left out are kept");

        let taken = patch_me(&app, &alice.access_token, json!({ "username": "BOB" })).await;
        assert_error(taken, StatusCode::CONFLICT, ME).await;
        let bad = patch_me(
            &app,
            &alice.access_token,
            json!({ "avatar": "javascript:alert(1)", "firstName": "" }),
        )
        .await;
        let body = assert_error(bad, StatusCode::BAD_REQUEST, ME).await;
        assert_eq!(body["message"].as_array().unwrap().len(), 2, "{body}");
        let unknown = patch_me(
            &app,
            &alice.access_token,
            json!({ "email": "x@example.com" }),
        )
        .await;
        assert_error(unknown, StatusCode::BAD_REQUEST, ME).await;
        let operator = patch_me(
            &app,
            &alice.access_token,
            json!({ "username": { "$ne": 1 } }),
        )
        .await;
        assert_error(operator, StatusCode::BAD_REQUEST, ME).await;

        // None of the refused requests changed anything.
        let me: Value = get_as(&app, ME, &alice.access_token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], "alice_l");
        assert_eq!(me["email"], "alice@example.com");
        assert!(me["avatar"].is_null());
        assert_eq!(me["firstName"], "Alice");
    })
    .await;
}

#[tokio::test]
async fn public_profiles_show_no_private_fields() {
    on_each_backend(|app| async move {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let path = format!("/api/v1/users/{}", bob.id);
        let response = get_as(&app, &path, &alice.access_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["_id"], bob.id.as_str());
        assert_eq!(body["username"], "bob");
        assert_eq!(body["isOnline"], false);
        assert!(body["lastSeen"].is_string());
        assert!(body.get("email").is_none() && body.get("password").is_none());

        let missing = "/api/v1/users/507f1f77bcf86cd799439011";
        assert_error(
            get_as(&app, missing, &alice.access_token).await,
            StatusCode::NOT_FOUND,
            missing,
        )
        .await;
        let bad = "/api/v1/users/not-an-id";
        assert_error(
            get_as(&app, bad, &alice.access_token).await,
            StatusCode::BAD_REQUEST,
            bad,
        )
        .await;
        assert_error(app.get(&path).await, StatusCode::UNAUTHORIZED, &path).await;
    })
    .await;
}

#[tokio::test]
async fn search_finds_by_username_or_name_prefix_case_insensitively() {
    on_each_backend(|app| async move {
        let me = app.register("searcher").await;
        app.register("johnny").await;
        app.register("john.doe").await;
        let mary = app.register("mary").await;
        patch_me(
            &app,
            &mary.access_token,
            json!({ "firstName": "Johanna", "lastName": "Smith" }),
        )
        .await;
        app.register("other").await;

        assert_eq!(
            usernames(&search(&app, &me.access_token, "JOH").await),
            ["john.doe", "johnny", "mary"]
        );
        assert_eq!(
            usernames(&search(&app, &me.access_token, "smi").await),
            ["mary"]
        );
        assert_eq!(
            usernames(&search(&app, &me.access_token, "john.").await),
            ["john.doe"]
        );
        // Regex and LIKE metacharacters match literally.
        for q in ["jo.n", ".*", "j%", "j_hn", "^", "(", "\\"] {
            assert!(search(&app, &me.access_token, q).await.is_empty(), "{q}");
        }
        // The caller is never in the results; results carry public profiles only.
        let found = search(&app, &me.access_token, "s").await;
        assert!(!usernames(&found).contains(&"searcher".to_owned()));
        assert!(found.iter().all(|u| u.get("email").is_none()));
    })
    .await;
}

#[tokio::test]
async fn search_is_bounded_and_validated() {
    on_each_backend(|app| async move {
        let me = app.register("caller").await;
        for i in 0..23 {
            app.register(&format!("user{i:02}")).await;
        }
        assert_eq!(search(&app, &me.access_token, "user").await.len(), 20);
        let path = "/api/v1/users/search";
        let missing = get_as(&app, path, &me.access_token).await;
        assert_error(missing, StatusCode::BAD_REQUEST, path).await;
        let long = format!("{path}?q={}", "a".repeat(51));
        assert_error(
            get_as(&app, &long, &me.access_token).await,
            StatusCode::BAD_REQUEST,
            path,
        )
        .await;
        let blank = format!("{path}?q=%20%20");
        assert_error(
            get_as(&app, &blank, &me.access_token).await,
            StatusCode::BAD_REQUEST,
            path,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn sqlite_search_uses_indexes_not_a_table_scan() {
    let app = spawn_app(&Backend::Sqlite).await;
    app.register("someone").await;
    let path = match &app.ctx.config.storage {
        shared::config::Storage::Sqlite { path } => path.clone(),
        shared::config::Storage::Mongo { .. } => unreachable!(),
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT id FROM users WHERE {}",
        shared::store::sqlite::SEARCH_USERS_WHERE
    );
    let mut statement = conn.prepare(&sql).unwrap();
    let plan: Vec<String> = statement
        .query_map(
            rusqlite::params!["so", "so\u{10FFFF}", "507f1f77bcf86cd799439011", 20_i64],
            |row| row.get(3),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let details: Vec<&str> = plan.iter().map(String::as_str).collect();
    assert!(
        details.iter().all(|d| !d.starts_with("SCAN users")),
        "full scan in {details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("USING INDEX")),
        "{details:?}"
    );
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_ends_other_sessions() {
    on_each_backend(|app| async move {
        let phone = app.register("alice").await;
        let laptop = Account::from_auth_body(
            &login_as(&app, &phone.email, PASSWORD)
                .await
                .json()
                .await
                .unwrap(),
        );

        let wrong = app
            .post_with_token(
                PASSWORD_PATH,
                &phone.access_token,
                Some(&json!({ "currentPassword": "WrongPass1!", "newPassword": "NewSecret123!" })),
            )
            .await;
        assert_error(wrong, StatusCode::FORBIDDEN, PASSWORD_PATH).await;
        assert_eq!(
            login_as(&app, &phone.email, PASSWORD).await.status(),
            StatusCode::OK
        );

        let weak = app
            .post_with_token(
                PASSWORD_PATH,
                &phone.access_token,
                Some(&json!({ "currentPassword": PASSWORD, "newPassword": "short" })),
            )
            .await;
        assert_error(weak, StatusCode::BAD_REQUEST, PASSWORD_PATH).await;

        let changed = app
            .post_with_token(
                PASSWORD_PATH,
                &phone.access_token,
                Some(&json!({ "currentPassword": PASSWORD, "newPassword": "NewSecret123!" })),
            )
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
        assert_eq!(
            refresh(&app, &laptop).await,
            StatusCode::UNAUTHORIZED,
            "other session ended"
        );
        assert_eq!(
            refresh(&app, &phone).await,
            StatusCode::OK,
            "this session goes on"
        );
        assert_eq!(
            login_as(&app, &phone.email, PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            login_as(&app, &phone.email, "NewSecret123!").await.status(),
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn password_change_is_rate_limited() {
    let app = spawn_app(&Backend::Sqlite).await;
    let alice = app.register("alice").await;
    let body = json!({ "currentPassword": "Wrong1234!", "newPassword": "NewSecret123!" });
    let attempt = || app.post_with_token(PASSWORD_PATH, &alice.access_token, Some(&body));
    for _ in 0..5 {
        assert_eq!(attempt().await.status(), StatusCode::FORBIDDEN);
    }
    let limited = attempt().await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, PASSWORD_PATH).await;
}

#[tokio::test]
async fn sessions_are_listed_and_one_can_be_ended_from_another_device() {
    on_each_backend(|app| async move {
        let phone = app.register("alice").await;
        let laptop_login = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("user-agent", "Laptop Browser/1.0")
            .json(&json!({ "email": phone.email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        let laptop = Account::from_auth_body(&laptop_login.json().await.unwrap());

        let listed: Vec<Value> = get_as(&app, SESSIONS, &phone.access_token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
        let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
        assert_eq!(current.len(), 1);
        let laptop_session = listed
            .iter()
            .find(|s| s["userAgent"] == "Laptop Browser/1.0")
            .expect("laptop session listed");
        assert_eq!(laptop_session["current"], false);
        assert!(laptop_session["lastUsedAt"].is_string() && laptop_session["ip"].is_string());

        // Someone else cannot end it (and learns nothing), and a bad id is a 400.
        let mallory = app.register("mallory").await;
        let path = format!("{SESSIONS}/{}", laptop_session["id"].as_str().unwrap());
        let foreign = app
            .client
            .delete(app.url(&path))
            .bearer_auth(&mallory.access_token)
            .send()
            .await
            .unwrap();
        assert_error(foreign, StatusCode::NOT_FOUND, &path).await;
        let still: Vec<Value> = get_as(&app, SESSIONS, &phone.access_token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(still.len(), 2, "the foreign request ended nothing");

        let bad_path = format!("{SESSIONS}/xyz");
        let bad = app
            .client
            .delete(app.url(&bad_path))
            .bearer_auth(&phone.access_token)
            .send()
            .await
            .unwrap();
        assert_error(bad, StatusCode::BAD_REQUEST, &bad_path).await;

        // The phone logs the laptop out.
        let ended = app
            .client
            .delete(app.url(&path))
            .bearer_auth(&phone.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), StatusCode::OK);
        assert_eq!(refresh(&app, &laptop).await, StatusCode::UNAUTHORIZED);
        assert_eq!(refresh(&app, &phone).await, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_new_user_finds_someone_by_name_chats_and_manages_sessions() {
    on_each_backend(|app| async move {
        let bob = app.register("bobby_tables").await;
        patch_me(&app, &bob.access_token, json!({ "firstName": "Robert" })).await;
        let alice = app.register("alice").await;

        // Find Bob by his first name, then open a private chat with the id found.
        let found = search(&app, &alice.access_token, "rob").await;
        assert_eq!(usernames(&found), ["bobby_tables"]);
        let bob_id = found[0]["_id"].as_str().unwrap().to_owned();
        let sent = app
            .send(
                &alice,
                json!({ "chatType": "PRIVATE", "receiver": bob_id, "message": "Hi Robert!" }),
            )
            .await;
        let rooms: Vec<Value> = get_as(
            &app,
            &format!("/api/v1/chat/rooms/{}", bob.id),
            &bob.access_token,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(rooms[0]["partner"]["username"], "alice");
        assert_eq!(rooms[0]["lastMessage"]["messageId"], sent["messageId"]);

        // Alice signs in on a second device, then ends that session from the first.
        let tablet = Account::from_auth_body(
            &login_as(&app, &alice.email, PASSWORD)
                .await
                .json()
                .await
                .unwrap(),
        );
        let sessions: Vec<Value> = get_as(&app, SESSIONS, &alice.access_token)
            .await
            .json()
            .await
            .unwrap();
        let other = sessions
            .iter()
            .find(|s| s["current"] == false)
            .expect("tablet session");
        let path = format!("{SESSIONS}/{}", other["id"].as_str().unwrap());
        let ended = app
            .client
            .delete(app.url(&path))
            .bearer_auth(&alice.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), StatusCode::OK);
        assert_eq!(refresh(&app, &tablet).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}

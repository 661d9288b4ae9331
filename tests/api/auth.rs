//! Register, login, refresh and logout: tokens, sessions, rotation and replays, rate limits.

use chat_tests::{
    assert_error, on_each_backend, spawn_app_with, Account, Backend, TestApp, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{auth::TokenKind, model::SessionId};

const REGISTER: &str = "/api/v1/auth/register";
const LOGIN: &str = "/api/v1/auth/login";
const REFRESH: &str = "/api/v1/auth/refresh";
const LOGOUT: &str = "/api/v1/auth/logout";

async fn refresh_with_body(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(REFRESH, &json!({ "refreshToken": token }))
        .await
}

#[tokio::test]
async fn register_returns_tokens_and_the_user_without_secrets() {
    on_each_backend(|app| async move {
        let response = app
            .post_json(
                REGISTER,
                &json!({
                    "username": "johndoe",
                    "email": "John@Example.com",
                    "password": PASSWORD,
                    "firstName": "John",
                    "lastName": "Doe",
                }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        let user = &body["user"];
        assert_eq!(user["username"], "johndoe");
        assert_eq!(
            user["email"], "john@example.com",
            "email is stored lower-case"
        );
        assert_eq!(user["firstName"], "John");
        assert_eq!(user["isOnline"], false);
        let id = user["_id"].as_str().unwrap();
        assert_eq!(id.len(), 24);
        assert_eq!(user["id"], id);
        assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));
        assert!(user.get("password").is_none() && user.get("refreshToken").is_none());
        let text = body.to_string();
        assert!(!text.contains("$2b$") && !text.contains(PASSWORD));
        assert!(body["accessToken"].as_str().unwrap().split('.').count() == 3);
        assert_ne!(body["accessToken"], body["refreshToken"]);
    })
    .await;
}

#[tokio::test]
async fn duplicate_username_or_email_is_a_conflict_and_changes_nothing() {
    on_each_backend(|app| async move {
        app.register("alice").await;
        let same_name_other_case = app
            .post_json(
                REGISTER,
                &json!({ "username": "ALICE", "email": "other@example.com", "password": PASSWORD }),
            )
            .await;
        let body = assert_error(same_name_other_case, StatusCode::CONFLICT, REGISTER).await;
        assert!(body["message"].as_str().unwrap().contains("username"), "{body}");

        let same_email = app
            .post_json(
                REGISTER,
                &json!({ "username": "alice2", "email": "ALICE@example.com", "password": PASSWORD }),
            )
            .await;
        let body = assert_error(same_email, StatusCode::CONFLICT, REGISTER).await;
        assert!(body["message"].as_str().unwrap().contains("email"), "{body}");

        // Nothing was created: the other email cannot log in, and alice2 was never made.
        let response = app.login("other@example.com").await;
        assert_error(response, StatusCode::UNAUTHORIZED, LOGIN).await;
        app.register("alice2").await;
    })
    .await;
}

#[tokio::test]
async fn register_validation_lists_every_failing_field() {
    on_each_backend(|app| async move {
        let response = app
            .post_json(
                REGISTER,
                &json!({ "username": "a b", "email": "not-an-email", "password": "short",
                         "avatar": "javascript:alert(1)" }),
            )
            .await;
        let body = assert_error(response, StatusCode::BAD_REQUEST, REGISTER).await;
        let messages: Vec<&str> = body["message"]
            .as_array()
            .expect("validation errors are a list")
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        for field in ["username", "email", "password", "avatar"] {
            assert!(
                messages.iter().any(|m| m.contains(field)),
                "{field}: {messages:?}"
            );
        }

        let too_long = "p".repeat(73);
        let response = app
            .post_json(
                REGISTER,
                &json!({ "username": "bob", "email": "bob@example.com", "password": too_long }),
            )
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, REGISTER).await;
        // Nothing was created by the refused requests.
        assert_error(
            app.login("bob@example.com").await,
            StatusCode::UNAUTHORIZED,
            LOGIN,
        )
        .await;

        // The longest accepted password (72 bytes, found by fuzzing to fail once) works in full.
        let longest = "p".repeat(71) + "q";
        let response = app
            .post_json(
                REGISTER,
                &json!({ "username": "dave", "email": "dave@example.com", "password": longest }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let app = &app;
        let login = |password: String| async move {
            let body = json!({ "email": "dave@example.com", "password": password });
            app.post_json(LOGIN, &body).await.status()
        };
        assert_eq!(login(longest.clone()).await, StatusCode::OK);
        assert_eq!(
            login("p".repeat(72)).await,
            StatusCode::UNAUTHORIZED,
            "the 72nd byte counts"
        );
    })
    .await;
}

#[tokio::test]
async fn operator_objects_and_unknown_fields_are_refused() {
    on_each_backend(|app| async move {
        let account = app.register("carol").await;
        let response = app
            .post_json(
                LOGIN,
                &json!({ "email": { "$gt": "" }, "password": { "$ne": null } }),
            )
            .await;
        let body = assert_error(response, StatusCode::BAD_REQUEST, LOGIN).await;
        assert!(
            body["message"].as_str().unwrap().contains("email"),
            "{body}"
        );

        let response = app
            .post_json(
                REGISTER,
                &json!({ "username": "dave", "email": "dave@example.com", "password": PASSWORD,
                         "isAdmin": true }),
            )
            .await;
        let body = assert_error(response, StatusCode::BAD_REQUEST, REGISTER).await;
        assert!(
            body["message"].as_str().unwrap().contains("isAdmin"),
            "{body}"
        );
        let _ = account;
    })
    .await;
}

#[tokio::test]
async fn login_succeeds_and_wrong_password_and_unknown_email_look_the_same() {
    on_each_backend(|app| async move {
        let account = app.register("erin").await;
        let response = app.login("ERIN@example.com").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(Account::from_auth_body(&body).id, account.id);

        let wrong_password = app
            .post_json(
                LOGIN,
                &json!({ "email": account.email, "password": "WrongPass123!" }),
            )
            .await;
        let a = assert_error(wrong_password, StatusCode::UNAUTHORIZED, LOGIN).await;
        let unknown = app.login("nobody@example.com").await;
        let b = assert_error(unknown, StatusCode::UNAUTHORIZED, LOGIN).await;
        assert_eq!(a["message"], b["message"]);
    })
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_is_refused() {
    on_each_backend(|app| async move {
        let account = app.register("frank").await;
        let response = refresh_with_body(&app, &account.refresh_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let rotated = Account::from_auth_body(&response.json::<Value>().await.unwrap());
        assert_ne!(rotated.refresh_token, account.refresh_token);
        assert_eq!(rotated.id, account.id);

        // The new access token works.
        let ok = app
            .post_with_token(LOGOUT, &rotated.access_token, None)
            .await;
        assert_eq!(ok.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn reusing_a_rotated_out_refresh_token_ends_the_session() {
    for backend in Backend::configured() {
        let app = spawn_app_with(&backend, &[("REFRESH_REUSE_GRACE", "1s")]).await;
        let account = app.register("grace").await;
        let first = refresh_with_body(&app, &account.refresh_token).await;
        let rotated = Account::from_auth_body(&first.json::<Value>().await.unwrap());

        // Past the grace, presenting the rotated-out token again is a replay.
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let replay = refresh_with_body(&app, &account.refresh_token).await;
        assert_error(replay, StatusCode::UNAUTHORIZED, REFRESH).await;
        // The replay ended the session, so the legitimately rotated token is dead too.
        let after = refresh_with_body(&app, &rotated.refresh_token).await;
        assert_error(after, StatusCode::UNAUTHORIZED, REFRESH).await;
    }
}

/// Two tabs refreshing at once, or a retry after a timeout: one gets the new pair, the other a
/// 409 to retry with it, and the user stays logged in (before: 401, and the session was ended).
#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_exactly_one_through() {
    on_each_backend(|app| async move {
        let account = app.register("heidi").await;
        let (a, b) = tokio::join!(
            refresh_with_body(&app, &account.refresh_token),
            refresh_with_body(&app, &account.refresh_token),
        );
        let statuses = [a.status(), b.status()];
        assert!(
            statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let winner = if a.status() == StatusCode::OK { a } else { b };
        let rotated = Account::from_auth_body(&winner.json::<Value>().await.unwrap());
        let retry = refresh_with_body(&app, &account.refresh_token).await;
        assert_error(retry, StatusCode::CONFLICT, REFRESH).await;
        let later = refresh_with_body(&app, &rotated.refresh_token).await;
        assert_eq!(later.status(), StatusCode::OK, "the session lives on");
    })
    .await;
}

#[tokio::test]
async fn refresh_accepts_the_token_as_a_bearer_header() {
    on_each_backend(|app| async move {
        let account = app.register("ivan").await;
        let response = app
            .post_with_token(REFRESH, &account.refresh_token, None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let missing = app.client.post(app.url(REFRESH)).send().await.unwrap();
        assert_error(missing, StatusCode::UNAUTHORIZED, REFRESH).await;
    })
    .await;
}

#[tokio::test]
async fn token_kinds_are_never_interchangeable() {
    on_each_backend(|app| async move {
        let account = app.register("judy").await;
        let refresh_as_access = app
            .post_with_token(LOGOUT, &account.refresh_token, None)
            .await;
        assert_error(refresh_as_access, StatusCode::UNAUTHORIZED, LOGOUT).await;
        let access_as_refresh = refresh_with_body(&app, &account.access_token).await;
        assert_error(access_as_refresh, StatusCode::UNAUTHORIZED, REFRESH).await;
        let garbage = app.post_with_token(LOGOUT, "not-a-token", None).await;
        assert_error(garbage, StatusCode::UNAUTHORIZED, LOGOUT).await;
        let none = app.client.post(app.url(LOGOUT)).send().await.unwrap();
        assert_error(none, StatusCode::UNAUTHORIZED, LOGOUT).await;
    })
    .await;
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    on_each_backend(|app| async move {
        let account = app.register("ken").await;
        let an_hour_ago = shared::time::now() - chrono::Duration::hours(1);
        let expired = app
            .ctx
            .tokens
            .issue(
                TokenKind::Access,
                account.id.parse().unwrap(),
                SessionId::new(),
                an_hour_ago,
            )
            .unwrap();
        let response = app.post_with_token(LOGOUT, &expired.token, None).await;
        let body = assert_error(response, StatusCode::UNAUTHORIZED, LOGOUT).await;
        assert!(
            body["message"].as_str().unwrap().contains("expired"),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn logout_ends_only_the_current_session() {
    on_each_backend(|app| async move {
        let phone = app.register("laura").await;
        let laptop_login = app.login(&phone.email).await;
        let laptop = Account::from_auth_body(&laptop_login.json::<Value>().await.unwrap());

        let response = app.post_with_token(LOGOUT, &phone.access_token, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].is_string());

        let phone_refresh = refresh_with_body(&app, &phone.refresh_token).await;
        assert_error(phone_refresh, StatusCode::UNAUTHORIZED, REFRESH).await;
        let laptop_refresh = refresh_with_body(&app, &laptop.refresh_token).await;
        assert_eq!(laptop_refresh.status(), StatusCode::OK);
    })
    .await;
}

/// A distributed guess at one account (many addresses) is slowed per account too; other accounts
/// are not affected.
#[tokio::test]
async fn login_attempts_are_limited_per_account() {
    for backend in Backend::configured() {
        let app = spawn_app_with(&backend, &[("LOGIN_ACCOUNT_RATE_LIMIT_MAX", "3")]).await;
        let victim = app.register("victim").await;
        for _ in 0..3 {
            let wrong = app
                .post_json(
                    LOGIN,
                    &json!({ "email": victim.email.to_uppercase(), "password": "WrongPass123!" }),
                )
                .await;
            assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        }
        let limited = app.login(&victim.email).await;
        assert_error(limited, StatusCode::TOO_MANY_REQUESTS, LOGIN).await;
        let bystander = app.register("bystander").await;
        assert_eq!(app.login(&bystander.email).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn login_is_rate_limited_with_retry_after() {
    for backend in Backend::configured() {
        let app = spawn_app_with(
            &backend,
            &[
                ("AUTH_RATE_LIMIT_MAX", "3"),
                ("AUTH_RATE_LIMIT_WINDOW", "1h"),
            ],
        )
        .await;
        for _ in 0..3 {
            let response = app.login("nobody@example.com").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let limited = app.login("nobody@example.com").await;
        let retry_after: u64 = limited
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After header");
        assert!((1..=3600).contains(&retry_after), "{retry_after}");
        assert_error(limited, StatusCode::TOO_MANY_REQUESTS, LOGIN).await;
        // Register counts separately.
        app.register("mallory").await;
    }
}

//! On AWS the REST API sits behind a CDN with a per-address web ACL; the CDN adds a secret header.
//! A function configured with that secret refuses requests without it (they went around the web
//! ACL), in the one error shape, and changes nothing.

use chat_tests::{assert_error, spawn_app_with, Backend};
use reqwest::StatusCode;
use serde_json::json;

const SECRET: &str = "origin-secret-0123456789abcdef";

#[tokio::test]
async fn requests_around_the_cdn_are_refused() {
    let app = spawn_app_with(&Backend::Sqlite, &[("ORIGIN_VERIFY_SECRET", SECRET)]).await;
    let path = "/api/v1/auth/register";
    let body =
        json!({"username": "around", "email": "around@example.com", "password": "password123"});

    // Straight to the API: refused before the function runs, so no account is created.
    let direct = app.post_json(path, &body).await;
    assert_error(direct, StatusCode::FORBIDDEN, path).await;
    let wrong = app
        .client
        .post(app.url(path))
        .header("x-origin-verify", "origin-secret-0123456789abcdeX")
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_error(wrong, StatusCode::FORBIDDEN, path).await;

    // Through the CDN (the header present): served, and the account did not exist before.
    let through = app
        .client
        .post(app.url(path))
        .header("x-origin-verify", SECRET)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(through.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn without_the_secret_configured_nothing_is_checked() {
    let app = spawn_app_with(&Backend::Sqlite, &[]).await;
    let response = app.get("/").await;
    assert!(response.status().is_success(), "{}", response.status());
}

//! The one error shape for every failure, and the layers every function shares.

use chat_tests::{assert_error, spawn_app, Backend, MAX_BODY};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn unknown_routes_are_404_in_the_error_shape() {
    let app = spawn_app(&Backend::Sqlite).await;
    let response = app.get("/api/v1/nope").await;
    let body = assert_error(response, StatusCode::NOT_FOUND, "/api/v1/nope").await;
    assert_eq!(body["message"], "Cannot GET /api/v1/nope");
}

#[tokio::test]
async fn wrong_method_is_405_in_the_error_shape() {
    let app = spawn_app(&Backend::Sqlite).await;
    let response = app.get("/api/v1/auth/login").await;
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "/api/v1/auth/login",
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app(&Backend::Sqlite).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let body = assert_error(response, StatusCode::BAD_REQUEST, "/api/v1/auth/login").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app(&Backend::Sqlite).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("email=a@b.c&password=x")
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "/api/v1/auth/login",
    )
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app(&Backend::Sqlite).await;
    let huge = "x".repeat(MAX_BODY + 1);
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({ "username": "big", "email": "big@example.com", "password": huge }),
        )
        .await;
    assert_error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "/api/v1/auth/register",
    )
    .await;
}

#[tokio::test]
async fn responses_carry_security_headers_and_the_request_id() {
    let app = spawn_app(&Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-request-id"], "trace-me-123");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "SAMEORIGIN");
    assert!(headers.contains_key("strict-transport-security"));
    assert!(headers.contains_key("content-security-policy"));

    let response = app.get("/missing").await;
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = assert_error(response, StatusCode::NOT_FOUND, "/missing").await;
    assert_eq!(body["requestId"], generated.as_str());
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = spawn_app(&Backend::Sqlite).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("http://localhost:3001").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3001"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(!denied.headers().contains_key("access-control-allow-origin"));
}

//! The `meta` function: the health check at `/`, the OpenAPI document, Swagger UI and the
//! realtime contract (AsyncAPI) under `/api/docs`, the web client under `/app`, and every path no
//! other function owns (so unknown routes get the API's own 404).

pub mod app;
mod assets;
pub mod asyncapi;
mod swagger;

use std::sync::OnceLock;

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use shared::{
    error::ErrorBody,
    http::{docs::BearerAuth, Api},
    service::health::{self, Health},
    AppContext,
};
use utoipa::OpenApi;

pub const DOCS: &str = "/api/docs";
pub const OPENAPI_JSON: &str = "/api/docs/openapi.json";

pub fn api() -> Api {
    Api::new()
        .get("/", health_check)
        .get(OPENAPI_JSON, openapi_json)
        .get(asyncapi::ASYNCAPI_JSON, asyncapi_json)
        .get(DOCS, swagger::redirect)
        .get("/api/docs/", swagger::index)
        .get("/api/docs/{*file}", swagger::file)
        .get(app::APP, app::redirect)
        .get("/app/", app::index)
        .get("/app/config.json", app::config)
        .get("/app/{*file}", app::file)
}

/// The documents, Swagger UI and the web client: no API routes of their own (on AWS they reach
/// this function through its catch-all route).
pub fn served_by_catch_all(path: &str) -> bool {
    path.starts_with(DOCS) || path == app::APP || path.starts_with("/app/")
}

#[utoipa::path(
    get,
    path = "/",
    tag = "meta",
    responses((status = 200, description = "The database answers", body = Health), (status = 503, description = "The database does not answer", body = Health)),
)]
async fn health_check(State(ctx): State<AppContext>) -> Health {
    health::check(&ctx).await
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chat backend API",
        description = "REST API of the realtime chat backend. Every failure answers with the one error \
                       body (ErrorBody). Realtime events are served by the socket.io node (namespace \
                       /chat); see the README.",
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Register, log in, refresh, log out"),
        (name = "users", description = "Profiles, discovery, password and sessions"),
        (name = "messages", description = "Sending, history and status"),
        (name = "attachments", description = "Files in messages: declare an upload, send the bytes to the signed URL, send the message with attachmentId; download through a short-lived link"),
        (name = "groups", description = "Groups, membership and group rooms"),
        (name = "presence", description = "Last seen, online status, receipts in bulk, private rooms"),
        (name = "admin", description = "Moderators and admins: reports queue, removing messages, suspending and banning users, roles, audit log"),
        (name = "meta", description = "Health"),
    ),
    paths(health_check)
)]
struct ApiDoc;

/// The whole API's document, generated from the handlers and DTOs of every function.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.merge(auth::Docs::openapi());
    doc.merge(users::Docs::openapi());
    doc.merge(messages::Docs::openapi());
    doc.merge(groups::Docs::openapi());
    doc.merge(presence::Docs::openapi());
    doc.merge(admin::Docs::openapi());
    doc
}

fn openapi_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| openapi().to_json().unwrap_or_default())
}

fn asyncapi_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| asyncapi::document().to_string())
}

fn json_text(text: &'static str) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

async fn openapi_json() -> Response {
    json_text(openapi_text())
}

async fn asyncapi_json() -> Response {
    json_text(asyncapi_text())
}

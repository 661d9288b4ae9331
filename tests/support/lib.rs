//! The test harness: `spawn_app` starts every function's routes on a real TCP port against a fresh
//! database, exactly as served (same layers), and hands back a client.
//!
//! Backends: both, always: the embedded SQLite file, and MongoDB: a real one when `TEST_MONGO_URI`
//! is set (a replica set, e.g. `mongod --replSet rs0` + `rs.initiate()`), otherwise the
//! wire-protocol stand-in the suite starts itself (`mongo.rs`). Each test gets a database of its own.

// Tests and benchmarks set up and inspect data through the storage port (clippy.toml fences it
// for handlers and transports).
#![allow(clippy::disallowed_methods)]

use std::{collections::HashMap, future::Future, net::SocketAddr};

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use shared::{config::Config, AppContext};
use tempfile::TempDir;

pub mod mongo;
pub mod node;
pub mod process;
pub mod push;
pub mod python;
pub mod realtime;
pub mod s3;
pub mod socket;

pub const ACCESS_SECRET: &str = "test-access-secret-0123456789abcdef0123456789";
pub const REFRESH_SECRET: &str = "test-refresh-secret-0123456789abcdef012345678";
pub const PASSWORD: &str = "SecurePass123!";
pub const MAX_BODY: usize = shared::http::MAX_BODY_BYTES;

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Mongo { uri: String },
}

impl Backend {
    /// SQLite and MongoDB (`TEST_MONGO_URI`, or the stand-in).
    pub fn configured() -> Vec<Backend> {
        vec![Backend::Sqlite, Backend::mongo()]
    }

    pub fn mongo() -> Backend {
        Backend::Mongo { uri: mongo::uri() }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Mongo { .. } => "mongodb",
        }
    }
}

/// A fresh database for one test: its environment variables and what keeps it alive.
pub struct TestDatabase {
    pub vars: HashMap<String, String>,
    _dir: TempDir,
}

impl TestDatabase {
    pub fn new(backend: &Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut vars = HashMap::new();
        match backend {
            Backend::Sqlite => {
                let path = dir.path().join("chat.db");
                vars.insert("DATABASE_PATH".into(), path.display().to_string());
            }
            Backend::Mongo { uri } => {
                vars.insert("MONGO_URI".into(), uri.clone());
                let name = format!("chat_test_{}", uuid_like());
                vars.insert("MONGO_DB".into(), name);
                // The development VAPID key of this test (on SQLite it sits beside the file).
                let key = dir.path().join("vapid-private-key");
                vars.insert("VAPID_KEY_FILE".into(), key.display().to_string());
            }
        }
        // The local object storage of this test (unused when a test points it at S3).
        let files = dir.path().join("attachments");
        vars.insert("ATTACHMENTS_DIR".into(), files.display().to_string());
        Self { vars, _dir: dir }
    }
}

/// A name no other test of this run uses (lower-case hex).
pub fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}{:x}", std::process::id())
}

/// The variables every test process gets: test secrets, cheap bcrypt, limits high enough not to
/// interfere (tests of the limit lower them).
pub fn base_vars() -> HashMap<String, String> {
    [
        ("NODE_ENV", "test"),
        ("JWT_SECRET", ACCESS_SECRET),
        ("JWT_REFRESH_SECRET", REFRESH_SECRET),
        ("BCRYPT_COST", "4"),
        ("AUTH_RATE_LIMIT_MAX", "1000"),
        ("GROUP_RATE_LIMIT_MAX", "100000"),
        ("GROUP_SEARCH_RATE_LIMIT_MAX", "100000"),
        ("SIGNAL_RATE_LIMIT_MAX", "100000"),
        ("SOCKETS_PER_USER_MAX", "1000000"),
        ("LOG_FORMAT", "pretty"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A route path with its parameters blanked: `/a/{user_id}/b` and `/a/{userId}/b` are one route.
pub fn normalize_route(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every REST function by name, as `cargo lambda watch` and template.yaml know them.
pub fn functions() -> Vec<(&'static str, shared::http::Api)> {
    vec![
        ("auth", auth::api()),
        ("users", users::api()),
        ("messages", messages::api()),
        ("groups", groups::api()),
        ("presence", presence::api()),
        ("admin", admin::api()),
        ("meta", meta::api()),
    ]
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub ctx: AppContext,
    pub backend: Backend,
    /// The environment this app runs with (other processes on the same database use it too).
    pub vars: HashMap<String, String>,
    _database: TestDatabase,
}

pub async fn spawn_app(backend: &Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: &Backend, overrides: &[(&str, &str)]) -> TestApp {
    // TEST_LOG=1 shows the in-process servers' logs (filtered by RUST_LOG) while debugging a test.
    if std::env::var_os("TEST_LOG").is_some() {
        shared::telemetry::init(shared::config::LogFormat::Pretty);
    }
    let database = TestDatabase::new(backend);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut vars = base_vars();
    vars.extend(database.vars.clone());
    // This app serves the local object storage's signed URLs too (the realtime node does in the
    // stack), so an upload works without a node.
    vars.insert(
        "ATTACHMENTS_PUBLIC_URL".into(),
        format!("http://127.0.0.1:{port}/files"),
    );
    for (name, value) in overrides {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
    let ctx = AppContext::from_config(config).await.expect("store opens");
    let routes = functions()
        .into_iter()
        .fold(axum::Router::new(), |all, (_, api)| {
            all.merge(api.into_router())
        });
    let mut router = shared::http::finish(routes, ctx.clone());
    if let Some(files) =
        shared::objects::local_router(&ctx.config.attachments).expect("local object storage")
    {
        router = router.merge(files);
    }
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("server runs");
    });
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        ctx,
        backend: backend.clone(),
        vars,
        _database: database,
    }
}

/// Runs `test` once per configured backend, each time on a fresh app and database.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in Backend::configured() {
        eprintln!("-- backend: {}", backend.name());
        test(spawn_app(&backend).await).await;
    }
}

/// A registered user as the client sees it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Account {
    pub fn from_auth_body(body: &Value) -> Self {
        Self {
            id: body["user"]["_id"].as_str().expect("user._id").to_owned(),
            username: body["user"]["username"]
                .as_str()
                .expect("username")
                .to_owned(),
            email: body["user"]["email"].as_str().expect("email").to_owned(),
            access_token: body["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
            refresh_token: body["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_owned(),
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_with_token(&self, path: &str, token: &str, body: Option<&Value>) -> Response {
        let mut request = self.client.post(self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    /// Any request as `token` (when given), with a JSON body (when given).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    /// `GET path` as `token`; the JSON body.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        self.call(reqwest::Method::GET, path, token, None)
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// Whether `who` is online, as `asker` reads it from the online-status route.
    pub async fn is_online(&self, asker: &Account, who: &Account) -> bool {
        let path = format!("/api/v1/chat/user/{}/online-status", who.id);
        self.get_json(&path, &asker.access_token).await["isOnline"]
            .as_bool()
            .expect("isOnline")
    }

    /// Sends a message as `from`; asserts it was created and returns it.
    pub async fn send(&self, from: &Account, body: Value) -> Value {
        let response = self
            .call(
                reqwest::Method::POST,
                "/api/v1/chat/message",
                &from.access_token,
                Some(&body),
            )
            .await;
        let status = response.status();
        let message: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "send: {message}");
        message
    }

    /// Sends a private text from `from` to `to`.
    pub async fn send_private(&self, from: &Account, to: &Account, text: &str) -> Value {
        self.send(
            from,
            json!({ "chatType": "PRIVATE", "receiver": to.id, "message": text }),
        )
        .await
    }

    /// Creates a group owned by `owner` with `members`; returns its id.
    pub async fn create_group(&self, owner: &Account, name: &str, members: &[&Account]) -> String {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let response = self
            .call(
                reqwest::Method::POST,
                "/api/v1/chat/group",
                &owner.access_token,
                Some(&json!({ "groupName": name, "members": ids })),
            )
            .await;
        let status = response.status();
        let group: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "create group: {group}");
        group["_id"].as_str().expect("_id").to_owned()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// A page of history as `who` asks for it (`POST /chat/messages/fetch` with `body`).
    pub async fn fetch_history(&self, who: &Account, body: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/api/v1/chat/messages/fetch",
            &who.access_token,
            Some(&body),
        )
        .await
        .json()
        .await
        .expect("history page")
    }

    /// `who`'s private rooms list (`GET /chat/rooms/{who}`).
    pub async fn private_rooms(&self, who: &Account) -> Vec<Value> {
        let rooms = self
            .get_json(&format!("/api/v1/chat/rooms/{}", who.id), &who.access_token)
            .await;
        rooms.as_array().cloned().unwrap_or_default()
    }

    /// Registers `username` (email `<username>@example.com`) and returns the account.
    pub async fn register(&self, username: &str) -> Account {
        let response = self
            .post_json(
                "/api/v1/auth/register",
                &json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": PASSWORD,
                }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "register {username}: {body}");
        Account::from_auth_body(&body)
    }

    pub async fn login(&self, email: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await
    }
}

/// Asserts a response is an error in the one shape, with `status`, and returns its body.
pub async fn assert_error(response: Response, status: StatusCode, path: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.expect("error body is json");
    assert_eq!(body["statusCode"], status.as_u16(), "{body}");
    assert_eq!(
        body["error"],
        status.canonical_reason().expect("reason"),
        "{body}"
    );
    assert!(
        body["message"].is_string() || body["message"].is_array(),
        "{body}"
    );
    assert_eq!(body["path"], path, "{body}");
    assert!(
        body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{body}"
    );
    assert!(
        body["requestId"].as_str().is_some_and(|id| !id.is_empty()),
        "{body}"
    );
    body
}

/// Opens the storage port directly on a test database (a second call is a second "process").
pub async fn open_store(database: &TestDatabase) -> shared::store::Store {
    let mut vars = base_vars();
    vars.extend(database.vars.clone());
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
    shared::store::connect(&config).await.expect("store opens")
}

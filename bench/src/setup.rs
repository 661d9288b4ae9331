//! What every benchmark starts from: the REST functions in-process on a real port, a fresh SQLite
//! database, and users created straight through the storage port (no bcrypt on the hot path).

use chat_tests::{spawn_app_with, Backend, TestApp};
use shared::{
    auth::TokenKind,
    model::{NewUser, Session, SessionId, UserId},
};

/// Limits high enough that the benchmarks measure the system, not the rate limiter.
pub const OVERRIDES: &[(&str, &str)] = &[
    ("MESSAGE_RATE_LIMIT_MAX", "1000000"),
    ("AUTH_RATE_LIMIT_MAX", "1000000"),
    ("MESSAGE_SEARCH_RATE_LIMIT_MAX", "1000000"),
    ("LOG_FORMAT", "json"),
    ("RUST_LOG", "warn"),
];

pub async fn app() -> TestApp {
    spawn_app_with(&Backend::Sqlite, OVERRIDES).await
}

pub struct BenchUser {
    pub id: UserId,
    pub token: String,
}

/// Creates `count` users named `<prefix><n>` and an access token for each.
pub async fn users(app: &TestApp, prefix: &str, count: usize) -> Vec<BenchUser> {
    let mut users = Vec::with_capacity(count);
    for n in 0..count {
        let name = format!("{prefix}{n}");
        let user = app
            .ctx
            .store()
            .insert_user(NewUser {
                id: UserId::new(),
                username: name.clone(),
                email: format!("{name}@bench.example"),
                password_hash: "$2b$04$benchbenchbenchbenchbeOq1aXbTVIQfE1TDX/FvIZQsqqXFzPHa"
                    .into(),
                first_name: None,
                last_name: None,
                avatar: None,
                now: shared::time::now(),
            })
            .await
            .expect("user stored");
        // A live session, as a login makes: handshakes of ended sessions are refused.
        let now = shared::time::now();
        let session = SessionId::new();
        app.ctx
            .store()
            .create_session(Session {
                id: session,
                user_id: user.id,
                token_hash: "bench".into(),
                user_agent: None,
                ip: None,
                created_at: now,
                last_used_at: now,
                expires_at: now + chrono::Duration::days(1),
            })
            .await
            .expect("session stored");
        let token = app
            .ctx
            .tokens
            .issue(TokenKind::Access, user.id, session, now)
            .expect("token")
            .token;
        users.push(BenchUser { id: user.id, token });
    }
    users
}

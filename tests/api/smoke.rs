//! End to end, the way the README says: `./scripts/dev.sh` starts `cargo lambda watch` (every
//! function, real paths) and the realtime node on a fresh database; a client then goes through
//! register → login → refresh → old refresh refused → logout (and a users call) over plain HTTP.

use std::time::{Duration, Instant};

use chat_tests::{
    base_vars,
    process::{free_port, Stack},
    Account, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

const STARTUP_BUDGET: Duration = Duration::from_secs(900);

async fn wait_until_up(client: &reqwest::Client, url: &str, stack: &mut Stack) {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(url).send().await {
            if response.status() == StatusCode::OK {
                return;
            }
        }
        assert!(
            stack.is_running(),
            "stack exited early:\n{}",
            stack.log_tail()
        );
        assert!(
            started.elapsed() < STARTUP_BUDGET,
            "{url} not up after {STARTUP_BUDGET:?}:\n{}",
            stack.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_readme_stack_serves_the_auth_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (port, realtime_port) = (free_port(), free_port());
    let mut vars: Vec<(String, String)> = base_vars().into_iter().collect();
    vars.extend([
        ("PORT".into(), port.to_string()),
        ("REALTIME_PORT".into(), realtime_port.to_string()),
        (
            "DATABASE_PATH".into(),
            dir.path().join("chat.db").display().to_string(),
        ),
    ]);
    let mut stack = Stack::start("./scripts/dev.sh", &[], &vars, dir.path().join("stack.log"));

    let client = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port}");
    wait_until_up(&client, &format!("{api}/"), &mut stack).await;
    wait_until_up(
        &client,
        &format!("http://127.0.0.1:{realtime_port}/health"),
        &mut stack,
    )
    .await;

    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = client.post(format!("{api}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let registered = post(
        "/api/v1/auth/register",
        None,
        json!({ "username": "smoke", "email": "smoke@example.com", "password": PASSWORD,
                "firstName": "Smoke" }),
    )
    .await
    .unwrap();
    assert_eq!(
        registered.status(),
        StatusCode::CREATED,
        "{}",
        stack.log_tail()
    );
    let registered = Account::from_auth_body(&registered.json().await.unwrap());

    let login = post(
        "/api/v1/auth/login",
        None,
        json!({ "email": "smoke@example.com", "password": PASSWORD }),
    )
    .await
    .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let session = Account::from_auth_body(&login.json().await.unwrap());
    assert_eq!(session.id, registered.id);

    let refreshed = post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refreshToken": session.refresh_token }),
    )
    .await
    .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed = Account::from_auth_body(&refreshed.json().await.unwrap());

    let replay = post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refreshToken": session.refresh_token }),
    )
    .await
    .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["path"], "/api/v1/auth/refresh");

    let logout = post(
        "/api/v1/auth/logout",
        Some(&registered.access_token),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    let after_logout = post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refreshToken": registered.refresh_token }),
    )
    .await
    .unwrap();
    assert_eq!(after_logout.status(), StatusCode::UNAUTHORIZED);

    // The users function is routed too.
    let me = client
        .get(format!("{api}/api/v1/users/me"))
        .bearer_auth(&refreshed.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "smoke");

    // Unknown paths reach our own 404, not the emulator's.
    let unknown = client
        .get(format!("{api}/api/v1/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["path"], "/api/v1/unknown");
}

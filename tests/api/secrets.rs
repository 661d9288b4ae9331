//! No process signs tokens with a secret anyone can read: the built-in development secrets are
//! refused on AWS (Lambda, ECS) and whenever `MONGO_URI` is set, and the `.env.example`
//! placeholders outside development. Checked on the real binaries, as they start.

use std::process::{Command, Stdio};

use chat_tests::realtime;

/// Starts the realtime binary with only `vars` (and a throwaway database); its stderr once it exits.
fn refusal(vars: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(realtime::binary())
        .env_clear()
        .env("DATABASE_PATH", dir.path().join("chat.db"))
        .env("REALTIME_PORT", "0")
        .envs(vars.iter().copied())
        // Not the repository: a developer's `.env` there would supply secrets.
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(
        !output.status.success(),
        "it must refuse to start: {vars:?}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn development_secrets_are_refused_on_aws_and_with_mongodb() {
    for hosted in [
        ("LAMBDA_TASK_ROOT", "/var/task"),
        (
            "ECS_CONTAINER_METADATA_URI_V4",
            "http://169.254.170.2/v4/task",
        ),
        (
            "MONGO_URI",
            "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100",
        ),
    ] {
        let said = refusal(&[hosted]);
        assert!(
            said.contains("JWT_SECRET must be set") && said.contains("development secret"),
            "{hosted:?}: {said}"
        );
    }
}

#[test]
fn example_placeholders_are_refused_outside_development() {
    let said = refusal(&[
        ("NODE_ENV", "production"),
        (
            "JWT_SECRET",
            "change-me-to-a-random-string-of-at-least-32-bytes-access",
        ),
        (
            "JWT_REFRESH_SECRET",
            "change-me-to-a-random-string-of-at-least-32-bytes-refresh",
        ),
    ]);
    assert!(said.contains(".env.example placeholder"), "{said}");
}

/// A fake AWS Parameters and Secrets extension: answers `GET /secretsmanager/get?secretId=<arn>`
/// for the session token `session-token` only, and counts what it was asked.
async fn fake_secrets_extension(
    secrets: std::collections::HashMap<String, String>,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::{extract::Query, http::HeaderMap, routing::get, Json, Router};
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    let app = Router::new().route(
        "/secretsmanager/get",
        get(
            move |headers: HeaderMap,
                  Query(query): Query<std::collections::HashMap<String, String>>| {
                let secrets = secrets.clone();
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let token = headers
                        .get("x-aws-parameters-secrets-token")
                        .and_then(|value| value.to_str().ok());
                    if token != Some("session-token") {
                        return Err(axum::http::StatusCode::UNAUTHORIZED);
                    }
                    let arn = query.get("secretId").cloned().unwrap_or_default();
                    let value = secrets
                        .get(&arn)
                        .cloned()
                        .ok_or(axum::http::StatusCode::BAD_REQUEST)?;
                    Ok(Json(
                        serde_json::json!({ "ARN": arn, "SecretString": value }),
                    ))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, asked)
}

/// In production the secrets come from Secrets Manager: the process is configured with their
/// ARNs only, reads the values at start-up through the secrets extension (authenticated with its
/// session token), and signs and verifies with them; a refused read stops it with the reason.
// Multi-threaded: the fake extension must answer while this test waits on a child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_named_by_arn_are_read_at_start_up() {
    const ACCESS_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-access";
    const REFRESH_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-refresh";
    const VAPID_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vapid";
    // A valid P-256 private key (32 bytes of 0x01), base64url: a production node needs one.
    const VAPID_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
    let secrets = std::collections::HashMap::from([
        (VAPID_ARN.to_owned(), VAPID_KEY.to_owned()),
        (ACCESS_ARN.to_owned(), chat_tests::ACCESS_SECRET.to_owned()),
        (
            REFRESH_ARN.to_owned(),
            chat_tests::REFRESH_SECRET.to_owned(),
        ),
    ]);
    let (port, asked) = fake_secrets_extension(secrets).await;
    let app = chat_tests::spawn_app(&chat_tests::Backend::Sqlite).await;
    let alice = app.register("alice").await;
    let node_port = chat_tests::process::free_port();
    let base = [
        ("NODE_ENV", "production".to_owned()),
        ("DATABASE_PATH", app.vars["DATABASE_PATH"].clone()),
        ("REALTIME_PORT", node_port.to_string()),
        ("JWT_SECRET_ARN", ACCESS_ARN.to_owned()),
        ("JWT_REFRESH_SECRET_ARN", REFRESH_ARN.to_owned()),
        ("VAPID_PRIVATE_KEY_ARN", VAPID_ARN.to_owned()),
        ("VAPID_SUBJECT", "mailto:ops@example.com".to_owned()),
        ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", port.to_string()),
    ];
    let dir = tempfile::tempdir().expect("temp dir");

    // A wrong session token: the extension refuses, the node says why and stops.
    let refused = Command::new(realtime::binary())
        .env_clear()
        .envs(base.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_SESSION_TOKEN", "not-this-one")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("JWT_SECRET") && said.contains("Secrets Manager") && said.contains("401"),
        "{said}"
    );

    let mut node = Command::new(realtime::binary())
        .env_clear()
        .envs(base.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_SESSION_TOKEN", "session-token")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the node starts");
    let url = format!("http://127.0.0.1:{node_port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{url}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let connected = chat_tests::socket::connect(&url, Some(&alice.access_token)).await;
    let _ = node.kill();
    let _ = node.wait();
    assert!(up, "the node started with secrets read by ARN");
    assert!(
        connected.is_ok(),
        "it verifies tokens with the secret it read: {:?}",
        connected.err()
    );
    assert_eq!(
        asked.load(std::sync::atomic::Ordering::SeqCst),
        4,
        "the refused run stops at its first secret; the good run reads all three"
    );
}

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

//! Fuzzing: schemathesis (PyPI) generates requests from the served OpenAPI document, valid and
//! invalid, with a valid access token. No answer may be a 5xx, and every error must be in the one
//! error shape (`error_shape` in scripts/fuzz_checks.py). `scripts/fuzz.sh` runs it with more cases.

use chat_tests::{process::repo_root, spawn_app_with, Backend};
use serde_json::Value;

/// Test cases per operation; `FUZZ_EXAMPLES` raises it for a longer hunt.
const EXAMPLES: &str = "25";

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_error_off_the_shape() {
    let app = spawn_app_with(
        &Backend::Sqlite,
        &[
            ("AUTH_RATE_LIMIT_MAX", "1000000"),
            ("MESSAGE_RATE_LIMIT_MAX", "1000000"),
        ],
    )
    .await;
    let fuzzer = app.register("fuzzer").await;
    let examples = std::env::var("FUZZ_EXAMPLES").unwrap_or_else(|_| EXAMPLES.into());
    let report = tempfile::tempdir().expect("report dir");
    let output = tokio::process::Command::new("schemathesis")
        .arg("run")
        .arg(app.url("/api/docs/openapi.json"))
        .args(["--url", &app.address])
        .args([
            "-H",
            &format!("Authorization: Bearer {}", fuzzer.access_token),
        ])
        .args(["--checks", "not_a_server_error,error_shape"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &examples])
        // One worker: with two, hypothesis's source inspection (CPython 3.11's `ast`, not thread
        // safe there) now and then dies with "AST constructor recursion depth mismatch", a runtime
        // error of the fuzzer that fails the run although every check passed.
        .args([
            "--workers",
            "1",
            "--no-color",
            "--generation-database",
            "none",
        ])
        .arg("--report-dir")
        .arg(report.path())
        .env("SCHEMATHESIS_HOOKS", "fuzz_checks")
        .env("PYTHONPATH", repo_root().join("scripts"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // Its cache (`.schemathesis/`) goes with the report, not into the checkout.
        .current_dir(report.path())
        .output()
        .await
        .expect(
            "schemathesis is needed for this test: run scripts/setup.sh (pip install schemathesis)",
        );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = app
        .get("/api/docs/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, |methods| methods.len()))
        .sum();
    assert!(
        printed.contains(&format!("Tested: {operations}")),
        "all {operations} documented operations were fuzzed:\n{printed}"
    );
    eprintln!("{printed}");
}

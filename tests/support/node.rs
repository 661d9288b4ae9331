//! The suite's Node.js tools (`tests/browser`: playwright-core, @asyncapi/parser), installed by
//! `scripts/setup.sh` with `npm ci`.

use std::path::PathBuf;

use crate::process::repo_root;

/// `tests/browser`, with its `node_modules` in place.
pub fn tools_dir() -> PathBuf {
    let dir = repo_root().join("tests").join("browser");
    assert!(
        dir.join("node_modules").join("playwright-core").exists(),
        "the Node.js test tools are missing: run scripts/setup.sh (npm ci --prefix tests/browser)"
    );
    dir
}

/// Runs `node <script> <args…>` in `tests/browser` and hands back its output; panics with both
/// streams when it fails.
pub async fn run(script: &str, args: &[&str]) -> String {
    let dir = tools_dir();
    let output = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .output()
        .await
        .expect("node runs (scripts/setup.sh installs Node.js)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node {script} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

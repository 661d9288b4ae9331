//! One feature resolution for every build: the test suite, `scripts/dev.sh` (`cargo build
//! --workspace --bins`), `cargo lambda watch` (`cargo run --bin <function>`, one package at a time)
//! and the realtime node alone all reuse the dependencies `cargo test --workspace` compiled. Two
//! things make that so: the `workspace-hack` crate (cargo-hakari: one feature set whichever
//! packages are built; without it each of these recompiled ~20–35 crates), and `process::cargo`
//! (a cargo started by a test without the test's `CARGO_*` variables, which made ring's build
//! script rerun).

use chat_tests::process::cargo;
use serde_json::Value;

/// The crates.io dependencies a cargo invocation had to compile (instead of reusing).
fn recompiled_dependencies(args: &[&str]) -> Vec<String> {
    let output = cargo()
        .args(args)
        .arg("--message-format=json")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|artifact| artifact["fresh"] == false)
        .filter_map(|artifact| artifact["package_id"].as_str().map(str::to_owned))
        // Workspace members are ours: building a binary the test build did not need is fine.
        .filter(|package| !package.starts_with("path+"))
        .collect()
}

#[test]
fn the_stack_and_single_function_builds_reuse_the_test_builds_dependencies() {
    for args in [
        &["build", "--workspace", "--bins"][..],
        &["build", "-p", "auth", "--bin", "auth"],
        &["build", "-p", "messages", "--bin", "messages"],
        &["build", "-p", "ws", "--bin", "ws"],
        &["build", "-p", "realtime", "--bin", "realtime"],
    ] {
        let recompiled = recompiled_dependencies(args);
        assert!(
            recompiled.is_empty(),
            "cargo {} recompiled dependencies with other features: {recompiled:?} \
             (after changing dependencies run `cargo hakari generate && cargo hakari manage-deps`)",
            args.join(" ")
        );
    }
}

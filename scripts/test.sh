#!/usr/bin/env bash
# The README's test command: installs what the suite needs beyond Rust (scripts/setup.sh, idempotent:
# quick when everything is already there) while the workspace builds, then runs every test of the
# workspace. Extra arguments go to `cargo test` (for example a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."

# pip installs command-line tools (cargo-lambda, cfn-lint, schemathesis) here.
scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
export PATH="$scripts_dir:$HOME/.cargo/bin:$PATH"

# The build (CPU) runs while the rest of the setup downloads (network): a fresh machine saves the
# setup's minutes. The build needs only its own system packages first.
bash scripts/setup.sh --build-deps
cargo test --workspace --no-run "$@" &
build=$!
trap 'kill "$build" 2>/dev/null || true' EXIT
bash scripts/setup.sh
wait "$build"
trap - EXIT

cargo test --workspace "$@"

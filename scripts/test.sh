#!/usr/bin/env bash
# The README's test command: installs what the suite needs beyond Rust (scripts/setup.sh, idempotent:
# quick when everything is already there), then runs every test of the workspace. Extra arguments go
# to `cargo test` (for example a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# pip installs command-line tools (cargo-lambda, cfn-lint, schemathesis) here.
scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
export PATH="$scripts_dir:$HOME/.cargo/bin:$PATH"

cargo test --workspace "$@"

#!/usr/bin/env bash
# Starts the whole local stack in the foreground (Ctrl-C stops everything):
#   - every REST function under `cargo lambda watch` on $PORT (default 3000), real /api/v1 paths
#     (routes: [workspace.metadata.lambda.watch.router] in Cargo.toml);
#   - the realtime node (socket.io, namespace /chat) on $REALTIME_PORT (default 3002).
# Storage: the embedded SQLite file ($DATABASE_PATH, default ./data/chat.db) unless MONGO_URI is set.
# Configuration: environment variables win over .env; both are optional in development.
set -euo pipefail
cd "$(dirname "$0")/.."

setting() { # NAME DEFAULT: the environment's value, else .env's, else DEFAULT
  local name=$1 default=$2
  if [ -n "${!name:-}" ]; then
    printf '%s' "${!name}"
  elif [ -f .env ] && grep -qE "^${name}=" .env; then
    grep -E "^${name}=" .env | tail -n 1 | cut -d= -f2- | tr -d "\"'"
  else
    printf '%s' "$default"
  fi
}

export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
if ! command -v cargo-lambda >/dev/null 2>&1; then
  echo "dev.sh: cargo-lambda is not installed; installing it from PyPI (pip install cargo-lambda)"
  python3 -m pip install --quiet cargo-lambda
fi
if [ ! -f .env ]; then
  echo "dev.sh: no .env file: using development defaults (copy .env.example to .env to change them)"
fi

PORT=$(setting PORT 3000)
REALTIME_PORT=$(setting REALTIME_PORT 3002)
export REALTIME_PORT

echo "dev.sh: building the workspace (the same build the test suite uses)"
cargo build --workspace --bins

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target_dir/debug/realtime" &
realtime_pid=$!
trap 'kill "$realtime_pid" 2>/dev/null || true' EXIT INT TERM

echo "dev.sh: REST API on http://localhost:${PORT}/api/v1 , realtime on http://localhost:${REALTIME_PORT}/chat"
cargo lambda watch --invoke-port "$PORT" --disable-cors

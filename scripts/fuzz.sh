#!/usr/bin/env bash
# A longer fuzzing hunt than the test suite's: schemathesis against the served OpenAPI document with
# a valid token (tests/api/fuzz.rs; the REST functions on a real port and a fresh SQLite database).
# Fails on any 5xx and on any error outside the one error shape (scripts/fuzz_checks.py).
#   FUZZ_EXAMPLES: test cases per operation (default 500; the suite uses 25).
#
# Not under `cargo lambda watch`: its emulator answers a JSON body that is not UTF-8 with its own 500
# before the function sees it (API Gateway base64-encodes such bodies instead), so fuzzing through it
# reports the emulator, not us.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_EXAMPLES=${FUZZ_EXAMPLES:-500} exec cargo test -p chat-tests --test api fuzz:: -- --nocapture

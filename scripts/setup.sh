#!/usr/bin/env bash
# One-time setup of what the test suite needs beyond Rust (idempotent; as root or with sudo):
#   - libssl-dev, pkg-config: the socket.io test client (rust_socketio) links native-tls;
#   - chromium: the Swagger UI test loads /api/docs in a real headless browser;
#   - cargo-lambda (PyPI): the end-to-end test runs the stack under `cargo lambda watch`;
#   - cfn-lint (PyPI): the template test lints template.yaml offline;
#   - schemathesis 4 (PyPI): the fuzzing test generates requests from the OpenAPI document.
set -euo pipefail

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in libssl-dev pkg-config chromium; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
export PATH="$scripts_dir:$PATH"
for tool in cargo-lambda cfn-lint; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup.sh: installing $tool"
    python3 -m pip install --quiet --disable-pip-version-check "$tool"
  fi
done
if ! command -v schemathesis >/dev/null 2>&1; then
  echo "setup.sh: installing schemathesis"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis>=4.32,<5"
fi
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
echo "setup.sh: ready ($(cargo lambda --version), cfn-lint $(cfn-lint --version 2>&1 | awk '{print $2}'), $(schemathesis --version))"

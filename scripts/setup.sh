#!/usr/bin/env bash
# One-time setup of what the test suite needs beyond Rust (idempotent; as root or with sudo):
#   - libssl-dev, pkg-config: the socket.io test client (rust_socketio) links native-tls;
#   - chromium (+ an emoji font for the screenshots): the Swagger UI and web client tests drive a
#     real headless browser;
#   - nodejs, npm and tests/browser's packages (npm ci: playwright-core, @asyncapi/parser, swagger-ui-dist,
#     socket.io-client): the web client test and the AsyncAPI validation;
#   - cargo-lambda (PyPI): the end-to-end test runs the stack under `cargo lambda watch`;
#   - cfn-lint (PyPI): the template test lints template.yaml offline;
#   - schemathesis 4 (PyPI): the fuzzing test generates requests from the OpenAPI document.
set -euo pipefail

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# `--build-deps`: only what compiling the workspace needs, so the build can start while the rest
# installs (scripts/test.sh does that).
build_packages=(libssl-dev pkg-config)
if [ "${1:-}" = --build-deps ]; then
  apt_install "${build_packages[@]}"
  exit 0
fi

packages=("${build_packages[@]}" chromium fonts-noto-color-emoji)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
apt_install "${packages[@]}"

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

# The Node.js test tools, exactly as locked; again whenever the lock file changes.
browser_tools=tests/browser
if ! cmp -s "$browser_tools/package-lock.json" "$browser_tools/node_modules/.installed-lock"; then
  echo "setup.sh: installing $browser_tools (npm ci)"
  npm ci --prefix "$browser_tools" --no-audit --no-fund --loglevel=error
  cp "$browser_tools/package-lock.json" "$browser_tools/node_modules/.installed-lock"
fi
echo "setup.sh: ready ($(cargo lambda --version), cfn-lint $(cfn-lint --version 2>&1 | awk '{print $2}'), $(schemathesis --version), node $(node --version))"

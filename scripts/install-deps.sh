#!/usr/bin/env bash
# Installs what swift-presence needs and is missing: nats-server, libnats-dev (nats.c),
# pkg-config, and openssl (the tests make TLS certificates). Debian/Ubuntu via apt-get,
# macOS via Homebrew; elsewhere it says what to install. Then, when the nats-server found is
# older than 2.10, a pinned current one into .tools/ (scripts/install-nats-server.sh).
set -euo pipefail

have_nats_server() { command -v nats-server >/dev/null 2>&1; }
have_libnats() { pkg-config --exists libnats 2>/dev/null; }
have_openssl() { command -v openssl >/dev/null 2>&1; }  # the tests make TLS certificates with it

if ! command -v swift >/dev/null 2>&1; then
  echo "swift-presence needs a Swift 6.1+ toolchain on PATH (https://www.swift.org/install)." >&2
  exit 1
fi

# A current nats-server and the tests' Python tools (PyJWT), each only when missing.
install_current_nats_server() { scripts/install-nats-server.sh; scripts/install-test-tools.sh; }

if have_nats_server && have_libnats && have_openssl; then
  install_current_nats_server
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "Installing nats-server, libnats-dev and pkg-config with apt-get..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server libnats-dev pkg-config openssl >/dev/null
elif command -v brew >/dev/null 2>&1; then
  echo "Installing nats-server, cnats and pkg-config with Homebrew..."
  brew install nats-server cnats pkg-config openssl
else
  echo "Please install nats-server (2.9+), the nats.c client library with headers (libnats, 3.4+) and pkg-config." >&2
  exit 1
fi

have_nats_server || { echo "nats-server is still missing after installing." >&2; exit 1; }
have_libnats || { echo "libnats (pkg-config libnats) is still missing after installing." >&2; exit 1; }
install_current_nats_server

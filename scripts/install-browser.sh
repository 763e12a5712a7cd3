#!/usr/bin/env bash
# Installs what tests/browser/browser_test.py needs, when missing:
#   - Debian's `chromium` (apt-get, noninteractive); Playwright drives it through
#     `executable_path`, so `playwright install` (which downloads browsers) is never run;
#   - the PyPI package `playwright` in the shared venv .tools/python-venv (created with
#     `python3 -m venv`, python3-venv from apt if missing; an existing venv is reused and
#     only what it lacks is installed).
# Prints nothing when there is nothing to do. When chromium cannot be installed (apt-get
# fails), it says why in .tools/browser-install-failure.txt, installs no driver and exits 0:
# the test then reports itself SKIPPED with that reason. Any other failure (the venv, pip)
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$PWD/.tools
VENV=$TOOLS/python-venv
FAILURE=$TOOLS/browser-install-failure.txt
CHROMIUM=${BROWSER_TEST_CHROMIUM:-/usr/bin/chromium}  # another path: only to see the skip
mkdir -p "$TOOLS"

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
APT_UPDATED=0
apt_install() { # packages...
  if [ "$APT_UPDATED" -eq 0 ]; then
    $SUDO apt-get update -qq || return 1
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

# 1. chromium
if [ -x "$CHROMIUM" ]; then
  rm -f "$FAILURE"
else
  echo "Installing Debian's chromium (apt-get)..."
  LOG=$(mktemp)
  if command -v apt-get >/dev/null 2>&1 && apt_install chromium >"$LOG" 2>&1 && [ -x "$CHROMIUM" ]; then
    rm -f "$FAILURE"
  else
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "apt-get not found" >"$FAILURE"
    elif [ ! -s "$LOG" ]; then
      echo "apt-get install chromium did not install $CHROMIUM" >"$FAILURE"
    else
      # The last error lines of apt-get, on one line.
      grep -E '^(E|W):' "$LOG" | tail -3 | tr '\n' ' ' | sed 's/ *$//' >"$FAILURE" || true
      [ -s "$FAILURE" ] || tail -3 "$LOG" | tr '\n' ' ' >"$FAILURE"
    fi
    echo "WARNING: chromium could not be installed: $(cat "$FAILURE") (the browser test will be skipped)" >&2
  fi
  rm -f "$LOG"
fi

# 2. the venv (shared with other tools: reuse it, add only what is missing)
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating $VENV..."
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    apt_install python3-venv >/dev/null
    "$PY" -m venv "$VENV"
  fi
fi

# 3. the driver (not needed without a browser to drive)
if [ -x "$CHROMIUM" ] && ! "$VENV/bin/python" -c 'import playwright.sync_api' >/dev/null 2>&1; then
  echo "Installing playwright (PyPI) into $VENV..."
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check playwright
fi
# The Python example of a connected client (docs/examples/presence_socket.py), run by the test.
if ! "$VENV/bin/python" -c 'import websockets' >/dev/null 2>&1; then
  echo "Installing websockets (PyPI) into $VENV..."
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check websockets
fi

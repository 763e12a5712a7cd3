#!/usr/bin/env bash
# The tools the tests use, each installed only when missing (a second run is fast and offline):
# - promtool (Debian's prometheus package) lints /metrics; curl checks HTTPS;
# - in a venv of their own (.tools/python-venv), PyJWT with its crypto extra, which mints the
#   tokens of the JWKS tests with a real JWT library.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# curl speaks to the HTTPS node in its test.
missing=""
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
VENV=.tools/python-venv
if ! "$VENV/bin/python" -c 'import jwt, cryptography' >/dev/null 2>&1; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'pyjwt[crypto]==2.10.1'
fi

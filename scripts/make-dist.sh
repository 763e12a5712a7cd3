#!/usr/bin/env bash
# Builds the release tarball of swift-presence for this machine's architecture:
#   dist/swift-presence-<version>-linux-<arch>.tar.gz   (and its .sha256 beside it)
# with one top directory swift-presence-<version>/ holding bin/presence (release,
# --static-swift-stdlib, RUNPATH $ORIGIN/../lib), bin/nats-server (the pinned release of
# scripts/install-nats-server.sh), bin/swift-backtrace (the toolchain's static backtracer,
# found beside the binary on a crash), lib/libnats.so.3.4 (the nats.c the binary was linked
# against), LICENSE, README.md, CHANGELOG.md when there is one, RELEASE.md, BUILD-INFO,
# config/*.yaml and SHA256SUMS (every other file's SHA-256). The version is the one of
# Sources/PresenceHTTP/ServiceVersion.swift. `make dist` and deploy/Dockerfile both run it.
#   scripts/make-dist.sh          build and pack
#   scripts/make-dist.sh --path   print the tarball's path only (for the test)
# The build has its own scratch path, .build/dist: --static-swift-stdlib compiles every Swift
# module against the static SDK, so sharing .build/release with `make release` would rebuild
# everything at each switch. File times in the tarball are the last
# commit's (or SOURCE_DATE_EPOCH's), owners are 0, entries are sorted and gzip stores no
# name or time, so the same files give the same tarball.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION_FILE=Sources/PresenceHTTP/ServiceVersion.swift
VERSION=$(sed -n 's/^ *public static let current = "\([^"]*\)".*/\1/p' "$VERSION_FILE")
if [ -z "$VERSION" ] || [ "$(printf '%s\n' "$VERSION" | wc -l)" -ne 1 ]; then
  echo "make-dist: cannot read the one version string from $VERSION_FILE" >&2
  exit 1
fi
ARCH=$(uname -m)
case "$ARCH" in
  x86_64 | aarch64) ;;
  arm64) ARCH=aarch64 ;;
  *) echo "make-dist: unsupported architecture $ARCH (x86_64 or aarch64)" >&2; exit 1 ;;
esac
NAME="swift-presence-$VERSION"
TARBALL="dist/$NAME-linux-$ARCH.tar.gz"

if [ "${1:-}" = "--path" ]; then
  echo "$TARBALL"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: scripts/make-dist.sh [--path]" >&2; exit 2; }

SWIFT=${SWIFT:-swift}
# Cross-building needs a Swift SDK for the other architecture with that architecture's
# libnats-dev inside; this script builds the host's architecture only.
OTHER=$([ "$ARCH" = x86_64 ] && echo aarch64 || echo x86_64)
SDKS=$("$SWIFT" sdk list 2>/dev/null || true)
if [[ "$SDKS" == *"$OTHER"* ]]; then
  echo "make-dist: linux-$OTHER not built: a Swift SDK for it is installed, but this script does not cross-build (nats.c for $OTHER would be needed in it); run make dist on a linux-$OTHER machine."
else
  echo "make-dist: linux-$OTHER not built: no Swift SDK for $OTHER-unknown-linux-gnu is installed (swift sdk list); run make dist on a linux-$OTHER machine."
fi

[ -f LICENSE ] || { echo "make-dist: no LICENSE at the repository's root: a release carries its licence" >&2; exit 1; }

# --- build ---------------------------------------------------------------------------------
BUILD_FLAGS=(-c release --product presence --static-swift-stdlib --scratch-path .build/dist
  -Xlinker -rpath -Xlinker '$ORIGIN/../lib')
"$SWIFT" build "${BUILD_FLAGS[@]}"
BIN_DIR=$("$SWIFT" build "${BUILD_FLAGS[@]}" --show-bin-path)
PRESENCE="$BIN_DIR/presence"

scripts/install-nats-server.sh --pinned
NATS_SERVER=.tools/nats-server/bin/nats-server

# The nats.c the binary was linked against, as the dynamic loader finds it here.
LIBS=$(ldd "$PRESENCE")
LIBNATS=$(awk '$1 ~ /^libnats\.so/ { print $3 }' <<<"$LIBS")
LIBNATS_SONAME=$(awk '$1 ~ /^libnats\.so/ { print $1 }' <<<"$LIBS")
[ -n "$LIBNATS" ] && [ -f "$LIBNATS" ] || { echo "make-dist: $PRESENCE does not link a libnats.so that ldd finds" >&2; exit 1; }
if [[ "$LIBS" == *libswift* || "$LIBS" == *libFoundation* ]]; then
  echo "make-dist: $PRESENCE links the Swift runtime dynamically (was --static-swift-stdlib lost?)" >&2
  exit 1
fi
if [[ "$(readelf -d "$PRESENCE")" != *'PATH)'*'$ORIGIN/../lib'* ]]; then
  echo "make-dist: $PRESENCE has no run path \$ORIGIN/../lib" >&2
  exit 1
fi

# The static backtracer beside the binary, named swift-backtrace: the statically linked
# runtime looks for it there when a crash happens.
TOOLCHAIN_BIN=$(dirname "$(readlink -f "$(command -v "$SWIFT")")")
BACKTRACER="$TOOLCHAIN_BIN/../libexec/swift/linux/swift-backtrace-static"

# --- assemble ------------------------------------------------------------------------------
mkdir -p dist
STAGE=$(mktemp -d dist/.stage.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
TOP="$STAGE/$NAME"
install -d -m 0755 "$TOP/bin" "$TOP/lib" "$TOP/config"
install -m 0755 "$PRESENCE" "$TOP/bin/presence"
install -m 0755 "$NATS_SERVER" "$TOP/bin/nats-server"
if [ -x "$BACKTRACER" ]; then
  install -m 0755 "$BACKTRACER" "$TOP/bin/swift-backtrace"
else
  echo "make-dist: no static backtracer at $BACKTRACER: the tarball has none (crashes print no backtrace)"
fi
install -m 0644 "$LIBNATS" "$TOP/lib/$LIBNATS_SONAME"
install -m 0644 LICENSE NOTICE README.md "$TOP/"
[ -f CHANGELOG.md ] && install -m 0644 CHANGELOG.md "$TOP/"
install -m 0644 config/*.yaml "$TOP/config/"
sed "s/@VERSION@/$VERSION/g; s/@ARCH@/$ARCH/g" deploy/release-README.md > "$TOP/RELEASE.md"
chmod 0644 "$TOP/RELEASE.md"

COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$COMMIT" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  COMMIT="$COMMIT (with uncommitted changes)"
fi
{
  echo "swift-presence $VERSION linux-$ARCH"
  echo "commit: $COMMIT"
  echo "swift: $("$SWIFT" --version 2>/dev/null | head -1)"
  echo "build: swift build ${BUILD_FLAGS[*]}"
  "$NATS_SERVER" --version
  echo "libnats: $(basename "$(readlink -f "$LIBNATS")")"
} > "$TOP/BUILD-INFO"
chmod 0644 "$TOP/BUILD-INFO"

(cd "$TOP" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
chmod 0644 "$TOP/SHA256SUMS"

EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" --format=gnu \
  -C "$STAGE" -cf - "$NAME" | gzip -n -9 > "$TARBALL.new"
mv "$TARBALL.new" "$TARBALL"
(cd dist && sha256sum "$(basename "$TARBALL")" > "$(basename "$TARBALL").sha256")
echo "make-dist: $TARBALL ($(du -h "$TARBALL" | cut -f1)), $(cut -d' ' -f1 "$TARBALL.sha256")"

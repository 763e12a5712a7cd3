#!/usr/bin/env bash
# Embeds openapi.yaml (the API contract, edited by hand) into the binary as a Swift string,
# so `GET /openapi.yaml` and `/docs` work wherever the binary is copied. A test fails when
# the two differ: run `make openapi` after editing openapi.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
out=Sources/PresenceHTTP/OpenAPIDocument.swift
if grep -q '"""#' openapi.yaml; then echo "openapi.yaml must not contain \"\"\"#" >&2; exit 1; fi
{
  echo '// Generated from openapi.yaml by scripts/embed-openapi.sh (`make openapi`); do not edit.'
  echo
  echo '/// The OpenAPI 3.1 document of the API, served at `/openapi.yaml` and rendered at `/docs`.'
  echo 'public enum OpenAPIDocument {'
  echo '    /// The document'"'"'s YAML text, exactly as in `openapi.yaml`.'
  echo '    public static let yaml = #"""'
  cat openapi.yaml
  echo '"""#'
  echo '}'
} > "$out"
echo "wrote $out"

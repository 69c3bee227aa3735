#!/usr/bin/env bash
# Checks docs/api.md, README.md and docs/*.md against a real progimage-api: its
# /openapi.json, .env.example and the shared contract (see scripts/check-docs.py).
#
# The server binary is $PROGIMAGE_BIN when set; otherwise it is built with cargo (a no-op when
# up to date) into $CARGO_TARGET_DIR (default <repo>/target). Python 3.11 or later ($PYTHON,
# default python3), standard library only. Exits non-zero on any mismatch.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ -z "${PROGIMAGE_BIN:-}" ]]; then
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    echo "building progimage-api into $target_dir" >&2
    (cd "$repo" && CARGO_TARGET_DIR="$target_dir" cargo build --quiet -p progimage-api)
    export PROGIMAGE_BIN="$target_dir/debug/progimage-api"
fi
if [[ ! -x "$PROGIMAGE_BIN" ]]; then
    echo "no executable progimage-api at $PROGIMAGE_BIN" >&2
    exit 1
fi

exec "${PYTHON:-python3}" "$repo/scripts/check-docs.py" "$PROGIMAGE_BIN"

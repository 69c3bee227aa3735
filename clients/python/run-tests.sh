#!/usr/bin/env bash
# Runs the Python SDK's tests against a real progimage-api.
#
# The server binary is $PROGIMAGE_BIN when set; otherwise it is built with cargo (a no-op when
# up to date) into $CARGO_TARGET_DIR (default <repo>/target). The SDK is installed with its test
# extras into a virtualenv ($PROGIMAGE_SDK_VENV, default clients/python/.venv) made with
# $PYTHON (default python3). Arguments are passed to pytest. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

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

venv="${PROGIMAGE_SDK_VENV:-$here/.venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$here[test]"

cd "$here"
exec "$venv/bin/python" -m pytest "$@"

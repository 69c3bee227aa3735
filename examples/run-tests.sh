#!/usr/bin/env bash
# Runs the examples' tests against a real progimage-api: each webhook receiver (Python,
# TypeScript) is started as its own process, and the server delivers a job's webhook to it.
#
# The server binary is $PROGIMAGE_BIN, default ${CARGO_TARGET_DIR:-<repo>/target}/debug/progimage-api;
# nothing is built with cargo. Python: the SDK with its test extras goes into a virtualenv
# ($PROGIMAGE_SDK_VENV, default examples/webhook-receiver/python/.venv) made with $PYTHON
# (default python3). TypeScript: the SDK is built with its own locked toolchain, then the
# example is installed from its lockfile. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
binary="${PROGIMAGE_BIN:-$target_dir/debug/progimage-api}"
# The tests run in other directories: a relative path is taken from the one this runs in.
[[ "$binary" = /* ]] || binary="$PWD/$binary"
if [[ ! -x "$binary" ]]; then
    echo "no executable progimage-api at $binary: build it (cargo build -p progimage-api) or set PROGIMAGE_BIN" >&2
    exit 1
fi
export PROGIMAGE_BIN="$binary"

echo "== examples: Python webhook receiver"
python_example="$here/webhook-receiver/python"
venv="${PROGIMAGE_SDK_VENV:-$python_example/.venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
# The same install as clients/python/run-tests.sh, so the two may share one virtualenv.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$repo/clients/python[test]"
(cd "$python_example" && "$venv/bin/python" -m pytest)

echo "== examples: TypeScript webhook receiver"
# The example depends on the SDK's directory (file:), whose built output it imports.
(cd "$repo/clients/typescript" && npm ci --no-audit --no-fund && npm run build)
(cd "$here/webhook-receiver/typescript" && npm ci --no-audit --no-fund && npm test)

#!/usr/bin/env bash
# Installs the locked dev dependencies and runs the TypeScript client's tests against the
# real server binary (PROGIMAGE_BIN, else $CARGO_TARGET_DIR or <repo>/target, debug build).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm test

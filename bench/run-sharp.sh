#!/usr/bin/env bash
# Installs sharp (bench/sharp/package-lock.json) and runs the workloads of
# bench-workloads.md through it; extra arguments go to workloads.mjs
# (e.g. --runs 5 --seconds 3 --only W1,W3c). JSON lines on stdout.
set -euo pipefail
cd "$(dirname "$0")/sharp"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --silent >&2
else
  npm install --no-audit --no-fund --silent >&2
fi
exec node workloads.mjs "$@"

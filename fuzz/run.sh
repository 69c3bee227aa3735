#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 30) on its seeds and the corpus it has grown,
# with cargo-fuzz on the stable toolchain (RUSTC_BOOTSTRAP=1 lets it use the sanitizer
# flags). Installs cargo-fuzz if missing. Exits non-zero on the first crash, leaving the
# input under fuzz/artifacts/<target>/.
#   bash fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode svg transform_query ops_text pipeline_json job_submission url_guard)
fi
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.1 --locked
fi
# Its own build directory: the fuzz flags must not mix with the workspace's builds. The
# corpus each run starts from: the committed seeds, the fixtures, and what earlier runs
# found (kept outside the repository, in the build directory).
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  target_dir="$CARGO_TARGET_DIR/fuzz"
else
  target_dir="$PWD/target"
fi
for target in "${targets[@]}"; do
  corpus="$target_dir/fuzz-corpus/$target"
  mkdir -p "$corpus"
  case "$target" in
    decode) find ../fixtures/images ../fixtures/hostile -maxdepth 1 -type f \
              ! -name '*.svg' ! -name '*.md' ! -name '*.py' -size -200k -exec cp -n {} "$corpus/" \; ;;
    svg) find ../fixtures/images ../fixtures/hostile -maxdepth 1 -name '*.svg' -exec cp -n {} "$corpus/" \; ;;
    *) cp -n seeds/"$target"/* "$corpus/" ;;
  esac
  echo "== fuzz $target for ${seconds}s"
  start=$(date +%s)
  log="$target_dir/fuzz-$target.log"
  status=0
  # No sanitizer: the code is safe Rust (ASan finds nothing more there), the AVIF decoder runs
  # in sandbox children whose address-space limit ASan's shadow memory would exhaust, and
  # uninstrumented runs are several times faster.
  cargo fuzz run --release --sanitizer none --target-dir "$target_dir" "$target" "$corpus" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len=262144 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  # The summary lines: executions, coverage, corpus size, and any crash.
  grep -E '^(#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Test unit written|panicked)' "$log" | tail -n 12 || true
  echo "== fuzz $target: exit $status after $(( $(date +%s) - start ))s"
  [ "$status" -eq 0 ] || exit "$status"
done

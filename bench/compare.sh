#!/usr/bin/env bash
# Our engine against its peers on the workloads of shared/bench-workloads.md, in one session:
# builds core/examples/workloads in release, installs sharp (bench/sharp) and Pillow
# (bench/pillow, in a venv; left out with a note if it cannot be installed), then runs the
# three interleaved, run by run and workload by workload (the order of the peers rotates
# from run to run), and prints a table of medians, min-max and the ratio ours/peer.
#
#   bash bench/compare.sh [--runs 3] [--seconds 3] [--only W1,W3c] [--no-pillow]
#
# Every JSON line measured is kept in bench/out/compare-<time>.jsonl; bench/table.py prints
# the table again from such a file.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=3
seconds=3
only=W1,W2,W3a,W3b,W3c,W4,W5,W6
pillow=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-pillow) pillow=no; shift ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

corpus=$(cd "$root/.." && pwd)/shared/corpus
if [ ! -d "$corpus" ]; then
  echo "compare.sh: corpus $corpus not found" >&2
  exit 1
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
echo "building the engine runner (release)..." >&2
(cd "$root" && cargo build --release --quiet -p progimage-engine --example workloads)
ours=$CARGO_TARGET_DIR/release/examples/workloads

echo "installing sharp..." >&2
(cd "$root/bench/sharp" && npm ci --no-audit --no-fund --silent >&2)

if [ "$pillow" = yes ]; then
  echo "installing Pillow..." >&2
  venv=$root/bench/pillow/.venv
  if ! { [ -x "$venv/bin/python" ] || python3 -m venv "$venv"; } ||
    ! "$venv/bin/pip" install --quiet -r "$root/bench/pillow/requirements.txt" >&2; then
    echo "compare.sh: Pillow could not be installed; measuring without it" >&2
    pillow=no
  fi
fi

# The workloads each peer does: sharp cannot trace (W6), Pillow neither rasterises SVG nor
# traces (W5, W6).
peer_does() {
  case "$1:$2" in
    sharp:W6 | pillow:W5 | pillow:W6) return 1 ;;
    pillow:*) [ "$pillow" = yes ] ;;
    *) return 0 ;;
  esac
}

measure() { # peer workload: both modes, one run; JSON lines without the summaries
  local args=(--runs 1 --seconds "$seconds" --only "$2")
  case "$1" in
    ours) "$ours" "${args[@]}" --corpus "$corpus" ;;
    sharp) (cd "$root/bench/sharp" && node workloads.mjs "${args[@]}" --corpus "$corpus") ;;
    pillow) "$root/bench/pillow/.venv/bin/python" "$root/bench/pillow/workloads.py" "${args[@]}" --corpus "$corpus" ;;
  esac | grep -v '"summary"'
}

mkdir -p "$root/bench/out"
out=$root/bench/out/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl
peers=(ours sharp pillow)
for run in $(seq 1 "$runs"); do
  for workload in ${only//,/ }; do
    for i in 0 1 2; do
      peer=${peers[$(((i + run - 1) % 3))]}
      peer_does "$peer" "$workload" || continue
      echo "run $run/$runs: $workload $peer" >&2
      measure "$peer" "$workload" | sed "s/^{/{\"peer\":\"$peer\",\"run_of_compare\":$run,/" >>"$out"
    done
  done
done

echo "measurements: $out" >&2
python3 "$root/bench/table.py" "$out"

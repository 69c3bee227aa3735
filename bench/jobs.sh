#!/usr/bin/env bash
# Bulk jobs through the distributed set-up against the engine alone: a job of 1,000 items
# through one `progimage-worker` process and through two, images per second each, and
# what the queue, the database and the storage cost on top of the engine.
#
#   bash bench/jobs.sh [--runs 3] [--items 1000] [--seconds 5] [--s3] [--no-build]
#
# Per run and configuration: a fresh Postgres database, one `progimage-api`, the worker
# processes (all on RabbitMQ under a prefix of their own, the storage a temporary
# directory, or moto's S3 with --s3), the inputs uploaded, a small warm-up job, then a
# W1 job (the 6 corpus photos cycled: fit inside 300x300, JPEG q80) and an L1 job (a
# 64x96 PNG fixture to JPEG q80, no operations: the per-item cost beside the engine's).
# Configurations: 1 or 2 worker processes with PROGIMAGE_WORKERS=1 or the default (one
# per core). The engine alone is core/examples/workloads.rs on the same work (W1 and L1),
# one thread and one per core. Runs are interleaved (run 1 of everything, then run 2...)
# and the order rotates from run to run.
#
# Needs Postgres and RabbitMQ on 127.0.0.1 (PROGIMAGE_BENCH_POSTGRES, PROGIMAGE_BENCH_AMQP
# override the URLs) and python3. Every JSON line is kept in bench/out/jobs-<time>.jsonl;
# `python3 bench/jobs.py table FILE` prints the table again.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=3
items=1000
seconds=5
s3=no
build=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --items) items=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --s3) s3=yes; shift ;;
    --no-build) build=no; shift ;;
    *) echo "jobs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "jobs.sh: $*" >&2; }
die() { log "$*"; exit 1; }

corpus=$(cd "$root/.." && pwd)/shared/corpus
[ -d "$corpus/jpeg" ] || die "corpus $corpus not found"
light=$root/fixtures/images/sample.png
admin_url=${PROGIMAGE_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
amqp_url=${PROGIMAGE_BENCH_AMQP:-amqp://guest:guest@127.0.0.1:5672/%2f}
command -v psql >/dev/null || die "psql is needed to create the databases"
command -v python3 >/dev/null || die "python3 is needed"
psql "$admin_url" -Atqc 'select 1' >/dev/null || die "Postgres is not reachable at $admin_url"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
if [ "$build" = yes ]; then
  log "building progimage-api, progimage-worker and the engine runner (release)..."
  # Two commands: with `--example`, cargo builds only the examples of the packages named.
  (cd "$root" && cargo build --release --quiet -p progimage-api -p progimage-worker)
  (cd "$root" && cargo build --release --quiet -p progimage-engine --example workloads)
fi
bin=$CARGO_TARGET_DIR/release
for exe in "$bin/progimage-api" "$bin/progimage-worker" "$bin/examples/workloads"; do
  [ -x "$exe" ] || die "$exe not built (drop --no-build)"
done

if [ "$s3" = yes ]; then
  eval "$(bash "$root/scripts/services")"
fi

# Everything this script starts or creates, undone on any exit.
tag=$(date -u +%Y%m%d%H%M%S)_$$
tmp=$(mktemp -d "/tmp/progimage-bench-jobs.XXXXXX")
# One broker prefix for the whole run: every configuration ends with its queues empty (all
# items done and acknowledged), and each has its own database.
prefix=progimage-bench-jobs-$tag
pids=()
databases=()
prefixes=("$prefix")
stop_processes() { # TERM, up to 12 s (the binaries stop within 10 s), then KILL
  local pid
  [ ${#pids[@]} -gt 0 ] || return 0
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 120); do
    local alive=no
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=yes; done
    [ "$alive" = no ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
}
drop_databases() {
  local db
  [ ${#databases[@]} -gt 0 ] || return 0
  for db in "${databases[@]}"; do
    psql "$admin_url" -Atqc "drop database if exists $db with (force)" >/dev/null ||
      log "could not drop database $db"
  done
  databases=()
}
delete_queues() { # the broker's queues under our prefixes (exchanges hold nothing)
  local prefix name
  [ ${#prefixes[@]} -gt 0 ] || return 0
  if ! command -v rabbitmqctl >/dev/null; then
    log "rabbitmqctl not found: queues under ${prefixes[*]} are left on the broker"
    return 0
  fi
  local names
  names=$(rabbitmqctl list_queues -q name </dev/null 2>/dev/null) || names=
  for name in $names; do
    for prefix in "${prefixes[@]}"; do
      case "$name" in
        "$prefix".*) rabbitmqctl delete_queue "$name" </dev/null >/dev/null 2>&1 ||
          log "could not delete queue $name" ;;
      esac
    done
  done
  prefixes=()
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_processes
  drop_databases
  delete_queues
  if [ "$status" -ne 0 ]; then
    log "failed (exit $status); logs kept in $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    port_free "$port" && { echo "$port"; return 0; }
  done
  die "no free port found"
}

# Waits until `file` has a line matching `pattern`, or fails when `pid` died or 60 s passed.
wait_for_log() {
  local file=$1 pattern=$2 pid=$3
  for _ in $(seq 1 600); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -20 "$file" >&2; die "process $pid exited; see above"; }
    sleep 0.1
  done
  tail -20 "$file" >&2
  die "timed out waiting for '$pattern' in $file"
}

# One run of one configuration: fresh database, api and workers, warm-up, then the two
# jobs; appends their JSON lines to $out.
measure_config() {
  local run=$1 config=$2 processes=$3 threads=$4
  local name=r${run}c${config}
  local db=progimage_bench_jobs_${tag}_$name
  local dir=$tmp/$name
  local total=$((processes * ${threads/default/$cores}))
  mkdir -p "$dir/storage"
  psql "$admin_url" -Atqc "create database $db" >/dev/null
  databases+=("$db")
  local storage=$dir/storage storage_kind=files
  if [ "$s3" = yes ]; then
    storage=s3://$PROGIMAGE_TEST_BUCKET/bench-jobs/$tag/$name
    storage_kind=s3
  fi
  local port
  port=$(free_port)
  local env=(
    "DATABASE_URL=${admin_url%/*}/$db"
    "AMQP_URL=$amqp_url"
    "PROGIMAGE_AMQP_PREFIX=$prefix"
    "PROGIMAGE_STORAGE=$storage"
    "PROGIMAGE_LOG_FORMAT=json"
  )
  env "${env[@]}" PROGIMAGE_LISTEN="127.0.0.1:$port" PROGIMAGE_DATA_DIR="$dir/api-data" \
    "$bin/progimage-api" >"$dir/api.log" 2>&1 &
  pids+=($!)
  local api=http://127.0.0.1:$port
  for _ in $(seq 1 300); do
    curl -fsS "$api/readyz" >/dev/null 2>&1 && break
    kill -0 "${pids[-1]}" 2>/dev/null || { tail -20 "$dir/api.log" >&2; die "progimage-api exited"; }
    sleep 0.1
  done
  curl -fsS "$api/readyz" >/dev/null || die "progimage-api not ready; see $dir/api.log"
  local i worker_env=()
  [ "$threads" = default ] || worker_env=("PROGIMAGE_WORKERS=$threads")
  for i in $(seq 1 "$processes"); do
    env "${env[@]}" "${worker_env[@]}" "$bin/progimage-worker" >"$dir/worker$i.log" 2>&1 &
    pids+=($!)
    wait_for_log "$dir/worker$i.log" '"message":"consuming"' "${pids[-1]}"
  done
  python3 "$root/bench/jobs.py" upload --api "$api" --corpus "$corpus" --light "$light" >"$dir/inputs.json"
  # Warm-up: every process has handled items of both kinds before the clock runs.
  local workload
  for workload in W1 L1; do
    python3 "$root/bench/jobs.py" job --api "$api" --inputs "$dir/inputs.json" \
      --workload "$workload" --items $((12 * processes)) >/dev/null
  done
  for workload in W1 L1; do
    log "run $run/$runs: $workload, $processes worker process(es) x PROGIMAGE_WORKERS=$threads"
    python3 "$root/bench/jobs.py" job --api "$api" --inputs "$dir/inputs.json" \
      --workload "$workload" --items "$items" --pids "$(IFS=,; echo "${pids[*]}")" \
      --admin-url "$admin_url" --database "$db" \
      --tag "{\"kind\":\"job\",\"run\":$run,\"processes\":$processes,\"threads\":\"$threads\",\"total_threads\":$total,\"storage\":\"$storage_kind\"}" |
      tee -a "$out" >&2
  done
  stop_processes
  drop_databases
}

measure_engine() {
  local run=$1 mode workload
  # The thread counts of the configurations: 1, one per core, two per core.
  for mode in one all $((2 * cores)); do
    for workload in W1 L1; do
      log "run $run/$runs: engine alone, $workload, mode $mode"
      python3 "$root/bench/jobs.py" engine --exe "$bin/examples/workloads" --workload "$workload" \
        --mode "$mode" --seconds "$seconds" --corpus "$corpus" --tag "{\"run_of_jobs\":$run}" |
        tee -a "$out" >&2
    done
  done
}

# What PROGIMAGE_WORKERS defaults to, and the examples' "all".
cores=$(nproc)
mkdir -p "$root/bench/out"
out=$root/bench/out/jobs-$(date -u +%Y%m%dT%H%M%SZ).jsonl
# (worker processes, PROGIMAGE_WORKERS each); index 0 is the engine alone.
configs=("engine" "1 1" "2 1" "1 default" "2 default")
for run in $(seq 1 "$runs"); do
  for i in $(seq 0 $((${#configs[@]} - 1))); do
    index=$(((i + run - 1) % ${#configs[@]}))
    if [ "$index" -eq 0 ]; then
      measure_engine "$run"
    else
      # shellcheck disable=SC2086 # two words on purpose
      measure_config "$run" "$index" ${configs[$index]}
    fi
  done
done

log "measurements: $out"
python3 "$root/bench/jobs.py" table "$out"

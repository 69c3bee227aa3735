"""The HTTP side of bench/jobs.sh: uploads the inputs, submits a bulk job, waits for it,
checks it and prints one JSON line; and prints the table from the collected lines.

    python3 bench/jobs.py upload --api URL --corpus DIR --light FILE
    python3 bench/jobs.py job --api URL --inputs FILE --workload W1|L1 --items 1000 [--tag JSON]
    python3 bench/jobs.py table FILE.jsonl

Standard library only. Every failure (an HTTP error, a job that does not end succeeded
with every item succeeded, a timeout) exits non-zero with a message on stderr, so that
bench/jobs.sh stops rather than report a number for work that was not done.
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

# The workloads as job bodies; bench/jobs.sh measures the same work through the engine
# alone with core/examples/workloads.rs (W1 and L1 there).
WORKLOADS = {
    # shared/bench-workloads.md W1: fit inside 300x300 (aspect kept), JPEG q80.
    "W1": {"operations": [{"op": "resize", "width": 300, "height": 300}], "format": "jpeg", "quality": 80},
    # Light: a 64x96 PNG to JPEG q80, no operations, so that the engine's share is tiny
    # and the per-item cost of the queue, the database and the storage shows.
    "L1": {"format": "jpeg", "quality": 80},
}


def fail(message):
    print(f"jobs.py: {message}", file=sys.stderr)
    sys.exit(1)


def request(method, url, body=None, content_type=None, timeout=60):
    """One request; returns (status, headers, parsed JSON or None). Fails on >= 400."""
    data = None
    headers = {}
    if body is not None:
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        else:
            data = json.dumps(body).encode()
            content_type = content_type or "application/json"
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        fail(f"{method} {url} -> {error.code}: {error.read()[:500]!r}")
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        fail(f"{method} {url}: {error}")


def cpu_seconds(pids):
    """User + system CPU seconds of the processes `pids` so far (every thread)."""
    total = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def database_backends(admin_url, database):
    """The pids of the Postgres backends serving `database` (on this machine)."""
    out = subprocess.run(["psql", admin_url, "-Atc",
                          f"select pid from pg_stat_activity where datname = '{database}'"],
                         check=True, capture_output=True, text=True).stdout
    return [int(line) for line in out.split()]


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def upload(args):
    """Stores the six corpus JPEGs and the light fixture; prints their ids as JSON."""
    photos = sorted(pathlib.Path(args.corpus, "jpeg").glob("*.jpg"))
    if len(photos) != 6:
        fail(f"expected the 6 JPEG photos in {args.corpus}/jpeg, found {len(photos)}")
    ids = {"W1": [], "L1": []}
    for path in photos:
        _, _, image = request("POST", f"{args.api}/v1/images?filename={path.name}", path.read_bytes(), "image/jpeg")
        ids["W1"].append(image["id"])
    light = pathlib.Path(args.light)
    _, _, image = request("POST", f"{args.api}/v1/images?filename={light.name}", light.read_bytes(), "image/png")
    ids["L1"].append(image["id"])
    print(json.dumps(ids))


def job(args):
    """Submits one job of `--items` items cycling over the workload's images, waits for
    it to end, checks it and prints a JSON line with its timing."""
    image_ids = json.loads(pathlib.Path(args.inputs).read_text())[args.workload]
    body = dict(WORKLOADS[args.workload])
    body["items"] = [{"image_id": image_ids[i % len(image_ids)]} for i in range(args.items)]
    pids = [int(pid) for pid in args.pids.split(",")] if args.pids else []
    backends = database_backends(args.admin_url, args.database) if args.database else []
    cpu_before = cpu_seconds(pids + backends)
    submitted_wall = time.time()
    status, headers, accepted = request("POST", f"{args.api}/v1/jobs", body)
    accepted_wall = time.time()
    if status != 202 or accepted.get("total") != args.items:
        fail(f"POST /v1/jobs -> {status} {accepted}")
    job_id = accepted["id"]
    # Poll the list (jobs without their items: cheap for the API and the database, which
    # share the cores with the workers); the newest job of this fresh database is ours.
    deadline = time.monotonic() + args.timeout
    while True:
        _, _, page = request("GET", f"{args.api}/v1/jobs?limit=1")
        newest = page["jobs"][0] if page["jobs"] else None
        if newest is None or newest["id"] != job_id:
            _, _, newest = request("GET", f"{args.api}/v1/jobs/{job_id}")
        if newest["finished_at"] is not None:
            break
        if time.monotonic() > deadline:
            fail(f"job {job_id} not finished after {args.timeout} s: {newest['status']}, "
                 f"{newest['succeeded']} succeeded, {newest['failed']} failed")
        time.sleep(args.poll)
    seen_wall = time.time()
    # Backends opened during the job count from their start; RabbitMQ's CPU is not counted
    # (a shared broker).
    if args.database:
        backends = sorted(set(backends) | set(database_backends(args.admin_url, args.database)))
    cpu = cpu_seconds(pids + backends) - cpu_before
    _, _, full = request("GET", f"{args.api}/v1/jobs/{job_id}", timeout=120)
    items_ok = sum(1 for item in full["items"] if item["status"] == "succeeded" and item["image"])
    if full["status"] != "succeeded" or full["succeeded"] != args.items or items_ok != args.items:
        errors = [item["error"] for item in full["items"] if item["error"]][:3]
        fail(f"job {job_id}: {full['status']}, {full['succeeded']} succeeded, "
             f"{full['failed']} failed, {items_ok} items with an image; first errors: {errors}")
    # The job's own timestamps (milliseconds, one machine's clock): from the insert, which
    # comes before any message is published, to the last item's commit.
    seconds = parse_time(full["finished_at"]) - parse_time(full["created_at"])
    record = {
        "kind": "job",
        "workload": args.workload,
        "items": args.items,
        "job_id": job_id,
        "seconds": round(seconds, 3),
        "images_per_s": round(args.items / seconds, 3),
        "ms_per_item": round(1000 * seconds / args.items, 3),
        "submit_s": round(accepted_wall - submitted_wall, 3),
        "wall_s": round(seen_wall - submitted_wall, 3),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_item": round(1000 * cpu / args.items, 3),
    }
    if args.tag:
        record.update(json.loads(args.tag))
    print(json.dumps(record))


def engine(args):
    """Runs the engine alone (core/examples/workloads.rs) for one workload and mode and
    prints its JSON line with the CPU it used per image (the warm-up pass, one image per
    input, counted in)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([args.exe, "--runs", "1", "--seconds", str(args.seconds), "--only", args.workload,
                          "--mode", args.mode, "--corpus", args.corpus],
                         check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    record = next(json.loads(line) for line in out.splitlines() if '"summary"' not in line)
    warm_up = {"W1": 6, "L1": 1}[args.workload]
    record.update({"kind": "engine", "cpu_s": round(cpu, 3),
                   "cpu_ms_per_item": round(1000 * cpu / (record["images"] + warm_up), 3)})
    if args.tag:
        record.update(json.loads(args.tag))
    print(json.dumps(record))


# The configurations, in table order: (worker processes, PROGIMAGE_WORKERS each or
# "default", one per core). Each is set against the engine at the same thread count.
CONFIGS = [("1", "1"), ("2", "1"), ("1", "default"), ("2", "default")]


def table(args):
    jobs, engine = {}, {}
    for line in pathlib.Path(args.file).read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "job":
            key = (record["workload"], str(record["processes"]), str(record["threads"]))
            jobs.setdefault(key, []).append(record)
        elif record.get("kind") == "engine":
            engine.setdefault((record["workload"], record["in_flight"]), []).append(record["images_per_s"])

    def cell(values, digits=1):
        values = sorted(values)
        return f"{statistics.median(values):.{digits}f} ({values[0]:.{digits}f}-{values[-1]:.{digits}f})"

    header = ["workload", "worker processes x threads", "job img/s", "job ms/item", "submit s",
              "engine img/s", "job/engine", "queue overhead", "overhead ms/item"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for workload in WORKLOADS:
        for processes, threads in CONFIGS:
            records = jobs.get((workload, processes, threads))
            if not records:
                continue
            total = records[0]["total_threads"]
            ips = [r["images_per_s"] for r in records]
            ms = [r["ms_per_item"] for r in records]
            engine_ips = engine.get((workload, total), [])
            threads_text = f"{total // int(processes)} (default)" if threads == "default" else threads
            submit = [r["submit_s"] for r in records]
            row = [workload, f"{processes} x {threads_text}", cell(ips), cell(ms, 2), cell(submit, 2)]
            if engine_ips:
                ratio = statistics.median(ips) / statistics.median(engine_ips)
                # Wall time per item beyond the engine's at the same thread count.
                extra = statistics.median(ms) - 1000 / statistics.median(engine_ips)
                row += [f"{cell(engine_ips)} ({total} thr)", f"{ratio:.2f}", f"**{1 - ratio:.0%}**", f"{extra:.2f}"]
            else:
                row += ["—", "—", "—", "—"]
            print("| " + " | ".join(row) + " |")
    # CPU per item: where the machine is busy, CPU time is steadier than wall time.
    print("\n| workload | worker processes x threads | job CPU ms/item | engine CPU ms/image | CPU overhead ms/item |")
    print("|---|---|---|---|---|")
    engine_cpu = {}
    for line in pathlib.Path(args.file).read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "engine" and "cpu_ms_per_item" in record:
            engine_cpu.setdefault((record["workload"], record["in_flight"]), []).append(record["cpu_ms_per_item"])
    for workload in WORKLOADS:
        for processes, threads in CONFIGS:
            records = [r for r in jobs.get((workload, processes, threads), []) if "cpu_ms_per_item" in r]
            if not records:
                continue
            total = records[0]["total_threads"]
            threads_text = f"{total // int(processes)} (default)" if threads == "default" else threads
            cpu = [r["cpu_ms_per_item"] for r in records]
            row = [workload, f"{processes} x {threads_text}", cell(cpu, 2)]
            reference = engine_cpu.get((workload, total), [])
            if reference:
                extra = statistics.median(cpu) - statistics.median(reference)
                row += [f"{cell(reference, 2)} ({total} thr)", f"**{extra:.2f}**"]
            else:
                row += ["—", "—"]
            print("| " + " | ".join(row) + " |")
    runs = {len(records) for records in jobs.values()} | {len(values) for values in engine.values()}
    print(f"\nmedian (min-max) over {'/'.join(str(n) for n in sorted(runs))} runs; the engine "
          "alone at the job's total thread count (processes x threads)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("upload")
    p.add_argument("--api", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--light", required=True)
    p.set_defaults(run=upload)
    p = commands.add_parser("job")
    p.add_argument("--api", required=True)
    p.add_argument("--inputs", required=True, help="the JSON that `upload` printed, in a file")
    p.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    p.add_argument("--items", type=int, default=1000)
    p.add_argument("--poll", type=float, default=0.1, help="seconds between polls")
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--tag", help="JSON object merged into the printed line")
    p.add_argument("--pids", help="comma-separated pids whose CPU the job is charged")
    p.add_argument("--admin-url", help="Postgres URL to list the database's backends with")
    p.add_argument("--database", help="charge the CPU of this database's Postgres backends too")
    p.set_defaults(run=job)
    p = commands.add_parser("engine")
    p.add_argument("--exe", required=True, help="the workloads example")
    p.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    p.add_argument("--mode", required=True)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--corpus", required=True)
    p.add_argument("--tag", help="JSON object merged into the printed line")
    p.set_defaults(run=engine)
    p = commands.add_parser("table")
    p.add_argument("file")
    p.set_defaults(run=table)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()

"""Prints the comparison table from the JSON lines bench/compare.sh collects.

    python3 bench/table.py bench/out/compare-<time>.jsonl

One row per workload and mode: images/s of each peer as median (min-max) over the runs, and
the ratio of medians ours/peer (above 1: ours is faster), which is the figure to quote;
then our megapixels/s and the peak RSS of each peer (the largest over the runs).
"""

import json
import statistics
import sys

WORKLOADS = ["W1", "W2", "W3a", "W3b", "W3c", "W4", "W5", "W6"]
PEERS = ["sharp", "pillow"]


def main(path):
    rows = {}
    with open(path) as lines:
        for line in lines:
            record = json.loads(line)
            rows.setdefault((record["peer"], record["workload"], record["mode"]), []).append(record)

    def ips(peer, workload, mode):
        return sorted(r["images_per_s"] for r in rows.get((peer, workload, mode), []))

    def cell(values):
        if not values:
            return "—"
        return f"{statistics.median(values):.2f} ({values[0]:.2f}-{values[-1]:.2f})"

    def ratio(ours, peer):
        if not ours or not peer:
            return "—"
        return f"**{statistics.median(ours) / statistics.median(peer):.2f}**"

    def rss(peer, workload, mode):
        values = [r["peak_rss_mb"] for r in rows.get((peer, workload, mode), [])]
        return f"{max(values):.0f}" if values else "—"

    header = ["workload", "mode", "ours img/s", "sharp img/s", "ours/sharp", "Pillow img/s", "ours/Pillow"]
    header += ["ours MP/s", "RSS MB ours/sharp/Pillow"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for workload in WORKLOADS:
        for mode in ("one", "all"):
            ours = ips("ours", workload, mode)
            if not ours:
                continue
            records = rows[("ours", workload, mode)]
            key = "output_mp_per_s" if "output_mp_per_s" in records[0] else "input_mp_per_s"
            megapixels = statistics.median(r[key] for r in records)
            mp = f"{megapixels:.1f}" + (" out" if key == "output_mp_per_s" else "")
            cells = [workload, mode, cell(ours)]
            for peer in PEERS:
                theirs = ips(peer, workload, mode)
                cells += [cell(theirs), ratio(ours, theirs)]
            cells += [mp, "/".join(rss(p, workload, mode) for p in ["ours"] + PEERS)]
            print("| " + " | ".join(cells) + " |")
    runs = max((len(v) for v in rows.values()), default=0)
    print(f"\nimg/s: median (min-max) of {runs} interleaved runs; ratio = median ours / median peer.")


if __name__ == "__main__":
    main(sys.argv[1])

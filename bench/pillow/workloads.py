"""The workloads of bench-workloads.md run through Pillow, the engine under thumbor, with the
same JSON lines as ../sharp/workloads.mjs. Pillow neither renders SVG nor traces, so W5 and
W6 are absent.

    python workloads.py [--runs 3] [--seconds 3] [--only W1,W3c] [--corpus ../../../shared/corpus]

Every (run, workload, mode) measurement is a fresh child process, so its peak RSS is its own;
runs are interleaved. Modes: "one" = one image at a time on one thread; "all" = as many
images in flight as cores, on threads (Pillow releases the GIL while it decodes, resamples,
filters and encodes). JPEG inputs that are shrunk use Image.draft, libjpeg's shrink-on-load,
as thumbor does, then a Lanczos resample to the exact size.
"""

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from PIL import Image, ImageFilter

HERE = Path(__file__).resolve().parent
THREE = ["Kleiber_by_Lukas_Baubkus.jpg", "Wine_by_Jakkub_Mede.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg"]


def files(corpus, directory, ext):
    return sorted(p for p in (corpus / directory).iterdir() if p.suffix == ext)


def encode(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def shrink(data, fit):
    """Decodes a JPEG at the smallest libjpeg scale that still covers the target, then
    resamples to the target; `fit(width, height)` gives the target for the full size."""
    image = Image.open(io.BytesIO(data))
    target = fit(*image.size)
    image.draft("RGB", target)
    return image.convert("RGB").resize(target, Image.Resampling.LANCZOS)


def inside(box_w, box_h):
    def fit(width, height):
        scale = min(box_w / width, box_h / height, 1.0)
        return max(1, round(width * scale)), max(1, round(height * scale))

    return fit


def flatten(data):
    image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def filters(data):
    image = Image.open(io.BytesIO(data)).transpose(Image.Transpose.ROTATE_270)  # 90 clockwise
    return image.convert("L").filter(ImageFilter.GaussianBlur(2))


WORKLOADS = {
    "W1": (
        lambda c: files(c, "jpeg", ".jpg"),
        lambda d: encode(shrink(d, inside(300, 300)), "JPEG", quality=80),
    ),
    "W2": (
        lambda c: files(c, "jpeg", ".jpg"),
        lambda d: encode(shrink(d, inside(1920, 1 << 30)), "JPEG", quality=85),
    ),
    "W3a": (lambda c: files(c, "png", ".png"), lambda d: encode(flatten(d), "JPEG", quality=85)),
    "W3b": (
        lambda c: [c / "jpeg" / n for n in THREE],
        lambda d: encode(Image.open(io.BytesIO(d)), "PNG", compress_level=6),
    ),
    "W3c": (
        lambda c: [c / "jpeg" / n for n in THREE],
        lambda d: encode(Image.open(io.BytesIO(d)), "WEBP", quality=80, method=4),
    ),
    "W4": (lambda c: [c / "jpeg" / n for n in THREE], lambda d: encode(filters(d), "JPEG", quality=80)),
}


def child(spec):
    inputs_of, run = WORKLOADS[spec["workload"]]
    inputs = []
    for path in inputs_of(Path(spec["corpus"])):
        data = path.read_bytes()
        width, height = Image.open(io.BytesIO(data)).size
        inputs.append((data, width * height / 1e6))
    for data, _ in inputs:  # warm-up pass
        run(data)
    in_flight = 1 if spec["mode"] == "one" else os.cpu_count()
    lock = threading.Lock()
    state = {"next": 0, "images": 0, "megapixels": 0.0}
    start = time.perf_counter()

    def worker():
        # Whole passes over the set, so that every input weighs the same.
        while True:
            with lock:
                if time.perf_counter() - start >= spec["seconds"] and state["next"] % len(inputs) == 0:
                    return
                data, megapixels = inputs[state["next"] % len(inputs)]
                state["next"] += 1
            run(data)
            with lock:
                state["images"] += 1
                state["megapixels"] += megapixels

    threads = [threading.Thread(target=worker) for _ in range(in_flight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "run": spec["run"],
                "workload": spec["workload"],
                "mode": spec["mode"],
                "in_flight": in_flight,
                "images": state["images"],
                "seconds": round(elapsed, 3),
                "images_per_s": round(state["images"] / elapsed, 3),
                "input_mp_per_s": round(state["megapixels"] / elapsed, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "pillow": Image.__version__,
            }
        )
    )


def stats(values):
    values = sorted(values)
    return {"median": round(statistics.median(values), 3), "min": values[0], "max": values[-1]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--corpus", default=str((HERE / "../../../shared/corpus").resolve()))
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    workloads = [w for w in args.only.split(",") if w in WORKLOADS]
    skipped = [w for w in args.only.split(",") if w not in WORKLOADS]
    if skipped:
        print(f"pillow: no {', '.join(skipped)} (not something Pillow does)", file=sys.stderr)
    results = []
    for run in range(1, args.runs + 1):
        for workload in workloads:
            for mode in ("one", "all"):
                spec = {"workload": workload, "mode": mode, "run": run, "seconds": args.seconds, "corpus": args.corpus}
                out = subprocess.run(
                    [sys.executable, __file__, "--child", json.dumps(spec)], check=True, capture_output=True, text=True
                )
                result = json.loads(out.stdout)
                print(json.dumps(result), flush=True)
                results.append(result)
    for workload in workloads:
        for mode in ("one", "all"):
            rows = [r for r in results if r["workload"] == workload and r["mode"] == mode]
            summary = {
                "summary": True,
                "workload": workload,
                "mode": mode,
                "runs": len(rows),
                "images_per_s": stats([r["images_per_s"] for r in rows]),
                "input_mp_per_s": stats([r["input_mp_per_s"] for r in rows]),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
            }
            print(json.dumps(summary))


if __name__ == "__main__":
    main()

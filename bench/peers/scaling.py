#!/usr/bin/env python3
"""How cost grows with input resolution and batch: edgeq beside ONNX Runtime.

  /usr/bin/python3 bench/peers/scaling.py [--model resnet18] [--sizes 112,224,448]
      [--batches 1,4,16] [--threads 1,2] [--rounds 2] [--runs 10] [--warmup 3]
      [--build-dir build] [--out DIR] [--ort-dir DIR] [--isa LEVEL]

One int8 network (tools/make_zoo.py --scaling: quantized once at 224x224, exported at
every input size and batch, made into BUILD/scaling when missing) is timed at every
size x batch x thread count, by `edgeq bench --json` and by ONNX Runtime
(bench/peers/ort_bench.js), interleaved round by round as bench/peers/compare.py does.
Each figure is the median of all timed runs; time per image is that median over the
batch. For each size and thread count the table gives where time per image stops
improving: the smallest batch within 5% of the best time per image of all batches.

Writes OUT/scaling.md (the table), OUT/scaling.json (every sample), and prints the
table. Minutes of work (448x448 at batch 16 is 16 x 4 times a 224 image): a manual
command, not part of the tests.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import compare  # noqa: E402  (the peers, CPU name, error handling)

MAKE_ZOO = compare.ROOT / "tools" / "make_zoo.py"
GAIN = 0.05  # smaller gains per image than this count as "stopped improving"


def ensure_models(model, sizes, batches, out_dir, ort_dir):
    files = {(s, b): out_dir / f"{model}_{s}x{s}_b{b}.onnx" for s in sizes for b in batches}
    missing = [k for k, f in files.items() if not f.exists()]
    if missing:
        miss_sizes = sorted({s for s, _ in missing})
        miss_batches = sorted({b for _, b in missing})
        compare.log(f"making {model} at sizes {miss_sizes} x batches {miss_batches} with tools/make_zoo.py ...")
        res = subprocess.run([compare.SYSTEM_PYTHON, str(MAKE_ZOO), "--out", str(out_dir), "--scaling",
                              "--only", model, "--sizes", ",".join(map(str, miss_sizes)),
                              "--batches", ",".join(map(str, miss_batches)), "--ort-dir", str(ort_dir)])
        if res.returncode != 0:
            compare.die("tools/make_zoo.py --scaling failed")
    return files


def positive_ints(text):
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return values


def plateau(per_image):
    """per_image: [(batch, ms per image)] by batch. The smallest batch whose time per
    image is within GAIN of the best of all batches: larger batches gain less."""
    best = min(t for _, t in per_image)
    return next(b for b, t in per_image if t <= (1 + GAIN) * best)


def markdown(rows, meta, model, sizes, threads):
    lines = [
        f"Median latency (ms) of one int8 {model} inference per batch, {meta['date']}, {meta['cpu']} "
        f"({meta['cpus']} logical CPUs), edgeq ISA {meta['isa']}; {meta['rounds']} interleaved rounds x "
        f"{meta['runs']} timed runs per peer (load average {meta['loadavg']} at the start).",
        "",
        "| input | batch | threads | edgeq | edgeq per image | ONNX Runtime | ORT per image | edgeq / ORT |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        e, o, b = r["median_ms"]["edgeq"], r["median_ms"]["onnxruntime"], r["batch"]
        lines.append(f"| {r['size']}x{r['size']} | {b} | {r['threads']} | {e:.2f} | {e / b:.2f} | {o:.2f} | "
                     f"{o / b:.2f} | {e / o:.2f} |")
    lines.append("")
    lines.append(f"Where time per image stops improving (the smallest batch within {GAIN:.0%} of the best time "
                 "per image):")
    lines.append("")
    for s in sizes:
        for t in threads:
            for peer, label in (("edgeq", "edgeq"), ("onnxruntime", "ONNX Runtime")):
                pts = [(r["batch"], r["median_ms"][peer] / r["batch"]) for r in rows
                       if r["size"] == s and r["threads"] == t]
                b = plateau(pts)
                where = f"from batch {b}" if b != pts[-1][0] else "still improving at the largest batch"
                lines.append(f"* {s}x{s}, {t} thread{'s' if t > 1 else ''}, {label}: {where} "
                             f"({', '.join(f'b{bb} {ms:.2f}' for bb, ms in pts)} ms per image)")
    lines.append("")
    lines.append(f"Command: `{meta['command']}`")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet18", choices=list(compare.ZOO), help="zoo network (default resnet18)")
    ap.add_argument("--sizes", type=positive_ints, default=[112, 224, 448], help="input sizes")
    ap.add_argument("--batches", type=positive_ints, default=[1, 4, 16], help="batch sizes")
    ap.add_argument("--threads", type=positive_ints, default=[1, 2], help="thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per peer and round (default 10)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed runs before them (default 3)")
    ap.add_argument("--build-dir", type=Path, default=compare.ROOT / "build", help="edgeq's build directory")
    ap.add_argument("--out", type=Path, help="where the table and JSON go (default BUILD/scaling)")
    ap.add_argument("--ort-dir", type=Path, help="onnxruntime-node install (default BUILD/ort)")
    ap.add_argument("--isa", help="force edgeq's kernel level (edgeq bench --isa)")
    a = ap.parse_args()
    if a.rounds < 1 or a.runs < 1 or a.warmup < 0:
        ap.error("--rounds and --runs must be >= 1, --warmup >= 0")
    build = a.build_dir.resolve()
    out = (a.out or build / "scaling").resolve()
    ort_dir = (a.ort_dir or build / "ort").resolve()
    if not (build / "edgeq").exists():
        compare.die(f"{build / 'edgeq'} not found: build edgeq first")
    if not (ort_dir / "node_modules" / "onnxruntime-node").exists():
        compare.die(f"ONNX Runtime is not installed in {ort_dir}: run tools/setup_ort.sh {ort_dir}")
    files = ensure_models(a.model, a.sizes, a.batches, build / "scaling", ort_dir)
    meta = {
        "date": datetime.date.today().isoformat(), "cpu": compare.cpu_model_name(), "cpus": os.cpu_count(),
        "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()), "rounds": a.rounds, "runs": a.runs,
        "warmup": a.warmup, "command": "bench/peers/scaling.py " + " ".join(sys.argv[1:]), "isa": "-",
    }
    peers = {"edgeq": compare.Edgeq(build, out, a.isa), "onnxruntime": compare.OnnxRuntime(ort_dir)}
    for key, path in files.items():
        for p in peers.values():
            p.prepare(path.stem, path)
    rows = [{"size": s, "batch": b, "threads": t, "answers": {p: [] for p in peers}}
            for s in a.sizes for b in a.batches for t in a.threads]
    order = list(peers)
    total, step, start = a.rounds * len(rows) * len(order), 0, time.time()
    for rnd in range(a.rounds):
        for i, r in enumerate(rows):
            shift = (rnd + i) % len(order)
            for p in order[shift:] + order[:shift]:
                step += 1
                stem = files[(r["size"], r["batch"])].stem
                answer = peers[p].measure(stem, r["threads"], a.warmup, a.runs)
                r["answers"][p].append(answer)
                eta = (time.time() - start) / step * (total - step)
                compare.log(f"[{step}/{total}] {stem} threads={r['threads']} {p:<11} median "
                            f"{statistics.median(answer['samples_ms']):9.2f} ms   (ETA {eta:.0f}s)")
    for r in rows:
        r["median_ms"] = {p: statistics.median([x for ans in r["answers"][p] for x in ans["samples_ms"]])
                          for p in peers}
    meta["isa"] = rows[0]["answers"]["edgeq"][0]["isa"]
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(rows, meta, a.model, a.sizes, a.threads)
    (out / "scaling.md").write_text(table)
    (out / "scaling.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    print(table)
    compare.log(f"wrote {out / 'scaling.md'}, {out / 'scaling.json'}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Start-up time and memory of edgeq beside ONNX Runtime's session creation.

  /usr/bin/python3 bench/peers/startup.py [--model resnet18] [--rounds 7] [--sessions 4]
      [--isa LEVEL] [--build-dir build] [--baseline-build DIR] [--ort-dir DIR] [--out DIR]

For BUILD/models/MODEL_int8.onnx (made by tools/make_models.py when missing, as
bench/peers/compare.py does), converted with `edgeq convert`:
  * edgeq: `edgeq bench FILE --json --sessions N --warmup 0 --runs 3` in a fresh process:
    model load, first session, the median of the N - 1 later sessions, the model's
    packed bytes, one session's own bytes and arena, and the process's peak RSS;
  * edgeq, pre-packed: the same on the file `edgeq pack FILE LEVEL` wrote (LEVEL: the
    level the session runs, --isa or the host's best);
  * --baseline-build DIR: another build's edgeq (say, the commit before a change) on its
    own conversion of the same file, timed the same way (its bench may not report the
    later sessions or the split of bytes: those cells stay empty);
  * ONNX Runtime: bench/peers/ort_bench.js on the ONNX file with --warmup 0 --runs 1,
    whose load_ms is InferenceSession.create (optimization level all, one thread).
Every round runs every configuration once, in a rotating order, so that noise from other
work on the machine falls on all alike; each figure is the median over the rounds.
Writes OUT/startup.md (a Markdown table with the date, CPU and file sizes) and
OUT/startup.json (every sample), and prints the table.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import ROOT, HERE, cpu_model_name, die, ensure_models, log, run_json  # noqa: E402


def convert(binary, onnx, out):
    res = subprocess.run([str(binary), "convert", str(onnx), "-o", str(out)], capture_output=True, text=True)
    if res.returncode != 0:
        die(f"{binary} convert failed:\n{res.stderr.strip()}")


def edgeq_sample(binary, model, sessions, isa):
    cmd = [str(binary), "bench", str(model), "--json", "--warmup", "0", "--runs", "3"]
    if isa:
        cmd += ["--isa", isa]
    res = subprocess.run([str(binary), "bench", "--help"], capture_output=True, text=True)
    if "--sessions" in res.stdout:
        cmd += ["--sessions", str(sessions)]
    j = run_json(cmd, f"{binary} bench")
    later, later_cpu = j.get("later_session_ms") or [], j.get("later_session_cpu_ms") or []
    return {
        "load_ms": j["load_ms"],
        "session_ms": j["session_ms"],
        "later_session_ms": statistics.median(later) if later else None,
        "load_cpu_ms": j.get("load_cpu_ms"),
        "session_cpu_ms": j.get("session_cpu_ms"),
        "later_session_cpu_ms": statistics.median(later_cpu) if later_cpu else None,
        # A build without session_bytes packed per session: its packed_bytes were the session's.
        "model_packed_bytes": j.get("packed_bytes") if "session_bytes" in j else None,
        "prepacked_bytes": j.get("prepacked_bytes"),
        "session_bytes": j.get("session_bytes", j.get("packed_bytes")),
        "arena_bytes": j["arena_bytes"],
        "peak_rss_bytes": j["peak_rss_bytes"],
        "file_bytes": j["model_bytes"],
        "isa": j["isa"],
    }


def ort_sample(model, ort_dir):
    env = dict(os.environ, EDGEQ_ORT_DIR=str(ort_dir))
    j = run_json(["node", str(HERE / "ort_bench.js"), str(model), "--warmup", "0", "--runs", "1"], "ort_bench.js",
                 env=env)
    return {"session_ms": j["load_ms"], "session_cpu_ms": j.get("load_cpu_ms")}


def median_of(samples, key):
    values = [s[key] for s in samples if s.get(key) is not None]
    return statistics.median(values) if values else None


def mib(v):
    return "" if v is None else f"{v / 2**20:.2f}"


def ms(v):
    return "" if v is None else f"{v:.2f}"


def ms_cpu(samples, key):
    """Median wall ms, and the median CPU ms beside it when the build reports it."""
    wall, cpu = median_of(samples, key + "_ms"), median_of(samples, key + "_cpu_ms")
    return ms(wall) + ("" if cpu is None else f" ({cpu:.2f})")


def markdown(results, meta):
    lines = [f"{meta['date']}, {meta['cpu']}, {meta['model']} int8, level {meta['isa']}, one thread, "
             f"median of {meta['rounds']} rounds (`bench/peers/startup.py`); times in ms, wall (CPU time of the "
             "process in parentheses)", "",
             "| | file MiB | load | first session | later session | load + first "
             "| packed by the model MiB | per session MiB (arena + what it holds alone) | peak RSS MiB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, samples in results.items():
        if name == "onnxruntime":
            lines.append(f"| ONNX Runtime (InferenceSession.create) | | | {ms_cpu(samples, 'session')} "
                         "| | | | | |")
            continue
        load, first = median_of(samples, "load_ms"), median_of(samples, "session_ms")
        own = median_of(samples, "session_bytes")
        per_session = None if own is None else median_of(samples, "arena_bytes") + own
        lines.append(f"| {name} | {mib(median_of(samples, 'file_bytes'))} | {ms_cpu(samples, 'load')} "
                     f"| {ms_cpu(samples, 'session')} | {ms_cpu(samples, 'later_session')} | {ms(load + first)} "
                     f"| {mib(median_of(samples, 'model_packed_bytes'))} | {mib(per_session)} "
                     f"| {mib(median_of(samples, 'peak_rss_bytes'))} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet18", choices=["resnet18", "mobilenet_v2"])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--sessions", type=int, default=4, help="sessions per edgeq process (default 4)")
    ap.add_argument("--isa", default="", help="kernel level (default: the host's best)")
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build")
    ap.add_argument("--baseline-build", type=Path)
    ap.add_argument("--ort-dir", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = args.out or args.build_dir / "startup"
    out.mkdir(parents=True, exist_ok=True)
    ort_dir = args.ort_dir or args.build_dir / "ort"
    onnx = ensure_models([args.model], args.build_dir / "models", ort_dir)[args.model]

    edgeq = args.build_dir / "edgeq"
    plain, packed = out / f"{args.model}_int8.edgeq", out / f"{args.model}_int8.packed.edgeq"
    convert(edgeq, onnx, plain)
    isa = args.isa or run_json([str(edgeq), "bench", str(plain), "--json", "--warmup", "0", "--runs", "1"],
                               "edgeq bench")["isa"]
    res = subprocess.run([str(edgeq), "pack", str(plain), isa, "-o", str(packed)], capture_output=True, text=True)
    if res.returncode != 0:
        die(f"edgeq pack failed:\n{res.stderr.strip()}")
    configs = {"edgeq": lambda: edgeq_sample(edgeq, plain, args.sessions, args.isa),
               "edgeq, pre-packed": lambda: edgeq_sample(edgeq, packed, args.sessions, args.isa)}
    if args.baseline_build:
        base = out / f"{args.model}_int8.baseline.edgeq"
        convert(args.baseline_build / "edgeq", onnx, base)
        configs = {"edgeq (baseline build)": lambda: edgeq_sample(args.baseline_build / "edgeq", base, args.sessions,
                                                                  args.isa), **configs}
    configs["onnxruntime"] = lambda: ort_sample(onnx, ort_dir)

    results = {name: [] for name in configs}
    names = list(configs)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            results[name].append(configs[name]())
        log(f"round {r + 1}/{args.rounds}")
    meta = {"date": datetime.date.today().isoformat(), "cpu": cpu_model_name(), "model": args.model, "isa": isa,
            "rounds": args.rounds}
    table = markdown(results, meta)
    (out / "startup.md").write_text(table)
    (out / "startup.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(table)


if __name__ == "__main__":
    main()

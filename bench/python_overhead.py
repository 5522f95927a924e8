#!/usr/bin/env python3
"""What calling a session from Python costs: `edgeq bench` beside Python's session.run
on the same model, measured side by side in one run.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py
      [--model build/models/resnet18_int8.onnx] [--edgeq build/edgeq]
      [--rounds 15] [--runs 10] [--warmup 3] [--threads 1] [--isa LEVEL]

The model (ONNX, converted once with edgeq.convert; ResNet-18 int8 from
tools/make_models.py --only resnet18_int8 by default) is timed three ways per round:
  * cli:       `edgeq bench --json` in a fresh process: W warm-ups, then R timed runs of
               Session::run with inputs set once (its samples_ms);
  * python:    in this process, W warm-ups then R timed calls of session.run(x) on a
               fixed-seed float32 input, each timed with time.perf_counter around the
               call: checking the array, quantizing it into the arena, the run,
               dequantizing the output into a new NumPy array, and the GIL round trip;
  * python_raw: the same with the input already uint8/int8 (raw=True in and out).
The order of the three rotates from round to round so that noise from other work on
the machine falls on all alike. Each figure is the median of all timed runs of all
rounds; the ratio is to cli. Prints a Markdown table with the CPU model.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import edgeq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def time_cli(edgeq_bin, model, a):
    cmd = [edgeq_bin, "bench", model, "--json", "--runs", str(a.runs), "--warmup", str(a.warmup),
           "--threads", str(a.threads)] + (["--isa", a.isa] if a.isa else [])
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    j = json.loads(out)
    return j["samples_ms"], j["isa"]


def time_python(session, x, raw, a):
    for _ in range(a.warmup):
        session.run(x, raw=raw)
    samples = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        session.run(x, raw=raw)
        samples.append(1000.0 * (time.perf_counter() - t0))
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "build", "models", "resnet18_int8.onnx"))
    ap.add_argument("--edgeq", default=os.path.join(ROOT, "build", "edgeq"))
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--isa", default=None)
    a = ap.parse_args()
    if not os.path.exists(a.model):
        sys.exit("%s is missing: make it with /usr/bin/python3 tools/make_models.py --out build/models "
                 "--only resnet18_int8" % a.model)

    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "model.edgeq")
        edgeq.convert(a.model, model)
        session = edgeq.Model(model).session(threads=a.threads, isa=a.isa)
        info = session.inputs[0]
        x = np.random.default_rng(20261122).standard_normal(info.shape).astype(np.float32)
        qinfo = np.iinfo(info.dtype) if info.quantized else None
        xq = np.clip(np.rint(x / info.scale) + info.zero_point, qinfo.min, qinfo.max).astype(info.dtype) \
            if qinfo is not None else x
        samples = {"cli": [], "python": [], "python_raw": []}
        isa = session.isa
        order = list(samples)
        for r in range(a.rounds):
            for name in order[r % 3:] + order[:r % 3]:
                if name == "cli":
                    s, isa = time_cli(a.edgeq, model, a)
                elif name == "python":
                    s = time_python(session, x, False, a)
                else:
                    s = time_python(session, xq, True, a)
                samples[name] += s
            print("round %d/%d done" % (r + 1, a.rounds), file=sys.stderr)

    medians = {k: statistics.median(v) for k, v in samples.items()}
    print("%s, %s, ISA %s, %d thread(s), %d rounds x %d runs (after %d warm-ups)\n"
          % (os.path.basename(a.model), cpu_model(), isa, a.threads, a.rounds, a.runs, a.warmup))
    print("| route | median ms | ratio to edgeq bench |")
    print("| --- | --- | --- |")
    labels = {"cli": "`edgeq bench`", "python": "Python `session.run(float32)`",
              "python_raw": "Python `session.run(uint8, raw=True)`"}
    for k in samples:
        print("| %s | %.3f | %.3f |" % (labels[k], medians[k], medians[k] / medians["cli"]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Latency of the int8 torchvision networks in PyTorch (quantized, qnnpack engine): the
PyTorch peer that bench/peers/compare.py sets beside `edgeq bench`.

The network is the one tools/make_models.py exports as ARCH_int8.onnx, built by its
own functions (build_backbone + quantize_backbone: same seeds, same FX quantization
with the qnnpack qconfig) and run as the eager FX GraphModule. Timing: the qnnpack
engine, torch.set_num_threads(N), one inter-op thread, eval mode under
torch.inference_mode(), W warm-ups then R runs each timed with perf_counter, on the
image make_models.py exports with. A quantized GraphModule cannot be reloaded after
torch.save in PyTorch 1.13, and quantizing takes seconds, hence two modes:

  torch_bench.py run ARCH [--threads N] [--warmup W] [--runs R]
      quantize ARCH, time it, print one JSON object;
  torch_bench.py serve
      read one JSON request per line on stdin ({"arch", "threads", "warmup", "runs"}),
      answer each with one JSON line on stdout; each network is quantized once, at its
      first request. compare.py keeps one such worker for the whole comparison.

Answers: peer, version, engine, arch, threads, build_ms (quantization, first request
only), warmup, runs, samples_ms, median_ms; or {"error": message}.
ARCH is resnet18 or mobilenet_v2. Use Debian's /usr/bin/python3 (torch 1.13).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

ARCHS = ("resnet18", "mobilenet_v2")


class Peer:
    """The quantized networks, built on first use."""

    def __init__(self):
        import torch

        torch.backends.quantized.engine = "qnnpack"
        torch.set_num_interop_threads(1)
        self.models = {}

    def network(self, arch):
        """(model, input, ms spent building it now or 0)."""
        if arch in self.models:
            return self.models[arch] + (0.0,)
        import make_models

        t0 = time.perf_counter()
        model, seed = make_models.build_backbone(arch)
        qmodel = make_models.quantize_backbone(model, seed).eval()
        self.models[arch] = (qmodel, make_models.backbone_input(seed))
        return self.models[arch] + (1e3 * (time.perf_counter() - t0),)

    def measure(self, arch, threads, warmup, runs):
        import torch

        if arch not in ARCHS:
            raise ValueError(f"unknown arch '{arch}' (known: {', '.join(ARCHS)})")
        if threads < 1 or warmup < 0 or runs < 1:
            raise ValueError("threads and runs must be >= 1, warmup >= 0")
        model, x, build_ms = self.network(arch)
        torch.set_num_threads(threads)
        samples = []
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            for _ in range(runs):
                start = time.perf_counter()
                model(x)
                samples.append(1e3 * (time.perf_counter() - start))
        return {"peer": "pytorch", "version": torch.__version__, "engine": torch.backends.quantized.engine,
                "arch": arch, "threads": threads, "build_ms": build_ms, "warmup": warmup, "runs": runs,
                "samples_ms": samples, "median_ms": statistics.median(samples)}


def serve(peer):
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            answer = peer.measure(req["arch"], int(req.get("threads", 1)), int(req.get("warmup", 10)),
                                  int(req.get("runs", 100)))
        except Exception as e:  # an answer, not a dead worker
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="quantize ARCH and time it")
    r.add_argument("arch", choices=ARCHS)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--warmup", type=int, default=10)
    r.add_argument("--runs", type=int, default=100)
    sub.add_parser("serve", help="answer JSON requests on stdin")
    a = ap.parse_args()
    peer = Peer()
    if a.cmd == "serve":
        serve(peer)
        return
    try:
        print(json.dumps(peer.measure(a.arch, a.threads, a.warmup, a.runs)))
    except ValueError as e:
        ap.error(str(e))


if __name__ == "__main__":
    main()

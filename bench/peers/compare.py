#!/usr/bin/env python3
"""Latency of edgeq beside ONNX Runtime and PyTorch on the same int8 networks.

  /usr/bin/python3 bench/peers/compare.py [--threads 1,2] [--rounds 3] [--runs 30]
      [--warmup 5] [--models resnet18,mobilenet_v2] [--build-dir build] [--out DIR]
      [--isa LEVEL] [--peers edgeq,onnxruntime,pytorch] [--ort-dir DIR]
      [--baseline-build DIR]
  /usr/bin/python3 bench/peers/compare.py --zoo [--models NAME,...] [...same options]

The networks are torchvision ResNet-18 and MobileNetV2 with fixed-seed weights,
quantized with PyTorch FX (qnnpack) by tools/make_models.py, batch 1, 3x224x224:
  * edgeq runs BUILD/models/ARCH_int8.onnx converted with `edgeq convert`, timed by
    `edgeq bench --json` (random input, fixed seed; --isa passes through);
  * ONNX Runtime (onnxruntime-node, tools/setup_ort.sh BUILD/ort) runs the same ONNX
    file through bench/peers/ort_bench.js: optimization level all, N intra-op threads,
    one inter-op thread, sequential execution;
  * PyTorch runs the FX-quantized network that file was exported from, built by
    make_models.py's own functions, with the qnnpack engine (bench/peers/torch_bench.py,
    one worker process for the whole comparison).
Missing ONNX files are made first with tools/make_models.py.
--baseline-build DIR adds another edgeq build (say, one of the commit before a change)
as one more peer, converted and timed exactly as edgeq, interleaved with the others: a
change's speed is compared with its base in the same run.

Measurements are interleaved: every round times every model, thread count and peer
once (W warm-ups, then R timed runs, in a fresh process for edgeq and ONNX Runtime),
the peers' order rotating from one measurement to the next, so that noise from other
work on the machine falls on all peers alike. Each figure is the median of all timed
runs of all rounds. Writes OUT/peers.md (a Markdown table: date, CPU model, edgeq's
ISA, medians in ms and each peer's ratio to edgeq), OUT/peers.json (every sample) and
OUT/peers.png (a bar chart, with python3-matplotlib), and prints the table.

--zoo times the int8 model zoo instead (tools/make_zoo.py: fourteen torchvision
architectures, batch 1, 3x224x224, made into BUILD/zoo when missing) on edgeq and ONNX
Runtime only (PyTorch's worker knows only the two networks above), and writes
OUT/zoo.md (the same table, a column saying what each model covers, and the number of
nodes each model runs on edgeq's reference kernels), OUT/zoo_readme.md (the README's
short table: edgeq's latency over ONNX Runtime's), OUT/zoo.json and OUT/zoo.png (that
ratio per model and thread count, with the 0.8 target line).

--transformers times transformer encoders instead (bench/peers/transformer_peers.py:
DeiT-tiny and BERT-mini shapes, made into BUILD/transformers by
tools/make_transformer_bench_models.py when missing) as ONNX Runtime float / dynamic /
QDQ and edgeq float / dynamic / static / fully int8, and writes OUT/transformers.md (the
medians and the ratios edgeq dynamic / ORT dynamic, edgeq static / ORT QDQ, edgeq float /
edgeq int8 against their targets), OUT/transformers.json and OUT/transformers.png; with
--profile, also DeiT-tiny int8's per-node profile (top op types, nodes on "ref" kernels).

--no-amx denies AMX tiles to every process of the comparison (bench/peers/no_amx.py: a
seccomp filter on Linux's tile-permission request, which every AMX user makes and
falls back from): on an AMX machine, both peers then run as on the same core without
AMX, edgeq at avx512vnni and ONNX Runtime's MLAS on its AVX-512 VNNI kernels. (--isa
avx512vnni alone would set edgeq without AMX against an ONNX Runtime still using it.)

This takes minutes (edgeq on its scalar reference kernels needs about a second per
ResNet-18 run): a manual command, not part of the tests.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import no_amx
import transformer_peers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MAKE_MODELS = ROOT / "tools" / "make_models.py"
MAKE_ZOO = ROOT / "tools" / "make_zoo.py"
SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable

ARCHS = {"resnet18": "ResNet-18", "mobilenet_v2": "MobileNetV2"}
PEERS = ("edgeq", "onnxruntime", "pytorch")
# tools/make_zoo.py's models (same names) and what each covers.
ZOO = {
    "resnet18": "residual", "resnet50": "residual, bottleneck", "mobilenet_v2": "inverted residual",
    "mobilenet_v3_small": "SE, hardswish", "mobilenet_v3_large": "SE, hardswish",
    "efficientnet_b0": "SiLU, SE", "regnet_x_400mf": "grouped conv", "regnet_y_400mf": "grouped conv, SE",
    "shufflenet_v2_x1_0": "channel shuffle", "densenet121": "dense concat", "mnasnet1_0": "inverted residual",
    "squeezenet1_1": "fire (concat)", "googlenet": "inception", "inception_v3": "inception v3, padded pools",
}
# Whole-graph names of the networks above, in the tables.
TITLES = dict(ARCHS, resnet50="ResNet-50", mobilenet_v3_small="MobileNetV3-small",
              mobilenet_v3_large="MobileNetV3-large", efficientnet_b0="EfficientNet-B0",
              regnet_x_400mf="RegNetX-400MF", regnet_y_400mf="RegNetY-400MF",
              shufflenet_v2_x1_0="ShuffleNetV2 x1.0", densenet121="DenseNet-121", mnasnet1_0="MnasNet 1.0",
              squeezenet1_1="SqueezeNet 1.1", googlenet="GoogLeNet", inception_v3="Inception v3")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log(f"compare.py: error: {msg}")
    sys.exit(1)


def run_json(cmd, what, env=None):
    """Runs a command that prints one JSON object on stdout; dies with its stderr."""
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        die(f"{what} failed (exit {res.returncode}):\n  {' '.join(map(str, cmd))}\n{res.stderr.strip()}")
    try:
        return json.loads(res.stdout)
    except json.JSONDecodeError as e:
        die(f"{what} printed no JSON ({e}):\n{res.stdout[:500]}")


def ort_int8_saturates():
    """True on an x86 CPU without VNNI (AVX512-VNNI or AVX-VNNI), where ONNX Runtime's
    int8 kernels (MLAS) multiply uint8 by int8 with vpmaddubsw, whose int16 pair sums
    saturate: its int8 answers are then not exact, and its times are those of that path."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        flags = next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags")).split()
    except (OSError, StopIteration):
        return False
    return "avx512_vnni" not in flags and "avx_vnni" not in flags


ORT_SATURATES_NOTE = ("This CPU has no VNNI: ONNX Runtime's int8 kernels multiply uint8 by int8 with vpmaddubsw, "
                      "whose int16 pair sums saturate (its quantization guide says so), so its int8 outputs are not "
                      "exact and its int8 times are those of that inexact path; edgeq's kernels stay exact "
                      "(vpmaddwd on int16).")


def cpu_model_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ---------------------------------------------------------------------------
# The peers: each measure() returns the peer's JSON answer with samples_ms
# ---------------------------------------------------------------------------

class Edgeq:
    name = "edgeq"

    def __init__(self, build, out, isa):
        self.binary = build / "edgeq"
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.isa = isa
        self.models = {}

    def prepare(self, arch, onnx_path):
        path = self.out / f"{arch}_int8.edgeq"
        res = subprocess.run([str(self.binary), "convert", str(onnx_path), "-o", str(path)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            die(f"edgeq convert {onnx_path} failed:\n{res.stderr.strip()}")
        self.models[arch] = path

    def measure(self, arch, threads, warmup, runs):
        cmd = [str(self.binary), "bench", str(self.models[arch]), "--json", "--threads", str(threads),
               "--warmup", str(warmup), "--runs", str(runs)]
        if self.isa:
            cmd += ["--isa", self.isa]
        return run_json(cmd, "edgeq bench")


class OnnxRuntime:
    name = "onnxruntime"

    def __init__(self, ort_dir):
        self.env = dict(os.environ, EDGEQ_ORT_DIR=str(ort_dir))
        self.models = {}

    def prepare(self, arch, onnx_path):
        self.models[arch] = onnx_path

    def measure(self, arch, threads, warmup, runs):
        onnx_path = self.models[arch]
        cmd = ["node", str(HERE / "ort_bench.js"), str(onnx_path), "--threads", str(threads),
               "--warmup", str(warmup), "--runs", str(runs)]
        image = onnx_path.with_suffix(".input.npy")
        if image.exists():
            cmd += ["--input", str(image)]
        return run_json(cmd, "ONNX Runtime (ort_bench.js)", env=self.env)


class PyTorch:
    name = "pytorch"

    def __init__(self):
        # The worker lives through the whole comparison: its idle OpenMP threads must sleep,
        # not spin, or they take a core from the peer measured next.
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
        self.worker = subprocess.Popen([SYSTEM_PYTHON, str(HERE / "torch_bench.py"), "serve"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def request(self, **req):
        self.worker.stdin.write(json.dumps(req) + "\n")
        self.worker.stdin.flush()
        line = self.worker.stdout.readline()
        if not line:
            die("the PyTorch worker (torch_bench.py serve) died; see its messages above")
        answer = json.loads(line)
        if "error" in answer:
            die(f"PyTorch: {answer['error']}")
        return answer

    def prepare(self, arch, onnx_path):
        # The first request quantizes the network; one untimed run keeps that out of
        # the rounds.
        self.request(arch=arch, threads=1, warmup=0, runs=1)

    def measure(self, arch, threads, warmup, runs):
        return self.request(arch=arch, threads=threads, warmup=warmup, runs=runs)

    def close(self):
        self.worker.stdin.close()
        self.worker.wait()


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def peer_label(peer, answers):
    a = answers[0] if answers else {}
    if peer == "edgeq":
        return f"edgeq ({a.get('isa', '?')})"
    if peer == "baseline":
        return f"edgeq baseline ({a.get('isa', '?')})"
    if peer == "onnxruntime":
        return f"ONNX Runtime {a.get('version', '')}".strip()
    return f"PyTorch {a.get('version', '')} qnnpack".strip()


def ratio_text(peer_ms, edgeq_ms):
    return f"{peer_ms / edgeq_ms:.3g}x" if edgeq_ms else "-"


def markdown(results, meta, peers, zoo=False):
    """The table: one row per model and thread count, each peer's median and ratio (for
    the zoo also what the model covers and edgeq's nodes on the reference kernels)."""
    labels = {p: peer_label(p, [a for r in results for a in r["answers"].get(p, [])]) for p in peers}
    lines = [
        f"Median latency (ms) of one batch-1 inference, int8. {meta['date']}, {meta['cpu']} "
        f"({meta['cpus']} logical CPUs), edgeq ISA {meta['edgeq_isa']} (kernels: {meta['edgeq_kernels']}); "
        f"{meta['rounds']} interleaved rounds x {meta['runs']} timed runs per peer "
        f"(load average {meta['loadavg']} at the start).",
        "",
    ]
    if meta.get("ort_note") and "onnxruntime" in peers:
        lines += [meta["ort_note"], ""]
    head = ["model", "covers", "threads"] if zoo else ["model", "threads"]
    for p in peers:
        head.append(labels[p])
        if p != "edgeq" and "edgeq" in peers:
            head.append("ratio")
    if zoo and "edgeq" in peers:
        head.append("edgeq ref nodes")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(" --- " for _ in head) + "|")
    for r in results:
        row = [TITLES[r["arch"]]] + ([ZOO[r["arch"]]] if zoo else []) + [str(r["threads"])]
        for p in peers:
            row.append(f"{r['median_ms'][p]:.2f}")
            if p != "edgeq" and "edgeq" in peers:
                row.append(ratio_text(r["median_ms"][p], r["median_ms"]["edgeq"]))
        if zoo and "edgeq" in peers:
            row.append(str(r["answers"]["edgeq"][0]["kernels"].get("ref", 0)))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    if "edgeq" in peers:
        lines.append("ratio = the peer's median / edgeq's median: above 1, edgeq is faster.")
    if zoo and "edgeq" in peers:
        lines.append("edgeq ref nodes: nodes edgeq runs on its scalar reference kernels at that level "
                     "(float nodes included; `edgeq bench --profile` names them).")
    lines.append(f"Command: `{meta['command']}`")
    return "\n".join(lines) + "\n"


def chart(results, meta, peers, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("  (no chart: python3-matplotlib is not installed)")
        return False
    groups = [f"{TITLES[r['arch']]}\n{r['threads']} thread{'s' if r['threads'] > 1 else ''}" for r in results]
    width = 0.8 / len(peers)
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(groups)), 4.5))
    values = []
    for i, p in enumerate(peers):
        ys = [r["median_ms"][p] for r in results]
        values += ys
        xs = [g + (i - (len(peers) - 1) / 2) * width for g in range(len(groups))]
        label = peer_label(p, [a for r in results for a in r["answers"].get(p, [])])
        bars = ax.bar(xs, ys, width, label=label)
        ax.bar_label(bars, labels=[f"{y:.0f}" if y >= 100 else f"{y:.3g}" for y in ys], fontsize=7, padding=1)
    log_scale = min(values) > 0 and max(values) / min(values) > 20
    if log_scale:
        ax.set_yscale("log")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("median latency (ms)" + (", log scale" if log_scale else "") + "; lower is better")
    ax.set_title(f"int8, batch 1 — {meta['cpu']}, {meta['date']}", fontsize=9)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(peers), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def zoo_summary(results, meta):
    """The README's short zoo table: per model, edgeq and ONNX Runtime medians and edgeq's
    latency over ONNX Runtime's at each thread count."""
    threads = sorted({r["threads"] for r in results})
    by = {(r["arch"], r["threads"]): r["median_ms"] for r in results}
    head = ["model", "covers"] + [f"{t} thread{'s' if t > 1 else ''}: edgeq / ORT (ms)" for t in threads]
    lines = [f"{meta['date']}, {meta['cpu']}, edgeq {meta['edgeq_isa']}, ONNX Runtime "
             f"{meta.get('ort_version', '')}.".replace(" .", "."), ""]
    if meta.get("ort_note"):
        lines += [meta["ort_note"], ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for arch in dict.fromkeys(r["arch"] for r in results):
        row = [TITLES[arch], ZOO[arch]]
        for t in threads:
            m = by.get((arch, t))
            row.append(f"**{m['edgeq'] / m['onnxruntime']:.2f}** ({m['edgeq']:.2f} / {m['onnxruntime']:.2f})"
                       if m else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def zoo_chart(results, meta, path):
    """The zoo's chart: edgeq's median over ONNX Runtime's, per model and thread count."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("  (no chart: python3-matplotlib is not installed)")
        return False
    archs = list(dict.fromkeys(r["arch"] for r in results))
    threads = sorted({r["threads"] for r in results})
    width = 0.8 / len(threads)
    fig, ax = plt.subplots(figsize=(max(7, 0.5 * len(archs) * len(threads)), 4.8))
    for i, t in enumerate(threads):
        rows = {r["arch"]: r for r in results if r["threads"] == t}
        ys = [rows[a]["median_ms"]["edgeq"] / rows[a]["median_ms"]["onnxruntime"] if a in rows else 0
              for a in archs]
        xs = [g + (i - (len(threads) - 1) / 2) * width for g in range(len(archs))]
        bars = ax.bar(xs, ys, width, label=f"{t} thread{'s' if t > 1 else ''}")
        ax.bar_label(bars, labels=[f"{y:.2f}" for y in ys], fontsize=6, padding=1)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.axhline(0.8, color="red", linewidth=0.8, linestyle="--", label="target 0.8")
    if max(ax.get_ylim()) > 8:
        ax.set_yscale("log")
    ax.set_xticks(range(len(archs)), [TITLES[a] for a in archs], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("edgeq latency / ONNX Runtime latency\n(lower is better)")
    ax.set_title(f"int8 zoo, batch 1, 224x224 - {meta['cpu']}, edgeq {meta['edgeq_isa']}, {meta['date']}",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def parse_list(text, allowed, what):
    items = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(allowed)}")
    return items


def parse_threads(text):
    try:
        threads = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        threads = []
    if not threads or min(threads) < 1:
        raise argparse.ArgumentTypeError(f"--threads takes positive integers separated by commas, got {text!r}")
    return threads


def ensure_zoo(archs, zoo_dir, ort_dir):
    """BUILD/zoo/NAME.onnx, made with make_zoo.py when missing."""
    missing = [a for a in archs if not (zoo_dir / f"{a}.onnx").exists()]
    if missing:
        log(f"making {', '.join(missing)} in {zoo_dir} with tools/make_zoo.py (minutes) ...")
        res = subprocess.run([SYSTEM_PYTHON, str(MAKE_ZOO), "--out", str(zoo_dir), "--only", ",".join(missing),
                              "--ort-dir", str(ort_dir)])
        if res.returncode != 0:
            die("tools/make_zoo.py failed")
    return {a: zoo_dir / f"{a}.onnx" for a in archs}


def ensure_models(archs, model_dir, ort_dir):
    """BUILD/models/ARCH_int8.onnx, made with make_models.py when missing."""
    missing = [a for a in archs if not (model_dir / f"{a}_int8.onnx").exists()]
    if missing:
        names = ",".join(f"{a}_int8" for a in missing)
        log(f"making {names} in {model_dir} with tools/make_models.py (a few minutes) ...")
        res = subprocess.run([SYSTEM_PYTHON, str(MAKE_MODELS), "--out", str(model_dir), "--only", names,
                              "--ort-dir", str(ort_dir)])
        if res.returncode != 0:
            die("tools/make_models.py failed")
    return {a: model_dir / f"{a}_int8.onnx" for a in archs}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=parse_threads, default=[1, 2], help="thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--runs", type=int, default=30, help="timed runs per peer and round (default 30)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed runs before them (default 5)")
    ap.add_argument("--zoo", action="store_true",
                    help="the model zoo of tools/make_zoo.py, on edgeq and ONNX Runtime")
    ap.add_argument("--transformers", action="store_true",
                    help="transformer encoders (DeiT-tiny, BERT-mini) on edgeq's and ONNX Runtime's variants")
    ap.add_argument("--profile", action="store_true",
                    help="--transformers: add `edgeq bench --profile` of DeiT-tiny's int8 model")
    ap.add_argument("--models", help="resnet18,mobilenet_v2 (default both); with --zoo, zoo names "
                    "(default all: " + ",".join(ZOO) + "); with --transformers deit_tiny,bert_mini")
    ap.add_argument("--peers", type=lambda t: parse_list(t, list(PEERS), "--peers"),
                    help="edgeq,onnxruntime,pytorch (default all; with --zoo edgeq,onnxruntime)")
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build", help="edgeq's build directory (default build)")
    ap.add_argument("--out", type=Path, help="where the table, JSON and chart go (default BUILD/peers)")
    ap.add_argument("--ort-dir", type=Path, help="onnxruntime-node install (default BUILD/ort)")
    ap.add_argument("--isa", help="force edgeq's kernel level (edgeq bench --isa), e.g. avx2")
    ap.add_argument("--no-amx", action="store_true",
                    help="deny AMX tiles to every peer (bench/peers/no_amx.py): both run as on the same "
                         "core without AMX, edgeq at its best other level, ONNX Runtime on AVX-512 VNNI")
    ap.add_argument("--baseline-build", type=Path,
                    help="another edgeq build directory, timed as one more peer ('edgeq baseline')")
    a = ap.parse_args()
    if a.rounds < 1 or a.runs < 1 or a.warmup < 0:
        ap.error("--rounds and --runs must be >= 1, --warmup >= 0")
    if a.zoo and a.transformers:
        ap.error("--zoo and --transformers exclude each other")
    if a.profile and not a.transformers:
        ap.error("--profile goes with --transformers")
    choices = list(ZOO) if a.zoo else list(transformer_peers.NETWORKS) if a.transformers else list(ARCHS)
    try:
        a.models = parse_list(a.models, choices, "--models") if a.models else choices
    except argparse.ArgumentTypeError as e:
        ap.error(f"--models: {e}")
    if a.peers is None:
        a.peers = ["edgeq", "onnxruntime"] if a.zoo or a.transformers else list(PEERS)
    if a.transformers and a.peers != ["edgeq", "onnxruntime"]:
        ap.error("--transformers times edgeq and ONNX Runtime together: drop --peers")
    if a.zoo and "pytorch" in a.peers:
        ap.error("--zoo: PyTorch times only resnet18 and mobilenet_v2; use --peers edgeq,onnxruntime")
    build = a.build_dir.resolve()
    out = (a.out or build / "peers").resolve()
    ort_dir = (a.ort_dir or build / "ort").resolve()
    peers = [p for p in PEERS if p in a.peers]
    baseline = a.baseline_build.resolve() if a.baseline_build else None
    if baseline is not None:
        if not (baseline / "edgeq").exists():
            die(f"{baseline / 'edgeq'} not found: build the baseline's edgeq first")
        peers.append("baseline")
    if "edgeq" in peers and not (build / "edgeq").exists():
        die(f"{build / 'edgeq'} not found: build edgeq first (ninja -C {a.build_dir} edgeq_cli)")
    model_files = [build / "zoo" / f"{m}.onnx" if a.zoo else build / "models" / f"{m}_int8.onnx" for m in a.models]
    need_ort = "onnxruntime" in peers or any(not f.exists() for f in model_files)
    if need_ort and not (ort_dir / "node_modules" / "onnxruntime-node").exists():
        die(f"ONNX Runtime is not installed in {ort_dir}: run tools/setup_ort.sh {ort_dir}")
    out.mkdir(parents=True, exist_ok=True)
    if a.no_amx:
        try:
            no_amx.preexec()  # inherited by every process started from here on
        except OSError as e:
            die(f"--no-amx: {e}")

    meta = {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu_model_name() + (" with AMX denied to every peer (--no-amx)" if a.no_amx else ""),
        "cpus": os.cpu_count(),
        "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "rounds": a.rounds, "runs": a.runs, "warmup": a.warmup,
        "command": "bench/peers/compare.py " + " ".join(sys.argv[1:]),
        "edgeq_isa": "-", "edgeq_kernels": "-",
        "ort_note": ORT_SATURATES_NOTE if ort_int8_saturates() else "",
    }
    if a.transformers:
        transformer_peers.compare(a, build, out, dict(os.environ, EDGEQ_ORT_DIR=str(ort_dir)), meta, log)
        return
    if a.zoo:
        onnx = ensure_zoo(a.models, build / "zoo", ort_dir)
    else:
        onnx = ensure_models(a.models, build / "models", ort_dir)
    log(f"preparing {', '.join(peers)} on {', '.join(a.models)}"
        + (" (PyTorch quantizes each network once)" if "pytorch" in peers else "") + " ...")
    runners = {}
    try:
        for p in peers:
            runners[p] = {"edgeq": lambda: Edgeq(build, out, a.isa), "onnxruntime": lambda: OnnxRuntime(ort_dir),
                          "pytorch": PyTorch,
                          "baseline": lambda: Edgeq(baseline, out / "baseline", a.isa)}[p]()
            for arch in a.models:
                runners[p].prepare(arch, onnx[arch])

        combos = [(arch, t) for arch in a.models for t in a.threads]
        results = [{"arch": arch, "threads": t, "answers": {p: [] for p in peers}} for arch, t in combos]
        total = a.rounds * len(combos) * len(peers)
        step, start = 0, time.time()
        for rnd in range(a.rounds):
            for ci, r in enumerate(results):
                shift = (rnd + ci) % len(peers)
                for p in peers[shift:] + peers[:shift]:
                    step += 1
                    answer = runners[p].measure(r["arch"], r["threads"], a.warmup, a.runs)
                    r["answers"][p].append(answer)
                    eta = (time.time() - start) / step * (total - step)
                    log(f"[{step}/{total}] round {rnd + 1}/{a.rounds} {r['arch']} threads={r['threads']} "
                        f"{p:<11} median {statistics.median(answer['samples_ms']):9.2f} ms   (ETA {eta:.0f}s)")
    finally:
        if "pytorch" in runners:
            runners["pytorch"].close()

    for r in results:
        r["median_ms"] = {p: statistics.median([x for ans in r["answers"][p] for x in ans["samples_ms"]])
                          for p in peers}
    if "edgeq" in peers:
        kernels = {}
        for r in results:
            first = r["answers"]["edgeq"][0]
            meta["edgeq_isa"] = first["isa"]
            kernels[r["arch"]] = ", ".join(f"{k} x{v}" for k, v in first["kernels"].items())
        meta["edgeq_kernels"] = "; ".join(f"{TITLES[k]} {v}" for k, v in kernels.items())
    stem = "zoo" if a.zoo else "peers"
    if a.zoo:
        # Thirteen kernel lists do not fit a caption: they stay in zoo.json.
        meta["edgeq_kernels"] = f"per model in {stem}.json"
    table = markdown(results, meta, peers, zoo=a.zoo)
    (out / f"{stem}.md").write_text(table)
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
    if a.zoo and "edgeq" in peers and "onnxruntime" in peers:
        meta["ort_version"] = results[0]["answers"]["onnxruntime"][0].get("version", "")
        (out / "zoo_readme.md").write_text(zoo_summary(results, meta))
        drew = zoo_chart(results, meta, out / f"{stem}.png")
    else:
        drew = chart(results, meta, peers, out / f"{stem}.png")
    print(table)
    log(f"wrote {out / (stem + '.md')}, {out / (stem + '.json')}" + (f", {out / (stem + '.png')}" if drew else ""))


if __name__ == "__main__":
    main()

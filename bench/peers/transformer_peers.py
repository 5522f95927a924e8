"""compare.py --transformers: edgeq's transformer variants beside ONNX Runtime's.

Networks (tools/make_transformer_bench_models.py, made into BUILD/transformers when
missing): a DeiT-tiny-shaped ViT and a BERT-mini-shaped encoder, batch 1, each as a float
ONNX file, ONNX Runtime's dynamic-quantization form and a static QDQ file. Variants, each
timed at every thread count:

  ort_float       ONNX Runtime on NAME_float.onnx
  ort_dynamic     ONNX Runtime on NAME_dynamic.onnx (DynamicQuantizeLinear + MatMulInteger)
  ort_qdq         ONNX Runtime on NAME_qdq.onnx
  edgeq_float     `edgeq convert NAME_float.onnx`
  edgeq_dynamic   `edgeq convert NAME_dynamic.onnx` (the same graph as ort_dynamic)
  edgeq_calib_dynamic  `edgeq calibrate --dynamic` of edgeq_float (row mode, the default)
  edgeq_static    `edgeq convert NAME_qdq.onnx` (the same graph as ort_qdq)
  edgeq_calib_static  `edgeq calibrate --data NAME.calib*.npy` of edgeq_float (static
                  int8 GEMMs; LayerNorm, Softmax and GELU float, as in the QDQ file)
  edgeq_full_int8 `edgeq calibrate --full-int8 --data NAME.calib*.npy` of edgeq_float
                  (the random samples of the QDQ calibration, one file per input;
                  LayerNorm, Softmax and GELU in int8 too)

A variant that cannot be made (a conversion or calibration that fails) is left out of the
rounds and its error is quoted under the table. ONNX Runtime is fed the network's example
inputs (NAME.input*.npy); `edgeq bench` makes its own random inputs (valid ids for integer
inputs). Measurement is interleaved as in compare.py: each round times every network,
thread count and variant once, the variants' order rotating.

Writes OUT/transformers.md (medians, then the ratios with their targets: edgeq dynamic /
ORT dynamic <= 0.7, edgeq static / ORT QDQ <= 0.6, edgeq float / edgeq int8 >= 2, int8
being full int8 where it exists, else static), OUT/transformers.json (every sample) and
OUT/transformers.png (the medians). With --profile, `edgeq bench --profile` of DeiT-tiny's
int8 models (full int8 and static, one thread) adds their top-5 op types by time and the
nodes they run on the reference kernels.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tools"))

NETWORKS = {"deit_tiny": "DeiT-tiny (ViT, 197 tokens)", "bert_mini": "BERT-mini (128 tokens)"}
VARIANTS = ("ort_float", "ort_dynamic", "ort_qdq", "edgeq_float", "edgeq_dynamic", "edgeq_calib_dynamic",
            "edgeq_static", "edgeq_calib_static", "edgeq_full_int8")
HEADS = {"ort_float": "ORT float", "ort_dynamic": "ORT dynamic", "ort_qdq": "ORT QDQ", "edgeq_float": "edgeq float",
         "edgeq_dynamic": "edgeq dynamic (ORT form)", "edgeq_calib_dynamic": "edgeq calibrate --dynamic",
         "edgeq_static": "edgeq static (QDQ)", "edgeq_calib_static": "edgeq calibrate (static)",
         "edgeq_full_int8": "edgeq --full-int8"}
# (numerator, denominator, target, "<=" or ">=", label)
RATIOS = (
    ("edgeq_dynamic", "ort_dynamic", 0.7, "<=", "edgeq dynamic / ORT dynamic"),
    ("edgeq_calib_dynamic", "ort_dynamic", 0.7, "<=", "edgeq calibrate --dynamic / ORT dynamic"),
    ("edgeq_static", "ort_qdq", 0.6, "<=", "edgeq static / ORT QDQ"),
    ("edgeq_float", "int8", 2.0, ">=", "edgeq float / edgeq int8"),
)


class Failed(Exception):
    pass


def run(cmd, what, env=None, want_json=True):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        lines = (res.stderr.strip() or res.stdout.strip()).splitlines()
        raise Failed(f"{what} (exit {res.returncode}): `{' '.join(map(str, cmd[1:]))}`: "
                     + " / ".join(lines[-3:]))
    return json.loads(res.stdout) if want_json else None


class Runner:
    """Makes every variant's model file and times it."""

    def __init__(self, build, out, ort_env, isa):
        self.edgeq = build / "edgeq"
        self.out = out / "edgeq"
        self.out.mkdir(parents=True, exist_ok=True)
        self.ort_env, self.isa = ort_env, isa
        self.cmds = {}    # (net, variant) -> bench command without thread/run options
        self.errors = {}  # (net, variant) -> why it is missing

    def prepare(self, net, files, log):
        onnx_paths, inputs, calib = files
        for v in ("float", "dynamic", "qdq"):
            cmd = ["node", HERE / "ort_bench.js", onnx_paths[v]]
            for p in inputs:
                cmd += ["--input", p]
            self.cmds[(net, f"ort_{v}")] = cmd
        edgeq_float = self.out / f"{net}_float.edgeq"
        steps = [
            ("edgeq_float", ["convert", onnx_paths["float"], "-o", edgeq_float]),
            ("edgeq_dynamic", ["convert", onnx_paths["dynamic"], "-o", self.out / f"{net}_dynamic.edgeq"]),
            ("edgeq_static", ["convert", onnx_paths["qdq"], "-o", self.out / f"{net}_static.edgeq"]),
            ("edgeq_calib_dynamic", ["calibrate", edgeq_float, "--dynamic",
                                     "-o", self.out / f"{net}_calib_dynamic.edgeq"]),
            ("edgeq_calib_static", ["calibrate", edgeq_float, "--data", *calib,
                                    "-o", self.out / f"{net}_calib_static.edgeq"]),
            ("edgeq_full_int8", ["calibrate", edgeq_float, "--full-int8", "--data", *calib,
                                 "-o", self.out / f"{net}_full_int8.edgeq"]),
        ]
        for variant, args in steps:
            log(f"  {net}: edgeq {args[0]} -> {variant} ...")
            try:
                if variant != "edgeq_float" and (net, "edgeq_float") in self.errors and "calibrate" in args:
                    raise Failed("needs edgeq_float, which failed")
                run([self.edgeq] + args, f"edgeq {args[0]}", want_json=False)
                self.cmds[(net, variant)] = [self.edgeq, "bench", args[-1], "--json"] + (
                    ["--isa", self.isa] if self.isa else [])
            except Failed as e:
                self.errors[(net, variant)] = str(e)
                log(f"    failed: {e}")

    def measure(self, net, variant, threads, warmup, runs):
        cmd = self.cmds[(net, variant)] + ["--threads", threads, "--warmup", warmup, "--runs", runs]
        return run(cmd, "ort_bench.js" if variant.startswith("ort") else "edgeq bench",
                   env=self.ort_env if variant.startswith("ort") else None)


def int8_variant(medians):
    return "edgeq_full_int8" if "edgeq_full_int8" in medians else "edgeq_static"


def ratio_rows(results):
    rows = []
    for r in results:
        m = r["median_ms"]
        for num, den, target, sense, label in RATIOS:
            den_v = int8_variant(m) if den == "int8" else den
            if num in m and den_v in m:
                value = m[num] / m[den_v]
                ok = value <= target if sense == "<=" else value >= target
                name = label + (f" ({HEADS[den_v]})" if den == "int8" else "")
                rows.append((NETWORKS[r["net"]], r["threads"], name, value, f"{sense} {target:g}", ok))
    return rows


NOISY = 1.25  # a cell whose rounds' medians differ by more than this factor is marked


def noisy(answers):
    meds = [statistics.median(a["samples_ms"]) for a in answers]
    return len(meds) > 1 and max(meds) > NOISY * min(meds)


def markdown(results, errors, meta, profiles):
    present = [v for v in VARIANTS if any(v in r["median_ms"] for r in results)]
    lines = [f"Median latency (ms) of one batch-1 inference. {meta['date']}, {meta['cpu']} "
             f"({meta['cpus']} logical CPUs, shared machine: load average {meta['loadavg']} at the start, "
             f"{meta['loadavg_end']} at the end), edgeq ISA {meta['edgeq_isa']}, ONNX Runtime "
             f"{meta['ort_version']}; {meta['rounds']} interleaved rounds x {meta['runs']} timed runs "
             f"({meta['warmup']} warm-ups) per variant.", ""]
    if meta.get("ort_note"):
        lines += [meta["ort_note"], ""]
    head = ["network", "threads"] + [HEADS[v] for v in present]
    lines += ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in results:
        cells = [f"{r['median_ms'][v]:.2f}" + ("*" if noisy(r["answers"][v]) else "") if v in r["median_ms"] else "-"
                 for v in present]
        lines.append("| " + " | ".join([NETWORKS[r["net"]], str(r["threads"])] + cells) + " |")
    lines += ["", f"\\* the rounds' medians of that cell differ by more than {NOISY:g}x: other work on the "
              "machine disturbed it.", "", "Ratios of medians against the targets:", "",
              "| network | threads | ratio | value | target | met |", "| --- | --- | --- | --- | --- | --- |"]
    for net, threads, name, value, target, ok in ratio_rows(results):
        lines.append(f"| {net} | {threads} | {name} | {value:.2f} | {target} | {'yes' if ok else 'no'} |")
    if errors:
        lines += ["", "Variants that could not be made (left out):", ""]
        lines += [f"- {NETWORKS[net]}, {HEADS.get(v, v)}: {why}" for (net, v), why in errors.items()]
    for p in profiles:
        lines += ["", profile_text(p)]
    lines += ["", f"Command: `{meta['command']}`"]
    return "\n".join(lines) + "\n"


def profile_text(p):
    prof = p["answer"]["profile"]
    total = prof["sum_of_node_medians_ms"]
    lines = [f"Per-node profile: `edgeq bench --profile` of {NETWORKS[p['net']]} as {HEADS[p['variant']]}, "
             f"{p['threads']} thread(s), median whole run {p['answer']['latency_ms']['median']:.2f} ms, "
             f"sum of node medians {total:.2f} ms.", "",
             "| op type | nodes | ms | share |", "| --- | --- | --- | --- |"]
    for t in sorted(prof["op_types"], key=lambda t: -t["median_ms"])[:5]:
        lines.append(f"| {t['op']} | {t['count']} | {t['median_ms']:.2f} | {t['share_pct']:.1f}% |")
    ref = {}
    for n in prof["nodes"]:
        if n["kernel"] == "ref":
            e = ref.setdefault(n["op"], [0, 0.0, n["name"]])
            e[0] += 1
            e[1] += n["median_ms"]
    lines += ["", "Nodes on the scalar reference kernels (\"ref\"), by op type:" if ref else
              "No node runs on the reference kernels.", ""]
    if ref:
        lines += ["| op type | nodes | ms | share | e.g. |", "| --- | --- | --- | --- | --- |"]
        for op, (count, ms, example) in sorted(ref.items(), key=lambda kv: -kv[1][1]):
            lines.append(f"| {op} | {count} | {ms:.2f} | {100 * ms / total:.1f}% | {example} |")
    return "\n".join(lines)


def chart(results, meta, path, log):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("  (no chart: python3-matplotlib is not installed)")
        return False
    present = [v for v in VARIANTS if any(v in r["median_ms"] for r in results)]
    groups = [f"{NETWORKS[r['net']].split(' (')[0]}\n{r['threads']} thread{'s' if r['threads'] > 1 else ''}"
              for r in results]
    width = 0.85 / len(present)
    fig, ax = plt.subplots(figsize=(max(7, 2.4 * len(groups)), 4.8))
    for i, v in enumerate(present):
        ys = [r["median_ms"].get(v, 0) for r in results]
        xs = [g + (i - (len(present) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, ys, width, label=HEADS[v], hatch="//" if v.startswith("ort") else None)
        ax.bar_label(bars, labels=[f"{y:.3g}" if y else "" for y in ys], fontsize=6, padding=1, rotation=90)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("median latency (ms); lower is better")
    ax.set_title(f"transformers, batch 1 - {meta['cpu']}, edgeq {meta['edgeq_isa']}, {meta['date']}", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def compare(a, build, out, ort_env, meta, log):
    """The whole --transformers comparison (a: compare.py's arguments)."""
    import make_transformer_bench_models as models

    nets = a.models
    log(f"transformer networks {', '.join(nets)} in {build / 'transformers'} (made when missing: minutes) ...")
    files = models.ensure(nets, build / "transformers", ort_env.get("EDGEQ_ORT_DIR"))
    runner = Runner(build, out, ort_env, a.isa)
    for net in nets:
        runner.prepare(net, files[net], log)
    results = [{"net": net, "threads": t, "answers": {}} for net in nets for t in a.threads]
    jobs = [[(v, r) for v in VARIANTS if (r["net"], v) in runner.cmds] for r in results]
    total = a.rounds * sum(len(j) for j in jobs)
    step, start = 0, time.time()
    for rnd in range(a.rounds):
        for ci, (r, job) in enumerate(zip(results, jobs)):
            shift = (rnd + ci) % len(job)
            for v, _ in job[shift:] + job[:shift]:
                step += 1
                try:
                    answer = runner.measure(r["net"], v, r["threads"], a.warmup, a.runs)
                except Failed as e:
                    runner.errors[(r["net"], v)] = str(e)
                    log(f"  {e}")
                    continue
                r["answers"].setdefault(v, []).append(answer)
                eta = (time.time() - start) / step * (total - step)
                log(f"[{step}/{total}] round {rnd + 1}/{a.rounds} {r['net']} threads={r['threads']} {v:<20} "
                    f"median {statistics.median(answer['samples_ms']):9.2f} ms   (ETA {eta:.0f}s)")
    for r in results:
        r["median_ms"] = {v: statistics.median([x for ans in answers for x in ans["samples_ms"]])
                          for v, answers in r["answers"].items() if (r["net"], v) not in runner.errors}
    edgeq_answers = [ans[0] for r in results for v, ans in r["answers"].items() if v.startswith("edgeq")]
    ort_answers = [ans[0] for r in results for v, ans in r["answers"].items() if v.startswith("ort")]
    meta["edgeq_isa"] = edgeq_answers[0]["isa"] if edgeq_answers else "-"
    meta["ort_version"] = ort_answers[0].get("version", "") if ort_answers else "-"
    profiles = []
    if a.profile and "deit_tiny" in nets:
        for v in ("edgeq_full_int8", "edgeq_static"):
            if ("deit_tiny", v) not in runner.cmds:
                continue
            log(f"profiling deit_tiny {v} (1 thread) ...")
            try:
                answer = run(runner.cmds[("deit_tiny", v)] + ["--profile", "--threads", "1", "--warmup",
                                                                str(a.warmup), "--runs", str(a.runs)],
                             "edgeq bench --profile")
                profiles.append({"net": "deit_tiny", "variant": v, "threads": 1, "answer": answer})
            except Failed as e:
                runner.errors[("deit_tiny", v + " --profile")] = str(e)
    meta["loadavg_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    table = markdown(results, runner.errors, meta, profiles)
    (out / "transformers.md").write_text(table)
    (out / "transformers.json").write_text(json.dumps(
        {"meta": meta, "results": results, "errors": {f"{n} {v}": e for (n, v), e in runner.errors.items()},
         "profiles": profiles}, indent=1, default=str) + "\n")
    drew = chart(results, meta, out / "transformers.png", log)
    print(table)
    log(f"wrote {out / 'transformers.md'}, {out / 'transformers.json'}"
        + (f", {out / 'transformers.png'}" if drew else ""))

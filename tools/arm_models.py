#!/usr/bin/env python3
"""End-to-end models on ARM against x86: the ARM build of `edgeq run` must give the
host's outputs byte for byte.

  arm_models.py prepare --host-build BUILD --out DIR [--models MODEL_DIR]
      On the host (x86): gathers the models, converts them to .edgeq with the host's
      edgeq and runs them there (the host's best level, which the host tests hold equal
      to the reference), writing DIR/cases.json and the expected outputs. Models:
        * the quantized op graphs of the export gtest (every float op model of test/data
          quantized with int8 and with uint8 activations), dumped by BUILD/edgeq_tests;
        * the committed QDQ / QOperator models of test/data;
        * the int8 torchvision models (ResNet-18, MobileNetV2) of MODEL_DIR when its
          manifest is there (tools/make_models.py; the host tests make them);
        * the committed float models, run at the reference level only (see check);
        * each quantized model of the last three pre-packed for the ARM levels by the
          host (`edgeq pack ... neon,neondot,neoni8mm`), expected to give the unpacked
          model's host outputs.
  arm_models.py check --cases DIR/cases.json --edgeq ARM_EDGEQ --levels L1,L2,...
                      [--emulator "qemu-aarch64 -L ... -cpu max"] [--jobs N]
      Runs every quantized case at every level given and with 2 threads at the last
      one, and every float case at `ref` (the reference float path is the same C++ on
      both; the optimized float path is XNNPACK, whose kernels differ by architecture),
      through the emulator, and compares each output file with the host's byte for
      byte: a run at `ref` with the host's run at `ref`, the others with the host's
      best level (they differ where a quantized model holds float ops whose level
      kernels approximate the reference's functions, as a float GELU's does). Such a
      float output, one the host's best level itself gives differently from its `ref`,
      cannot match another ISA's kernel bit for bit (ARMv7 NEON has no fused
      multiply-add): it is held within a relative FLOAT_TOLERANCE of the host's instead,
      and counted apart. int8 / uint8 outputs are always compared byte for byte. Big models run at the last level only (--every-level: at every level too).
      Exits 1 on any difference. tools/compare_builds.sh uses the same two steps to hold
      one x86 build to another's outputs.
"""
import argparse
import array
import concurrent.futures
import math
import json
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOAT_TOLERANCE = 1e-5  # relative; for approximate float kernels' outputs (see check)
BIG = ("resnet18", "mobilenet_v2")


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{what}: exit {r.returncode}: {' '.join(cmd)}\n{r.stderr.strip()}")
    return r


def manifest_cases(manifest_path, kinds):
    base = os.path.dirname(manifest_path)
    with open(manifest_path) as f:
        models = json.load(f)["models"]
    for m in models:
        if m["kind"] not in kinds:
            continue
        yield {
            "name": m["name"],
            "onnx": os.path.join(base, m["file"]),
            "inputs": [os.path.join(base, i) for i in m["inputs"]],
            "outputs": len(m["graph_outputs"]),
            "float": m["kind"] == "float",
        }


def prepare(args):
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "ops"), exist_ok=True)
    edgeq = os.path.join(args.host_build, "edgeq")
    tests = os.path.join(args.host_build, "edgeq_tests")
    cases = []

    # The quantized op graphs: NAME.edgeq with NAME.input<i>.npy.
    env = dict(os.environ, EDGEQ_EXPORT_DUMP_DIR=os.path.join(out, "ops"))
    r = subprocess.run([tests, "--gtest_filter=FloatOpModels/QuantizedExportRoundTrip.*"], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("the export gtest failed:\n" + r.stdout[-2000:])
    ops_dir = os.path.join(out, "ops")
    for f in sorted(os.listdir(ops_dir)):
        if not f.endswith(".edgeq"):
            continue
        name = f[: -len(".edgeq")]
        inputs = []
        while os.path.exists(os.path.join(ops_dir, f"{name}.input{len(inputs)}.npy")):
            inputs.append(os.path.join(ops_dir, f"{name}.input{len(inputs)}.npy"))
        model = os.path.join(ops_dir, f)
        cases.append({"name": "ops/" + name, "model": model, "inputs": inputs,
                      "float": not quantized_graph(edgeq, model)})

    # Committed and generated ONNX models, converted here.
    onnx_cases = list(manifest_cases(os.path.join(ROOT, "test", "data", "manifest.json"), ("qdq", "qop", "float")))
    if args.models and os.path.exists(os.path.join(args.models, "manifest.json")):
        onnx_cases += [c for c in manifest_cases(os.path.join(args.models, "manifest.json"), ("qdq", "qop"))]
    for c in onnx_cases:
        model = os.path.join(out, c["name"] + ".edgeq")
        r = subprocess.run([edgeq, "convert", c["onnx"], "-o", model], capture_output=True, text=True)
        if r.returncode != 0:  # a model the importer refuses by design (dynamic quantization)
            print(f"  not converted: {c['name']}: {r.stderr.strip().splitlines()[-1]}")
            continue
        if not c["float"] and not quantized_graph(edgeq, model):
            c = dict(c, float=True)
        cases.append({"name": c["name"], "model": model, "inputs": c["inputs"], "float": c["float"],
                      "big": c["name"].startswith(BIG)})
        if c["float"]:
            continue
        # The same model with its weights pre-packed on this host for the ARM levels
        # (`edgeq pack`): the device must use them in place and give the same bytes as
        # the host's run of the unpacked file.
        packed = os.path.join(out, c["name"] + ".prepacked.edgeq")
        run([edgeq, "pack", model, "neon,neondot,neoni8mm", "-o", packed], "host pack " + c["name"])
        cases.append({"name": c["name"] + ".prepacked", "model": packed, "inputs": c["inputs"], "float": False,
                      "big": c["name"].startswith(BIG), "same_as": c["name"]})

    # The host's outputs: quantized ones raw (int8/uint8), float ones float32, at the
    # host's best level and, for the quantized models, at ref too; a pre-packed case
    # expects its unpacked model's.
    by_name = {}
    for c in cases:
        if "same_as" in c:
            c["expected"] = by_name[c["same_as"]]["expected"]
            c["expected_ref"] = by_name[c["same_as"]]["expected_ref"]
        else:
            c["expected"] = host_outputs(edgeq, c, out)
            c["expected_ref"] = c["expected"] if c["float"] else host_outputs(edgeq, c, out, ref=True)
        by_name[c["name"]] = c
        print(f"  host: {c['name']} ({len(c['expected'])} output(s))", flush=True)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"cases": cases}, f, indent=1)
    print(f"{len(cases)} cases in {os.path.join(out, 'cases.json')}")


def quantized_graph(edgeq, model):
    """True when the model has an int8/uint8 tensor. A graph that calibration or the
    importer left all float (a Softmax kept float, a dynamic conv run in float) runs its
    float path, which differs by architecture above the reference: it is checked at
    `ref` like the float models."""
    info = run([edgeq, "info", model], "host info").stdout
    return re.search(r"^\s+\d+ \S+\s+(s8|u8)\s", info, re.M) is not None


def output_count(edgeq, model):
    """The number of graph outputs: the "  output '...'" lines of `edgeq info`."""
    info = run([edgeq, "info", model], "host info").stdout
    n = sum(line.startswith("  output '") for line in info.splitlines())
    if n == 0:
        raise RuntimeError("no output lines in edgeq info of " + model)
    return n


def host_outputs(edgeq, case, out, ref=False):
    n = output_count(edgeq, case["model"])
    stem = os.path.join(out, case["name"].replace("/", "_"))
    files = [f"{stem}.host{'ref' if ref else ''}{k}.npy" for k in range(n)]
    isa = ["--isa", "ref"] if case["float"] or ref else []
    cmd = [edgeq, "run", case["model"], "--raw", *isa]
    for i in case["inputs"]:
        cmd += ["--input", i]
    for o in files:
        cmd += ["--output", o]
    run(cmd, "host run " + case["name"])
    return files


def npy_float32(data):
    """(header, values) of an NPY file's bytes holding little-endian float32, else None."""
    if data[:6] != b"\x93NUMPY":
        return None
    size = 2 if data[6] == 1 else 4
    start = 8 + size + int.from_bytes(data[8:8 + size], "little")
    if b"'descr': '<f4'" not in data[:start] or (len(data) - start) % 4:
        return None
    values = array.array("f", data[start:])
    if sys.byteorder != "little":
        values.byteswap()
    return data[:start], values


def floats_close(x, y):
    """Whether NPY bytes x and y hold float32 arrays of one shape within FLOAT_TOLERANCE
    (relative to max(1, |y|); NaN where the other has NaN)."""
    fx, fy = npy_float32(x), npy_float32(y)
    if fx is None or fy is None or fx[0] != fy[0]:
        return False
    for a, b in zip(fx[1], fy[1]):
        if math.isnan(a) or math.isnan(b):
            if not (math.isnan(a) and math.isnan(b)):
                return False
        elif abs(a - b) > FLOAT_TOLERANCE * max(1.0, abs(b)):
            return False
    return True


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def check(args):
    with open(args.cases) as f:
        cases = json.load(f)["cases"]
    levels = args.levels.split(",")
    emulator = shlex.split(args.emulator) if args.emulator else []
    work = os.path.join(os.path.dirname(os.path.abspath(args.cases)), "arm-" + args.tag)
    os.makedirs(work, exist_ok=True)

    runs = []  # (case, level, threads)
    for c in cases:
        if c["float"]:
            runs.append((c, "ref", 1))
            continue
        for level in ([levels[-1]] if c.get("big") and not args.every_level else levels):
            runs.append((c, level, 1))
        runs.append((c, levels[-1], 2))

    def one(r):
        c, level, threads = r
        stem = os.path.join(work, f"{c['name'].replace('/', '_')}.{level}.t{threads}")
        files = [f"{stem}.{k}.npy" for k in range(len(c["expected"]))]
        cmd = emulator + [args.edgeq, "run", c["model"], "--raw", "--isa", level, "--threads", str(threads)]
        for i in c["inputs"]:
            cmd += ["--input", i]
        for o in files:
            cmd += ["--output", o]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return f"{c['name']} at {level}, {threads} thread(s): exit {p.returncode}: {p.stderr.strip()[-400:]}"
        expected = c.get("expected_ref", c["expected"]) if level == "ref" else c["expected"]
        close = False
        for k, (mine, host) in enumerate(zip(files, expected)):
            x, y = read_bytes(mine), read_bytes(host)
            if x == y:
                continue
            # An approximate float kernel's output (the host's level differs from its ref).
            approximate = level != "ref" and y != read_bytes(c.get("expected_ref", c["expected"])[k])
            if approximate and floats_close(x, y):
                close = True
                continue
            return f"{c['name']} at {level}, {threads} thread(s): output {k} differs from the host's"
        return "close" if close else None

    failures = []
    close = 0  # runs with an approximate float output within FLOAT_TOLERANCE, not equal
    start = time.time()
    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for err in pool.map(one, runs):
            done += 1
            if err == "close":
                close += 1
            elif err:
                failures.append(err)
                print("  FAILED: " + err, flush=True)
            if done % 50 == 0 or done == len(runs):
                print(f"  {done}/{len(runs)} runs, {len(failures)} failed, {time.time() - start:.0f} s", flush=True)
    quantized = sum(not c["float"] for c in cases)
    print(f"{len(runs) - len(failures) - close}/{len(runs)} runs equal to the host byte for byte, {close} with "
          f"an approximate float kernel's output within {FLOAT_TOLERANCE:g} of it ({quantized} quantized models at "
          f"{','.join(levels)} and 2 threads, {len(cases) - quantized} float models at ref)")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--host-build", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--models")
    c = sub.add_parser("check")
    c.add_argument("--cases", required=True)
    c.add_argument("--edgeq", required=True)
    c.add_argument("--levels", required=True)
    c.add_argument("--emulator", default="")
    c.add_argument("--tag", default="run", help="name of the output directory next to cases.json")
    c.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    c.add_argument("--every-level", action="store_true", help="run the big models at every level too")
    args = ap.parse_args()
    try:
        return prepare(args) or 0 if args.cmd == "prepare" else check(args)
    except (RuntimeError, OSError) as e:
        print("error: " + str(e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

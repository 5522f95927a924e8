#!/usr/bin/env python3
"""Benchmark-sized transformer encoders for bench/peers/compare.py --transformers.

Two networks, batch 1, fixed-seed random weights (not trained: latency does not depend
on the values), each written as three ONNX files into OUT/:

  deit_tiny   torchvision VisionTransformer shaped as DeiT-tiny: 224x224 image, 16x16
              patches (196 + 1 class token = 197 tokens), 12 layers, hidden 192, 3 heads,
              MLP 768, 1000 classes; input "input" float32 [1,3,224,224]
  bert_mini   BERT-mini shape (make_transformer_models.bert_tiny at size): 4 layers,
              d 256, 4 heads, FF 1024, 128 tokens, vocabulary 30522 (BERT's uncased
              WordPiece size: the float file is about 45 MB, most of it the embedding);
              inputs input_ids / attention_mask / token_type_ids int64 [1,128]

  NAME_float.onnx     PyTorch 1.13 export, opset 13
  NAME_dynamic.onnx   ONNX Runtime's quantize_dynamic form (DynamicQuantizeLinear +
                      MatMulInteger on every MatMul with a constant B), written by
                      make_transformer_models.quantize_dynamic
  NAME_qdq.onnx       static QDQ (per-channel int8 weights, uint8 activations calibrated
                      on CALIB_COUNT random inputs in ONNX Runtime), written by
                      make_transformer_models.quantize_qdq

plus NAME.input*.npy (one example input per graph input, the inputs both peers are fed
with where a peer takes files) and NAME.calib*.npy (per graph input, in input order, the
CALIB_COUNT random samples ONNX Runtime's QDQ calibration saw, stacked: the files of
`edgeq calibrate --data`).

Usage (the system Python with torch 1.13, torchvision, onnx, numpy; ONNX Runtime from
tools/setup_ort.sh for the QDQ calibration):
  /usr/bin/python3 tools/make_transformer_bench_models.py --out DIR [--only deit_tiny,bert_mini]
        [--ort-dir DIR]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import log, seed_of  # noqa: E402
from make_transformer_models import (CALIB_COUNT, bert_tiny, export, float_inputs, quantize_dynamic,  # noqa: E402
                                     quantize_qdq, randomize)

BERT_MINI = dict(d=256, heads=4, ff=1024, layers=4, vocab=30522, positions=512)
BERT_SEQ = 128
VARIANTS = ("float", "dynamic", "qdq")


def deit_tiny():
    import torchvision

    return torchvision.models.VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=3,
                                                hidden_dim=192, mlp_dim=768, num_classes=1000)


def bert_mini_inputs(seed):
    """ids in [1, vocab) with a [CLS]-like 0 first, an all-ones mask (no padding: every
    token costs), token types 0 then 1 for the second half."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, BERT_MINI["vocab"], size=(1, BERT_SEQ)).astype(np.int64)
    ids[0, 0] = 0
    types = np.zeros((1, BERT_SEQ), np.int64)
    types[0, BERT_SEQ // 2:] = 1
    return [ids, np.ones((1, BERT_SEQ), np.int64), types]


# name -> (network builder, example-input maker(seed), input names, output names)
NETWORKS = {
    "deit_tiny": (deit_tiny, lambda seed: float_inputs([[1, 3, 224, 224]], seed), ["input"], ["output"]),
    "bert_mini": (lambda: bert_tiny(**BERT_MINI), bert_mini_inputs,
                  ["input_ids", "attention_mask", "token_type_ids"], ["sequence_output", "pooled_output"]),
}


def file_names(out_dir, name):
    """{variant: NAME_VARIANT.onnx}, the example inputs and the calibration files (one
    per input)."""
    count = len(NETWORKS[name][2])
    inputs = [out_dir / f"{name}.input{'' if i == 0 else i}.npy" for i in range(count)]
    calib = [out_dir / f"{name}.calib{'' if i == 0 else i}.npy" for i in range(count)]
    return {v: out_dir / f"{name}_{v}.onnx" for v in VARIANTS}, inputs, calib


def calibration_samples(name):
    make_inputs = NETWORKS[name][1]
    return [make_inputs(seed_of("calib") + i) for i in range(CALIB_COUNT)]


def save_calibration(name, calib, paths):
    for i, path in enumerate(paths):
        np.save(path, np.concatenate([c[i] for c in calib]))


def make_network(name, out_dir, ort_dir):
    import torch

    build, make_inputs, input_names, output_names = NETWORKS[name]
    onnx_paths, input_paths, calib_path = file_names(out_dir, name)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed_of(name))
    net = randomize(build(), seed_of(name))
    example = make_inputs(seed_of(name))
    log(f"  {name}: exporting ...")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / f"{name}.onnx"
        export(net, example, base, input_names, output_names)
        model = onnx.load(str(base))
    model.graph.name = f"{name}_float"
    onnx.save(model, str(onnx_paths["float"]))
    dyn = quantize_dynamic(model)
    dyn.graph.name = f"{name}_dynamic"
    onnx.save(dyn, str(onnx_paths["dynamic"]))
    log(f"  {name}: QDQ calibration on {CALIB_COUNT} random inputs in ONNX Runtime ...")
    calib = calibration_samples(name)
    qdq = quantize_qdq(model, calib, per_channel=True, opts=argparse.Namespace(ort_dir=ort_dir))
    qdq.graph.name = f"{name}_qdq"
    onnx.save(qdq, str(onnx_paths["qdq"]))
    for path, array in zip(input_paths, example):
        np.save(path, array)
    save_calibration(name, calib, calib_path)
    for v, p in onnx_paths.items():
        log(f"  {p.name}: {p.stat().st_size / 2**20:.1f} MB")


def ensure(names, out_dir, ort_dir=None):
    """Makes the networks whose files are missing; returns {name: (onnx paths, inputs, calib)}."""
    for name in names:
        onnx_paths, inputs, calib = file_names(out_dir, name)
        if not all(p.exists() for p in list(onnx_paths.values()) + inputs):
            make_network(name, out_dir, ort_dir)
        elif not all(p.exists() for p in calib):  # made before the files existed: no re-export
            save_calibration(name, calibration_samples(name), calib)
    return {name: file_names(out_dir, name) for name in names}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--only", default=",".join(NETWORKS), help="networks to make (default all)")
    ap.add_argument("--ort-dir", type=Path, help="onnxruntime-node install (tools/setup_ort.sh)")
    a = ap.parse_args(argv)
    names = [n for n in a.only.split(",") if n]
    bad = [n for n in names if n not in NETWORKS]
    if bad:
        ap.error(f"unknown network(s) {', '.join(bad)}; choose from {', '.join(NETWORKS)}")
    import torch

    torch.set_num_threads(1)
    for name in names:
        make_network(name, a.out.resolve(), a.ort_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

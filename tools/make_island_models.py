#!/usr/bin/env python3
"""Build QDQ test models whose float islands become int8 tables, with ONNX Runtime goldens.

Each model is x -> QuantizeLinear -> DequantizeLinear -> <float elementwise functions
of that one tensor> -> QuantizeLinear -> DequantizeLinear -> y, the form PyTorch's FX
tools and ONNX Runtime's static quantizer leave around ops without an int8 kernel;
edgeq's importer turns each island into one Lookup (graph/unary_island.h). Models:

  island_silu_u8 / _s8        x * sigmoid(x) (SiLU / Swish), after a 1x1 conv
  island_gelu_erf_u8          x/2 * (1 + erf(x / sqrt(2)))
  island_gelu_tanh_s8         x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
  island_mish_u8              x * tanh(softplus(x)), as Softplus, Tanh, Mul
  island_mish_op_s8           the Mish op (opset 18)
  island_hardswish_u8         x * clip(x + 3, 0, 6) / 6 as Add, Clip, Div, Mul
  island_elu_s8               Elu, alpha 0.7
  island_sigmoid_tanh_u8      tanh(sigmoid(x)): a chain of unary ops

Inputs are small ([1, 8, 6, 6]) and span the quantized range. Files go to OUT/island/
(NAME.onnx, NAME.input.npy, NAME.ort.npy); tools/make_test_data.sh writes the manifest.

Usage (Python with numpy and onnx; ONNX Runtime from tools/setup_ort.sh):
  /usr/bin/python3 tools/make_island_models.py --out DIR [--only NAME[,NAME...]]
        [--no-golden] [--ort-dir DIR] [--list]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import finish_model, log, seed_of  # noqa: E402

SHAPE = [1, 8, 6, 6]
QTYPES = {"u8": (TensorProto.UINT8, np.uint8), "s8": (TensorProto.INT8, np.int8)}


class Island:
    """One model: the quantized input, the island's nodes, the quantized output."""

    def __init__(self, name, qtype, opset=13):
        self.name, self.opset = name, opset
        self.onnx_type, self.np_type = QTYPES[qtype]
        self.nodes, self.inits = [], []

    def const(self, name, value, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
        return name

    def node(self, op, ins, out, **attrs):
        self.nodes.append(helper.make_node(op, ins, [out], name=out + "_node", **attrs))
        return out

    def qdq(self, x, tag, scale, zero_point):
        s = self.const(f"{tag}_scale", scale)
        z = self.const(f"{tag}_zp", zero_point, self.np_type)
        q = self.node("QuantizeLinear", [x, s, z], f"{tag}_q")
        return self.node("DequantizeLinear", [q, s, z], f"{tag}_dq")

    def save(self, out_dir, opts, body, in_q, out_q, conv=False):
        x = "input"
        d = self.qdq(x, "in", *in_q)
        if conv:  # a 1x1 conv with int8 weights first, as in a network
            rng = np.random.default_rng(seed_of(self.name))
            w = rng.uniform(-0.4, 0.4, size=(SHAPE[1], SHAPE[1], 1, 1)).astype(np.float32)
            ws = np.float32(np.abs(w).max() / 127)
            self.inits.append(numpy_helper.from_array(np.round(w / ws).astype(np.int8), "w_q"))
            self.const("w_scale", ws)
            self.const("w_zp", 0, np.int8)
            wd = self.node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], "w_dq")
            c = self.node("Conv", [d, wd], "conv")
            d = self.qdq(c, "conv", *in_q)
        y = body(self, d)
        out = self.qdq(y, "out", *out_q)
        self.nodes[-1].output[0] = "output"
        del out
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, SHAPE)],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, SHAPE)], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="edgeq make_island_models")
        model.ir_version = 8
        if self.opset <= onnx.defs.onnx_opset_version():  # Debian 12's onnx stops at opset 17
            onnx.checker.check_model(model)
        path = out_dir / f"{self.name}.onnx"
        onnx.save(model, str(path))
        rng = np.random.default_rng(seed_of(self.name) + 1)
        lo = (np.iinfo(self.np_type).min - in_q[1]) * in_q[0]
        hi = (np.iinfo(self.np_type).max - in_q[1]) * in_q[0]
        x_val = rng.uniform(lo * 1.05, hi * 1.05, size=SHAPE).astype(np.float32)
        finish_model(path, [x_val], opts)


def silu(m, d):
    return m.node("Mul", [d, m.node("Sigmoid", [d], "sig")], "silu")


def gelu_erf(m, d):
    t = m.node("Div", [d, m.const("sqrt2", 1.4142135381698608)], "scaled")
    t = m.node("Add", [m.node("Erf", [t], "erf"), m.const("one", 1.0)], "erf1")
    t = m.node("Mul", [d, t], "xerf")
    return m.node("Mul", [t, m.const("half", 0.5)], "gelu")


def gelu_tanh(m, d):
    x3 = m.node("Mul", [m.node("Mul", [d, d], "x2"), d], "x3")
    inner = m.node("Add", [d, m.node("Mul", [x3, m.const("k", 0.044715)], "kx3")], "inner")
    t = m.node("Tanh", [m.node("Mul", [inner, m.const("s", 0.7978845834732056)], "arg")], "tanh")
    t = m.node("Mul", [d, m.node("Add", [t, m.const("one", 1.0)], "tanh1")], "xtanh")
    return m.node("Mul", [t, m.const("half", 0.5)], "gelu")


def mish(m, d):
    return m.node("Mul", [d, m.node("Tanh", [m.node("Softplus", [d], "softplus")], "tanh")], "mish")


def mish_op(m, d):
    return m.node("Mish", [d], "mish")


def hardswish(m, d):
    t = m.node("Add", [d, m.const("three", 3.0)], "plus3")
    t = m.node("Clip", [t, m.const("zero", 0.0), m.const("six", 6.0)], "relu6")
    t = m.node("Div", [t, m.const("six_d", 6.0)], "div6")
    return m.node("Mul", [d, t], "hardswish")


def elu(m, d):
    return m.node("Elu", [d], "elu", alpha=0.7)


def sigmoid_tanh(m, d):
    return m.node("Tanh", [m.node("Sigmoid", [d], "sig")], "tanh")


# name -> (body, qtype, opset, input (scale, zp), output (scale, zp), conv first)
MODELS = {
    "island_silu_u8": (silu, "u8", 13, (0.05, 128), (0.03, 10), True),
    "island_silu_s8": (silu, "s8", 13, (0.045, -5), (0.028, -118), True),
    "island_gelu_erf_u8": (gelu_erf, "u8", 13, (0.04, 120), (0.025, 12), False),
    "island_gelu_tanh_s8": (gelu_tanh, "s8", 13, (0.04, 0), (0.025, -116), False),
    "island_mish_u8": (mish, "u8", 13, (0.05, 128), (0.03, 12), False),
    "island_mish_op_s8": (mish_op, "s8", 18, (0.05, 0), (0.03, -115), False),
    "island_hardswish_u8": (hardswish, "u8", 13, (0.05, 128), (0.028, 14), False),
    "island_elu_s8": (elu, "s8", 13, (0.05, 10), (0.03, -50), False),
    "island_sigmoid_tanh_u8": (sigmoid_tanh, "u8", 13, (0.06, 128), (0.004, 0), False),
}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="output directory (models go to OUT/island)")
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--no-golden", dest="golden", action="store_false", help="skip ONNX Runtime goldens")
    ap.add_argument("--ort-dir", default=None, help="ONNX Runtime install (tools/setup_ort.sh DIR)")
    ap.add_argument("--list", action="store_true", help="list the models, then exit")
    opts = ap.parse_args(argv)
    if opts.list:
        print("\n".join(MODELS))
        return 0
    if opts.out is None:
        ap.error("--out is required")
    chosen = [n for n in opts.only.split(",") if n] or list(MODELS)
    for n in chosen:
        if n not in MODELS:
            raise SystemExit(f"make_island_models.py: unknown model '{n}' (see --list)")
    out_dir = opts.out / "island"
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"island models -> {out_dir}")
    for name in chosen:
        body, qtype, opset, in_q, out_q, conv = MODELS[name]
        Island(name, qtype, opset).save(out_dir, opts, body, in_q, out_q, conv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

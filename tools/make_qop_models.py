#!/usr/bin/env python3
"""Build hand-made QOperator-form ONNX test models (opset 13) with ONNX Runtime goldens.

Each model takes float input(s) and gives float output(s):

    x -> QuantizeLinear -> <integer op(s)> -> DequantizeLinear -> y

so the same float NPY files work for edgeq and ONNX Runtime, and the manifest
records the output's scale / zero point for step-wise comparison. Models:

  qlinearconv_u8_pertensor       uint8 activations, int8 weights, one scale
  qlinearconv_u8_perchannel      uint8 activations, int8 per-channel weights, stride 2
  qlinearconv_u8_u8weights       uint8 activations, uint8 weights with zero point != 0
  qlinearconv_s8_pertensor_b2    int8 activations, 1x1 conv, batch 2
  qlinearconv_s8_perchannel_dw   int8 activations, depthwise, per-channel weights
  qlinearmatmul_u8s8             uint8 x int8 -> uint8, 2-D
  qlinearmatmul_s8s8_3d          int8 x int8 -> int8, 3-D input
  convinteger_u8s8               ConvInteger -> Cast(float) -> Mul(scale) -> Add(bias),
                                 then QuantizeLinear/DequantizeLinear at the output
  matmulinteger_u8s8             MatMulInteger -> Cast -> Mul -> Add, same framing
  matmulinteger_dynamic          what ONNX Runtime's dynamic quantizer writes:
                                 DynamicQuantizeLinear -> MatMulInteger -> Cast ->
                                 Mul(Mul(x_scale, w_scale)) -> Add; float output
  convinteger_dynamic            the same for Conv (uint8 weights, zero point not 128)
  convinteger_dynamic_1d         the same for a 1-D Conv (an audio front end: Whisper's,
                                 wav2vec2's), stride 2
  qlinear_contrib_u8 / _s8       ONNX Runtime's com.microsoft QOperator ops, as its
                                 quantize_static writes them: QLinearConv branches (one
                                 through a MaxPool on the quantized tensor) joined by
                                 QLinearAdd, QLinearLeakyRelu, QLinearAveragePool, QLinearConcat
                                 of differently quantized inputs, QLinearSigmoid, QLinearMul,
                                 QLinearGlobalAveragePool, Flatten and QGemm (per-channel
                                 weights, int32 bias); uint8 / int8 activations

Files go to OUT/qop/ (NAME.onnx, NAME.input.npy, NAME.ort.npy) and
OUT/manifest.json is rewritten (see make_models.write_manifest).

Usage (Python with numpy and onnx; ONNX Runtime from tools/setup_ort.sh):
  /usr/bin/python3 tools/make_qop_models.py --out DIR [--only NAME[,NAME...]]
        [--no-golden] [--no-manifest] [--ort-dir DIR] [--list]
"""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import (finish_model, generator_options, log, seed_of, selected_models,  # noqa: E402
                         write_manifest)

QRANGE = {np.uint8: (0, 255), np.int8: (-128, 127)}


# ---------------------------------------------------------------------------
# Quantization helpers (round half to even, as QuantizeLinear does)
# ---------------------------------------------------------------------------

def choose_qparams(lo, hi, qtype):
    """Asymmetric scale / zero point covering [lo, hi] (always including 0)."""
    qmin, qmax = QRANGE[qtype]
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = np.float32((hi - lo) / (qmax - qmin))
    zp = int(np.clip(np.round(qmin - lo / scale), qmin, qmax))
    return scale, qtype(zp)


def quantize(x, scale, zp, qtype, axis=None):
    qmin, qmax = QRANGE[qtype]
    scale = np.asarray(scale, np.float32)
    zp = np.asarray(zp).astype(np.int32)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return np.clip(np.round(x / scale) + zp, qmin, qmax).astype(qtype)


def dequantize(q, scale, zp, axis=None):
    scale = np.asarray(scale, np.float32)
    zp = np.asarray(zp).astype(np.int32)
    if axis is not None:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((q.astype(np.int32) - zp) * scale).astype(np.float32)


def weight_qparams(w, qtype, per_channel):
    """Symmetric int8 (zero point 0) or asymmetric uint8 weight qparams."""
    axes = tuple(range(1, w.ndim)) if per_channel else None
    if qtype is np.int8:
        amax = np.abs(w).max(axis=axes)
        scale = (np.maximum(amax, 1e-8) / 127.0).astype(np.float32)
        zp = np.zeros_like(scale, dtype=np.int8)
        return scale, zp
    lo, hi = w.min(axis=axes), w.max(axis=axes)
    if per_channel:
        pairs = [choose_qparams(a, b, np.uint8) for a, b in zip(lo, hi)]
        return (np.array([p[0] for p in pairs], np.float32),
                np.array([p[1] for p in pairs], np.uint8))
    return choose_qparams(lo, hi, np.uint8)


# ---------------------------------------------------------------------------
# Float references (to pick output quantization ranges)
# ---------------------------------------------------------------------------

def conv_ref(x, w, b, strides, pads, group):
    """Plain NCHW convolution in float64 (pads: top, left, bottom, right)."""
    n, cin, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    sh, sw = strides
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    y = np.zeros((n, cout, oh, ow))
    cout_g = cout // group
    for g in range(group):
        xg = xp[:, g * cin_g:(g + 1) * cin_g]
        wg = w[g * cout_g:(g + 1) * cout_g].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                patch = xg[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
                y[:, g * cout_g:(g + 1) * cout_g] += np.einsum("nchw,oc->nohw", patch, wg[:, :, i, j])
    if b is not None:
        y += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return y.astype(np.float32)


def matmul_ref(a, b, bias=None):
    y = np.matmul(a.astype(np.float64), b.astype(np.float64))
    if bias is not None:
        y = y + bias
    return y.astype(np.float32)


# ---------------------------------------------------------------------------
# Graph building
# ---------------------------------------------------------------------------

class QopBuilder:
    """Collects nodes / initializers of one model and saves it with its input."""

    def __init__(self, name):
        self.name = name
        self.rng = np.random.RandomState(seed_of(name))
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.feeds = []
        self.opsets = [helper.make_operatorsetid("", 13)]
        self.reference = None  # float reference output, for a sanity check
        self.out_qparams = None  # (scale, zero point) of the output grid, if any

    def input(self, name, shape, lo=-3.0, hi=3.0):
        x = self.rng.uniform(lo, hi, shape).astype(np.float32)
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        self.feeds.append(x)
        return name, x

    def const(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))
        return outputs[0]

    def output(self, name, shape):
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))

    def quantize_input(self, x_name, x, qtype):
        scale, zp = choose_qparams(x.min(), x.max(), qtype)
        q = self.node("QuantizeLinear", [x_name, self.const("x_scale", scale),
                                         self.const("x_zero_point", zp)], ["x_q"])
        return q, scale, zp

    def dequantize_output(self, q_name, scale_name, zp_name, shape):
        self.node("DequantizeLinear", [q_name, scale_name, zp_name], ["y"])
        self.output("y", shape)

    def save(self, out_dir, opts):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        model = helper.make_model(graph, producer_name="edgeq-tools",
                                  opset_imports=self.opsets)
        # The checker knows no com.microsoft schemas: it checks models without them.
        if len(self.opsets) == 1:
            onnx.checker.check_model(model, full_check=True)
        path = out_dir / f"{self.name}.onnx"
        onnx.save(model, str(path))
        finish_model(path, self.feeds, opts)
        if opts.golden and self.reference is not None:
            self.check_against_reference(path)

    def check_against_reference(self, path):
        """Log how far ONNX Runtime is from the float reference (in output steps)."""
        ort = np.load(str(path)[: -len(".onnx")] + ".ort.npy")
        ref = self.reference.reshape(ort.shape)
        if self.out_qparams is None:
            log(f"    vs float reference: max abs diff {np.abs(ort - ref).max():.3g}")
            return
        scale, _ = self.out_qparams
        steps = np.abs(ort.astype(np.float64) - ref) / scale
        log(f"    vs float reference: max {steps.max():.2f} steps, "
            f"{np.mean(steps <= 1.0) * 100:.1f}% within 1 step")


def output_qparams(b, y_ref, qtype):
    """Output scale / zero point covering the reference range; remembered on b."""
    b.reference = y_ref
    b.out_qparams = choose_qparams(y_ref.min(), y_ref.max(), qtype)
    return b.out_qparams


# ---------------------------------------------------------------------------
# QLinearConv / QLinearMatMul
# ---------------------------------------------------------------------------

def qlinearconv(name, act, wtype, per_channel, x_shape, cout, k, strides=(1, 1),
                pads=(0, 0, 0, 0), group=1):
    b = QopBuilder(name)
    x_name, x = b.input("x", x_shape)
    cin = x_shape[1]
    w = (b.rng.standard_normal((cout, cin // group, k, k)) * 0.4).astype(np.float32)
    bias = (b.rng.standard_normal(cout) * 0.5).astype(np.float32)

    xq, xs, xzp = b.quantize_input(x_name, x, act)
    ws, wzp = weight_qparams(w, wtype, per_channel)
    axis = 0 if per_channel else None
    wq = quantize(w, ws, wzp, wtype, axis)
    bias_scale = (xs * np.asarray(ws, np.float32)).astype(np.float32)
    bias_q = np.round(bias / bias_scale).astype(np.int32)

    # Reference in float from the quantized operands (what the integer op computes).
    y_ref = conv_ref(dequantize(quantize(x, xs, xzp, act), xs, xzp),
                     dequantize(wq, ws, wzp, axis), (bias_q * bias_scale).astype(np.float32),
                     strides, pads, group)
    ys, yzp = output_qparams(b, y_ref, act)
    attrs = dict(kernel_shape=[k, k], strides=list(strides), pads=list(pads), group=group)
    yq = b.node("QLinearConv",
                [xq, "x_scale", "x_zero_point", b.const("w", wq), b.const("w_scale", ws),
                 b.const("w_zero_point", wzp), b.const("y_scale", ys),
                 b.const("y_zero_point", yzp), b.const("bias", bias_q)],
                ["y_q"], **attrs)
    b.dequantize_output(yq, "y_scale", "y_zero_point", y_ref.shape)
    return b


def qlinearmatmul(name, act, a_shape, n):
    b = QopBuilder(name)
    x_name, x = b.input("x", a_shape)
    kdim = a_shape[-1]
    w = (b.rng.standard_normal((kdim, n)) * 0.3).astype(np.float32)
    xq, xs, xzp = b.quantize_input(x_name, x, act)
    ws, wzp = weight_qparams(w, np.int8, per_channel=False)
    wq = quantize(w, ws, wzp, np.int8)
    y_ref = matmul_ref(dequantize(quantize(x, xs, xzp, act), xs, xzp), dequantize(wq, ws, wzp))
    ys, yzp = output_qparams(b, y_ref, act)
    yq = b.node("QLinearMatMul",
                [xq, "x_scale", "x_zero_point", b.const("w", wq), b.const("w_scale", ws),
                 b.const("w_zero_point", wzp), b.const("y_scale", ys),
                 b.const("y_zero_point", yzp)], ["y_q"])
    b.dequantize_output(yq, "y_scale", "y_zero_point", y_ref.shape)
    return b


# ---------------------------------------------------------------------------
# ConvInteger / MatMulInteger with Cast + Mul dequantization
# ---------------------------------------------------------------------------

def integer_tail(b, acc, scale_name, bias, out_name):
    """int32 accumulator -> Cast(float) -> Mul(scale) -> Add(bias): the float result."""
    f = b.node("Cast", [acc], ["acc_float"], to=TensorProto.FLOAT)
    f = b.node("Mul", [f, scale_name], ["acc_scaled"])
    return b.node("Add", [f, b.const("bias", bias)], [out_name])


def requantize_output(b, y_float_name, y_ref, act):
    """QuantizeLinear -> DequantizeLinear at the output, so the result is on a grid."""
    ys, yzp = output_qparams(b, y_ref, act)
    yq = b.node("QuantizeLinear", [y_float_name, b.const("y_scale", ys),
                                   b.const("y_zero_point", yzp)], ["y_q"])
    b.dequantize_output(yq, "y_scale", "y_zero_point", y_ref.shape)


def quantize_activation(b, x_name, x, dynamic, w_scale):
    """Quantize x to uint8, statically (QuantizeLinear) or at run time
    (DynamicQuantizeLinear); returns (x_q name, combined scale name, x_scale, x_zp)
    where the last two are the values used to compute the float reference."""
    if dynamic:
        b.node("DynamicQuantizeLinear", [x_name], ["x_q", "x_scale", "x_zero_point"])
        scale = b.node("Mul", ["x_scale", b.const("w_scale", w_scale)], ["x_w_scale"])
        # DynamicQuantizeLinear picks the same range-covering uint8 parameters.
        xs, xzp = choose_qparams(x.min(), x.max(), np.uint8)
        return "x_q", scale, xs, xzp
    xq, xs, xzp = b.quantize_input(x_name, x, np.uint8)
    return xq, b.const("x_w_scale", np.float32(xs * w_scale)), xs, xzp


def finish_integer_model(b, y_name, y_ref, dynamic):
    if dynamic:
        b.reference = y_ref
        b.output(y_name, y_ref.shape)  # float output, as the dynamic quantizer leaves it
    else:
        requantize_output(b, y_name, y_ref, np.uint8)


def convinteger(name, x_shape, cout, k, wtype, pads=(1, 1, 1, 1), dynamic=False):
    b = QopBuilder(name)
    x_name, x = b.input("x", x_shape)
    w = (b.rng.standard_normal((cout, x_shape[1], k, k)) * 0.4).astype(np.float32)
    bias = (b.rng.standard_normal((1, cout, 1, 1)) * 0.5).astype(np.float32)
    ws, wzp = weight_qparams(w, wtype, per_channel=False)
    wq = quantize(w, ws, wzp, wtype)
    xq, scale, xs, xzp = quantize_activation(b, x_name, x, dynamic, ws)
    acc = b.node("ConvInteger", [xq, b.const("w", wq), "x_zero_point",
                                 b.const("w_zero_point", wzp)],
                 ["acc"], kernel_shape=[k, k], pads=list(pads))
    y = integer_tail(b, acc, scale, bias, "y" if dynamic else "y_float")
    y_ref = conv_ref(dequantize(quantize(x, xs, xzp, np.uint8), xs, xzp),
                     dequantize(wq, ws, wzp), None, (1, 1), pads, 1) + bias
    finish_integer_model(b, y, y_ref, dynamic)
    return b


def convinteger_1d(name, x_shape, cout, k, stride, pads):
    """A dynamically quantized 1-D ConvInteger (uint8 weights, one zero point), x [N, C, L]."""
    b = QopBuilder(name)
    x_name, x = b.input("x", x_shape)
    w = (b.rng.standard_normal((cout, x_shape[1], k)) * 0.4).astype(np.float32)
    bias = (b.rng.standard_normal((1, cout, 1)) * 0.5).astype(np.float32)
    ws, wzp = weight_qparams(w, np.uint8, per_channel=False)
    wq = quantize(w, ws, wzp, np.uint8)
    xq, scale, xs, xzp = quantize_activation(b, x_name, x, True, ws)
    acc = b.node("ConvInteger", [xq, b.const("w", wq), "x_zero_point", b.const("w_zero_point", wzp)],
                 ["acc"], kernel_shape=[k], strides=[stride], pads=list(pads))
    y = integer_tail(b, acc, scale, bias, "y")
    x2 = dequantize(quantize(x, xs, xzp, np.uint8), xs, xzp)[:, :, None, :]
    y_ref = conv_ref(x2, dequantize(wq, ws, wzp)[:, :, None, :], None, (1, stride), (0, pads[0], 0, pads[1]), 1)
    finish_integer_model(b, y, y_ref[:, :, 0, :] + bias, True)
    return b


def matmulinteger(name, a_shape, n, wtype, dynamic=False):
    b = QopBuilder(name)
    x_name, x = b.input("x", a_shape)
    w = (b.rng.standard_normal((a_shape[-1], n)) * 0.3).astype(np.float32)
    bias = (b.rng.standard_normal(n) * 0.5).astype(np.float32)
    ws, wzp = weight_qparams(w, wtype, per_channel=False)
    wq = quantize(w, ws, wzp, wtype)
    xq, scale, xs, xzp = quantize_activation(b, x_name, x, dynamic, ws)
    acc = b.node("MatMulInteger", [xq, b.const("w", wq), "x_zero_point",
                                   b.const("w_zero_point", wzp)], ["acc"])
    y = integer_tail(b, acc, scale, bias, "y" if dynamic else "y_float")
    y_ref = matmul_ref(dequantize(quantize(x, xs, xzp, np.uint8), xs, xzp),
                       dequantize(wq, ws, wzp), bias)
    finish_integer_model(b, y, y_ref, dynamic)
    return b


# ---------------------------------------------------------------------------
# ONNX Runtime's quantized contrib operators (domain com.microsoft)
# ---------------------------------------------------------------------------

def qlinear_contrib(name, act):
    """A small residual CNN in ONNX Runtime's QOperator form, every op quantized.

    Activation scales are fixed generous ranges (the golden is ONNX Runtime's output;
    the float reference is not needed to choose them)."""
    b = QopBuilder(name)
    x_name, x = b.input("x", [1, 8, 12, 12])
    xq, xs, xzp = b.quantize_input(x_name, x, act)
    qmin, _ = QRANGE[act]
    zero = 0 if act == np.int8 else 128

    def act_q(tag, scale, zp=zero):
        return b.const(f"{tag}_scale", np.float32(scale)), b.const(f"{tag}_zero_point", act(zp))

    def conv(tag, src, src_q, cin, cout, k, pads):
        w = (b.rng.standard_normal((cout, cin, k, k)) * 0.3).astype(np.float32)
        ws, wzp = weight_qparams(w, np.int8, True)
        wq = quantize(w, ws, wzp, np.int8, 0)
        bias = (b.rng.standard_normal(cout) * 0.5).astype(np.float32)
        bias_q = np.round(bias / (np.float32(src_q[0]) * np.asarray(ws, np.float32))).astype(np.int32)
        ys, yzp = act_q(tag, 0.08)
        return b.node("QLinearConv", [src, src_q[1], src_q[2], b.const(f"{tag}_w", wq), b.const(f"{tag}_w_scale", ws),
                                      b.const(f"{tag}_w_zero_point", wzp), ys, yzp, b.const(f"{tag}_bias", bias_q)],
                      [f"{tag}_q"], kernel_shape=[k, k], pads=list(pads)), ys, yzp

    xin = (xs, "x_scale", "x_zero_point")
    a, a_s, a_z = conv("a", xq, xin, 8, 8, 3, (1, 1, 1, 1))
    s_, s_s, s_z = conv("s", xq, xin, 8, 8, 1, (0, 0, 0, 0))
    ms = dict(domain="com.microsoft")
    r_s, r_z = act_q("r", 0.1)
    # A standard MaxPool on the uint8 / int8 tensor itself, as these files have them.
    a = b.node("MaxPool", [a], ["a_pool_q"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    r = b.node("QLinearAdd", [a, a_s, a_z, s_, s_s, s_z, r_s, r_z], ["r_q"], **ms)
    l_s, l_z = act_q("l", 0.07, zero - 40 if act == np.uint8 else -40)
    lr = b.node("QLinearLeakyRelu", [r, r_s, r_z, l_s, l_z], ["l_q"], alpha=0.1, **ms)
    p_s, p_z = act_q("p", 0.05, zero - 20 if act == np.uint8 else -20)
    pool = b.node("QLinearAveragePool", [lr, l_s, l_z, p_s, p_z], ["p_q"], kernel_shape=[3, 3],
                  pads=[1, 1, 1, 1], strides=[1, 1], count_include_pad=1, **ms)
    c_s, c_z = act_q("c", 0.06, zero - 30 if act == np.uint8 else -30)
    cat = b.node("QLinearConcat", [c_s, c_z, pool, p_s, p_z, lr, l_s, l_z], ["c_q"], axis=1, **ms)
    g_s, g_z = act_q("sig", 1.0 / 255, qmin)
    sig = b.node("QLinearSigmoid", [cat, c_s, c_z, g_s, g_z], ["sig_q"], **ms)
    m_s, m_z = act_q("m", 0.04, zero - 30 if act == np.uint8 else -30)
    mul = b.node("QLinearMul", [cat, c_s, c_z, sig, g_s, g_z, m_s, m_z], ["m_q"], **ms)
    v_s, v_z = act_q("v", 0.02, zero - 30 if act == np.uint8 else -30)
    gap = b.node("QLinearGlobalAveragePool", [mul, m_s, m_z, v_s, v_z], ["v_q"], channels_last=0, **ms)
    flat = b.node("Flatten", [gap], ["flat_q"], axis=1)
    w = (b.rng.standard_normal((10, 16)) * 0.3).astype(np.float32)
    ws, wzp = weight_qparams(w, np.int8, True)
    wq = quantize(w, ws, wzp, np.int8, 0)
    bias_q = np.round((b.rng.standard_normal(10) * 0.2).astype(np.float32) /
                      (np.float32(0.02) * np.asarray(ws, np.float32))).astype(np.int32)
    y_s, y_z = act_q("y", 0.03)
    yq = b.node("QGemm", [flat, v_s, v_z, b.const("fc_w", wq), b.const("fc_w_scale", ws),
                          b.const("fc_w_zero_point", wzp), b.const("fc_bias", bias_q), y_s, y_z],
                ["y_q"], transB=1, **ms)
    b.opsets.append(helper.make_operatorsetid("com.microsoft", 1))
    b.dequantize_output(yq, y_s, y_z, [1, 10])
    return b


# ---------------------------------------------------------------------------
# Model list and command line
# ---------------------------------------------------------------------------

MODELS = {
    "qlinearconv_u8_pertensor": lambda: qlinearconv(
        "qlinearconv_u8_pertensor", np.uint8, np.int8, False, [1, 4, 8, 8], 8, 3,
        pads=(1, 1, 1, 1)),
    "qlinearconv_u8_perchannel": lambda: qlinearconv(
        "qlinearconv_u8_perchannel", np.uint8, np.int8, True, [1, 4, 9, 9], 8, 3,
        strides=(2, 2), pads=(1, 1, 1, 1)),
    "qlinearconv_u8_u8weights": lambda: qlinearconv(
        "qlinearconv_u8_u8weights", np.uint8, np.uint8, False, [1, 4, 8, 8], 6, 3,
        pads=(1, 1, 1, 1)),
    "qlinearconv_s8_pertensor_b2": lambda: qlinearconv(
        "qlinearconv_s8_pertensor_b2", np.int8, np.int8, False, [2, 8, 6, 6], 16, 1),
    "qlinearconv_s8_perchannel_dw": lambda: qlinearconv(
        "qlinearconv_s8_perchannel_dw", np.int8, np.int8, True, [1, 8, 8, 8], 8, 3,
        pads=(1, 1, 1, 1), group=8),
    "qlinearmatmul_u8s8": lambda: qlinearmatmul("qlinearmatmul_u8s8", np.uint8, [2, 16], 8),
    "qlinearmatmul_s8s8_3d": lambda: qlinearmatmul("qlinearmatmul_s8s8_3d", np.int8,
                                                   [2, 3, 16], 8),
    "convinteger_u8s8": lambda: convinteger("convinteger_u8s8", [1, 4, 8, 8], 8, 3, np.int8),
    "convinteger_u8u8": lambda: convinteger("convinteger_u8u8", [1, 4, 8, 8], 8, 3, np.uint8),
    "matmulinteger_u8s8": lambda: matmulinteger("matmulinteger_u8s8", [2, 16], 8, np.int8),
    "matmulinteger_u8u8": lambda: matmulinteger("matmulinteger_u8u8", [2, 16], 8, np.uint8),
    "matmulinteger_dynamic": lambda: matmulinteger("matmulinteger_dynamic", [2, 16], 8,
                                                   np.int8, dynamic=True),
    "convinteger_dynamic": lambda: convinteger("convinteger_dynamic", [1, 4, 8, 8], 8, 3,
                                               np.uint8, dynamic=True),
    "convinteger_dynamic_1d": lambda: convinteger_1d("convinteger_dynamic_1d", [2, 6, 21], 10, 3, 2, (1, 1)),
    "qlinear_contrib_u8": lambda: qlinear_contrib("qlinear_contrib_u8", np.uint8),
    "qlinear_contrib_s8": lambda: qlinear_contrib("qlinear_contrib_s8", np.int8),
}


def parse_args(argv):
    return generator_options(argv, __doc__.split("\n")[0], "output root; models go to OUT/qop/")


def main(argv=None):
    opts = parse_args(argv)
    if opts.list:
        print("\n".join(MODELS))
        return 0
    names = selected_models(opts.only, MODELS, "make_qop_models.py")
    root = opts.out.resolve()
    out_dir = root / "qop"
    out_dir.mkdir(parents=True, exist_ok=True)
    log("QOperator models")
    for name in names:
        MODELS[name]().save(out_dir, opts)
    if opts.manifest:
        write_manifest(root, opts.ort_dir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as err:
        print(f"make_qop_models.py: error: {err}", file=sys.stderr)
        sys.exit(1)

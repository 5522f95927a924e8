#!/usr/bin/env python3
"""Build the ONNX test models for edgeq, their inputs, and ONNX Runtime goldens.

Every model is made from fixed seeds, so a re-run gives the same files. For each
model NAME the script writes, next to NAME.onnx:

  NAME.input.npy   (or NAME.input0.npy, NAME.input1.npy, ... for several inputs)
  NAME.ort.npy     (or NAME.ort0.npy, ...): ONNX Runtime's outputs for those inputs

and at the end (re)writes OUT/manifest.json listing every model found under OUT
(see write_manifest).

Model groups (use with --only; single model names work too, see --list):
  big    mobilenet_v2_int8, resnet18_int8, mobilenet_v2_f32, resnet18_f32:
         torchvision networks with random weights (fixed seed), quantized with
         PyTorch FX (qnnpack qconfig mapping, static, calibrated on synthetic
         images) and exported to ONNX opset 13 in QDQ form; batch 1, 3x224x224.
         Too big to commit: they are made at test time into a build directory.
  small  small_qdq (batch 2), small_qdq_perchannel (batch 1, per-channel
         weights) and small_f32 (batch 2): a small CNN made the same way; kws1d_f32:
         a keyword spotter of 1-D convolutions.
  ops    single-op / few-op float models for importer coverage, in OUT/ops/.
  committed = small + ops (what lives in test/data; tools/make_test_data.sh
         also runs tools/make_qop_models.py for OUT/qop/).
  all    everything above (the default).

Usage (use the system Python that has torch 1.13, torchvision, onnx, numpy):
  /usr/bin/python3 tools/make_models.py --out DIR [--only NAME[,NAME...]]
        [--no-golden] [--no-manifest] [--ort-dir DIR] [--list]
  /usr/bin/python3 tools/make_models.py --out DIR --manifest-only

ONNX Runtime runs through node and tools/ort/ort_run.js; install it first with
tools/setup_ort.sh (or point --ort-dir / EDGEQ_ORT_DIR at another install).
"""

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TOOLS_DIR = Path(__file__).resolve().parent
ORT_RUN_JS = TOOLS_DIR / "ort" / "ort_run.js"
ORT_PACKAGE_JSON = TOOLS_DIR / "ort" / "package.json"

# Seeds: one per network so that building a subset gives the same files.
SEED_MOBILENET = 1001
SEED_RESNET = 1002
SEED_SMALL = 1003

# ImageNet normalisation, used to make inputs that look like a normalised image.
IMAGE_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGE_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


# ---------------------------------------------------------------------------
# Files, inputs and ONNX Runtime
# ---------------------------------------------------------------------------

def log(msg):
    print(msg, flush=True)


def io_file_names(model_path, kind, count):
    """NAME.input.npy / NAME.ort.npy for one tensor, NAME.input0.npy ... for several."""
    stem = str(model_path)[: -len(".onnx")]
    if count == 1:
        return [Path(f"{stem}.{kind}.npy")]
    return [Path(f"{stem}.{kind}{i}.npy") for i in range(count)]


def save_inputs(model_path, arrays):
    """Write the model's input arrays next to it; returns the file paths."""
    paths = io_file_names(model_path, "input", len(arrays))
    for path, arr in zip(paths, arrays):
        np.save(path, np.ascontiguousarray(arr))
    return paths


def run_ort(model_path, input_paths, output_paths, ort_dir=None, opt_level="all"):
    """Run ONNX Runtime on the model through ort_run.js; raises on failure."""
    cmd = ["node", str(ORT_RUN_JS), str(model_path), "--threads", "1", "--quiet",
           "--opt-level", opt_level]
    for p in input_paths:
        cmd += ["--input", str(p)]
    for p in output_paths:
        cmd += ["--output", str(p)]
    env = dict(os.environ)
    if ort_dir:
        env["EDGEQ_ORT_DIR"] = str(ort_dir)
    try:
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError("node is not installed; it is needed to run ONNX Runtime")
    if res.returncode != 0:
        hint = ""
        if "not installed" in res.stderr:
            hint = "\n(install ONNX Runtime with tools/setup_ort.sh)"
        raise RuntimeError(f"ONNX Runtime failed on {model_path}:\n{res.stderr.strip()}{hint}")


def graph_output_count(model_path):
    return len(onnx.load(str(model_path), load_external_data=False).graph.output)


def finish_model(model_path, inputs, opts):
    """Save inputs for a written model and, unless disabled, its ORT goldens."""
    input_paths = save_inputs(model_path, inputs)
    if opts.golden:
        outputs = io_file_names(model_path, "ort", graph_output_count(model_path))
        run_ort(model_path, input_paths, outputs, opts.ort_dir)
    size_kb = model_path.stat().st_size / 1024
    log(f"  {model_path.name}: {size_kb:.1f} KB")


def seed_of(name):
    """Stable per-name seed (independent of which models are built)."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


# ---------------------------------------------------------------------------
# Synthetic image data
# ---------------------------------------------------------------------------

def synthetic_images(count, size, seed):
    """Float32 NCHW batch that looks like normalised natural images.

    Smooth random colour fields (low-resolution noise upsampled bilinearly) plus
    a little pixel noise, in [0, 1], then normalised with ImageNet mean/std.
    """
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(count, 3, max(2, size // 16), max(2, size // 16), generator=gen)
    medium = torch.rand(count, 3, max(2, size // 4), max(2, size // 4), generator=gen)
    img = 0.7 * F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    img += 0.25 * F.interpolate(medium, size=(size, size), mode="bilinear", align_corners=False)
    img += 0.05 * torch.rand(count, 3, size, size, generator=gen)
    img = img.clamp(0.0, 1.0)
    mean = torch.from_numpy(IMAGE_MEAN).view(1, 3, 1, 1)
    std = torch.from_numpy(IMAGE_STD).view(1, 3, 1, 1)
    return ((img - mean) / std).contiguous()


# ---------------------------------------------------------------------------
# Torch networks: random but realistic weights
# ---------------------------------------------------------------------------

def randomize_norm_and_bias(model, seed):
    """Give BatchNorm affine parameters and zero biases random values.

    Freshly initialised networks have BN gamma=1, beta=0 and often zero Linear
    biases; randomising them (gamma in [0.8, 1.2], beta ~ N(0, 0.2)) makes the
    folded conv biases non-zero, as in a trained network.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                mod.weight.copy_(0.8 + 0.4 * torch.rand(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=gen))
            elif isinstance(mod, torch.nn.Linear) and mod.bias is not None:
                if torch.count_nonzero(mod.bias) == 0:
                    mod.bias.copy_(0.05 * torch.randn(mod.bias.shape, generator=gen))


def recalibrate_batchnorm(model, images):
    """Set BN running statistics from data, layer by layer, in one forward pass.

    Without this a random network's activations shrink or blow up layer after
    layer and the quantized output collapses to a single value. Each BN gets
    the per-channel mean of its input but one variance for the whole layer (the
    mean of the channel variances): per-channel variances would scale weak
    channels up by large factors when BN is folded into the conv, and with
    per-tensor weight quantization that turns a deep random network into a
    noise amplifier where one rounding difference early on grows into tens of
    quantization steps at the output.
    """
    import torch

    def set_stats(bn, inputs):
        x = inputs[0]
        dims = tuple(d for d in range(x.dim()) if d != 1)  # all but the channels
        bn.running_mean.copy_(x.mean(dim=dims))
        bn.running_var.fill_(float(x.var(dim=dims, unbiased=False).mean()))

    hooks = [m.register_forward_pre_hook(set_stats)
             for m in model.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]
    model.eval()
    with torch.no_grad():
        model(images)
    for h in hooks:
        h.remove()


def prepare_float_network(model, seed, image_size, calib_count):
    """Randomise norms/biases and fit BN statistics; returns the model in eval mode."""
    randomize_norm_and_bias(model, seed)
    recalibrate_batchnorm(model, synthetic_images(calib_count, image_size, seed + 1))
    return model.eval()


def quantized_cat(tensors, dim=0):
    """Concatenate quantized tensors with an op the ONNX exporter understands.

    PyTorch 1.13 FX keeps torch.cat on quantized tensors (inputs and output share
    qparams), but the ONNX exporter has no quantized aten::cat; quantized::cat
    with the shared qparams computes the same thing and exports as DQ-Concat-Q.
    """
    import torch

    return torch.ops.quantized.cat(tensors, dim, tensors[0].q_scale(), tensors[0].q_zero_point())


def replace_quantized_cat(graph_module):
    """Point torch.cat calls of a converted FX model at quantized_cat."""
    import torch

    changed = False
    for node in graph_module.graph.nodes:
        if node.op == "call_function" and node.target is torch.cat:
            node.target = quantized_cat
            changed = True
    if changed:
        graph_module.recompile()
    return graph_module


def qconfig_mapping(per_channel):
    """FX qconfig mapping: PyTorch's qnnpack default, optionally with per-channel weights."""
    from torch.ao.quantization import QConfig, get_default_qconfig_mapping
    from torch.ao.quantization.observer import HistogramObserver, default_per_channel_weight_observer

    mapping = get_default_qconfig_mapping("qnnpack")
    if per_channel:
        # Swap the default qconfig wherever it is used (global and the module /
        # function types listed in the mapping) so fused patterns stay consistent.
        default = mapping.global_qconfig
        qc = QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                     weight=default_per_channel_weight_observer)
        mapping = mapping.set_global(qc)
        for key, value in list(mapping.object_type_qconfigs.items()):
            if value is default:
                mapping = mapping.set_object_type(key, qc)
    return mapping


def quantize_fx(model, example, calib_batches, per_channel=False):
    """Static post-training quantization with FX, qnnpack engine."""
    import torch
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "qnnpack"
    prepared = prepare_fx(copy.deepcopy(model).eval(), qconfig_mapping(per_channel), (example,))
    with torch.no_grad():
        for batch in calib_batches:
            prepared(batch)
    return replace_quantized_cat(convert_fx(prepared))


def export_onnx(model, example, path, opset=13):
    """torch.onnx.export with fixed I/O names; the graph is kept as exported."""
    import torch
    import warnings

    with warnings.catch_warnings():
        # 1.13 warns about prim::TupleConstruct shape inference on quantized graphs.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), opset_version=opset,
                          input_names=["input"], output_names=["output"])


# ---------------------------------------------------------------------------
# Big networks (MobileNetV2, ResNet-18)
# ---------------------------------------------------------------------------

def build_backbone(arch):
    """torchvision network with fixed-seed random weights, ready for inference."""
    import torch
    import torchvision

    seed = {"mobilenet_v2": SEED_MOBILENET, "resnet18": SEED_RESNET}[arch]
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(weights=None)
    return prepare_float_network(model, seed, 224, calib_count=8), seed


def backbone_input(seed):
    """The image ARCH_*.onnx are exported with and saved beside as their input."""
    return synthetic_images(1, 224, seed + 2)


def quantize_backbone(model, seed):
    """The network of ARCH_int8.onnx: `model` (from build_backbone) quantized with FX,
    calibrated on fixed-seed images. bench/peers/ times it in PyTorch too."""
    calib = [synthetic_images(2, 224, seed + 10 + i) for i in range(4)]
    return quantize_fx(model, backbone_input(seed), calib)


def make_backbone(arch, out_dir, opts, want):
    """Write ARCH_f32.onnx and/or ARCH_int8.onnx with input and goldens."""
    model, seed = build_backbone(arch)
    x = backbone_input(seed)
    if f"{arch}_f32" in want:
        path = out_dir / f"{arch}_f32.onnx"
        export_onnx(model, x, path)
        finish_model(path, [x.numpy()], opts)
    if f"{arch}_int8" in want:
        qmodel = quantize_backbone(model, seed)
        path = out_dir / f"{arch}_int8.onnx"
        export_onnx(qmodel, x, path)
        finish_model(path, [x.numpy()], opts)


# ---------------------------------------------------------------------------
# Small CNN
# ---------------------------------------------------------------------------

def small_net():
    """A small CNN touching the layer types edgeq must handle (input 3x32x32)."""
    import torch
    from torch import nn

    def conv_bn(cin, cout, k, stride=1, groups=1, act=None):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(cout)]
        if act is not None:
            layers.append(act)
        return nn.Sequential(*layers)

    class SmallNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = conv_bn(3, 16, 3, act=nn.ReLU())
            self.dw = conv_bn(16, 16, 3, groups=16, act=nn.ReLU6())
            self.pw = conv_bn(16, 16, 1)
            self.down = conv_bn(16, 32, 3, stride=2, act=nn.ReLU())
            self.maxpool = nn.MaxPool2d(2)
            self.proj = conv_bn(32, 16, 1, act=nn.Hardswish())
            self.avgpool = nn.AvgPool2d(2)
            self.head = conv_bn(48, 32, 3)
            self.gate = nn.Sigmoid()
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            x = self.stem(x)
            x = x + self.pw(self.dw(x))            # residual add
            x = self.down(x)                       # stride-2 conv + ReLU
            x = torch.cat([self.maxpool(x), self.avgpool(self.proj(x))], 1)
            x = self.head(x)
            x = x * self.gate(x)                   # sigmoid gating (SiLU-like)
            x = torch.flatten(self.gap(x), 1)
            return self.fc(x)

    return SmallNet()


def kws_net():
    """A keyword spotter of 1-D convolutions over 40 MFCC bands x 49 frames (TC-ResNet
    style): a stem, a residual block, a strided and a grouped conv, max and average
    pooling, 12 classes."""
    import torch
    from torch import nn

    def conv_bn(cin, cout, k, stride=1, groups=1, relu=True):
        layers = [nn.Conv1d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm1d(cout)]
        return nn.Sequential(*(layers + [nn.ReLU()] if relu else layers))

    class Kws(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = conv_bn(40, 32, 3)
            self.a = conv_bn(32, 32, 9)
            self.b = conv_bn(32, 32, 9, relu=False)
            self.relu = nn.ReLU()
            self.down = conv_bn(32, 48, 9, stride=2, groups=4)
            self.maxpool = nn.MaxPool1d(2)
            self.avgpool = nn.AvgPool1d(3, stride=1, padding=1)
            self.gap = nn.AdaptiveAvgPool1d(1)
            self.fc = nn.Linear(48, 12)

        def forward(self, x):
            x = self.stem(x)
            x = self.relu(x + self.b(self.a(x)))
            x = self.avgpool(self.maxpool(self.down(x)))
            return self.fc(torch.flatten(self.gap(x), 1))

    return Kws()


def make_kws(out_dir, opts, want):
    """kws1d_f32: the 1-D keyword spotter, batch 1. (No QDQ form: PyTorch 1.13 cannot
    export quantized::conv1d to ONNX; `edgeq calibrate` makes the int8 model.)"""
    import torch

    torch.manual_seed(SEED_SMALL + 40)
    gen = torch.Generator().manual_seed(SEED_SMALL + 41)
    model = kws_net()
    randomize_norm_and_bias(model, SEED_SMALL + 40)
    recalibrate_batchnorm(model, torch.randn(32, 40, 49, generator=gen))
    model.eval()
    x = torch.randn(1, 40, 49, generator=gen)
    if "kws1d_f32" in want:
        path = out_dir / "kws1d_f32.onnx"
        export_onnx(model, x, path)
        finish_model(path, [x.numpy()], opts)


def make_small(out_dir, opts, want):
    """small_f32 / small_qdq (batch 2) and small_qdq_perchannel (batch 1)."""
    import torch

    torch.manual_seed(SEED_SMALL)
    model = prepare_float_network(small_net(), SEED_SMALL, 32, calib_count=32)
    x2 = synthetic_images(2, 32, SEED_SMALL + 2)
    x1 = synthetic_images(1, 32, SEED_SMALL + 3)
    calib = [synthetic_images(8, 32, SEED_SMALL + 10 + i) for i in range(4)]
    if "small_f32" in want:
        path = out_dir / "small_f32.onnx"
        export_onnx(model, x2, path)
        finish_model(path, [x2.numpy()], opts)
    if "small_qdq" in want:
        path = out_dir / "small_qdq.onnx"
        export_onnx(quantize_fx(model, x2, calib), x2, path)
        finish_model(path, [x2.numpy()], opts)
    if "small_qdq_perchannel" in want:
        path = out_dir / "small_qdq_perchannel.onnx"
        export_onnx(quantize_fx(model, x1, calib, per_channel=True), x1, path)
        finish_model(path, [x1.numpy()], opts)


# ---------------------------------------------------------------------------
# Single-op float models (onnx.helper)
# ---------------------------------------------------------------------------

class OpModel:
    """Builder for a tiny float model: inputs, constants, nodes, outputs."""

    def __init__(self, name, opset=13):
        self.name = name
        self.opset = opset
        self.rng = np.random.RandomState(seed_of(name))
        self.inputs = []       # (ValueInfoProto, array)
        self.initializers = []
        self.nodes = []
        self.outputs = []
        # False for a model using attributes newer than the installed onnx package knows
        # (ONNX Runtime still runs it and makes the goldens).
        self.checked = True
        # Other operator domains, (domain, version): ONNX Runtime's com.microsoft.
        self.extra_opsets = []

    def input(self, name, shape, low=None, high=None, array=None):
        """A float input (standard normal, or uniform in [low, high]), or `array` itself
        (any dtype: bool masks, int64 ids)."""
        if array is not None:
            arr = np.asarray(array)
        elif low is None:
            arr = self.rng.standard_normal(shape).astype(np.float32)
        else:
            arr = self.rng.uniform(low, high, shape).astype(np.float32)
        elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype]
        self.inputs.append((helper.make_tensor_value_info(name, elem, list(arr.shape)), arr))
        return name

    def const(self, name, arr):
        self.initializers.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def weight(self, name, shape, scale=0.3, low=None):
        """Random float32 constant (uniform in [low, low+1] if low is given)."""
        if low is None:
            arr = (scale * self.rng.standard_normal(shape)).astype(np.float32)
        else:
            arr = self.rng.uniform(low, low + 1.0, shape).astype(np.float32)
        return self.const(name, arr)

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def output(self, name, shape=None):
        # Shape left to ONNX Runtime / the importer unless given (where ONNX's shape
        # inference cannot tell it); element type is float.
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def build(self):
        graph = helper.make_graph(self.nodes, self.name, [vi for vi, _ in self.inputs],
                                  self.outputs, self.initializers)
        imports = [helper.make_operatorsetid("", self.opset)]
        imports += [helper.make_operatorsetid(domain, version) for domain, version in self.extra_opsets]
        model = helper.make_model(graph, producer_name="edgeq-tools", opset_imports=imports)
        model = onnx.shape_inference.infer_shapes(model)
        if self.checked:
            onnx.checker.check_model(model, full_check=True)
        return model, [arr for _, arr in self.inputs]


def single_op(name, op, shape, opset=13, **attrs):
    m = OpModel(name, opset)
    m.node(op, [m.input("x", shape)], ["y"], **attrs)
    m.output("y")
    return m


def conv_model(name, cin, cout, k, hw=8, groups=1, bias=True, bn=False, **attrs):
    m = OpModel(name)
    ins = [m.input("x", [1, cin, hw, hw]), m.weight("w", [cout, cin // groups, k, k])]
    if bias:
        ins.append(m.weight("b", [cout]))
    y = m.node("Conv", ins, ["conv_out" if bn else "y"], kernel_shape=[k, k], group=groups, **attrs)
    if bn:
        m.node("BatchNormalization",
               [y, m.weight("bn_scale", [cout], low=0.5), m.weight("bn_bias", [cout]),
                m.weight("bn_mean", [cout], scale=0.2), m.weight("bn_var", [cout], low=0.5)],
               ["y"], epsilon=1e-5)
    m.output("y")
    return m


def op_models():
    """All single-op models, as OpModel builders (names are the file names)."""
    models = [
        conv_model("conv_basic", 3, 8, 3, pads=[1, 1, 1, 1]),
        conv_model("conv_1x1_nobias", 8, 16, 1, bias=False),
        conv_model("conv_group", 8, 12, 3, groups=2, pads=[1, 1, 1, 1]),
        conv_model("conv_depthwise", 8, 8, 3, groups=8, pads=[1, 1, 1, 1]),
        conv_model("conv_depthwise_stride2", 8, 8, 3, hw=9, groups=8, strides=[2, 2],
                   pads=[1, 1, 1, 1]),
        conv_model("conv_dilation", 4, 6, 3, hw=10, dilations=[2, 2], pads=[2, 2, 2, 2]),
        conv_model("conv_stride2_pads", 4, 6, 3, hw=9, strides=[2, 2], pads=[0, 0, 1, 2]),
        conv_model("conv_autopad_same_upper", 4, 6, 3, strides=[2, 2], auto_pad="SAME_UPPER"),
        conv_model("conv_bn", 4, 8, 3, pads=[1, 1, 1, 1], bn=True),
    ]

    m = OpModel("gemm")
    m.node("Gemm", [m.input("x", [2, 16]), m.weight("w", [8, 16]), m.weight("c", [8])], ["y"],
           transB=1)
    m.output("y")
    models.append(m)

    m = OpModel("gemm_alpha_beta")
    m.node("Gemm", [m.input("x", [3, 16]), m.weight("w", [16, 8]), m.weight("c", [1, 8])], ["y"],
           alpha=0.5, beta=2.0)
    m.output("y")
    models.append(m)

    m = OpModel("matmul_const_weight")
    m.node("MatMul", [m.input("x", [1, 16]), m.weight("w", [16, 8])], ["y"])
    m.output("y")
    models.append(m)

    m = OpModel("matmul_3d_const_weight")
    m.node("MatMul", [m.input("x", [2, 5, 16]), m.weight("w", [16, 8])], ["y"])
    m.output("y")
    models.append(m)

    # Elementwise with a constant operand, broadcasting.
    for name, op, xshape, cshape, low in [
        ("add_const_channel", "Add", [1, 8, 4, 4], [8, 1, 1], None),
        ("sub_const_scalar", "Sub", [1, 8, 4, 4], [], None),
        ("mul_const_row", "Mul", [2, 6], [6], None),
        ("div_const_channel", "Div", [1, 8, 4, 4], [1, 8, 1, 1], 0.5),
    ]:
        m = OpModel(name)
        m.node(op, [m.input("x", xshape), m.weight("c", cshape, low=low)], ["y"])
        m.output("y")
        models.append(m)

    m = OpModel("add_two_inputs")
    m.node("Add", [m.input("a", [1, 8, 4, 4]), m.input("b", [1, 8, 4, 4])], ["y"])
    m.output("y")
    models.append(m)

    # Activations.
    act_shape = [1, 8, 6, 6]
    models.append(single_op("relu", "Relu", act_shape))
    m = OpModel("clip_relu6")
    m.node("Clip", [m.input("x", act_shape, -8.0, 8.0), m.const("lo", np.float32(0.0)),
                    m.const("hi", np.float32(6.0))], ["y"])
    m.output("y")
    models.append(m)
    m = OpModel("clip_min_only")
    m.node("Clip", [m.input("x", act_shape), m.const("lo", np.float32(-0.5))], ["y"])
    m.output("y")
    models.append(m)
    models.append(single_op("leaky_relu", "LeakyRelu", act_shape, alpha=0.1))
    models.append(single_op("sigmoid", "Sigmoid", act_shape))
    models.append(single_op("hard_sigmoid", "HardSigmoid", act_shape))
    models.append(single_op("hard_sigmoid_alpha_sixth", "HardSigmoid", act_shape,
                            alpha=1.0 / 6.0, beta=0.5))
    models.append(single_op("hard_swish", "HardSwish", act_shape, opset=14))
    models.append(single_op("tanh", "Tanh", act_shape))
    models.append(single_op("softmax", "Softmax", [2, 10], axis=-1))
    models.append(single_op("softmax_axis1_4d", "Softmax", [1, 5, 3, 3], axis=1))

    # Pooling.
    models.append(single_op("maxpool_k2s2", "MaxPool", [1, 4, 8, 8], kernel_shape=[2, 2],
                            strides=[2, 2]))
    models.append(single_op("maxpool_k3s2p1", "MaxPool", [1, 4, 9, 9], kernel_shape=[3, 3],
                            strides=[2, 2], pads=[1, 1, 1, 1]))
    models.append(single_op("avgpool_k2s2", "AveragePool", [1, 4, 8, 8], kernel_shape=[2, 2],
                            strides=[2, 2]))
    models.append(single_op("avgpool_pads_exclude_pad", "AveragePool", [1, 4, 7, 7],
                            kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
                            count_include_pad=0))
    models.append(single_op("avgpool_pads_include_pad", "AveragePool", [1, 4, 7, 7],
                            kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                            count_include_pad=1))
    models.append(single_op("global_avgpool", "GlobalAveragePool", [1, 8, 5, 5]))

    # Shape and layout ops.
    m = OpModel("concat")
    m.node("Concat", [m.input("a", [1, 4, 6, 6]), m.input("b", [1, 3, 6, 6]),
                      m.weight("c", [1, 2, 6, 6])], ["y"], axis=1)
    m.output("y")
    models.append(m)

    m = OpModel("reshape")
    m.node("Reshape", [m.input("x", [1, 8, 2, 2]), m.const("shape", np.array([0, -1], np.int64))],
           ["y"])
    m.output("y")
    models.append(m)

    models.append(single_op("flatten", "Flatten", [1, 8, 2, 2], axis=1))
    models.append(single_op("transpose_nchw_to_nhwc", "Transpose", [1, 3, 4, 5], perm=[0, 2, 3, 1]))

    m = OpModel("squeeze")
    m.node("Squeeze", [m.input("x", [1, 8, 1, 4]), m.const("axes", np.array([2], np.int64))], ["y"])
    m.output("y")
    models.append(m)

    m = OpModel("unsqueeze")
    m.node("Unsqueeze", [m.input("x", [1, 8]), m.const("axes", np.array([2, 3], np.int64))], ["y"])
    m.output("y")
    models.append(m)

    m = OpModel("pad_constant")
    m.node("Pad", [m.input("x", [1, 3, 4, 4]),
                   m.const("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))], ["y"],
           mode="constant")
    m.output("y")
    models.append(m)

    m = OpModel("pad_constant_value")
    m.node("Pad", [m.input("x", [1, 3, 4, 4]),
                   m.const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
                   m.const("value", np.float32(1.5))], ["y"], mode="constant")
    m.output("y")
    models.append(m)

    # A zero Pad read by a Conv (asymmetric, beside the Conv's own pads) and by an
    # AveragePool without pads: the importer folds it into their padding.
    m = OpModel("pad_conv")
    m.node("Pad", [m.input("x", [1, 4, 9, 9]),
                   m.const("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))], ["xp"], mode="constant")
    m.node("Conv", ["xp", m.weight("w", [6, 4, 3, 3]), m.weight("b", [6])], ["y"], kernel_shape=[3, 3],
           strides=[2, 2], pads=[1, 0, 0, 1])
    m.output("y")
    models.append(m)

    m = OpModel("pad_avgpool")
    m.node("Pad", [m.input("x", [1, 4, 7, 7]),
                   m.const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], ["xp"], mode="constant")
    m.node("AveragePool", ["xp"], ["y"], kernel_shape=[3, 3], strides=[1, 1])
    m.output("y")
    models.append(m)

    m = OpModel("resize_nearest_x2")
    m.node("Resize", [m.input("x", [1, 3, 4, 5]), "",
                      m.const("scales", np.array([1, 1, 2, 2], np.float32))], ["y"],
           mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    m.output("y")
    models.append(m)

    m = OpModel("resize_nearest_x2_default_attrs")
    m.node("Resize", [m.input("x", [1, 3, 4, 5]), "",
                      m.const("scales", np.array([1, 1, 2, 2], np.float32))], ["y"],
           mode="nearest")
    m.output("y")
    models.append(m)

    m = OpModel("split")
    m.node("Split", [m.input("x", [1, 8, 3, 3]), m.const("split", np.array([3, 5], np.int64))],
           ["y0", "y1"], axis=1)
    m.output("y0")
    m.output("y1")
    models.append(m)

    m = OpModel("slice")
    m.node("Slice", [m.input("x", [1, 8, 10, 10]),
                     m.const("starts", np.array([2, 1, -8], np.int64)),
                     m.const("ends", np.array([6, 9, 100], np.int64)),
                     m.const("axes", np.array([1, 2, 3], np.int64)),
                     m.const("steps", np.array([1, 2, 1], np.int64))], ["y"])
    m.output("y")
    models.append(m)

    # Bilinear resizes as segmentation heads write them (torchvision's LR-ASPP and
    # DeepLabV3 upsample with F.interpolate): every coordinate mode edgeq takes, up and
    # down, from sizes and from scales.
    m = OpModel("resize_linear")
    x = m.input("x", [1, 4, 10, 12])
    for out, ctm, scales, sizes in (("a", "align_corners", None, [1, 4, 13, 7]),
                                    ("b", "half_pixel", [1, 1, 0.5, 0.5], None),
                                    ("c", "pytorch_half_pixel", None, [1, 4, 20, 30]),
                                    ("d", "asymmetric", [1, 1, 2, 2], None)):
        ins = [x, "", m.const(out + "_scales", np.array(scales, np.float32))] if scales else \
              [x, "", "", m.const(out + "_sizes", np.array(sizes, np.int64))]
        m.node("Resize", ins, [out], mode="linear", coordinate_transformation_mode=ctm)
        m.output(out)
    models.append(m)

    # Elementwise Max / Min of run-time values (two and three inputs, broadcasting, an
    # NCHW image and a constant): hand-written clamps and leaky activations.
    m = OpModel("max_min")
    a, b = m.input("a", [1, 3, 4, 5]), m.input("b", [1, 3, 4, 5])
    m.node("Max", [a, m.node("Mul", [b, m.const("k", np.float32(0.3))], ["b3"])], ["hi"])
    m.node("Min", [a, b, m.input("c", [5])], ["lo"])
    m.node("Max", [a, m.weight("floor", [3, 1, 1])], ["floored"])
    for out in ("hi", "lo", "floored"):
        m.output(out)
    models.append(m)

    # Masks and reductions on an NCHW image (NHWC inside edgeq): a leaky activation by
    # Greater + Where, sums and means over axes that are not one block, and LayerNorm
    # over the last two axes (opset 17's LayerNormalization, axis -2).
    m = OpModel("image_masks", opset=17)
    x = m.input("x", [2, 4, 6, 5])
    m.node("Where", [m.node("Greater", [x, m.const("t", np.float32(0.1))], ["pos"]), x,
                     m.node("Mul", [x, m.const("k", np.float32(0.2))], ["leak"])], ["leaky"])
    m.node("ReduceSum", [x, m.const("axes13", np.array([1, 3], np.int64))], ["sum13"], keepdims=0)
    m.node("ReduceMean", [x], ["mean02"], axes=[0, 2], keepdims=1)
    m.node("LayerNormalization", [x, m.weight("ln_scale", [6, 5], low=0.5), m.weight("ln_bias", [6, 5])],
           ["ln"], axis=-2, epsilon=1e-5)
    for out in ("leaky", "sum13", "mean02", "ln"):
        m.output(out)
    models.append(m)

    # PReLU (per-channel slope [C,1,1], as PyTorch exports nn.PReLU), pixel shuffle both
    # ways, and instance / group normalization (GroupNorm: a rank-3 InstanceNorm).
    m = OpModel("prelu")
    m.node("PRelu", [m.input("x", [1, 8, 5, 5]), m.weight("slope", [8, 1, 1])], ["y"])
    m.output("y")
    models.append(m)

    m = OpModel("depth_to_space")
    x = m.input("x", [1, 8, 3, 4])
    m.node("DepthToSpace", [x], ["dcr"], blocksize=2, mode="DCR")
    m.node("DepthToSpace", [x], ["crd"], blocksize=2, mode="CRD")
    m.node("SpaceToDepth", ["dcr"], ["back"], blocksize=2)
    for out in ("dcr", "crd", "back"):
        m.output(out)
    models.append(m)

    m = OpModel("instance_norm")
    m.node("InstanceNormalization", [m.input("x", [2, 6, 5, 4]), m.weight("scale", [6], low=0.5),
                                     m.weight("bias", [6])], ["y"], epsilon=1e-5)
    m.node("InstanceNormalization", [m.node("Reshape", ["x", m.const("groups", np.array([2, 3, -1], np.int64))],
                                            ["g"]), m.weight("g_scale", [3], low=0.5), m.weight("g_bias", [3])],
           ["gn"], epsilon=1e-3)
    m.output("y")
    m.output("gn")
    models.append(m)

    # Nearest resizes that are not plain integer upsamplings: FPN-style to an odd size,
    # downsampling, and the align_corners / round_prefer_ceil / ceil roundings.
    m = OpModel("resize_nearest_sizes")
    x = m.input("x", [1, 3, 8, 6])
    for out, ctm, rnd, scales, sizes in (("a", "asymmetric", "floor", None, [1, 3, 15, 11]),
                                         ("b", "half_pixel", "round_prefer_floor", [1, 1, 0.5, 0.5], None),
                                         ("c", "align_corners", "round_prefer_ceil", None, [1, 3, 5, 13]),
                                         ("d", "pytorch_half_pixel", "ceil", None, [1, 3, 12, 9])):
        ins = [x, "", m.const(out + "_scales", np.array(scales, np.float32))] if scales else \
              [x, "", "", m.const(out + "_sizes", np.array(sizes, np.int64))]
        m.node("Resize", ins, [out], mode="nearest", coordinate_transformation_mode=ctm, nearest_mode=rnd)
        m.output(out)
    models.append(m)

    # Average pooling whose ceil_mode adds a last window (ResNet-D's AvgPool2d(2, 2,
    # ceil_mode=True, count_include_pad=False)), with and without declared pads.
    m = OpModel("avgpool_ceil")
    x = m.input("x", [1, 4, 7, 9])
    m.node("AveragePool", [x], ["a"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1, count_include_pad=0)
    m.node("AveragePool", [x], ["b"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
           count_include_pad=0)
    m.node("AveragePool", [x], ["c"], kernel_shape=[3, 2], strides=[2, 2], ceil_mode=1, count_include_pad=1)
    for out in ("a", "b", "c"):
        m.output(out)
    models.append(m)

    # Transposed convolutions as decoders use them: k4 s2 p1, k3 s2 p1 with
    # output_padding 1, k2 s2 without bias, and a rectangular kernel with unequal strides.
    m = OpModel("conv_transpose")
    x = m.input("x", [1, 6, 5, 4])
    m.node("ConvTranspose", [x, m.weight("w1", [6, 4, 4, 4]), m.weight("b1", [4])], ["a"],
           strides=[2, 2], pads=[1, 1, 1, 1])
    m.node("ConvTranspose", [x, m.weight("w2", [6, 3, 3, 3]), m.weight("b2", [3])], ["b"],
           strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    m.node("ConvTranspose", [x, m.weight("w3", [6, 2, 2, 2])], ["c"], strides=[2, 2])
    m.node("ConvTranspose", [x, m.weight("w4", [6, 3, 3, 4]), m.weight("b4", [3])], ["d"],
           strides=[1, 2], pads=[1, 1, 1, 1], kernel_shape=[3, 4])
    for out in ("a", "b", "c", "d"):
        m.output(out)
    models.append(m)

    # Grouped and dilated transposed convolutions: two groups (k4 s2 p1), depthwise (a
    # group per channel, k3 s2 with output_padding), dilation 2 (k3 s1), and dilations 3 x 2
    # and strides 1 x 2 in three groups, with output_padding.
    m = OpModel("conv_transpose_groups")
    x = m.input("x", [1, 6, 5, 4])
    m.node("ConvTranspose", [x, m.weight("w1", [6, 2, 4, 4]), m.weight("b1", [4])], ["a"],
           strides=[2, 2], pads=[1, 1, 1, 1], group=2)
    m.node("ConvTranspose", [x, m.weight("w2", [6, 1, 3, 3]), m.weight("b2", [6])], ["b"],
           strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], group=6)
    m.node("ConvTranspose", [x, m.weight("w3", [6, 3, 3, 3])], ["c"], dilations=[2, 2], pads=[1, 2, 1, 0])
    m.node("ConvTranspose", [x, m.weight("w4", [6, 2, 3, 2]), m.weight("b4", [6])], ["d"],
           strides=[1, 2], dilations=[3, 2], output_padding=[0, 1], group=3)
    for out in ("a", "b", "c", "d"):
        m.output(out)
    models.append(m)

    # Recurrent layers as nn.LSTM / nn.GRU export them and as other tools write them:
    # a bidirectional LSTM with initial states from the graph and peepholes, clip and
    # a whole-length sequence_lens; a reverse LSTM without bias; GRUs with
    # linear_before_reset 1 (PyTorch's) and 0, bidirectional, with a given initial state.
    m = OpModel("recurrent", opset=14)
    x = m.input("x", [6, 2, 5])
    h0, c0 = m.input("h0", [2, 2, 4]), m.input("c0", [2, 2, 4])
    m.node("LSTM", [x, m.weight("lw", [2, 16, 5]), m.weight("lr", [2, 16, 4]), m.weight("lb", [2, 32]),
                    m.const("lens", np.array([6, 6], np.int32)), h0, c0, m.weight("lp", [2, 12])],
           ["ly", "lh", "lc"], hidden_size=4, direction="bidirectional", clip=2.5)
    m.node("LSTM", [x, m.weight("bw", [1, 12, 5]), m.weight("br", [1, 12, 3])], ["by", "bh"], hidden_size=3,
           direction="reverse")
    m.node("GRU", [x, m.weight("gw", [2, 12, 5]), m.weight("gr", [2, 12, 4]), m.weight("gb", [2, 24]), "", h0],
           ["gy", "gh"], hidden_size=4, direction="bidirectional", linear_before_reset=1)
    m.node("GRU", [x, m.weight("hw", [1, 9, 5]), m.weight("hr", [1, 9, 3]), m.weight("hb", [1, 18])],
           ["hy"], hidden_size=3, linear_before_reset=0)
    for out in ("ly", "lh", "lc", "by", "bh", "gy", "gh", "hy"):
        m.output(out)
    models.append(m)

    # Bicubic resizes (F.interpolate(mode="bicubic") and other tools'): PyTorch's
    # pytorch_half_pixel and align_corners with a = -0.75 up x2, half_pixel by scales 1.5
    # with a = -0.5 and exclude_outside, and asymmetric down to a size.
    m = OpModel("resize_cubic")
    x = m.input("x", [1, 3, 7, 9])
    for out, ctm, a, excl, scales, sizes in (("a", "pytorch_half_pixel", -0.75, 0, [1, 1, 2, 2], None),
                                             ("b", "align_corners", -0.75, 0, [1, 1, 2, 2], None),
                                             ("c", "half_pixel", -0.5, 1, [1, 1, 1.5, 1.5], None),
                                             ("d", "asymmetric", -0.75, 0, None, [1, 3, 4, 5])):
        ins = [x, "", m.const(out + "_scales", np.array(scales, np.float32))] if scales else \
              [x, "", "", m.const(out + "_sizes", np.array(sizes, np.int64))]
        m.node("Resize", ins, [out], mode="cubic", coordinate_transformation_mode=ctm, cubic_coeff_a=a,
               exclude_outside=excl)
        m.output(out)
    models.append(m)

    # Resizes of [N, C, L] (audio upsampling): linear by scales, nearest to a size,
    # linear with align_corners down.
    m = OpModel("resize_1d")
    x = m.input("x", [2, 4, 15])
    m.node("Resize", [x, "", m.const("s2", np.array([1, 1, 2], np.float32))], ["up"], mode="linear")
    m.node("Resize", [x, "", "", m.const("to23", np.array([2, 4, 23], np.int64))], ["near"], mode="nearest",
           coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    m.node("Resize", [x, "", "", m.const("to9", np.array([2, 4, 9], np.int64))], ["down"], mode="linear",
           coordinate_transformation_mode="align_corners")
    for out in ("up", "near", "down"):
        m.output(out)
    models.append(m)

    # Resizes by scales that do not give whole sizes (F.interpolate(scale_factor=1.5) on
    # an odd size): the output is floor(in * scale), and the coordinates use the given
    # scale, not out / in. Linear and nearest, up and down, and a rank-3 one.
    m = OpModel("resize_scales")
    x = m.input("x", [1, 3, 7, 9])
    for out, mode, ctm, rnd, scales in (("a", "linear", "half_pixel", None, [1.5, 1.5]),
                                        ("b", "linear", "pytorch_half_pixel", None, [0.5, 0.5]),
                                        ("c", "linear", "asymmetric", None, [2.5, 0.7]),
                                        ("d", "nearest", "asymmetric", "floor", [1.7, 2.3]),
                                        ("e", "nearest", "half_pixel", "round_prefer_floor", [0.6, 0.75])):
        attrs = dict(mode=mode, coordinate_transformation_mode=ctm)
        if rnd:
            attrs["nearest_mode"] = rnd
        m.node("Resize", [x, "", m.const(out + "_scales", np.array([1, 1] + scales, np.float32))], [out], **attrs)
        m.output(out)
    m.node("Resize", [m.input("s", [2, 4, 15]), "", m.const("s_scales", np.array([1, 1, 1.5], np.float32))],
           ["f"], mode="linear")
    m.output("f")
    models.append(m)

    # Causal masks as GPT-2 and CLIP write them with torch.triu / tril of a constant
    # matrix (ONNX Trilu, opset 14): a bool mask filling -inf, and a float -1e4 matrix
    # added to the scores; and an output size computed with Floor, as
    # F.interpolate(recompute_scale_factor=True) exports it. Folded at import.
    m = OpModel("trilu_masks", opset=14)
    s_ = m.input("s", [1, 2, 5, 5])
    causal = m.node("Trilu", [m.const("ones", np.ones((5, 5), bool)), m.const("k1", np.array(1, np.int64))],
                    ["causal"], upper=1)
    m.node("Softmax", [m.node("Where", [causal, m.const("ninf", np.float32(-np.inf)), s_], ["filled"])], ["p_bool"],
           axis=-1)
    low = m.node("Trilu", [m.const("big", np.full((5, 5), -1e4, np.float32)), m.const("km1", np.array(-1, np.int64))],
                 ["low"], upper=0)
    m.node("Softmax", [m.node("Add", [s_, low], ["added"])], ["p_add"], axis=-1)
    sizes = m.node("Cast", [m.node("Floor", [m.const("sizes_f", np.array([1, 3, 7.5, 10.6], np.float32))], ["fl"])],
                   ["sizes"], to=7)
    m.node("Resize", [m.input("x", [1, 3, 5, 7]), "", "", sizes], ["up"], mode="nearest",
           coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    for out in ("p_bool", "p_add", "up"):
        m.output(out)
    models.append(m)

    # CLIP's text pooling: the features at each row's end token, x[arange(B),
    # ids.argmax(-1)], a Gather of the flattened run-time features at run-time indices;
    # ArgMax of int64 and int32 ids; and negative run-time indices into a constant table
    # (counted from the end, as ONNX Gather's).
    m = OpModel("clip_pool")
    ids = m.input("ids", [2, 5], array=np.array([[3, 9, 1, 0, 0], [2, 4, 6, 8, 1]], np.int64))
    am = m.node("ArgMax", [ids], ["am"], axis=-1, keepdims=0)
    flat = m.node("Reshape", [m.input("x", [2, 5, 3]), m.const("flat_shape", np.array([10, 3], np.int64))], ["xf"])
    m.node("Gather", [flat, m.node("Add", [am, m.const("row_base", np.array([0, 5], np.int64))], ["rows"])],
           ["pooled"], axis=0)
    m.node("Cast", [m.node("ArgMax", [m.node("Cast", [ids], ["ids32"], to=6)], ["am32_i"], axis=1, keepdims=1)],
           ["am32"], to=1)
    m.node("Gather", [m.weight("table", [5, 3]), m.node("Sub", [am, m.const("five", np.int64(5))], ["neg"])],
           ["from_end"], axis=0)
    for out in ("pooled", "am32", "from_end"):
        m.output(out)
    models.append(m)

    # Selu and Celu (an Elu between scalings), torch.var's element count as ReduceProd of
    # a Shape (folded), and an input no output depends on (kept in its place).
    m = OpModel("selu_var_unused")
    m.input("unused", [2, 3])
    x = m.input("x", [1, 3, 4, 5])
    m.node("Selu", [x], ["selu"])
    m.node("Celu", [x], ["celu"], alpha=1.3)
    count = m.node("Cast", [m.node("ReduceProd", [m.node("Gather", [m.node("Shape", [x], ["shape"]),
                                                                     m.const("last", np.array([3], np.int64))],
                                                             ["dims"])], ["n"], keepdims=0)], ["nf"], to=1)
    dev = m.node("Sub", [x, m.node("ReduceMean", [x], ["mean"], axes=[3], keepdims=1)], ["dev"])
    m.node("Div", [m.node("ReduceSum", [m.node("Mul", [dev, dev], ["sq"]), m.const("ax3", np.array([3], np.int64))],
                          ["ss"], keepdims=1),
                   m.node("Sub", [count, m.const("one", np.float32(1))], ["n1"])], ["var"])
    for out in ("selu", "celu", "var"):
        m.output(out)
    models.append(m)

    # Einsum as attention code writes it: scores and context per head, batched products,
    # a constant projection, an ellipsis, an outer product, a permutation, a sum and an
    # implicit output.
    m = OpModel("einsum", opset=13)
    q, k = m.input("q", [2, 3, 5, 4]), m.input("k", [2, 3, 6, 4])
    m.node("Einsum", [q, k], ["scores"], equation="bhid,bhjd->bhij")
    m.node("Einsum", ["scores", m.input("v", [2, 3, 6, 4])], ["context"], equation="bhij,bhjd->bhid")
    m.node("Einsum", [q, m.weight("proj", [4, 7])], ["projected"], equation="bhnd,dk->bhnk")
    m.node("Einsum", [q, m.input("w", [2, 3, 4, 2])], ["ellipsis"], equation="...ij,...jk->...ik")
    m.node("Einsum", [m.input("a", [5]), m.input("b", [3])], ["outer"], equation="i,j->ij")
    m.node("Einsum", [q], ["perm"], equation="bhid->bdhi")
    m.node("Einsum", [k], ["summed"], equation="bhjd->bd")
    m.node("Einsum", [m.input("x", [4, 6]), m.input("y", [6, 3])], ["implicit"], equation="ij,jk")
    for out in ("scores", "context", "projected", "ellipsis", "outer", "perm", "summed", "implicit"):
        m.output(out)
    models.append(m)

    # TopK as detection heads and classifiers use it: the largest scores along the last
    # axis (ties in index order), the smallest along a middle axis of an image, int64
    # values, and a K from opset 10's input; and a Tile (x.repeat).
    m = OpModel("topk", opset=13)
    m.node("Tile", [m.input("tile_x", [2, 3, 4]), m.const("reps", np.array([1, 2, 3], np.int64))], ["tiled"])
    m.output("tiled")
    scores = m.input("scores", [2, 3, 40])
    m.node("TopK", [scores, m.const("k5", np.array([5], np.int64))], ["top", "top_i"], axis=-1, largest=1)
    m.node("TopK", [m.node("Conv", [m.input("img", [1, 2, 6, 5]), m.weight("cw", [4, 2, 1, 1])], ["feat"]),
                    m.const("k3", np.array([3], np.int64))], ["low", "low_i"], axis=2, largest=0)
    ties = m.node("Cast", [m.node("Mul", [scores, m.const("two", np.float32(2))], ["s2"])], ["ints"], to=7)
    m.node("TopK", [ties, m.const("k4", np.array([4], np.int64))], ["tie", "tie_i"], axis=2)
    # GatherElements (torch.gather): the scores at TopK's indices, and an image's rows at
    # constant indices, some counted from the end.
    m.node("GatherElements", [scores, "top_i"], ["gathered"], axis=2)
    rows = np.array([[[[0, -1, 2, 5, -6], [1, 1, 0, -2, 3], [4, 3, -3, 0, 1]]] * 4], np.int64)
    m.node("GatherElements", ["feat", m.const("rows", rows)], ["picked"], axis=2)
    for out in ("top", "low", "gathered", "picked"):
        m.output(out)
    for out in ("top_i", "low_i", "tie_i"):
        m.node("Cast", [out], [out + "_f"], to=1)
        m.output(out + "_f")
    m.node("Cast", ["tie"], ["tie_f"], to=1)
    m.output("tie_f")
    models.append(m)

    # Reflect and edge (replicate) padding: style-transfer and super-resolution nets,
    # Conv2d(padding_mode="reflect").
    m = OpModel("pad_reflect_edge")
    x = m.input("x", [1, 3, 6, 7])
    m.node("Pad", [x, m.const("p1", np.array([0, 0, 2, 1, 0, 0, 1, 3], np.int64))], ["reflect"], mode="reflect")
    m.node("Pad", [x, m.const("p2", np.array([0, 0, 3, 0, 0, 0, 1, 2], np.int64))], ["edge"], mode="edge")
    m.output("reflect")
    m.output("edge")
    models.append(m)

    # Sequence lengths from an int64 mask (mask.sum(1), as Hugging Face code computes
    # them) and the largest id: integer ReduceSum / ReduceMax at run time.
    m = OpModel("int_reduce")
    ids = np.array([[3, 0, 5, 2, 7, 0], [4, 4, 0, 9, 0, 0]], np.int64)
    kept = m.node("Cast", [m.node("Not", [m.node("Equal", [m.input("ids", [2, 6], array=ids),
                                                             m.const("zero", np.int64(0))], ["pad"])], ["keep"])],
                  ["keep_i"], to=TensorProto.INT64)
    m.node("Cast", [m.node("ReduceSum", [kept, m.const("axis1", np.array([1], np.int64))], ["len_i"], keepdims=0)],
           ["lengths"], to=TensorProto.FLOAT)
    m.node("Cast", [m.node("ReduceMax", ["ids"], ["max_i"], axes=[1], keepdims=1)], ["largest"], to=TensorProto.FLOAT)
    m.output("lengths")
    m.output("largest")
    models.append(m)

    # ArgMax of a segmentation map over its classes (an image's channels) and over the
    # last axis with kept dimensions, cast to float outputs.
    m = OpModel("argmax")
    x = m.input("x", [2, 4, 5, 6])
    m.node("Cast", [m.node("ArgMax", [x], ["cls"], axis=1, keepdims=0)], ["classes"], to=TensorProto.FLOAT)
    m.node("Cast", [m.node("ArgMax", [x], ["col"], axis=-1, keepdims=1)], ["columns"], to=TensorProto.FLOAT)
    m.output("classes")
    m.output("columns")
    models.append(m)

    # 1-D convolution and pooling (keyword spotters): grouped, strided, padded, then a
    # padded max pool; and a QDQ form with per-channel int8 weights and an int32 bias,
    # as ONNX Runtime's quantize_static writes a Conv1d.
    m = OpModel("conv1d")
    y = m.node("Conv", [m.input("x", [1, 6, 20]), m.weight("w", [8, 3, 5]), m.weight("b", [8])], ["c"],
               group=2, strides=[2], pads=[2, 1], kernel_shape=[5])
    m.node("MaxPool", [y], ["y"], kernel_shape=[3], strides=[2], pads=[1, 1])
    m.output("y")
    models.append(m)

    m = OpModel("conv1d_qdq")
    w = (0.3 * m.rng.standard_normal((8, 6, 3))).astype(np.float32)
    w_scale = (np.abs(w).reshape(8, -1).max(1) / 127).astype(np.float32)
    w_q = np.clip(np.round(w / w_scale[:, None, None]), -127, 127).astype(np.int8)
    x_scale, x_zp = np.float32(0.03), np.uint8(128)
    bias = np.round(0.1 * m.rng.standard_normal(8) / (x_scale * w_scale)).astype(np.int32)
    xq = m.node("QuantizeLinear", [m.input("x", [1, 6, 16]), m.const("x_scale", x_scale), m.const("x_zp", x_zp)], ["xq"])
    xd = m.node("DequantizeLinear", [xq, "x_scale", "x_zp"], ["xd"])
    wd = m.node("DequantizeLinear", [m.const("w_q", w_q), m.const("w_scale", w_scale),
                                     m.const("w_zp", np.zeros(8, np.int8))], ["wd"], axis=0)
    bd = m.node("DequantizeLinear", [m.const("b_q", bias), m.const("b_scale", (x_scale * w_scale).astype(np.float32)),
                                     m.const("b_zp", np.zeros(8, np.int32))], ["bd"], axis=0)
    c = m.node("Relu", [m.node("Conv", [xd, wd, bd], ["c"], pads=[1, 1], kernel_shape=[3])], ["r"])
    yq = m.node("QuantizeLinear", [c, m.const("y_scale", np.float32(0.02)), m.const("y_zp", np.uint8(0))], ["yq"])
    m.node("DequantizeLinear", [yq, "y_scale", "y_zp"], ["y"])
    m.output("y")
    models.append(m)

    # Masks and heads at run time, small enough for a fuzzer seed: a bool padding mask
    # or'ed with ids == 0, applied with Where, then LogSoftmax, a ReduceSum with its axes
    # as an input, and position ids as a running count (CumSum) of the kept tokens.
    m = OpModel("mask_ops")
    pad = np.zeros((2, 6), bool)
    pad[0, 4:] = True
    ids = np.array([[3, 0, 5, 2, 7, 1], [4, 4, 0, 9, 0, 6]], np.int64)
    drop = m.node("Or", [m.node("Equal", [m.input("ids", [2, 6], array=ids), m.const("zero", np.int64(0))],
                                ["is_zero"]), m.input("pad", [2, 6], array=pad)], ["drop"])
    scores = m.node("Where", [drop, m.const("fill", np.float32(-1e4)), m.input("x", [2, 6])], ["scores"])
    m.node("LogSoftmax", [scores], ["log_probs"], axis=-1)
    m.node("ReduceSum", [m.node("Pow", ["x", m.const("two", np.float32(2))], ["sq"]),
                         m.const("axes", np.array([1], np.int64))], ["sum_sq"], keepdims=0)
    kept = m.node("Cast", [m.node("Not", [drop], ["kept_b"])], ["kept"], to=TensorProto.INT64)
    m.node("Cast", [m.node("Mul", [m.node("CumSum", [kept, m.const("axis", np.int64(1))], ["count"]), kept],
                           ["positions_i"])], ["positions"], to=TensorProto.FLOAT)
    for out in ("log_probs", "sum_sq", "positions"):
        m.output(out)
    models.append(m)

    # Slice assignment as PyTorch exports it (ScatterND, no reduction): YOLOv5's in-place
    # head on a 5-D tensor, constant and negative indices; torch.scatter at constant indices
    # on an image after a Conv (ScatterElements); Gather at non-consecutive constant
    # indices: a BGR -> RGB swap before a Conv, and a 2-D index tensor with a repeated
    # index. Float inputs only, so that the export round trip covers it too.
    m = OpModel("scatter_assign")
    head = m.node("Sigmoid", [m.input("head", [1, 3, 4, 4, 9])], ["head_s"])
    xy = m.node("Sub", [m.node("Mul", [head, m.const("two", np.float32(2))], ["h2"]),
                        m.const("half", np.float32(0.5))], ["xy"])
    picks = np.array([[0, 2], [0, -3]], np.int64)  # anchors 2 and 0 of image 0
    upd = m.node("Gather", [xy, m.const("anchors", np.array([2, 0], np.int64))], ["xy_a"], axis=1)
    m.node("ScatterND", [head, m.const("picks", picks),
                         m.node("Squeeze", [upd, m.const("ax0", np.array([0], np.int64))], ["xy_s"])], ["head_out"])
    feat = m.node("Conv", [m.input("img", [1, 2, 5, 6]), m.weight("cw", [4, 2, 1, 1])], ["feat"])
    spots = np.array([[[[0, 1, 4, -5, 2, 3], [3, 0, 1, 2, -1, 4]]] * 4], np.int64)
    m.node("ScatterElements", [feat, m.const("spots", spots), m.weight("marks", [1, 4, 2, 6])], ["marked"], axis=2)
    rgb = m.node("Gather", [m.input("bgr", [1, 3, 5, 4]), m.const("swap", np.array([2, 1, 0], np.int64))], ["rgb"],
                 axis=1)
    m.node("Conv", [rgb, m.weight("rgb_w", [4, 3, 3, 3])], ["rgb_conv"], pads=[1, 1, 1, 1])
    m.node("Gather", [feat, m.const("cols", np.array([[0, 0], [5, 2]], np.int64))], ["cols_out"], axis=3)
    for out in ("head_out", "marked", "rgb_conv", "cols_out"):
        m.output(out)
    models.append(m)

    # Scatter with every reduction (opset 18): torch.scatter_add / scatter_reduce
    # (ScatterElements) and index_put_ with accumulate (ScatterND); constant and run-time
    # indices, int64 and (ScatterElements) int32, negative ones, repeated ones under a
    # reduction, on an image after a Conv (in edgeq's NHWC and transposed) and on int64
    # counts.
    m = OpModel("scatter", opset=18)
    feat = m.node("Conv", [m.input("img", [1, 2, 5, 6]), m.weight("cw", [4, 2, 1, 1])], ["feat"])
    chans = np.array([[0, 1], [0, 3], [0, 1], [0, -1]], np.int64)  # channel 1 twice: the updates add up
    m.node("ScatterND", [feat, m.const("chans", chans), m.weight("chan_upd", [4, 5, 6])], ["feat_add"],
           reduction="add")
    m.node("Transpose", [feat], ["feat_t"], perm=[0, 2, 3, 1])
    cells = np.array([[0, 1, 2, 3], [0, -1, 0, 0], [0, 1, 2, 3]], np.int64)
    m.node("ScatterND", ["feat_t", m.const("cells", cells), m.weight("cell_upd", [3], low=1.0)], ["feat_mul"],
           reduction="mul")
    table = m.input("table", [5, 7])
    perm = np.array([[3, 0, 6, 1, 5, 2, 4], [6, 5, 4, 3, 2, 1, 0], [0, 1, 2, 3, 4, 5, 6]], np.int64)
    m.node("ScatterElements", [table, m.input("perm", [3, 7], array=perm), m.input("src", [3, 7])], ["scattered"],
           axis=1)
    spots = np.array([[[[0, 1, 1, -5, 2, 0], [0, 3, 1, 0, 2, 4]]] * 4], np.int32)  # rows, some repeated
    m.node("ScatterElements", [feat, m.const("spots", spots), m.weight("hi", [1, 4, 2, 6])], ["feat_max"],
           axis=-2, reduction="max")
    m.node("ScatterElements", [feat, m.const("spots2", spots), m.weight("lo", [1, 4, 2, 6])], ["feat_min"],
           axis=2, reduction="min")
    ids = np.array([[1, 4, 4, 0, 2], [3, 3, 3, 3, 0]], np.int64)
    counts = m.node("ScatterElements", [m.const("zeros", np.zeros((2, 5), np.int64)), m.input("ids", [2, 5], array=ids),
                                        m.const("ones", np.ones((2, 5), np.int64))], ["counts"], axis=1,
                    reduction="add")
    m.node("Cast", [counts], ["counts_f"], to=TensorProto.FLOAT)
    for out in ("feat_add", "feat_mul", "scattered", "feat_max", "feat_min", "counts_f"):
        m.output(out)
    models.append(m)

    # AveragePool with ceil_mode, count_include_pad and padding together (PyTorch's
    # AvgPool2d(3, 2, padding=1, ceil_mode=True)): the last windows' divisor counts the
    # padding but not their overhang past it. Odd and even sizes, unequal pads.
    m = OpModel("avgpool_ceil_include_pad")
    x = m.input("x", [1, 3, 7, 8])
    m.node("AveragePool", [x], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
           count_include_pad=1)
    m.node("AveragePool", [x], ["b"], kernel_shape=[2, 3], strides=[2, 2], pads=[1, 0, 0, 1], ceil_mode=1,
           count_include_pad=1)
    m.node("AveragePool", [m.node("Conv", [x, m.weight("cw", [4, 3, 1, 1])], ["c"])], ["d"], kernel_shape=[3, 3],
           strides=[3, 3], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)
    # A ceil_mode window that would start in the end padding is left out (W: 8 + 2 pads,
    # stride 3), in average and max pooling.
    m.node("MaxPool", ["c"], ["e"], kernel_shape=[3, 3], strides=[3, 3], pads=[1, 1, 1, 1], ceil_mode=1)
    for out in ("a", "b", "d", "e"):
        m.output(out)
    models.append(m)

    # A heatmap's argmax split into row and column (SimpleBaseline-style pose decoding:
    # idx % W, idx // W as PyTorch writes them, Div and Mod on int64), and Mod of negative
    # values with both fmod signs; float Mod with fmod 1.
    m = OpModel("int_div_mod")
    heat = m.node("Reshape", [m.node("Conv", [m.input("img", [1, 3, 6, 5]), m.weight("hw", [2, 3, 1, 1])], ["heat"]),
                              m.const("flat", np.array([1, 2, 30], np.int64))], ["heat_flat"])
    idx = m.node("ArgMax", [heat], ["idx"], axis=2, keepdims=0)
    five = m.const("five", np.int64(5))
    m.node("Cast", [m.node("Mod", [idx, five], ["col_i"])], ["col"], to=TensorProto.FLOAT)
    m.node("Cast", [m.node("Div", [idx, five], ["row_i"])], ["row"], to=TensorProto.FLOAT)
    shifted = m.node("Sub", [idx, m.const("seventeen", np.int64(17))], ["shifted"])
    m.node("Cast", [m.node("Mod", [shifted, m.const("minus4", np.int64(-4))], ["py_i"], fmod=0)], ["py"],
           to=TensorProto.FLOAT)
    m.node("Cast", [m.node("Mod", [shifted, m.const("four", np.int64(4))], ["c_i"], fmod=1)], ["c"],
           to=TensorProto.FLOAT)
    m.node("Cast", [m.node("Div", [shifted, m.const("minus3", np.int64(-3))], ["q_i"])], ["q"], to=TensorProto.FLOAT)
    m.node("Mod", [m.input("x", [2, 7]), m.const("period", np.float32(0.7))], ["fm"], fmod=1)
    for out in ("col", "row", "py", "c", "q", "fm"):
        m.output(out)
    models.append(m)

    # Resize-10 nearest shrinking an image: ONNX Runtime rounds such coordinates up (its
    # "simple" mode; ONNX's resize_downsample_nearest), enlarging ones down.
    m = OpModel("resize10_nearest", opset=10)
    img = m.node("Conv", [m.input("x", [1, 3, 7, 9]), m.weight("w", [4, 3, 3, 3])], ["c"], pads=[1, 1, 1, 1])
    m.node("Resize", [img, m.const("down", np.array([1, 1, 0.75, 0.6], np.float32))], ["down_out"], mode="nearest")
    m.node("Resize", [img, m.const("up", np.array([1, 1, 1.5, 1.3], np.float32))], ["up_out"], mode="nearest")
    m.node("Resize", [img, m.const("mix", np.array([1, 1, 2, 0.5], np.float32))], ["mix_out"], mode="nearest")
    for out in ("down_out", "up_out", "mix_out"):
        m.output(out)
    models.append(m)

    # Opset 18 forms: Resize's `axes` and keep_aspect_ratio_policy (one scale for the named
    # axes, which also drives the coordinates), and ReduceL1 / L2 / SumSquare with
    # noop_with_empty_axes, which still apply their per-element function; GroupNormalization.
    m = OpModel("opset18_forms", opset=18)
    m.checked = False  # the onnx package of Debian 12 (1.13) knows Resize-18 without `axes`
    img = m.node("Conv", [m.input("x", [1, 3, 7, 9]), m.weight("w", [4, 3, 3, 3])], ["c"], pads=[1, 1, 1, 1])
    hw = m.const("hw", np.array([10, 10], np.int64))
    m.node("Resize", [img, "", "", hw], ["larger"], mode="linear", axes=[2, 3], keep_aspect_ratio_policy="not_larger")
    m.node("Resize", [img, "", "", hw], ["smaller"], mode="nearest", axes=[2, 3],
           keep_aspect_ratio_policy="not_smaller")
    m.node("Resize", [img, "", m.const("wh_scales", np.array([0.5, 1.5], np.float32))], ["by_axes"], mode="nearest",
           axes=[3, 2])
    # A policy over W alone: H keeps its size and its coordinates.
    m.node("Resize", [img, "", "", m.const("w_size", np.array([12], np.int64))], ["w_only"], mode="linear", axes=[3],
           keep_aspect_ratio_policy="not_larger")
    seq = m.input("seq", [2, 5, 6])
    none = m.const("no_axes", np.array([], np.int64))
    for op in ("ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceMean"):
        m.node(op, [seq, none], [op.lower() + "_noop"], noop_with_empty_axes=1)
        m.output(op.lower() + "_noop")
    m.node("ReduceL2", [img, m.const("ax1", np.array([1], np.int64))], ["l2_channels"], keepdims=1)
    # GroupNormalization-18 (scale and bias per group) on the image.
    m.node("GroupNormalization", [img, m.weight("gn_scale", [2], low=0.5), m.weight("gn_bias", [2])], ["grouped"],
           num_groups=2, epsilon=1e-3)
    m.output("grouped", [1, 4, 7, 9])
    # (ONNX's shape inference does not follow Resize's axes: the shapes are given.)
    m.output("larger", [1, 4, 8, 10])
    m.output("smaller", [1, 4, 10, 13])
    m.output("by_axes", [1, 4, 10, 4])
    m.output("w_only", [1, 4, 7, 12])
    m.output("l2_channels")
    models.append(m)

    # ConvTranspose -> BatchNormalization (pose and segmentation decoders): folded into the
    # transposed convolution's weights and bias when it is the only reader, grouped too;
    # a ConvTranspose also read elsewhere keeps its BatchNormalization.
    m = OpModel("conv_transpose_bn")
    x = m.input("x", [1, 4, 5, 6])

    def bn(name, src, c):
        return m.node("BatchNormalization",
                      [src, m.weight(name + "_g", [c], low=0.5), m.weight(name + "_b", [c]),
                       m.weight(name + "_m", [c], scale=0.2), m.weight(name + "_v", [c], low=0.5)], [name], epsilon=1e-5)

    up = m.node("ConvTranspose", [x, m.weight("w1", [4, 6, 4, 4]), m.weight("b1", [6])], ["up"], strides=[2, 2],
                pads=[1, 1, 1, 1])
    m.node("Relu", [bn("bn1", up, 6)], ["folded"])
    grp = m.node("ConvTranspose", [x, m.weight("w2", [4, 3, 3, 3])], ["grp"], strides=[2, 2], group=2,
                 output_padding=[1, 1])
    bn("bn2", grp, 6)
    shared = m.node("ConvTranspose", [x, m.weight("w3", [4, 2, 2, 2])], ["shared"], strides=[2, 2])
    bn("bn3", shared, 2)
    for out in ("folded", "bn2", "bn3", "shared"):
        m.output(out)
    models.append(m)

    # ArgMin (as TopK's one smallest, ties to the first index) on a sequence and across
    # an image's channels; variadic Sum and Mean with broadcasting; Floor, Ceil and Round
    # at run time; negative pads.
    m = OpModel("argmin_sum_mean")
    seq = m.input("seq", [2, 5, 6])
    ties = m.node("Floor", [m.node("Mul", [seq, m.const("three", np.float32(3))], ["s3"])], ["ties"])
    m.node("Cast", [m.node("ArgMin", [ties], ["amin_i"], axis=1, keepdims=0)], ["amin"], to=TensorProto.FLOAT)
    img = m.node("Conv", [m.input("img", [1, 3, 4, 5]), m.weight("w", [6, 3, 1, 1])], ["c"])
    m.node("Cast", [m.node("ArgMin", [img], ["cmin_i"], axis=1, keepdims=1)], ["cmin"], to=TensorProto.FLOAT)
    row = m.input("row", [6])
    m.node("Sum", [seq, row, m.const("bias", np.float32(0.25))], ["total"])
    m.node("Mean", [seq, row, m.node("Neg", [seq], ["neg"])], ["avg"])
    # Floor above; Round (half to even) and Ceil of run-time halves.
    halves = m.input("halves", [8], array=np.array([0.5, 1.5, 2.5, -0.5, -1.5, 3.2, -2.7, 7.0], np.float32))
    m.node("Round", [halves], ["rounded"])
    m.node("Ceil", [halves], ["ceiled"])
    # A constant Pad with negative pads (a crop) on some sides of the image.
    m.node("Pad", [img, m.const("crop_pads", np.array([0, -1, 1, -2, 0, 2, -1, 1], np.int64)),
                   m.const("pad_value", np.float32(0.5))], ["cropped"])
    for out in ("amin", "cmin", "total", "avg", "rounded", "ceiled", "cropped"):
        m.output(out)
    models.append(m)

    # Sin, Cos (run time, and folded on constant positions: a sinusoidal encoding),
    # Softsign, ThresholdedRelu, Shrink.
    m = OpModel("trig_shrink")
    x = m.input("x", [2, 7], low=-4.0, high=4.0)
    for op, attrs in (("Sin", {}), ("Cos", {}), ("Softsign", {}), ("ThresholdedRelu", {"alpha": 0.3}),
                      ("Shrink", {"lambd": 0.4, "bias": 0.1})):
        m.node(op, [x], [op.lower()], **attrs)
        m.output(op.lower())
    freq = m.node("Mul", [m.const("positions", np.arange(7, dtype=np.float32)), m.const("rate", np.float32(0.37))],
                  ["angles"])
    m.node("Add", [x, m.node("Sin", [freq], ["encoding"])], ["encoded"])
    m.node("Cos", [m.node("Conv", [m.input("img", [1, 2, 4, 5]), m.weight("cw", [3, 2, 1, 1], scale=2.0)], ["c"])],
           ["img_cos"])
    m.output("encoded")
    m.output("img_cos")
    models.append(m)

    # The other trigonometric and hyperbolic functions, each on inputs inside its domain
    # (the quantized export's goldens would hold ONNX Runtime's quantized NaN otherwise),
    # and on an image after a convolution; torch.atan2's export builds on Atan.
    m = OpModel("trig_more")
    x = m.input("x", [2, 9], low=-0.95, high=0.95)
    wide = m.input("wide", [2, 9], low=-3.0, high=3.0)
    above_one = m.input("above_one", [2, 9], low=1.05, high=3.0)
    for op, src in (("Tan", x), ("Asin", x), ("Acos", x), ("Atan", wide), ("Sinh", wide), ("Cosh", wide),
                    ("Asinh", wide), ("Acosh", above_one), ("Atanh", x)):
        m.node(op, [src], [op.lower()])
        m.output(op.lower())
    m.node("Atan", [m.node("Conv", [m.input("img", [1, 2, 4, 5]), m.weight("cw", [3, 2, 1, 1], scale=2.0)], ["c"])],
           ["img_atan"])
    m.output("img_atan")
    models.append(m)

    # GridSample (F.grid_sample, opset 16): every mode with every padding on a grid
    # reaching past the input, align_corners for three of them, and a flow field computed
    # in the graph (a convolution, tanh, then [N, 2, H, W] -> [N, H, W, 2], as flow-warping
    # networks build it).
    m = OpModel("grid_sample", opset=16)
    x = m.input("x", [1, 3, 6, 7])
    grid = m.input("grid", [1, 5, 4, 2], low=-1.3, high=1.3)
    outs = []
    for mode in ("bilinear", "nearest", "bicubic"):
        for padding in ("zeros", "border", "reflection"):
            out = f"{mode}_{padding}"
            m.node("GridSample", [x, grid], [out], mode=mode, padding_mode=padding, align_corners=0)
            outs.append(out)
    for mode, padding in (("bilinear", "zeros"), ("nearest", "reflection"), ("bicubic", "border")):
        out = f"{mode}_{padding}_aligned"
        m.node("GridSample", [x, grid], [out], mode=mode, padding_mode=padding, align_corners=1)
        outs.append(out)
    flow = m.node("Conv", [x, m.weight("fw", [2, 3, 3, 3]), m.weight("fb", [2])], ["flow"], pads=[1, 1, 1, 1])
    flow = m.node("Tanh", [flow], ["flow_t"])
    flow = m.node("Transpose", [flow], ["flow_nhwc"], perm=[0, 2, 3, 1])
    m.node("GridSample", [x, flow], ["warped"], mode="bilinear", padding_mode="border", align_corners=0)
    outs.append("warped")
    for out in outs:
        m.output(out)
    models.append(m)

    # CastLike (opset 15, as onnxscript-based exporters write type_as): int64 ids to the
    # float input's type and a float through int64 (truncation) and back; Hardmax along
    # the last axis, a middle one with ties (rounded values: the first largest wins) and
    # the channels of an image after a convolution.
    m = OpModel("castlike_hardmax", opset=15)
    x = m.input("x", [2, 3, 5])
    ids = m.input("ids", [2, 3, 5], array=np.random.RandomState(5).randint(-4, 9, (2, 3, 5)).astype(np.int64))
    m.node("Add", [x, m.node("CastLike", [ids, x], ["ids_f"])], ["shifted"])
    as_int = m.node("CastLike", [m.node("Mul", [x, m.const("three", np.float32(3.0))], ["x3"]), ids], ["x3_i"])
    m.node("CastLike", [as_int, x], ["truncated"])
    m.node("Hardmax", [x], ["hard_last"])
    m.node("Hardmax", [m.node("Round", ["x3"], ["x3_r"])], ["hard_mid"], axis=1)
    m.node("Hardmax", [m.node("Conv", [m.input("img", [1, 3, 4, 5]), m.weight("hw", [4, 3, 1, 1])], ["hc"])],
           ["hard_img"], axis=1)
    for out in ("shifted", "truncated", "hard_last", "hard_mid", "hard_img"):
        m.output(out)
    models.append(m)

    # ONNX Runtime's transformer contrib operators (com.microsoft), as its transformer
    # optimizer and its dynamic quantization fuse them into a saved optimized model:
    # SkipLayerNormalization with and without beta, bias and the sum output, the Gelu
    # family and FusedMatMul (constant and run-time operands, transposed, scaled); then
    # DynamicQuantizeMatMul (per-column scales) and MatMulIntegerToFloat (zero points; uint8
    # weights around 128, which the dynamic fully connected layer takes exactly).
    def contrib_opmodel(name):  # a model with the com.microsoft domain, and its node attributes
        m = OpModel(name, opset=13)
        m.extra_opsets = [("com.microsoft", 1)]
        m.checked = False
        return m, {"domain": "com.microsoft"}

    def contrib_model(name):  # the same on inputs x and skip [2, 5, 8]
        m, ms = contrib_opmodel(name)
        return m, m.input("x", [2, 5, 8]), m.input("skip", [2, 5, 8]), ms

    m, x, skip, ms = contrib_model("ort_contrib_transformer")
    gamma, beta, bias = m.weight("gamma", [8], low=0.5), m.weight("beta", [8]), m.weight("bias", [8])
    m.node("SkipLayerNormalization", [x, skip, gamma, beta, bias], ["sln", "", "", "sln_sum"], epsilon=1e-5, **ms)
    m.node("SkipLayerNormalization", [x, skip, gamma], ["sln_plain"], **ms)
    m.node("Gelu", [x], ["gelu"], **ms)
    m.node("FastGelu", [x, bias], ["fast_gelu"], **ms)
    m.node("FastGelu", [skip], ["fast_gelu_plain"], **ms)
    m.node("BiasGelu", [x, bias], ["bias_gelu"], **ms)
    m.node("QuickGelu", [x], ["quick_gelu"], alpha=1.5, **ms)
    m.node("FusedMatMul", [x, m.weight("fw", [6, 8])], ["fused_const"], transB=1, alpha=0.5, **ms)
    m.node("FusedMatMul", [x, skip], ["fused_scores"], transB=1, alpha=0.125, **ms)
    for out, shape in (("sln", [2, 5, 8]), ("sln_sum", [2, 5, 8]), ("sln_plain", [2, 5, 8]), ("gelu", [2, 5, 8]),
                       ("fast_gelu", [2, 5, 8]), ("fast_gelu_plain", [2, 5, 8]), ("bias_gelu", [2, 5, 8]),
                       ("quick_gelu", [2, 5, 8]), ("fused_const", [2, 5, 6]),
                       ("fused_scores", [2, 5, 5])):
        m.output(out, shape)
    models.append(m)

    # The same file's dynamically quantized products (the name's _dynamic: their export is
    # the float product, which does not read back bit for bit).
    # Attention (BERT's fused self-attention): packed QKV weights and bias, two heads, a raw
    # key mask with padding in the second sequence (and a 2, which keeps its key as a 1
    # does), without a mask, with four heads and a given scale, and with scale 0 (the
    # default's), unidirectional (GPT-2's causal mask) with the key mask, and key lengths
    # [B] as a graph input. ONNX Runtime 1.30 faults on an Attention without bias.
    m, x, skip, ms = contrib_model("ort_contrib_attention")
    mask = m.input("mask", [2, 5], array=np.array([[1, 1, 1, 1, 1], [1, 2, 1, 0, 0]], np.int32))
    w, b = m.weight("qkv_w", [8, 24]), m.weight("qkv_b", [24])
    m.node("Attention", [x, w, b, mask], ["attended"], num_heads=2, **ms)
    m.node("Attention", [skip, w, b], ["attended_nomask"], num_heads=2, **ms)
    m.node("Attention", [x, w, b, mask], ["attended_scaled"], num_heads=4, scale=0.3, **ms)
    m.node("Attention", [x, w, b, mask], ["attended_scale0"], num_heads=2, scale=0.0, **ms)
    m.node("Attention", [x, w, b, mask], ["attended_causal"], num_heads=2, unidirectional=1, **ms)
    m.node("Attention", [skip, w, b, m.input("lengths", [2], array=np.array([5, 2], np.int32))], ["attended_lengths"],
           num_heads=2, **ms)
    # Left padding under the causal mask (row 0 sees no kept key) with a filter of -inf:
    # the causal keys take the lowest float in place of the padding's value.
    left = m.input("left_mask", [2, 5], array=np.array([[0, 1, 1, 1, 1], [0, 0, 1, 1, 1]], np.int32))
    m.node("Attention", [x, w, b, left], ["attended_causal_inf"], num_heads=2, unidirectional=1,
           mask_filter_value=float("-inf"), **ms)
    # An additive attention bias (input 5: relative positions) with the mask, and Q, K, V
    # of their own widths (qkv_hidden_sizes: V 12 wide).
    m.node("Attention", [x, w, b, mask, "", m.weight("att_bias", [1, 2, 5, 5])], ["attended_biased"], num_heads=2,
           **ms)
    # ONNX Runtime's [2B] mask: end positions, then start positions (left padding).
    m.node("Attention", [x, w, b, m.input("end_start", [4], array=np.array([5, 4, 0, 2], np.int32))],
           ["attended_end_start"], num_heads=2, unidirectional=1, **ms)
    m.node("Attention", [skip, m.weight("qkv_w_wide", [8, 28]), m.weight("qkv_b_wide", [28])], ["attended_wide_v"],
           num_heads=2, qkv_hidden_sizes=[8, 8, 12], **ms)
    for out in ("attended", "attended_nomask", "attended_scaled", "attended_scale0", "attended_causal",
                "attended_lengths", "attended_causal_inf", "attended_biased", "attended_end_start"):
        m.output(out, [2, 5, 8])
    m.output("attended_wide_v", [2, 5, 12])
    models.append(m)

    # EmbedLayerNormalization feeding Attention its mask_index (key lengths), as the
    # optimizer fuses BERT's embeddings: int32 token and segment ids, a padding mask.
    m, ms = contrib_opmodel("ort_contrib_bert_embed")
    rng = np.random.RandomState(11)
    ids = m.input("ids", [2, 6], array=rng.randint(0, 30, (2, 6)).astype(np.int32))
    seg = m.input("seg", [2, 6], array=np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]], np.int32))
    mask = m.input("mask", [2, 6], array=np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], np.int32))
    m.node("EmbedLayerNormalization", [ids, seg, m.weight("word", [30, 8]), m.weight("pos", [16, 8]),
                                       m.weight("segw", [2, 8]), m.weight("lng", [8], low=0.5), m.weight("lnb", [8]),
                                       mask], ["emb", "mask_index", "emb_sum"], epsilon=1e-12, **ms)
    m.node("Attention", ["emb", m.weight("aw", [8, 24]), m.weight("ab", [24]), "mask_index"], ["ctx"], num_heads=2,
           **ms)
    m.node("Cast", ["mask_index"], ["mask_index_f"], to=TensorProto.FLOAT)
    for out, shape in (("emb", [2, 6, 8]), ("emb_sum", [2, 6, 8]), ("ctx", [2, 6, 8]), ("mask_index_f", [2])):
        m.output(out, shape)
    models.append(m)

    # One encoder layer of a BERT as ONNX Runtime's transformer optimizer saves it:
    # EmbedLayerNormalization -> Attention (mask_index) -> output MatMul + bias ->
    # SkipLayerNormalization -> MatMul -> BiasGelu -> MatMul -> SkipLayerNormalization
    # (bias), then a tanh pooler on the first token.
    m, ms = contrib_opmodel("ort_optimized_bert_layer")
    rng = np.random.RandomState(12)
    ids = m.input("ids", [2, 7], array=rng.randint(0, 40, (2, 7)).astype(np.int32))
    seg = m.input("seg", [2, 7], array=np.zeros((2, 7), np.int32))
    mask = m.input("mask", [2, 7], array=np.array([[1] * 7, [1] * 5 + [0] * 2], np.int32))
    m.node("EmbedLayerNormalization", [ids, seg, m.weight("word", [40, 16]), m.weight("pos", [32, 16]),
                                       m.weight("segw", [2, 16]), m.weight("g0", [16], low=0.5), m.weight("b0", [16]),
                                       mask], ["h0", "mask_index"], epsilon=1e-12, **ms)
    m.node("Attention", ["h0", m.weight("qkv", [16, 48], scale=0.25), m.weight("qkv_b", [48]), "mask_index"],
           ["att"], num_heads=4, **ms)
    m.node("MatMul", ["att", m.weight("o_w", [16, 16], scale=0.25)], ["att_o"])
    m.node("SkipLayerNormalization", ["att_o", "h0", m.weight("g1", [16], low=0.5), m.weight("b1", [16]),
                                      m.weight("o_b", [16])], ["h1"], epsilon=1e-12, **ms)
    m.node("MatMul", ["h1", m.weight("f1_w", [16, 32], scale=0.25)], ["f1"])
    m.node("BiasGelu", ["f1", m.weight("f1_b", [32])], ["f1_act"], **ms)
    m.node("MatMul", ["f1_act", m.weight("f2_w", [32, 16], scale=0.2)], ["f2"])
    m.node("SkipLayerNormalization", ["f2", "h1", m.weight("g2", [16], low=0.5), m.weight("b2", [16]),
                                      m.weight("f2_b", [16])], ["h2"], epsilon=1e-12, **ms)
    m.node("Gather", ["h2", m.const("first", np.array(0, np.int64))], ["cls"], axis=1)
    m.node("Gemm", ["cls", m.weight("pool_w", [16, 16], scale=0.25), m.weight("pool_b", [16])], ["pooled_lin"])
    m.node("Tanh", ["pooled_lin"], ["pooled"])
    m.output("h2", [2, 7, 16])
    m.output("pooled", [2, 16])
    models.append(m)

    # QAttention, as ONNX Runtime's dynamic quantization writes an optimized model's
    # Attention: the input from DynamicQuantizeLinear, 8-bit packed QKV weights, float
    # bias; int8 weights with one scale and a raw key mask, uint8 weights around a zero
    # point of 128 without a mask, and per-column weight scales and zero points. The int8
    # weights are 7-bit (quantize_dynamic's reduce_range): on an x86 CPU without VNNI,
    # ONNX Runtime multiplies uint8 by int8 with vpmaddubsw, which saturates on full-range
    # weights, and its goldens would not be exact.
    m, x, skip, ms = contrib_model("ort_contrib_qattention")
    mask = m.input("mask", [2, 5], array=np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], np.int32))
    m.node("DynamicQuantizeLinear", [x], ["xq", "xq_scale", "xq_zp"])
    m.node("DynamicQuantizeLinear", [skip], ["sq", "sq_scale", "sq_zp"])
    rs = np.random.RandomState(21)
    wq = m.const("qa_w", rs.randint(-64, 64, (8, 24)).astype(np.int8))
    wu = m.const("qa_wu", rs.randint(60, 197, (8, 24)).astype(np.uint8))
    qb = m.weight("qa_b", [24])
    m.node("QAttention", ["xq", wq, qb, "xq_scale", m.const("qa_ws", np.float32(0.01)), mask, "xq_zp"],
           ["qattended"], num_heads=2, **ms)
    m.node("QAttention", ["sq", wu, qb, "sq_scale", m.const("qa_wus", np.float32(0.008)), "", "sq_zp",
                          m.const("qa_wzp", np.uint8(128))], ["qattended_u8"], num_heads=4, **ms)
    m.node("QAttention", ["xq", wq, qb, "xq_scale",
                          m.const("qa_wcs", rs.uniform(0.004, 0.012, 24).astype(np.float32)), mask, "xq_zp",
                          m.const("qa_wczp", np.zeros(24, np.int8))], ["qattended_cols"], num_heads=2, **ms)
    for out in ("qattended", "qattended_u8", "qattended_cols"):
        m.output(out, [2, 5, 8])
    models.append(m)

    # MultiHeadAttention, which ONNX Runtime's optimizer writes for encoder-decoder and
    # CLIP-style attention: self-attention with a packed bias and a [B, L] key mask, cross
    # attention over 3 keys with a given scale, key lengths [B] with a T5-style additive
    # attention bias, and key and value already split into heads [B, N, L, h].
    m, x, skip, ms = contrib_model("ort_contrib_mha")
    mask = m.input("mask", [2, 5], array=np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], np.int32))
    mem = m.input("mem", [2, 3, 8])
    lengths = m.input("lengths", [2], array=np.array([5, 3], np.int32))
    kh, vh = m.input("kh", [2, 2, 4, 4]), m.input("vh", [2, 2, 4, 4])
    m.node("MultiHeadAttention", [x, x, x, m.weight("mha_b", [24]), mask], ["self_att"], num_heads=2, **ms)
    m.node("MultiHeadAttention", [x, mem, mem], ["cross_att"], num_heads=4, scale=0.3, **ms)
    m.node("MultiHeadAttention", [x, skip, skip, "", lengths, m.weight("rel_bias", [1, 2, 5, 5])], ["biased_att"],
           num_heads=2, **ms)
    m.node("MultiHeadAttention", [x, kh, vh], ["split_att"], num_heads=2, **ms)
    m.node("MultiHeadAttention", [x, mem, mem], ["cross_causal"], num_heads=2, unidirectional=1, **ms)
    for out, shape in (("self_att", [2, 5, 8]), ("cross_att", [2, 5, 8]), ("biased_att", [2, 5, 8]),
                       ("split_att", [2, 5, 8]), ("cross_causal", [2, 5, 8])):
        m.output(out, shape)
    models.append(m)

    # More of what ONNX Runtime's optimizer and quantizer write: RMS normalization
    # (SimplifiedLayerNormalization, standard domain; SkipSimplifiedLayerNormalization, T5-
    # and LLaMA-style), QLinearSoftmax with both Softmax semantics (the opset attribute), and
    # QEmbedLayerNormalization (uint8 tables) feeding its mask_index out.
    m, x, skip, ms = contrib_model("ort_contrib_norms_qops")
    gamma, bias = m.weight("rms_g", [8], low=0.5), m.weight("rms_bias", [8])
    m.node("SimplifiedLayerNormalization", [x, gamma], ["rms"], epsilon=1e-6)
    m.node("SimplifiedLayerNormalization", [skip, m.weight("rms_g2", [5, 8], low=0.5)], ["rms_axis1"], axis=1)
    m.node("SkipSimplifiedLayerNormalization", [x, skip, gamma, bias], ["srms", "", "", "srms_sum"], epsilon=1e-5,
           **ms)
    m.node("SkipSimplifiedLayerNormalization", [x, skip, gamma], ["srms_plain"], **ms)
    m.node("QuantizeLinear", [x, m.const("sm_xs", np.float32(0.05)), m.const("sm_xz", np.uint8(128))], ["sm_xq"])
    m.node("QLinearSoftmax", ["sm_xq", "sm_xs", "sm_xz", m.const("sm_ys", np.float32(1 / 256)),
                              m.const("sm_yz", np.uint8(0))], ["sm_q"], axis=-1, opset=13, **ms)
    m.node("DequantizeLinear", ["sm_q", "sm_ys", "sm_yz"], ["qsoftmax"])
    m.node("QuantizeLinear", [skip, m.const("sm_ss", np.float32(0.04)), m.const("sm_sz", np.int8(0))], ["sm_sq"])
    m.node("QLinearSoftmax", ["sm_sq", "sm_ss", "sm_sz", m.const("sm_ys8", np.float32(1 / 256)),
                              m.const("sm_yz8", np.int8(-128))], ["sm_q8"], axis=1, opset=12, **ms)
    m.node("DequantizeLinear", ["sm_q8", "sm_ys8", "sm_yz8"], ["qsoftmax_flat"])
    rq = np.random.RandomState(13)
    ids = m.input("ids", [2, 6], array=rq.randint(0, 30, (2, 6)).astype(np.int32))
    seg = m.input("seg", [2, 6], array=np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]], np.int32))
    mask = m.input("mask", [2, 6], array=np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], np.int32))
    tables = [m.const("qe_" + t, rq.randint(0, 256, shape).astype(np.uint8))
              for t, shape in (("word", (30, 8)), ("pos", (16, 8)), ("seg", (2, 8)), ("gamma", (8,)), ("beta", (8,)))]
    scales = [m.const("qe_s" + str(k), np.float32(v)) for k, v in enumerate((0.01, 0.008, 0.02, 0.004, 0.003))]
    zps = [m.const("qe_z" + str(k), np.uint8(v)) for k, v in enumerate((128, 120, 130, 0, 128))]
    m.node("QEmbedLayerNormalization", [ids, seg] + tables + [mask] + scales + zps, ["qemb", "qe_mask_index"],
           epsilon=1e-12, **ms)
    m.node("Cast", ["qe_mask_index"], ["qe_mask_index_f"], to=TensorProto.FLOAT)
    for out, shape in (("rms", [2, 5, 8]), ("rms_axis1", [2, 5, 8]), ("srms", [2, 5, 8]), ("srms_sum", [2, 5, 8]),
                       ("srms_plain", [2, 5, 8]), ("qsoftmax", [2, 5, 8]), ("qsoftmax_flat", [2, 5, 8]),
                       ("qemb", [2, 6, 8]), ("qe_mask_index_f", [2])):
        m.output(out, shape)
    models.append(m)

    # Asymmetric weights (one zero point per tensor), as quantize_dynamic writes them with
    # weight_type QUInt8 (and transformers.js-style "quantized" models hold): MatMulInteger
    # with uint8 weights around 117, MatMulIntegerToFloat with 7-bit int8 weights around
    # -5, DynamicQuantizeMatMul with uint8 weights around 130 and a bias, QAttention with
    # uint8 weights around 121. They run as the int8 fully connected layer with the zero
    # point's row term, exactly.
    m, x, skip, ms = contrib_model("ort_dynamic_asym_weights")
    ra = np.random.RandomState(17)
    m.node("DynamicQuantizeLinear", [x], ["xq", "xs", "xz"])
    m.node("MatMulInteger", ["xq", m.const("aw_u8", ra.randint(40, 200, (8, 6)).astype(np.uint8)), "xz",
                             m.const("aw_u8_zp", np.uint8(117))], ["mmi"])
    m.node("Cast", ["mmi"], ["mmi_f"], to=TensorProto.FLOAT)
    m.node("Mul", ["xs", m.const("aw_u8_s", np.float32(0.006))], ["mmi_scale"])
    m.node("Mul", ["mmi_f", "mmi_scale"], ["mmi_out"])
    m.node("MatMulIntegerToFloat", ["xq", m.const("aw_s8", ra.randint(-64, 64, (8, 6)).astype(np.int8)), "xs",
                                    m.const("aw_s8_s", np.float32(0.01)), "xz", m.const("aw_s8_zp", np.int8(-5))],
           ["mitf_out"], **ms)
    m.node("DynamicQuantizeMatMul", [skip, m.const("aw_dq", ra.randint(30, 230, (8, 6)).astype(np.uint8)),
                                     m.const("aw_dq_s", np.float32(0.005)), m.const("aw_dq_zp", np.uint8(130)),
                                     m.weight("aw_dq_b", [6])], ["dqmm_out"], **ms)
    m.node("QAttention", ["xq", m.const("aw_qa", ra.randint(50, 190, (8, 24)).astype(np.uint8)), m.weight("aw_qa_b", [24]),
                          "xs", m.const("aw_qa_s", np.float32(0.008)), "", "xz", m.const("aw_qa_zp", np.uint8(121))],
           ["qa_out"], num_heads=2, **ms)
    for out, shape in (("mmi_out", [2, 5, 6]), ("mitf_out", [2, 5, 6]), ("dqmm_out", [2, 5, 6]),
                       ("qa_out", [2, 5, 8])):
        m.output(out, shape)
    models.append(m)

    # Zero points per column, as quantize_dynamic writes them with per_channel=True and
    # weight_type QUInt8 (transformers.js's "quantized" models, with reduce_range's 7-bit
    # weights in [0, 127]): MatMulInteger with a scale per column; MatMulIntegerToFloat with
    # int8 weights in [-64, 63] (ONNX Runtime's AVX2 u8 x s8 kernel saturates pairs of
    # products beyond: its answer would depend on the CPU) and one scale for the tensor;
    # DynamicQuantizeMatMul with a bias; QAttention
    # with 24 zero points and scales. One column's zero point is 0 and one is the extreme
    # (255 / -128), so the column terms reach both ends.
    m, x, skip, ms = contrib_model("ort_dynamic_percol_weights")
    rc = np.random.RandomState(29)
    m.node("DynamicQuantizeLinear", [x], ["xq", "xs", "xz"])
    pz = np.array([64, 0, 90, 255, 31, 127], np.uint8)
    m.node("MatMulInteger", ["xq", m.const("pw_u8", rc.randint(0, 128, (8, 6)).astype(np.uint8)), "xz",
                             m.const("pw_u8_zp", pz)], ["pmmi"])
    m.node("Cast", ["pmmi"], ["pmmi_f"], to=TensorProto.FLOAT)
    m.node("Mul", ["xs", m.const("pw_u8_s", rc.uniform(0.002, 0.01, 6).astype(np.float32))], ["pmmi_scale"])
    m.node("Mul", ["pmmi_f", "pmmi_scale"], ["pmmi_out"])
    m.node("MatMulIntegerToFloat", ["xq", m.const("pw_s8", rc.randint(-64, 64, (8, 6)).astype(np.int8)), "xs",
                                    m.const("pw_s8_s", np.float32(0.004)), "xz",
                                    m.const("pw_s8_zp", np.array([-128, 0, 17, -40, 127, 3], np.int8))],
           ["pmitf_out"], **ms)
    m.node("DynamicQuantizeMatMul", [skip, m.const("pw_dq", rc.randint(0, 256, (8, 6)).astype(np.uint8)),
                                     m.const("pw_dq_s", rc.uniform(0.002, 0.008, 6).astype(np.float32)),
                                     m.const("pw_dq_zp", np.array([128, 10, 200, 0, 255, 77], np.uint8)),
                                     m.weight("pw_dq_b", [6])], ["pdqmm_out"], **ms)
    m.node("QAttention", ["xq", m.const("pw_qa", rc.randint(0, 128, (8, 24)).astype(np.uint8)), m.weight("pw_qa_b", [24]),
                          "xs", m.const("pw_qa_s", rc.uniform(0.004, 0.012, 24).astype(np.float32)), "", "xz",
                          m.const("pw_qa_zp", rc.randint(40, 90, 24).astype(np.uint8))],
           ["pqa_out"], num_heads=2, **ms)
    for out, shape in (("pmmi_out", [2, 5, 6]), ("pmitf_out", [2, 5, 6]), ("pdqmm_out", [2, 5, 6]),
                       ("pqa_out", [2, 5, 8])):
        m.output(out, shape)
    models.append(m)

    m, x, skip, ms = contrib_model("ort_contrib_dynamic")
    bq = m.const("bq", np.random.RandomState(3).randint(-127, 128, (8, 6)).astype(np.int8))
    bq_scale = m.const("bq_scale", np.random.RandomState(4).uniform(0.002, 0.01, 6).astype(np.float32))
    m.node("DynamicQuantizeMatMul", [x, bq, bq_scale, "", m.weight("dq_bias", [6])], ["dq_matmul"], **ms)
    m.node("DynamicQuantizeLinear", [skip], ["sq", "sq_scale", "sq_zp"])
    bu = m.const("bu", np.random.RandomState(5).randint(0, 256, (8, 6)).astype(np.uint8))
    m.node("MatMulIntegerToFloat", ["sq", bu, "sq_scale", m.const("bu_scale", np.float32(0.004)), "sq_zp",
                                    m.const("bu_zp", np.uint8(128)), m.weight("mi_bias", [6])], ["int_to_float"], **ms)
    m.output("dq_matmul", [2, 5, 6])
    m.output("int_to_float", [2, 5, 6])
    models.append(m)

    # Empty slices, which rotary code makes when the rotary width is the whole head
    # (NeoX/LLaMA: cat(rotate(x[..., :d]), x[..., d:])): dropped from the Concat they feed,
    # at the end, at the start and in the middle of three inputs.
    m = OpModel("empty_slice_concat")
    x = m.input("x", [2, 5, 8])
    ints = lambda name, v: m.const(name, np.array(v, np.int64))
    m.node("Slice", [x, ints("from8", [8]), ints("to_end", [100]), ints("last", [-1])], ["pass_empty"])
    m.node("Slice", [x, ints("from0", [0]), ints("to0", [0]), ints("axis1", [1])], ["rows_empty"])
    m.node("Mul", [x, m.const("two", np.float32(2))], ["rot"])
    m.node("Concat", ["rot", "pass_empty"], ["rope"], axis=-1)
    m.node("Concat", ["rows_empty", "rot"], ["rows"], axis=1)
    m.node("Concat", ["rot", "pass_empty", x], ["three"], axis=2)
    m.output("rope", [2, 5, 8])
    m.output("rows", [2, 5, 8])
    m.output("three", [2, 5, 16])
    models.append(m)

    # Gemm with transA (A given as [K, M]): a Transpose before the fully connected layer,
    # with transB, alpha and beta too.
    m = OpModel("gemm_trans_a")
    m.node("Gemm", [m.input("a_t", [6, 3]), m.weight("gw", [4, 6]), m.weight("gc", [4])], ["y"], transA=1, transB=1,
           alpha=0.5, beta=2.0)
    m.output("y", [3, 4])
    models.append(m)

    m = OpModel("batchnorm")
    m.node("BatchNormalization",
           [m.input("x", [1, 8, 5, 5]), m.weight("scale", [8], low=0.5), m.weight("bias", [8]),
            m.weight("mean", [8], scale=0.2), m.weight("var", [8], low=0.5)], ["y"], epsilon=1e-5)
    m.output("y")
    models.append(m)

    return {m.name: m for m in models}


def make_ops(out_dir, opts, want):
    ops_dir = out_dir / "ops"
    ops_dir.mkdir(parents=True, exist_ok=True)
    for name, builder in op_models().items():
        if name not in want:
            continue
        model, inputs = builder.build()
        path = ops_dir / f"{name}.onnx"
        onnx.save(model, str(path))
        finish_model(path, inputs, opts)


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------

QOP_OPS = {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
           "DynamicQuantizeLinear", "QLinearAdd", "QLinearMul"}
QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}
NP_TYPE_NAMES = {TensorProto.UINT8: "uint8", TensorProto.INT8: "int8", TensorProto.INT32: "int32"}


def model_kind(model):
    ops = {n.op_type for n in model.graph.node}
    if ops & QOP_OPS:
        return "qop"
    if ops & QDQ_OPS:
        return "qdq"
    return "float"


def constant_values(model):
    """Map tensor name -> numpy value for initializers, Constant and Identity-of-constant."""
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    values[node.output[0]] = numpy_helper.to_array(attr.t)
        elif node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def quant_params(scale, zero_point, qtype):
    """JSON-friendly scale / zero point (scalars, or lists when per-axis)."""
    s = np.asarray(scale, dtype=np.float64).reshape(-1)
    z = np.asarray(zero_point).reshape(-1).astype(np.int64)
    return {
        "scale": float(s[0]) if s.size == 1 else [float(v) for v in s],
        "zero_point": int(z[0]) if z.size == 1 else [int(v) for v in z],
        "quant_type": qtype,
    }


def dq_params(node, values):
    """Scale / zero point / type of a DequantizeLinear or QuantizeLinear node."""
    scale = values.get(node.input[1])
    zp_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
    zp = values.get(zp_name) if zp_name else np.uint8(0)
    if scale is None or zp is None:
        return None
    qtype = {np.dtype(np.uint8): "uint8", np.dtype(np.int8): "int8",
             np.dtype(np.int32): "int32"}.get(np.asarray(zp).dtype, str(np.asarray(zp).dtype))
    return quant_params(scale, zp, qtype)


def output_quant(model, values):
    """For each graph output: qparams of the DequantizeLinear producing it, else None."""
    producers = {o: n for n in model.graph.node for o in n.output}
    result = []
    for out in model.graph.output:
        node = producers.get(out.name)
        result.append(dq_params(node, values) if node is not None and
                      node.op_type == "DequantizeLinear" else None)
    return result


def input_quant(model, values):
    """For each graph input: qparams of the first QuantizeLinear reading it, else None."""
    result = []
    for inp in model.graph.input:
        q = next((n for n in model.graph.node
                  if n.op_type == "QuantizeLinear" and n.input[0] == inp.name), None)
        result.append(dq_params(q, values) if q is not None else None)
    return result


def tensor_shape(value_info):
    dims = value_info.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]


def natural_key(path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def find_io_files(model_path, kind):
    stem = model_path.name[: -len(".onnx")]
    pattern = re.compile(re.escape(stem) + r"\." + kind + r"(\d*)\.npy$")
    found = [p for p in model_path.parent.iterdir() if pattern.match(p.name)]
    return sorted(found, key=natural_key)


def ort_spread(model_path, input_paths, golden_paths, outputs_q, ort_dir):
    """How far ONNX Runtime's own float-simulated QDQ run is from its golden.

    The golden comes from the default (fully optimised) session, where QDQ
    groups become integer kernels. With optimisation level "basic" the same
    graph runs DequantizeLinear -> float op -> QuantizeLinear instead. The
    difference between the two, in output quantization steps, shows how much
    the model amplifies rounding differences: a useful floor for tolerances.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        other = [Path(tmp) / f"out{i}.npy" for i in range(len(golden_paths))]
        run_ort(model_path, input_paths, other, ort_dir, opt_level="basic")
        diffs = []
        for gold, alt, q in zip(golden_paths, other, outputs_q):
            a, b = np.load(gold).astype(np.float64), np.load(alt).astype(np.float64)
            diffs.append(np.abs(np.round(a / q["scale"]) - np.round(b / q["scale"])).ravel())
    d = np.concatenate(diffs)
    return {
        "compared_with": "onnxruntime, graph optimization level basic",
        "equal": round(float(np.mean(d == 0)), 6),
        "within_1_step": round(float(np.mean(d <= 1)), 6),
        "max_steps": int(d.max()),
    }


def manifest_entry(model_path, root, ort_dir=None, spread=True):
    model = onnx.load(str(model_path))
    values = constant_values(model)
    init_names = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in init_names]
    rel = lambda p: p.relative_to(root).as_posix()
    inputs_q = input_quant(model, values)
    outputs_q = output_quant(model, values)
    input_files = find_io_files(model_path, "input")
    golden_files = find_io_files(model_path, "ort")
    entry = {
        "name": model_path.name[: -len(".onnx")],
        "file": rel(model_path),
        "kind": model_kind(model),
        "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "inputs": [rel(p) for p in input_files],
        "goldens": [rel(p) for p in golden_files],
        "graph_inputs": [
            {"name": i.name, "shape": tensor_shape(i), "quant": q}
            for i, q in zip(graph_inputs, inputs_q)
        ],
        "graph_outputs": [
            {"name": o.name, "shape": tensor_shape(o), "quant": q}
            for o, q in zip(model.graph.output, outputs_q)
        ],
    }
    quantized_outputs = bool(outputs_q) and all(q is not None for q in outputs_q)
    if (spread and entry["kind"] != "float" and quantized_outputs and input_files
            and len(golden_files) == len(outputs_q)):
        entry["ort_spread"] = ort_spread(model_path, input_files, golden_files, outputs_q, ort_dir)
    return entry


def manifest_json(manifest):
    """Indented JSON with lists of numbers (shapes) kept on one line."""
    text = json.dumps(manifest, indent=2)
    one_line = lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]"
    return re.sub(r"\[\s+([-0-9.eE+,\s]+?)\s+\]", one_line, text) + "\n"


def in_own_suite(model_path, root):
    """True when a directory between ROOT and the model has its own manifest.json
    (a separate suite, e.g. OUT/transformer/ from tools/make_transformer_models.py)."""
    return any((d / "manifest.json").exists() for d in model_path.parents
               if d != root and root in d.parents)


def write_manifest(root, ort_dir=None, spread=True):
    """Write ROOT/manifest.json describing every *.onnx below ROOT, except those in a
    subdirectory with its own manifest.json.

    For each model: file, kind (float / qdq / qop), input and golden NPY files
    (paths relative to ROOT, in graph input / output order), and per graph
    input/output its shape and, when a QuantizeLinear reads the input or a
    DequantizeLinear writes the output, its scale / zero_point / quant_type, so
    a test can map a float golden y back to quantized steps:
    q = round(y / scale) + zero_point.

    For quantized models with goldens, "ort_spread" gives how closely ONNX
    Runtime agrees with itself across optimisation levels (see ort_spread).
    """
    root = Path(root)
    models = sorted((p for p in root.rglob("*.onnx") if not in_own_suite(p, root)),
                    key=lambda p: (len(p.relative_to(root).parts), natural_key(p.relative_to(root))))
    ort_version = json.loads(ORT_PACKAGE_JSON.read_text())["dependencies"]["onnxruntime-node"]
    manifest = {
        "description": "edgeq test models; goldens are ONNX Runtime outputs for the inputs",
        "onnxruntime": ort_version,
        "models": [manifest_entry(p, root, ort_dir, spread) for p in models],
    }
    (root / "manifest.json").write_text(manifest_json(manifest))
    log(f"wrote {root / 'manifest.json'} ({len(manifest['models'])} models)")


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

BIG = ["mobilenet_v2_int8", "resnet18_int8", "mobilenet_v2_f32", "resnet18_f32"]
SMALL = ["small_qdq", "small_qdq_perchannel", "small_f32", "kws1d_f32"]


def groups():
    ops = list(op_models())
    return {"big": BIG, "small": SMALL, "ops": ops, "committed": SMALL + ops,
            "all": BIG + SMALL + ops}


def resolve_selection(spec):
    g = groups()
    chosen = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item in g:
            chosen += g[item]
        elif item in g["all"]:
            chosen.append(item)
        else:
            raise SystemExit(f"make_models.py: unknown model or group '{item}' (see --list)")
    return set(chosen)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="output directory (created if missing)")
    ap.add_argument("--only", default="all",
                    help="comma-separated model names or groups (big, small, ops, committed, all)")
    ap.add_argument("--list", action="store_true", help="list groups and model names, then exit")
    ap.add_argument("--no-golden", dest="golden", action="store_false",
                    help="do not run ONNX Runtime (no NAME.ort.npy)")
    ap.add_argument("--no-manifest", dest="manifest", action="store_false",
                    help="do not rewrite OUT/manifest.json")
    ap.add_argument("--manifest-only", action="store_true",
                    help="only rewrite OUT/manifest.json from the files present")
    ap.add_argument("--ort-dir", type=Path, default=os.environ.get("EDGEQ_ORT_DIR"),
                    help="directory holding node_modules/onnxruntime-node "
                         "(default: EDGEQ_ORT_DIR or tools/ort)")
    opts = ap.parse_args(argv)
    if not opts.list and opts.out is None:
        ap.error("--out is required")
    return opts


def generator_options(argv, description, out_help):
    """Command line shared by the generators that write one directory of models under
    OUT (make_qop_models.py, make_transformer_models.py)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", type=Path, help=out_help)
    ap.add_argument("--only", default="all", help="comma-separated model names (default: all)")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    ap.add_argument("--no-golden", dest="golden", action="store_false",
                    help="do not run ONNX Runtime (no NAME.ort.npy)")
    ap.add_argument("--no-manifest", dest="manifest", action="store_false",
                    help="do not rewrite the manifest")
    ap.add_argument("--ort-dir", type=Path, default=os.environ.get("EDGEQ_ORT_DIR"),
                    help="directory holding node_modules/onnxruntime-node")
    opts = ap.parse_args(argv)
    if not opts.list and opts.out is None:
        ap.error("--out is required")
    return opts


def selected_models(only, known, prog):
    """The names of --only ("all": every name in known), checked against known."""
    names = list(known) if only == "all" else [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"{prog}: unknown model(s): {', '.join(unknown)} (see --list)")
    return names


def require_torch():
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as err:
        raise SystemExit(f"make_models.py: {err}: the PyTorch models need torch and torchvision "
                         "(on Debian: python3-torch, python3-torchvision; run with /usr/bin/python3)")


def main(argv=None):
    opts = parse_args(argv)
    if opts.list:
        for name, members in groups().items():
            print(f"{name}: {' '.join(members)}")
        return 0
    out_dir = opts.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if not opts.manifest_only:
        want = resolve_selection(opts.only)
        if want & set(BIG + SMALL):
            require_torch()
        start = time.time()
        if want & set(SMALL):
            log("small CNN")
            make_small(out_dir, opts, want)
            make_kws(out_dir, opts, want)
        if want & set(groups()["ops"]):
            log("single-op models")
            make_ops(out_dir, opts, want)
        for arch in ("mobilenet_v2", "resnet18"):
            if want & {f"{arch}_int8", f"{arch}_f32"}:
                log(arch)
                make_backbone(arch, out_dir, opts, want)
        log(f"done in {time.time() - start:.1f} s")
    if opts.manifest or opts.manifest_only:
        write_manifest(out_dir, opts.ort_dir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as err:
        print(f"make_models.py: error: {err}", file=sys.stderr)
        sys.exit(1)

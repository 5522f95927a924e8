#!/usr/bin/env python3
"""Build small transformer test models (float, dynamic int8, static QDQ) with ONNX Runtime goldens.

Every model comes from fixed seeds, so a re-run gives the same files. Models (OUT/transformer/):

  encoder_post_relu           nn.TransformerEncoder, 2 post-norm layers, d 32, 4 heads, ReLU FF 64, S 12, opset 13
  encoder_post_relu_opset17   the same network exported with opset 17 (LayerNormalization op)
  encoder_pre_gelu            nn.TransformerEncoder, 2 pre-norm layers + final LayerNorm, d 32, 2 heads, GELU FF 64, S 16
  encoder_pre_gelu_opset17    the same network exported with opset 17
  encoder_pre_gelu_dynamic    encoder_pre_gelu dynamically quantized as ORT's quantize_dynamic writes it (weight MatMuls)
  encoder_pre_gelu_dynamic_all  the same, with the attention MatMuls of two activations quantized too
  encoder_pre_gelu_qdq        encoder_pre_gelu with static QDQ (per-channel int8 weights, uint8 activations)
  mha                         nn.MultiheadAttention self-attention (q = k = v), d 32, 4 heads, S 10
  mha_kv                      nn.MultiheadAttention with separate query [1,6,32], key and value [1,10,32] inputs
  vit_tiny                    torchvision VisionTransformer: 32x32 image, 8x8 patches, 2 layers, 2 heads, d 32, MLP 64
  vit_tiny_qdq                vit_tiny with static QDQ (per-tensor int8 weights, uint8 activations)
  vit_tiny_dynamic            vit_tiny dynamically quantized as ORT's quantize_dynamic writes it with
                              op_types ["MatMul", "Conv"]: the patch embedding becomes ConvInteger
  bert_tiny                   BERT-style encoder: int64 ids / attention mask / token types [1,16], 2 GELU layers, pooler
  bert_tiny_dynamic           bert_tiny exported with dynamic batch and sequence axes (needs the importer's --shape)
  bert_tiny_dynamic_q8        bert_tiny dynamically quantized as ORT's quantize_dynamic writes it (weight MatMuls)
  bert_tiny_qdq               bert_tiny with static QDQ (per-channel int8 weights, uint8 activations)
  encoder_padmask             encoder_post_relu with a bool src_key_padding_mask input [1,12] (Equal, Where, Expand on bools)
  mha_masks                   nn.MultiheadAttention with a bool key_padding_mask input and a bool causal attn_mask (Or)
  distilbert_tiny             DistilBERT-style attention: int64 ids and mask, (mask == 0) expanded over the scores and
                              applied with masked_fill(finfo.min) (Equal on int64, Where on the scores), GELU FF
  distilbert_tiny_dynamic     distilbert_tiny dynamically quantized as ORT's quantize_dynamic writes it
  distilbert_tiny_qdq         distilbert_tiny with static QDQ (per-channel int8 weights, uint8 activations)
  rmsnorm_mlp                 T5/LLaMA-style RMSNorm (x.pow(2).mean(-1), rsqrt) around a SiLU MLP, d 32, S 12
  roberta_tiny                bert_tiny written as RobertaModel: position ids from the ids (ne(pad), CumSum, integer
                              Mul and Add at run time), inputs ids with padding tokens and the attention mask
  roberta_tiny_dynamic        roberta_tiny dynamically quantized as ORT's quantize_dynamic writes it
  pooling_heads               sentence-embedding and classifier heads on [2,12,32] with a float mask [2,12]:
                              masked mean pooling (ReduceSum with axes as an input), F.normalize (ReduceL2), max
                              pooling (ReduceMax), log_softmax, logsumexp, L1 normalize, a stable softmax by hand

Dynamic int8 (ONNX Runtime's quantize_dynamic, QOperator form, op_types_to_quantize=["MatMul"],
weight_type QInt8, per-tensor): each MatMul whose B is an initializer becomes
  DynamicQuantizeLinear(A) -> A_quantized, A_scale, A_zero_point   (node A_QuantizeLinear, once per tensor)
  MatMulInteger(A_quantized, W_quantized, A_zero_point, W_zero_point) -> Y_output_quantized
  Cast(to float) -> Y_output_quantized_cast_output
  Mul(A_scale, W_scale) -> NAME_quant_scales_mul:0;  Mul(cast, scales) -> Y (the MatMul's output)
with W_quantized int8 symmetric (scale max|W| / 127, zero point 0); the bias Add after it stays
float, as do Gemm nodes (not in ORT's IntegerOps list). The *_dynamic_all form also quantizes
MatMuls of two activations (MatMulConstBOnly off): both inputs through DynamicQuantizeLinear.

Static QDQ (ONNX Runtime's QDQ quantizer, op types MatMul and Gemm): every MatMul / Gemm input
gets QuantizeLinear -> DequantizeLinear (uint8, asymmetric, scale and zero point from the
min / max of the tensor over CALIB_COUNT random calibration inputs, run in ONNX Runtime);
weights become int8 symmetric initializers (W_quantized, W_scale, W_zero_point) read by a
DequantizeLinear (per-channel: axis 1 for MatMul, the output axis for Gemm); Gemm biases
become int32 with scale input_scale * weight_scale. Graph outputs get a Q/DQ pair too, so
tests compare in quantization steps. Other ops (Add, LayerNorm, Softmax, GELU) stay float.

Each model has NAME.input*.npy (float32, or int64 for BERT's inputs) and NAME.ort*.npy
(ONNX Runtime's outputs). OUT/transformer/manifest.json lists them: the fields of
tools/make_models.py's manifest plus, per graph input / output, "dtype"; per model
"dynamic_quantization" (true when the graph has DynamicQuantizeLinear), "input_shapes"
(the shapes of the input files, to give the importer for symbolic dimensions), and, for
quantized models with float outputs, "ort_float_spread": how far ONNX Runtime's basic
optimisation level is from its golden (a floor for tolerances). The directory has its
own manifest, so tools/make_models.py leaves these models out of test/data/manifest.json.

Usage (the system Python with torch 1.13, torchvision, onnx, numpy):
  /usr/bin/python3 tools/make_transformer_models.py --out DIR [--only NAME[,NAME...]]
        [--no-golden] [--no-manifest] [--ort-dir DIR] [--list]
"""

import copy
import json
import math
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import (ORT_PACKAGE_JSON, finish_model, generator_options, io_file_names, log,  # noqa: E402
                         manifest_entry, manifest_json, natural_key, run_ort, seed_of, selected_models)
from make_qop_models import choose_qparams, quantize, weight_qparams  # noqa: E402

D_MODEL = 32
CALIB_COUNT = 6
# Largest error of a quantized model's ONNX Runtime output against the float network,
# relative to max(1, max |output|): a rewrite that breaks the graph is far above it.
QUANT_TOLERANCE = 0.1
BERT_VOCAB = 100
BERT_SEQ = 16
NP_DTYPES = {TensorProto.FLOAT: "float32", TensorProto.INT64: "int64", TensorProto.INT32: "int32", TensorProto.BOOL: "bool",
             TensorProto.UINT8: "uint8", TensorProto.INT8: "int8"}


# ---------------------------------------------------------------------------
# PyTorch networks
# ---------------------------------------------------------------------------

def randomize(model, seed):
    """Fixed-seed random parameters, distinct per layer (nn.TransformerEncoder deep-copies
    one layer, and equal layers would export as Identity-shared initializers)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "norm" in name or name.endswith("ln.weight") or name.endswith("ln.bias"):
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * noise)
            elif p.dim() >= 2:
                p.copy_(noise / math.sqrt(p[0].numel()))
            else:
                p.copy_(0.1 * noise)
    return model.eval()


def encoder(norm_first, activation, heads):
    from torch import nn

    layer = nn.TransformerEncoderLayer(D_MODEL, heads, 64, dropout=0.0, activation=activation,
                                       batch_first=True, norm_first=norm_first)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(D_MODEL) if norm_first else None)


def mha():
    """nn.MultiheadAttention as a module of one input (q = k = v) or three (query, key, value)."""
    from torch import nn

    class Mha(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(D_MODEL, 4, dropout=0.0, batch_first=True)

        def forward(self, q, k=None, v=None):
            if k is None:
                k = v = q
            return self.attn(q, k, v, need_weights=False)[0]

    return Mha()


def bert_tiny(d=D_MODEL, heads=2, ff=64, layers=2, vocab=BERT_VOCAB, positions=64, roberta=False):
    """A BERT-style encoder written like Hugging Face's BertModel, at toy size by default
    (the benchmark models of make_transformer_bench_models.py pass larger shapes).
    roberta: position ids computed from the token ids as RobertaModel does (a running
    count of the non-padding tokens after padding_idx 1), no token types."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.attn_out = nn.Linear(d, d)
            self.attn_norm = nn.LayerNorm(d, eps=1e-12)
            self.intermediate = nn.Linear(d, ff)
            self.output = nn.Linear(ff, d)
            self.out_norm = nn.LayerNorm(d, eps=1e-12)

        def heads(self, x):
            n, s, _ = x.shape
            return x.view(n, s, heads, d // heads).permute(0, 2, 1, 3)

        def forward(self, x, ext_mask):
            q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // heads) + ext_mask
            ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3)
            ctx = ctx.reshape(x.shape)
            x = self.attn_norm(x + self.attn_out(ctx))
            return self.out_norm(x + self.output(F.gelu(self.intermediate(x))))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(vocab, d)
            self.position = nn.Embedding(positions, d)
            self.token_type = nn.Embedding(2, d)
            self.emb_norm = nn.LayerNorm(d, eps=1e-12)
            self.layers = nn.ModuleList([Layer() for _ in range(layers)])
            self.pooler = nn.Linear(d, d)
            self.register_buffer("position_ids", torch.arange(self.position.num_embeddings).unsqueeze(0))

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            seq = input_ids.shape[1]
            if roberta:
                not_pad = input_ids.ne(1).int()
                position_ids = (torch.cumsum(not_pad, dim=1).type_as(not_pad) * not_pad).long() + 1
                x = self.word(input_ids) + self.position(position_ids)
            else:
                x = (self.word(input_ids) + self.position(self.position_ids[:, :seq])
                     + self.token_type(token_type_ids))
            x = self.emb_norm(x)
            ext_mask = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
            for layer in self.layers:
                x = layer(x, ext_mask)
            return x, torch.tanh(self.pooler(x[:, 0]))

    return Bert()


def encoder_padmask():
    """encoder_post_relu's network taking a bool src_key_padding_mask (True: padding)."""
    from torch import nn

    class Padded(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = encoder(False, "relu", 4)

        def forward(self, x, pad):
            return self.enc(x, src_key_padding_mask=pad)

    return Padded()


def mha_masks(seq=10):
    """Self-attention with a bool key_padding_mask input and a bool causal attn_mask,
    which nn.MultiheadAttention merges with a logical or."""
    import torch
    from torch import nn

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(D_MODEL, 4, dropout=0.0, batch_first=True)
            self.register_buffer("causal", torch.triu(torch.ones(seq, seq, dtype=torch.bool), 1))

        def forward(self, x, pad):
            return self.attn(x, x, x, key_padding_mask=pad, attn_mask=self.causal, need_weights=False)[0]

    return Masked()


def distilbert_tiny(d=D_MODEL, heads=2, ff=64, layers=2, vocab=BERT_VOCAB, positions=64):
    """Attention written like Hugging Face's DistilBERT: the int64 attention mask is
    compared with 0, expanded over the scores and applied with masked_fill."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))
            self.sa_norm = nn.LayerNorm(d, eps=1e-12)
            self.lin1, self.lin2 = nn.Linear(d, ff), nn.Linear(ff, d)
            self.out_norm = nn.LayerNorm(d, eps=1e-12)

        def forward(self, x, mask):
            bs, k_len = mask.shape
            shape = lambda t: t.view(bs, -1, heads, d // heads).transpose(1, 2)
            q = shape(self.q(x)) / math.sqrt(d // heads)
            scores = torch.matmul(q, shape(self.k(x)).transpose(2, 3))
            masked = (mask == 0).view(bs, 1, 1, k_len).expand_as(scores)
            scores = scores.masked_fill(masked, torch.tensor(torch.finfo(scores.dtype).min))
            ctx = torch.matmul(torch.softmax(scores, dim=-1), shape(self.v(x)))
            ctx = ctx.transpose(1, 2).reshape(bs, -1, d)
            x = self.sa_norm(x + self.out(ctx))
            return self.out_norm(x + self.lin2(F.gelu(self.lin1(x))))

    class DistilBert(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(vocab, d)
            self.position = nn.Embedding(positions, d)
            self.norm = nn.LayerNorm(d, eps=1e-12)
            self.layers = nn.ModuleList([Layer() for _ in range(layers)])
            self.register_buffer("position_ids", torch.arange(positions).unsqueeze(0))

        def forward(self, input_ids, attention_mask):
            x = self.norm(self.word(input_ids) + self.position(self.position_ids[:, :input_ids.shape[1]]))
            for layer in self.layers:
                x = layer(x, attention_mask)
            return x

    return DistilBert()


def rmsnorm_mlp(d=D_MODEL, ff=64):
    """RMSNorm as T5 and LLaMA write it (x * rsqrt(mean(x^2) + eps) * w) around a SiLU MLP."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = RMSNorm(), RMSNorm()
            self.up, self.down = nn.Linear(d, ff), nn.Linear(ff, d)

        def forward(self, x):
            x = x + self.down(F.silu(self.up(self.norm1(x))))
            return self.norm2(x)

    return Block()


def pooling_heads(d=D_MODEL):
    """Heads that reduce over the sequence or the features, as sentence-embedding and
    classifier code writes them (opset 13: ReduceSum's axes are an input)."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(d, d)

        def forward(self, x, mask):
            h = self.proj(x)
            m = mask.unsqueeze(-1)
            mean_pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            stable = torch.exp(h - h.amax(-1, keepdim=True))
            return (F.normalize(mean_pooled, p=2, dim=1), h.max(1)[0], F.log_softmax(h, -1),
                    torch.logsumexp(h, -1), F.normalize(h, p=1, dim=-1), stable / stable.sum(-1, keepdim=True))

    return Heads()


def vit_tiny():
    import torchvision

    return torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                hidden_dim=32, mlp_dim=64, num_classes=10)


def export(model, args, path, input_names, output_names, opset=13, dynamic_axes=None):
    """torch.onnx.export with autograd on: nn.TransformerEncoderLayer and
    nn.MultiheadAttention then take their plain (exportable) path, not the fused kernel."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(torch.from_numpy(a) for a in args), str(path), opset_version=opset,
                          input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def float_inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def padded_inputs(seq, seed):
    """x [1,seq,32] and a bool padding mask [1,seq] with the last 1..4 positions True."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, seq, D_MODEL)).astype(np.float32)
    pad = np.zeros((1, seq), bool)
    pad[0, seq - int(rng.integers(1, 5)):] = True
    return [x, pad]


def roberta_inputs(seed):
    """bert_inputs' ids and mask with the masked positions holding the padding id 1."""
    ids, mask, _ = bert_inputs(seed)
    ids[ids == 1] = 2
    ids[mask == 0] = 1
    return [ids, mask]


def pooling_inputs(seed):
    """x [2,12,32] and a float mask [2,12] of ones with the last 3 (row 0) and 6 (row 1) zeros."""
    rng = np.random.default_rng(seed)
    mask = np.ones((2, 12), np.float32)
    mask[0, 9:] = 0
    mask[1, 6:] = 0
    return [rng.standard_normal((2, 12, D_MODEL)).astype(np.float32), mask]


def bert_inputs(seed):
    """ids [1,16] (0 = [CLS]-like first token), mask with the last 1..5 positions 0,
    token types 0 for the first half and 1 after."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, BERT_VOCAB, size=(1, BERT_SEQ)).astype(np.int64)
    ids[0, 0] = 0
    mask = np.ones((1, BERT_SEQ), np.int64)
    mask[0, BERT_SEQ - int(rng.integers(1, 6)):] = 0
    types = np.zeros((1, BERT_SEQ), np.int64)
    types[0, BERT_SEQ // 2:] = 1
    return [ids, mask, types]


# ---------------------------------------------------------------------------
# ONNX rewrites: dynamic (QOperator) and static (QDQ) quantization
# ---------------------------------------------------------------------------

def init_arrays(graph):
    return {t.name: numpy_helper.to_array(t) for t in graph.initializer}


def drop_unused_initializers(graph):
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def set_nodes(graph, nodes):
    del graph.node[:]
    graph.node.extend(nodes)


def weight_initializers(w_name, w, axis=None):
    """int8 symmetric W_quantized / W_scale / W_zero_point (per-tensor, or per slice of `axis`)."""
    if axis is None:
        scale, zp = weight_qparams(w, np.int8, per_channel=False)
        q = quantize(w, scale, zp, np.int8)
    else:
        moved = np.moveaxis(w, axis, 0)
        scale, zp = weight_qparams(moved, np.int8, per_channel=True)
        q = quantize(w, scale, zp, np.int8, axis=axis)
    names = (w_name + "_quantized", w_name + "_scale", w_name + "_zero_point")
    tensors = [numpy_helper.from_array(np.asarray(a), n) for a, n in zip((q, scale, zp), names)]
    return names, tensors, scale


def conv_integer_nodes(node, done, graph, inits):
    """ORT's ConvInteger rewrite of a Conv (quantize_dynamic with "Conv" in op_types):
    DynamicQuantizeLinear(X) -> ConvInteger(X_q, W_q, X_zp, W_zp) -> Cast(float) ->
    Mul(by Mul(X_scale, W_scale)) [-> Add(Reshape(B, [1, -1, 1, 1]))], W int8 per tensor."""
    nodes = []
    x, w = node.input[0], node.input[1]
    if x not in done:
        done[x] = (x + "_quantized", x + "_scale", x + "_zero_point")
        nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(done[x]), x + "_QuantizeLinear"))
    if w not in done:
        names, tensors, _ = weight_initializers(w, inits[w])
        graph.initializer.extend(tensors)
        done[w] = names
    (qx, sx, zx), (qw, sw, zw) = done[x], done[w]
    name, out = node.name + "_quant", node.output[0]
    acc = out + "_output_quantized"
    scaled = out if len(node.input) < 3 else out + "_scaled_output"
    conv = helper.make_node("ConvInteger", [qx, qw, zx, zw], [acc], name)
    conv.attribute.extend(node.attribute)
    nodes += [
        conv,
        helper.make_node("Cast", [acc], [acc + "_cast_output"], acc + "_cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", [sx, sw], [name + "_scales_mul:0"], name + "_scales_mul"),
        helper.make_node("Mul", [acc + "_cast_output", name + "_scales_mul:0"], [scaled], name + "_output_scale_mul"),
    ]
    if len(node.input) >= 3:
        shape = name + "_bias_reshape_shape"
        graph.initializer.append(numpy_helper.from_array(np.array([1, -1, 1, 1], np.int64), shape))
        nodes += [
            helper.make_node("Reshape", [node.input[2], shape], [name + "_bias_reshape_output"], name + "_bias_reshape"),
            helper.make_node("Add", [scaled, name + "_bias_reshape_output"], [out], name + "_bias_add"),
        ]
    return nodes


def quantize_dynamic(model, const_b_only=True, conv=False):
    """The graph ORT's quantize_dynamic(op_types_to_quantize=["MatMul"]) writes (see the top);
    conv: ["MatMul", "Conv"], Conv nodes rewritten by conv_integer_nodes."""
    model = copy.deepcopy(model)
    graph = model.graph
    inits = init_arrays(graph)
    nodes, done = [], {}  # done: tensor -> (quantized, scale, zero point)
    for node in graph.node:
        if conv and node.op_type == "Conv" and node.input[1] in inits:
            nodes += conv_integer_nodes(node, done, graph, inits)
            continue
        if node.op_type != "MatMul" or (const_b_only and node.input[1] not in inits):
            nodes.append(node)
            continue
        for t in node.input:
            if t in done:
                continue
            if t in inits:
                names, tensors, _ = weight_initializers(t, inits[t])
                graph.initializer.extend(tensors)
                done[t] = names
            else:
                done[t] = (t + "_quantized", t + "_scale", t + "_zero_point")
                nodes.append(helper.make_node("DynamicQuantizeLinear", [t], list(done[t]), t + "_QuantizeLinear"))
        (qa, sa, za), (qb, sb, zb) = done[node.input[0]], done[node.input[1]]
        name, out = node.name + "_quant", node.output[0]
        acc = out + "_output_quantized"
        nodes += [
            helper.make_node("MatMulInteger", [qa, qb, za, zb], [acc], name),
            helper.make_node("Cast", [acc], [acc + "_cast_output"], acc + "_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [sa, sb], [name + "_scales_mul:0"], name + "_scales_mul"),
            helper.make_node("Mul", [acc + "_cast_output", name + "_scales_mul:0"], [out],
                             name + "_output_scale_mul"),
        ]
    set_nodes(graph, nodes)
    drop_unused_initializers(graph)
    onnx.checker.check_model(model)
    return model


def qdq_targets(graph):
    """(node, input index) of every MatMul / Gemm input the QDQ quantizer quantizes."""
    for node in graph.node:
        if node.op_type == "MatMul":
            yield node, [0, 1]
        elif node.op_type == "Gemm":
            yield node, list(range(len(node.input)))


def calibrate(model, calib_inputs, tensors, opts):
    """Per tensor: (min, max) over the calibration inputs, from ONNX Runtime."""
    probe = copy.deepcopy(model)
    existing = {o.name for o in probe.graph.output}
    extra = [t for t in tensors if t not in existing]
    probe.graph.output.extend(helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in extra)
    order = [o.name for o in probe.graph.output]
    lo = {t: np.inf for t in tensors}
    hi = {t: -np.inf for t in tensors}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.onnx"
        onnx.save(probe, str(path))
        for i, arrays in enumerate(calib_inputs):
            ins = [Path(tmp) / f"in{i}_{k}.npy" for k in range(len(arrays))]
            for p, a in zip(ins, arrays):
                np.save(p, a)
            outs = [Path(tmp) / f"out{i}_{k}.npy" for k in range(len(order))]
            run_ort(path, ins, outs, opts.ort_dir)
            for name, p in zip(order, outs):
                if name in lo:
                    v = np.load(p)
                    lo[name], hi[name] = min(lo[name], float(v.min())), max(hi[name], float(v.max()))
    return {t: (lo[t], hi[t]) for t in tensors}


def quantize_qdq(model, calib_inputs, per_channel, opts):
    """The QDQ graph ORT's static quantizer writes for MatMul / Gemm (see the top)."""
    model = copy.deepcopy(model)
    graph = model.graph
    inits = init_arrays(graph)
    targets = list(qdq_targets(graph))
    outputs = [o.name for o in graph.output]
    acts = sorted({n.input[i] for n, idx in targets for i in idx if n.input[i] not in inits} | set(outputs))
    ranges = calibrate(model, calib_inputs, acts, opts)
    act_q = {t: choose_qparams(*ranges[t], np.uint8) for t in acts}

    new_inits, dq_of = [], {}

    def qdq_pair(t, src=None):
        """Q -> DQ of activation t; returns (nodes, DQ output)."""
        scale, zp = act_q[t]
        names = [t + "_scale", t + "_zero_point"]
        new_inits.extend([numpy_helper.from_array(np.asarray(scale, np.float32), names[0]),
                          numpy_helper.from_array(np.asarray(zp, np.uint8), names[1])])
        q_out, dq_out = t + "_QuantizeLinear_Output", t + "_DequantizeLinear_Output"
        return [helper.make_node("QuantizeLinear", [src or t] + names, [q_out], t + "_QuantizeLinear"),
                helper.make_node("DequantizeLinear", [q_out] + names, [dq_out], t + "_DequantizeLinear")], dq_out

    def weight_dq(w, axis, dq_axis):
        names, tensors, scale = weight_initializers(w, inits[w], axis)
        new_inits.extend(tensors)
        attrs = {"axis": dq_axis} if axis is not None else {}
        out = w + "_DequantizeLinear_Output"
        return [helper.make_node("DequantizeLinear", list(names), [out], w + "_DequantizeLinear", **attrs)], out, scale

    target_inputs = {id(n): idx for n, idx in targets}
    nodes = []
    for node in graph.node:
        idx = target_inputs.get(id(node), [])
        w_scale = None
        for i in idx:
            t = node.input[i]
            if t not in inits:
                if t not in dq_of:
                    pair, dq_of[t] = qdq_pair(t)
                    nodes += pair
                node.input[i] = dq_of[t]
            elif i == 1:
                w = inits[t]
                if node.op_type == "Gemm":
                    trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
                    axis = (0 if trans_b else 1) if per_channel else None
                else:
                    axis = w.ndim - 1 if per_channel else None
                dq, node.input[i], w_scale = weight_dq(t, axis, axis)
                nodes += dq
            elif i == 2:  # Gemm bias: int32, scale = input scale * weight scale, zero point 0
                b = inits[t]
                x_scale = act_q[graph_input_name(node, dq_of)][0]
                b_scale = (np.asarray(w_scale, np.float32) * np.float32(x_scale)).astype(np.float32)
                bq = np.round(b / b_scale).astype(np.int32)
                names = [t + "_quantized", t + "_quantized_scale", t + "_quantized_zero_point"]
                new_inits.extend([numpy_helper.from_array(bq, names[0]),
                                  numpy_helper.from_array(np.asarray(b_scale), names[1]),
                                  numpy_helper.from_array(np.zeros(b_scale.shape, np.int32), names[2])])
                attrs = {"axis": 0} if b_scale.ndim else {}
                out = t + "_DequantizeLinear_Output"
                nodes.append(helper.make_node("DequantizeLinear", names, [out], t + "_DequantizeLinear", **attrs))
                node.input[i] = out
        nodes.append(node)
    # Graph outputs: the producer writes NAME_float, Q -> DQ writes NAME.
    for out in outputs:
        for n in nodes:
            for k, o in enumerate(n.output):
                if o == out:
                    n.output[k] = out + "_float"
            for k, o in enumerate(n.input):
                if o == out:
                    n.input[k] = out + "_float"
        pair, dq_out = qdq_pair(out, src=out + "_float")
        pair[1].output[0] = out
        nodes += pair
    set_nodes(graph, nodes)
    graph.initializer.extend(new_inits)
    drop_unused_initializers(graph)
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model


def graph_input_name(node, dq_of):
    """The activation that node's input 0 dequantizes (DQ output name -> tensor)."""
    return next(t for t, dq in dq_of.items() if dq == node.input[0])


# ---------------------------------------------------------------------------
# Model list
# ---------------------------------------------------------------------------

class Spec:
    """A network, its example inputs and how to export it; the variants built from it."""

    def __init__(self, name, build, inputs, input_names, output_names, calib=None):
        self.name, self.build, self.inputs = name, build, inputs
        self.input_names, self.output_names, self.calib = input_names, output_names, calib


def specs():
    s_post, s_pre = 12, 16
    enc_calib = lambda s: [float_inputs([[1, s, D_MODEL]], seed_of("calib") + i) for i in range(CALIB_COUNT)]
    img = lambda seed: float_inputs([[1, 3, 32, 32]], seed)
    return {
        "encoder_post_relu": Spec("encoder_post_relu", lambda: encoder(False, "relu", 4),
                                  float_inputs([[1, s_post, D_MODEL]], seed_of("encoder_post_relu")),
                                  ["input"], ["output"]),
        "encoder_pre_gelu": Spec("encoder_pre_gelu", lambda: encoder(True, "gelu", 2),
                                 float_inputs([[1, s_pre, D_MODEL]], seed_of("encoder_pre_gelu")),
                                 ["input"], ["output"], enc_calib(s_pre)),
        "mha": Spec("mha", mha, float_inputs([[1, 10, D_MODEL]], seed_of("mha")),
                    ["input"], ["output"]),
        "mha_kv": Spec("mha_kv", mha,
                       float_inputs([[1, 6, D_MODEL], [1, 10, D_MODEL], [1, 10, D_MODEL]], seed_of("mha_kv")),
                       ["query", "key", "value"], ["output"]),
        "vit_tiny": Spec("vit_tiny", vit_tiny, img(seed_of("vit_tiny")), ["input"], ["output"],
                         [img(seed_of("calib") + i) for i in range(CALIB_COUNT)]),
        "encoder_padmask": Spec("encoder_padmask", encoder_padmask, padded_inputs(s_post, seed_of("encoder_padmask")),
                                ["input", "pad"], ["output"]),
        "mha_masks": Spec("mha_masks", mha_masks, padded_inputs(10, seed_of("mha_masks")), ["input", "pad"],
                          ["output"]),
        "distilbert_tiny": Spec("distilbert_tiny", distilbert_tiny, bert_inputs(seed_of("distilbert_tiny"))[:2],
                                ["input_ids", "attention_mask"], ["output"],
                                [bert_inputs(seed_of("calib") + i)[:2] for i in range(CALIB_COUNT)]),
        "rmsnorm_mlp": Spec("rmsnorm_mlp", rmsnorm_mlp, float_inputs([[1, s_post, D_MODEL]], seed_of("rmsnorm_mlp")),
                            ["input"], ["output"]),
        "roberta_tiny": Spec("roberta_tiny", lambda: bert_tiny(roberta=True), roberta_inputs(seed_of("roberta_tiny")),
                             ["input_ids", "attention_mask"], ["sequence_output", "pooled_output"],
                             [roberta_inputs(seed_of("calib") + i) for i in range(CALIB_COUNT)]),
        "pooling_heads": Spec("pooling_heads", pooling_heads, pooling_inputs(seed_of("pooling_heads")),
                              ["input", "mask"], ["embedding", "max_pooled", "log_probs", "logsumexp", "l1", "probs"]),
        "bert_tiny": Spec("bert_tiny", bert_tiny, bert_inputs(seed_of("bert_tiny")),
                          ["input_ids", "attention_mask", "token_type_ids"], ["sequence_output", "pooled_output"],
                          [bert_inputs(seed_of("calib") + i) for i in range(CALIB_COUNT)]),
    }


BERT_AXES = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
             "token_type_ids": {0: "batch", 1: "sequence"}, "sequence_output": {0: "batch", 1: "sequence"},
             "pooled_output": {0: "batch"}}

# Model name -> (base network, variant): "float" (opset 13), "opset17", "dynamic_axes",
# "dynamic" / "dynamic_all" / "dynamic_conv" (QOperator rewrite), "qdq" / "qdq_pertensor" (static QDQ rewrite).
MODELS = {
    "encoder_post_relu": ("encoder_post_relu", "float"),
    "encoder_post_relu_opset17": ("encoder_post_relu", "opset17"),
    "encoder_pre_gelu": ("encoder_pre_gelu", "float"),
    "encoder_pre_gelu_opset17": ("encoder_pre_gelu", "opset17"),
    "encoder_pre_gelu_dynamic": ("encoder_pre_gelu", "dynamic"),
    "encoder_pre_gelu_dynamic_all": ("encoder_pre_gelu", "dynamic_all"),
    "encoder_pre_gelu_qdq": ("encoder_pre_gelu", "qdq"),
    "mha": ("mha", "float"),
    "mha_kv": ("mha_kv", "float"),
    "vit_tiny": ("vit_tiny", "float"),
    "vit_tiny_qdq": ("vit_tiny", "qdq_pertensor"),
    "vit_tiny_dynamic": ("vit_tiny", "dynamic_conv"),
    "bert_tiny": ("bert_tiny", "float"),
    "bert_tiny_dynamic": ("bert_tiny", "dynamic_axes"),
    "bert_tiny_dynamic_q8": ("bert_tiny", "dynamic"),
    "bert_tiny_qdq": ("bert_tiny", "qdq"),
    "encoder_padmask": ("encoder_padmask", "float"),
    "mha_masks": ("mha_masks", "float"),
    "distilbert_tiny": ("distilbert_tiny", "float"),
    "distilbert_tiny_dynamic": ("distilbert_tiny", "dynamic"),
    "distilbert_tiny_qdq": ("distilbert_tiny", "qdq"),
    "rmsnorm_mlp": ("rmsnorm_mlp", "float"),
    "pooling_heads": ("pooling_heads", "float"),
    "roberta_tiny": ("roberta_tiny", "float"),
    "roberta_tiny_dynamic": ("roberta_tiny", "dynamic"),
}


def make_base(spec, tmp, variant):
    """Export spec's network (fixed-seed weights) for a variant; returns the ONNX path and
    PyTorch's outputs for spec.inputs."""
    import torch

    torch.manual_seed(seed_of(spec.name))
    net = randomize(spec.build(), seed_of(spec.name))
    opset = 17 if variant == "opset17" else 13
    axes = BERT_AXES if variant == "dynamic_axes" else None
    path = Path(tmp) / f"{spec.name}_{variant}.onnx"
    export(net, spec.inputs, path, spec.input_names, spec.output_names, opset, axes)
    # Autograd on, as for the export: with it off, nn.TransformerEncoder's fast path
    # drops the padded positions of a src_key_padding_mask from its output.
    out = net(*(torch.from_numpy(a) for a in spec.inputs))
    return path, [t.detach().numpy() for t in (out if isinstance(out, tuple) else (out,))]


def check_goldens(path, reference, quantized):
    """ONNX Runtime's goldens against PyTorch's float outputs: equal to 1e-4 for float
    models; within QUANT_TOLERANCE of the output range for quantized ones."""
    worst = 0.0
    for gold, ref in zip(io_file_names(path, "ort", len(reference)), reference):
        got = np.load(gold)
        if got.shape != ref.shape:
            raise RuntimeError(f"{path.name}: ONNX Runtime output {got.shape}, PyTorch {ref.shape}")
        worst = max(worst, float(np.abs(got - ref).max()) / max(1.0, float(np.abs(ref).max())))
    limit = QUANT_TOLERANCE if quantized else 1e-4
    log(f"    vs PyTorch float: max error {worst:.2g} of the output range (limit {limit:g})")
    if worst > limit:
        raise RuntimeError(f"{path.name}: ONNX Runtime is {worst:.3g} away from PyTorch (limit {limit:g})")


def make_model(name, out_dir, opts, tmp):
    spec = specs()[MODELS[name][0]]
    variant = MODELS[name][1]
    base_variant = variant if variant in ("opset17", "dynamic_axes") else "float"
    base, reference = make_base(spec, tmp, base_variant)
    model = onnx.load(str(base))
    if variant in ("dynamic", "dynamic_all", "dynamic_conv"):
        model = quantize_dynamic(model, const_b_only=(variant != "dynamic_all"), conv=(variant == "dynamic_conv"))
    elif variant.startswith("qdq"):
        model = quantize_qdq(model, spec.calib, per_channel=(variant == "qdq"), opts=opts)
    model.graph.name = name
    path = out_dir / f"{name}.onnx"
    onnx.save(model, str(path))
    finish_model(path, spec.inputs, opts)
    if opts.golden:
        check_goldens(path, reference, quantized=base_variant != variant)


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------

def float_spread(model_path, entry, root, ort_dir):
    """ONNX Runtime at optimisation level basic vs its golden (level all), float outputs."""
    with tempfile.TemporaryDirectory() as tmp:
        other = [Path(tmp) / f"out{i}.npy" for i in range(len(entry["goldens"]))]
        run_ort(model_path, [root / p for p in entry["inputs"]], other, ort_dir, opt_level="basic")
        max_abs = max_rel = 0.0
        for gold, alt in zip(entry["goldens"], other):
            a, b = np.load(root / gold).astype(np.float64), np.load(alt).astype(np.float64)
            err = float(np.abs(a - b).max())
            max_abs = max(max_abs, err)
            max_rel = max(max_rel, err / max(1.0, float(np.abs(a).max())))
    return {"compared_with": "onnxruntime, graph optimization level basic",
            "max_abs": float(f"{max_abs:.3g}"), "max_rel": float(f"{max_rel:.3g}")}


def write_manifest(root, ort_dir=None):
    """ROOT/manifest.json: make_models.manifest_entry plus dtypes, input shapes, dynamic flag."""
    entries = []
    for path in sorted(root.glob("*.onnx"), key=natural_key):
        entry = manifest_entry(path, root, ort_dir)
        model = onnx.load(str(path))
        inits = {t.name for t in model.graph.initializer}
        infos = [i for i in model.graph.input if i.name not in inits]
        for e, vi in zip(entry["graph_inputs"], infos):
            e["dtype"] = NP_DTYPES[vi.type.tensor_type.elem_type]
        for e, vi in zip(entry["graph_outputs"], model.graph.output):
            e["dtype"] = NP_DTYPES[vi.type.tensor_type.elem_type]
        entry["input_shapes"] = [list(np.load(root / p, mmap_mode="r").shape) for p in entry["inputs"]]
        entry["dynamic_quantization"] = any(n.op_type == "DynamicQuantizeLinear" for n in model.graph.node)
        if entry["kind"] != "float" and any(o["quant"] is None for o in entry["graph_outputs"]):
            entry["ort_float_spread"] = float_spread(path, entry, root, ort_dir)
        entries.append(entry)
    ort_version = json.loads(ORT_PACKAGE_JSON.read_text())["dependencies"]["onnxruntime-node"]
    manifest = {
        "description": "edgeq transformer test models (tools/make_transformer_models.py); goldens are "
                       "ONNX Runtime outputs for the inputs",
        "onnxruntime": ort_version,
        "models": entries,
    }
    (root / "manifest.json").write_text(manifest_json(manifest))
    log(f"wrote {root / 'manifest.json'} ({len(entries)} models)")


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def main(argv=None):
    opts = generator_options(argv, __doc__.split("\n")[0], "output root; models go to OUT/transformer/")
    if opts.list:
        print("\n".join(MODELS))
        return 0
    names = selected_models(opts.only, MODELS, "make_transformer_models.py")
    import torch

    torch.set_num_threads(1)
    out_dir = opts.out.resolve() / "transformer"
    out_dir.mkdir(parents=True, exist_ok=True)
    log("transformer models")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            make_model(name, out_dir, opts, tmp)
    if opts.manifest:
        write_manifest(out_dir, opts.ort_dir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as err:
        print(f"make_transformer_models.py: error: {err}", file=sys.stderr)
        sys.exit(1)

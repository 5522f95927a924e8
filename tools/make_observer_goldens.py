#!/usr/bin/env python3
"""Writes test/data/quant/observer_goldens.json: PyTorch's observers on deterministic data.

The C++ test (test/quant_observer_test.cc) regenerates the same float32 batches from
the specs stored here (a counter-based splitmix64 stream; see batch_data), feeds them
to edgeq's observers, and compares min/max, scales and zero points with what
torch.ao.quantization computed.

Observers: MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
MovingAveragePerChannelMinMaxObserver, HistogramObserver. HistogramObserver runs twice:
as shipped in PyTorch 1.13 (which passes int(min), int(max) to torch.histc), and with
the float edges every other release uses; the second is obtained by making int() of a
float tensor return its float value inside torch's observer module, nothing else
changes.

Usage: /usr/bin/python3 tools/make_observer_goldens.py [--out test/data/quant/observer_goldens.json]
"""
import argparse
import builtins
import json
import os
import warnings

import numpy as np
import torch
import torch.ao.quantization.observer as obs_mod

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MASK = (1 << 64) - 1


def mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniforms(seed, count):
    """count values k * 2^-24, k in [0, 2^24): exact in float32 and float64."""
    with np.errstate(over="ignore"):
        base = mix64(np.array([seed], dtype=np.uint64))[0]
        state = base + (np.arange(count, dtype=np.uint64) + np.uint64(1)) * GOLDEN
        bits = mix64(state) >> np.uint64(40)
    return bits.astype(np.float64) * 2.0 ** -24


def batch_data(spec):
    """float32 values for one batch spec: dist in normal|uniform|relu|outlier|constant."""
    n = int(np.prod(spec["shape"]))
    dist = spec["dist"]
    if dist == "uniform":
        v = 2.0 * uniforms(spec["seed"], n) - 1.0
    elif dist == "constant":
        v = np.zeros(n)
    else:  # Irwin-Hall(12) - 6: mean 0, variance 1, exact in float64
        v = uniforms(spec["seed"], 12 * n).reshape(n, 12).sum(axis=1) - 6.0
        if dist == "relu":
            v = np.maximum(v, 0.0)
        elif dist == "outlier":
            idx = np.arange(n)
            v[idx % 509 == 0] = 25.0
            v[idx % 509 == 254] = -18.0
    x = v.astype(np.float32) * np.float32(spec["scale"]) + np.float32(spec["offset"])
    return x.reshape(spec["shape"])


SCHEMES = [  # (name, dtype, symmetric, narrow, reduce)
    ("u8", torch.quint8, False, False, False),
    ("u8_reduce", torch.quint8, False, False, True),
    ("s8", torch.qint8, False, False, False),
    ("s8_reduce", torch.qint8, False, False, True),
    ("s8_narrow", torch.qint8, False, True, False),
    ("s8_sym", torch.qint8, True, False, False),
    ("s8_sym_reduce", torch.qint8, True, False, True),
    ("s8_sym_narrow", torch.qint8, True, True, False),
    ("s8_sym_narrow_reduce", torch.qint8, True, True, True),
    ("u8_sym", torch.quint8, True, False, False),
]


def make(cls, dtype, symmetric, narrow, reduce, per_channel, **kw):
    if per_channel:
        qscheme = torch.per_channel_symmetric if symmetric else torch.per_channel_affine
    else:
        qscheme = torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine
    if narrow:
        kw.update(quant_min=-127, quant_max=127)
    return cls(dtype=dtype, qscheme=qscheme, reduce_range=reduce, **kw)


def scheme_json(name, dtype, symmetric, narrow, reduce):
    return {"name": name, "dtype": "s8" if dtype == torch.qint8 else "u8", "symmetric": symmetric,
            "narrow": narrow, "reduce": reduce}


def floats(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def run_minmax_family(kind, batches, options):
    per_channel = kind in ("per_channel_minmax", "moving_average_per_channel")
    cls = {"minmax": obs_mod.MinMaxObserver,
           "moving_average": obs_mod.MovingAverageMinMaxObserver,
           "per_channel_minmax": obs_mod.PerChannelMinMaxObserver,
           "moving_average_per_channel": obs_mod.MovingAveragePerChannelMinMaxObserver}[kind]
    kw = {}
    if "averaging_constant" in options:
        kw["averaging_constant"] = options["averaging_constant"]
    if per_channel:
        kw["ch_axis"] = options["axis"]
    results = []
    for name, dtype, sym, narrow, reduce in SCHEMES:
        if dtype == torch.quint8 and sym and reduce:
            continue  # PyTorch refuses it
        o = make(cls, dtype, sym, narrow, reduce, per_channel, **kw)
        for b in batches:
            o(torch.from_numpy(batch_data(b)))
        scale, zp = o.calculate_qparams()
        r = scheme_json(name, dtype, sym, narrow, reduce)
        r.update(min=floats(o.min_val), max=floats(o.max_val), scale=floats(scale), zero_point=[int(z) for z in zp.reshape(-1)])
        results.append(r)
    return {}, results


def float_edges_int(v):
    if isinstance(v, torch.Tensor) and v.is_floating_point():
        return float(v)
    return builtins.int(v)


def run_histogram(batches, options):
    kw = dict(bins=options.get("bins", 2048), upsample_rate=options.get("upsample", 128))
    patched = not options.get("int_edges", False)
    if patched:
        obs_mod.int = float_edges_int
    try:
        base = obs_mod.HistogramObserver(**kw)
        for b in batches:
            base(torch.from_numpy(batch_data(b)))
    finally:
        if patched:
            del obs_mod.int
    h = base.histogram.double()
    state = {"hist_min": float(base.min_val), "hist_max": float(base.max_val), "hist_total": float(h.sum()),
             "hist_moment": float((h * torch.arange(len(h), dtype=torch.double)).sum())}
    new_min, new_max = base._non_linear_param_search()
    state.update(search_min=float(new_min), search_max=float(new_max))
    results = []
    for name, dtype, sym, narrow, reduce in SCHEMES:
        if dtype == torch.quint8 and sym and reduce:
            continue
        o = make(obs_mod.HistogramObserver, dtype, sym, narrow, reduce, False, **kw)
        scale, zp = o._calculate_qparams(new_min, new_max)  # what calculate_qparams does after the search
        r = scheme_json(name, dtype, sym, narrow, reduce)
        r.update(scale=floats(scale), zero_point=[int(z) for z in zp.reshape(-1)])
        results.append(r)
    return state, results


def batch(seed, shape, dist, scale=1.0, offset=0.0):
    return {"seed": seed, "shape": shape, "dist": dist, "scale": scale, "offset": offset}


def cases():
    growing = [batch(11, [4, 256], "normal", 0.5), batch(12, [4, 256], "normal", 1.0),
               batch(13, [2, 300], "uniform", 3.0, 0.5), batch(14, [1024], "normal", 2.0, -0.25)]
    relu = [batch(21, [2, 512], "relu", 0.8), batch(22, [2, 512], "relu", 1.7), batch(23, [700], "relu", 1.1)]
    small = [batch(31, [1500], "uniform", 0.3, 0.1), batch(32, [1500], "uniform", 0.45, -0.05),
             batch(33, [900], "normal", 0.2)]
    outlier = [batch(41, [4096], "outlier", 0.5), batch(42, [4096], "outlier", 0.5, 0.2)]
    shrinking = [batch(51, [3000], "normal", 2.0, 1.0), batch(52, [3000], "normal", 0.5, 1.0),
                 batch(53, [3000], "normal", 0.25, 1.0)]
    constant_first = [batch(61, [64], "constant", 1.0, 0.75), batch(62, [2048], "normal", 1.5)]
    single = [batch(71, [8, 8, 8], "normal", 1.3, 0.2)]
    conv_w = [batch(81, [6, 3, 3, 5], "normal", 0.05)]
    act_nhwc = [batch(91, [2, 4, 4, 7], "normal", 1.0, 0.3), batch(92, [2, 4, 4, 7], "relu", 2.0),
                batch(93, [1, 4, 4, 7], "uniform", 1.5, -0.2)]
    out = []
    for kind in ("minmax", "moving_average"):
        for label, bs in (("growing", growing), ("relu", relu), ("small", small), ("outlier", outlier),
                          ("shrinking", shrinking)):
            out.append({"name": f"{kind}_{label}", "observer": kind, "options": {}, "batches": bs})
    out.append({"name": "moving_average_c0.1", "observer": "moving_average",
                "options": {"averaging_constant": 0.1}, "batches": shrinking})
    out.append({"name": "per_channel_minmax_conv_axis0", "observer": "per_channel_minmax", "options": {"axis": 0},
                "batches": conv_w})
    out.append({"name": "per_channel_minmax_nhwc_axis3", "observer": "per_channel_minmax", "options": {"axis": 3},
                "batches": act_nhwc})
    out.append({"name": "per_channel_minmax_axis1", "observer": "per_channel_minmax", "options": {"axis": 1},
                "batches": act_nhwc})
    out.append({"name": "moving_average_per_channel_axis3", "observer": "moving_average_per_channel",
                "options": {"axis": 3, "averaging_constant": 0.05}, "batches": act_nhwc})
    for label, bs in (("single", single), ("growing", growing), ("relu", relu), ("small", small),
                      ("outlier", outlier), ("shrinking", shrinking), ("constant_first", constant_first)):
        out.append({"name": f"histogram_{label}", "observer": "histogram", "options": {}, "batches": bs})
    for label, bs in (("growing", growing), ("small", small), ("outlier", outlier)):
        out.append({"name": f"histogram_1_13_{label}", "observer": "histogram", "options": {"int_edges": True},
                    "batches": bs})
    out.append({"name": "histogram_256bins_growing", "observer": "histogram",
                "options": {"bins": 256, "upsample": 16}, "batches": growing})
    return out


# Ranges for _calculate_qparams alone: zero, tiny, one-sided, round-half-even ties of
# the zero point (min / scale = -2.5, -3.5), scales near eps.
RANGES = [(0.0, 0.0), (-1e-9, 1e-9), (1e-30, 2e-30), (-5.0, -1.0), (0.25, 7.5), (-2.5, 252.5), (-3.5, 251.5),
          (-1.0, 1.0), (-0.3, 2.7), (-127.0, 128.0), (-1e-5, 3e-5), (-123.456, 0.001), (-6.0, 6.0000005),
          (-7e-6, 1e-7), (-1e30, 3e30)]


def qparams_goldens():
    out = []
    for lo, hi in RANGES:
        mn, mx = torch.tensor(lo, dtype=torch.float32), torch.tensor(hi, dtype=torch.float32)
        for name, dtype, sym, narrow, reduce in SCHEMES:
            if dtype == torch.quint8 and sym and reduce:
                continue
            o = make(obs_mod.MinMaxObserver, dtype, sym, narrow, reduce, False)
            scale, zp = o._calculate_qparams(mn, mx)
            r = scheme_json(name, dtype, sym, narrow, reduce)
            r.update(min=float(mn), max=float(mx), scale=float(scale), zero_point=int(zp))
            out.append(r)
    return out


def weight_goldens():
    """Per-channel symmetric int8 narrow-range weights and int32 biases, ONNX rounding."""
    out = []
    for spec, s_in in ((batch(101, [6, 3, 3, 4], "normal", 0.07), 0.02), (batch(102, [5, 17], "outlier", 0.3), 0.5),
                       (batch(103, [3, 1, 1, 8], "uniform", 1e-3), 1.5e-2)):
        w = batch_data(spec)
        o = obs_mod.PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                             quant_min=-127, quant_max=127)
        o(torch.from_numpy(w))
        scale, _ = o.calculate_qparams()
        s = scale.numpy().astype(np.float32)
        bshape = [-1] + [1] * (w.ndim - 1)
        q = np.clip(np.round(w / s.reshape(bshape)), -127, 127).astype(np.int64)  # float32 division, half even
        tq = torch.quantize_per_channel(torch.from_numpy(w), scale, torch.zeros(len(s), dtype=torch.int64), 0,
                                        torch.qint8).int_repr().numpy()
        bias = batch_data(batch(spec["seed"] + 50, [w.shape[0]], "normal", 0.4))
        bias_scale = np.float32(s_in) * s
        qb = np.round(bias / bias_scale).astype(np.int64)
        out.append({"weights": spec, "bias": batch(spec["seed"] + 50, [w.shape[0]], "normal", 0.4),
                    "input_scale": s_in, "scale": floats(scale), "q": q.reshape(-1).tolist(),
                    "torch_quantize_per_channel_differs": int((tq != q).sum()), "bias_q": qb.tolist()})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "test", "data", "quant", "observer_goldens.json"))
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    result = {"torch_version": torch.__version__, "qparams": qparams_goldens(), "weights": weight_goldens(),
              "cases": []}
    for case in cases():
        if case["observer"] == "histogram":
            state, results = run_histogram(case["batches"], case["options"])
        else:
            state, results = run_minmax_family(case["observer"], case["batches"], case["options"])
        case = dict(case, state=state, results=results)
        result["cases"].append(case)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(result['cases'])} cases to {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()

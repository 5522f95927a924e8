"""edgeq from Python: convert, run, calibrate, report and benchmark int8 models.

The compiled module ``edgeq._edgeq`` (pybind11, python/module.cc) binds edgeq's C++
runtime, ONNX importer and calibrator; this file gives them their public shape::

    edgeq.convert("model.onnx", "model_f32.edgeq")             # ONNX -> .edgeq
    cal = edgeq.Calibrator("model_f32.edgeq", method="histogram")
    cal.calibrate(loader)                                        # observe a DataLoader
    cal.fallback(loader, count=2)                                # 2 most sensitive layers stay float
    cal.quantize("model_int8.edgeq")                             # write the int8 model
    session = edgeq.Model("model_int8.edgeq").session(threads=1)
    logits, = session.run({"input": images})                    # float in, float out
    report = edgeq.quant_report("model_f32.edgeq", "model_int8.edgeq", loader)
    figures = edgeq.bench("model_int8.edgeq", profile=True)

Arrays: float32 NumPy arrays (or CPU ``torch.Tensor``s) of each input's exact shape,
C-contiguous; quantized inputs are quantized for you, or take their own dtype (int8 or
uint8) as raw values; integer inputs (int64 / int32: token ids, attention masks) take
int64 or int32 arrays, never float. Errors raise a subclass of ``edgeq.Error`` named after edgeq's
status (``InvalidArgument``, ``InvalidModel``, ``Unsupported``, ``IoError``,
``OutOfMemory``, ``InternalError``) with edgeq's message.

How the steps map to a PyTorch quantization workflow (torch.ao.quantization):
``prepare`` + running the model on data is ``Calibrator(...)`` + ``calibrate(data)``;
numeric-suite style sensitivity and keeping layers in float is ``fallback(...)``;
``convert`` is ``quantize(path)``; ``quantize_dynamic`` is ``quantize_dynamic``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _edgeq
from ._edgeq import (Error, InternalError, InvalidArgument, InvalidModel, IoError, OutOfMemory,
                     Unsupported)

__version__ = _edgeq.__version__

__all__ = [
    "Error", "InvalidArgument", "InvalidModel", "Unsupported", "IoError", "OutOfMemory", "InternalError",
    "TensorInfo", "NodeInfo", "Model", "Session", "convert", "from_torch", "Calibrator", "quantize_dynamic",
    "ErrorStats", "LayerReport", "QuantReport", "quant_report", "LatencyStats", "NodeProfile", "OpTypeProfile",
    "BenchResult", "bench",
]

PathLike = Union[str, "os.PathLike[str]"]
ArrayLike = Any  # numpy.ndarray or torch.Tensor
METHODS = ("minmax", "ema", "histogram", "percentile", "entropy", "mse")


# --------------------------------------------------------------------------- model, session

@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: name, NumPy dtype, shape and quantization parameters.

    ``scales`` / ``zero_points`` are empty for float tensors, one entry for per-tensor
    quantization, one per channel (along ``axis``) otherwise."""
    name: str
    dtype: np.dtype
    shape: Tuple[int, ...]
    scales: Tuple[float, ...]
    zero_points: Tuple[int, ...]
    axis: int

    @property
    def quantized(self) -> bool:
        return len(self.scales) > 0

    @property
    def scale(self) -> Optional[float]:
        """The per-tensor scale, or None for float or per-channel tensors."""
        return self.scales[0] if len(self.scales) == 1 else None

    @property
    def zero_point(self) -> Optional[int]:
        """The per-tensor zero point, or None for float or per-channel tensors."""
        return self.zero_points[0] if len(self.zero_points) == 1 else None


@dataclasses.dataclass(frozen=True)
class NodeInfo:
    """A node of the graph: its name (what ``exclude`` takes), op and tensor names."""
    name: str
    op: str
    inputs: Tuple[str, ...]
    outputs: Tuple[str, ...]


def _infos(dicts: Sequence[Dict[str, Any]]) -> List[TensorInfo]:
    return [TensorInfo(**d) for d in dicts]


def _fspath(path: PathLike) -> str:
    return os.fspath(path)


def _as_array(value: Any) -> Any:
    """A torch.Tensor as a NumPy array over the same memory (CPU, no copy); else as is."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        return t.numpy()
    return value


class Model:
    """A loaded ``.edgeq`` model: ``Model(path)`` maps the file, ``Model(bytes)`` copies
    the bytes. Both verify the whole file. Immutable, so any number of sessions on any
    threads may share it. ``close()`` (or ``with Model(...) as m:``) releases it; sessions
    made from it keep their own reference and go on working."""

    def __init__(self, source: Union[PathLike, bytes, bytearray, memoryview]):
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._m = _edgeq.Model.load_bytes(source)
            self.path: Optional[str] = None
        else:
            self.path = _fspath(source)
            self._m = _edgeq.Model.load_file(self.path)

    @property
    def inputs(self) -> List[TensorInfo]:
        return _infos(self._m.inputs)

    @property
    def outputs(self) -> List[TensorInfo]:
        return _infos(self._m.outputs)

    @property
    def nodes(self) -> List[NodeInfo]:
        return [NodeInfo(d["name"], d["op"], tuple(d["inputs"]), tuple(d["outputs"])) for d in self._m.nodes]

    @property
    def producer(self) -> str:
        return self._m.producer

    @property
    def file_bytes(self) -> int:
        return self._m.file_bytes

    @property
    def closed(self) -> bool:
        return self._m.closed

    @property
    def is_float(self) -> bool:
        """True when every input is float32 (a model to calibrate)."""
        return all(i.dtype == np.float32 for i in self.inputs)

    def session(self, threads: int = 1, isa: Optional[str] = None) -> "Session":
        """A new session: ``threads`` 1 runs on the calling thread, 0 one per core;
        ``isa`` forces a kernel level ("ref", "avx2", "avxvnni", "avx512vnni", "amx", "neon",
        "neondot", "neoni8mm"), None picks the best the CPU runs."""
        return Session(self, threads=threads, isa=isa)

    def close(self) -> None:
        self._m.close()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<edgeq.Model (closed)>"
        return "<edgeq.Model %s: %d nodes, inputs %s>" % (
            self.path or "(from bytes)", len(self._m.nodes), [(i.name, i.shape) for i in self.inputs])


def _model(source: Union[Model, PathLike, bytes]) -> Model:
    return source if isinstance(source, Model) else Model(source)


class Session:
    """Everything one inference needs (the planned arena, packed weights, kernels).

    ``run`` releases the GIL, so several Python threads may run several sessions at
    once; one session serves one thread at a time (a concurrent second call raises)."""

    def __init__(self, model: Union[Model, PathLike], threads: int = 1, isa: Optional[str] = None):
        model = _model(model)
        self._s = _edgeq.Session(model._m, threads, isa or "")
        self._input_names = [i.name for i in self.inputs]
        self._output_names = [o.name for o in self.outputs]

    @property
    def inputs(self) -> List[TensorInfo]:
        return _infos(self._s.inputs)

    @property
    def outputs(self) -> List[TensorInfo]:
        return _infos(self._s.outputs)

    @property
    def isa(self) -> str:
        """The kernel level the session runs."""
        return self._s.isa

    @property
    def threads(self) -> int:
        return self._s.threads

    @property
    def arena_bytes(self) -> int:
        """Bytes of the planned arena (every intermediate tensor)."""
        return self._s.arena_bytes

    @property
    def packed_bytes(self) -> int:
        """Bytes this session's ops hold alone (indirection buffers, tables); the packed
        weights belong to the model and are shared by its sessions."""
        return self._s.packed_bytes

    @property
    def closed(self) -> bool:
        return self._s.closed

    def close(self) -> None:
        self._s.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _ordered(self, inputs: Any, args: Tuple[Any, ...]) -> List[Any]:
        if isinstance(inputs, Mapping):
            if args:
                raise InvalidArgument("give the inputs either as a dict or positionally, not both")
            unknown = sorted(set(inputs) - set(self._input_names))
            if unknown:
                raise InvalidArgument("no input named %s; the inputs are %s" % (unknown[0], self._input_names))
            missing = [n for n in self._input_names if n not in inputs]
            if missing:
                raise InvalidArgument("input '%s' is missing" % missing[0])
            return [_as_array(inputs[n]) for n in self._input_names]
        if isinstance(inputs, (list, tuple)) and not args:
            return [_as_array(x) for x in inputs]
        return [_as_array(x) for x in (inputs,) + args]

    def run(self, inputs: Any, *more: ArrayLike, raw: bool = False) -> List[np.ndarray]:
        """Runs the model once; returns one array per output, in output order.

        ``inputs``: a dict ``{name: array}``, a list or tuple of arrays in input order,
        or the arrays as positional arguments. Each array is float32 (quantized for a
        quantized input) or, for a quantized input, its own int8 / uint8 values; for an
        integer input (token ids, masks) int64 or int32 values; exactly the input's
        shape; C-contiguous. Arrays are read in place, never copied on the way.
        Outputs are float32 (dequantized), or with ``raw=True`` the tensor's own dtype
        (int8, uint8, int32 or float32); integer outputs are int64 either way.

        A Gather index outside its table (negative, or at least the table's rows)
        raises ``InvalidArgument`` naming the node and the index tensor."""
        return self._s.run(self._ordered(inputs, more), raw)

    def run_dict(self, inputs: Any, *more: ArrayLike, raw: bool = False) -> Dict[str, np.ndarray]:
        """``run``, with the outputs by name."""
        return dict(zip(self._output_names, self.run(inputs, *more, raw=raw)))

    def __repr__(self) -> str:
        if self.closed:
            return "<edgeq.Session (closed)>"
        return "<edgeq.Session isa=%s threads=%d arena=%d bytes>" % (self.isa, self.threads, self.arena_bytes)


# --------------------------------------------------------------------------- convert

def convert(onnx_path: PathLike, edgeq_path: PathLike, *, float_io: bool = False, batch: int = 1,
            requant: str = "fp32") -> Dict[str, int]:
    """Converts an ONNX model (float, QDQ or QOperator) to a ``.edgeq`` file, as
    ``edgeq convert`` does. ``float_io`` keeps float graph inputs and outputs on an int8
    model (quantized inside it); ``batch`` sets a symbolic batch dimension; ``requant``
    is "fp32" or "fixed". Returns the node, tensor and constant-byte counts."""
    return _edgeq.convert(_fspath(onnx_path), _fspath(edgeq_path), float_io, batch, requant)


def from_torch(module: Any, example_inputs: Any, edgeq_path: PathLike, *, input_names: Optional[List[str]] = None,
               output_names: Optional[List[str]] = None, opset: int = 13) -> Model:
    """A float ``.edgeq`` model from a ``torch.nn.Module``: exports it with
    ``torch.onnx.export`` on ``example_inputs`` (a tensor or a tuple of them; their
    shapes become the model's), converts the ONNX file and loads the result."""
    import torch  # only this helper needs PyTorch

    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    if input_names is None:
        input_names = ["input"] if len(example_inputs) == 1 else ["input%d" % i for i in range(len(example_inputs))]
    was_training = module.training
    module.eval()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = os.path.join(tmp, "model.onnx")
            with torch.no_grad():
                torch.onnx.export(module, example_inputs, onnx_path, input_names=input_names,
                                  output_names=output_names, opset_version=opset, do_constant_folding=True)
            convert(onnx_path, edgeq_path)
    finally:
        module.train(was_training)
    return Model(edgeq_path)


# --------------------------------------------------------------------------- data

class _Progress:
    """A progress bar on stderr: tqdm's when it is installed; else one line redrawn in
    place on a terminal, and a line at every tenth of the total (or one at the end)
    otherwise, as the edgeq tool does."""

    def __init__(self, label: str, total: Optional[int], enabled: bool):
        self.enabled, self.label, self.total, self.n = enabled, label, total, 0
        self.bar = None
        self.tty = enabled and sys.stderr.isatty()
        self.start = time.monotonic()
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=label, unit="batch", leave=False)
            except ImportError:
                pass

    def _line(self, end: str) -> None:
        total = "/%d" % self.total if self.total else ""
        sys.stderr.write("%s%s %d%s batches, %.1fs%s" % ("\r" if self.tty else "", self.label, self.n, total,
                                                         time.monotonic() - self.start, end))
        sys.stderr.flush()

    def update(self) -> None:
        self.n += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
        elif self.tty:
            self._line("")
        elif self.total and (10 * self.n) // self.total != (10 * (self.n - 1)) // self.total:
            self._line("\n")

    def close(self) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        elif self.tty:
            sys.stderr.write("\n")
        elif not self.total:
            self._line("\n")


def _batch_inputs(batch: Any, names: List[str]) -> List[Any]:
    """The model's inputs in one item of a data iterable: an array (one input), a dict
    by input name, or a tuple/list whose first len(names) items are the inputs (a
    DataLoader's (images, labels) gives the images)."""
    if isinstance(batch, Mapping):
        missing = [n for n in names if n not in batch]
        if missing:
            raise InvalidArgument("a data batch has no entry for input '%s'" % missing[0])
        return [batch[n] for n in names]
    if isinstance(batch, (list, tuple)):
        if len(batch) < len(names):
            raise InvalidArgument("a data batch holds %d items; the model has %d inputs" % (len(batch), len(names)))
        return list(batch[:len(names)])
    return [batch]


def _calibration_array(x: Any, info: TensorInfo) -> np.ndarray:
    """Data for one input as calibration takes it: float32 for a float input, int64 or
    int32 (kept as given) for an integer input such as token ids or a mask."""
    a = np.asarray(_as_array(x))
    if np.issubdtype(info.dtype, np.integer):
        if a.dtype in (np.int64, np.int32):
            return a
        if not np.issubdtype(a.dtype, np.integer):
            raise InvalidArgument("data for input '%s' has dtype %s; it is %s and takes integer data"
                                  % (info.name, a.dtype, info.dtype))
        return a.astype(np.int64)
    if a.dtype == np.float32:
        return a
    if not np.issubdtype(a.dtype, np.floating):
        raise InvalidArgument("data for input '%s' has dtype %s; calibration takes float data" % (info.name, a.dtype))
    return a.astype(np.float32)


def _model_batches(data: Iterable[Any], infos: List[TensorInfo], samples: Optional[int]) -> Iterator[List[np.ndarray]]:
    """Model-sized batches from any iterable of data batches: a batch of N samples for a
    model whose batch dimension is B is cut into N / B model runs (leftover samples wait
    for the next batch). Stops after ``samples`` samples when given."""
    names = [i.name for i in infos]
    b = infos[0].shape[0] if infos[0].shape else 1
    pending: List[List[np.ndarray]] = [[] for _ in infos]
    have, used = 0, 0
    for item in data:
        arrays = [_calibration_array(x, i) for x, i in zip(_batch_inputs(item, names), infos)]
        for a, info in zip(arrays, infos):
            if a.shape == info.shape:
                continue
            if a.shape[1:] != info.shape[1:] and a.shape != info.shape[1:]:
                raise InvalidArgument("data for input '%s' has shape %s; the model takes %s (or a batch of them)"
                                      % (info.name, a.shape, info.shape))
        arrays = [a[None] if a.ndim == len(i.shape) - 1 else a for a, i in zip(arrays, infos)]
        n = arrays[0].shape[0]
        if any(a.shape[0] != n for a in arrays):
            raise InvalidArgument("the inputs of a data batch have different batch sizes")
        for p, a in zip(pending, arrays):
            p.append(a)
        have += n
        while have >= b and (samples is None or used < samples):
            joined = [np.concatenate(p) if len(p) > 1 else p[0] for p in pending]
            yield [np.ascontiguousarray(j[:b]) for j in joined]
            pending = [[j[b:]] for j in joined]
            have -= b
            used += b
        if samples is not None and used >= samples:
            return


def _length(data: Any) -> Optional[int]:
    try:
        return len(data)
    except TypeError:
        return None


# --------------------------------------------------------------------------- calibration

class Calibrator:
    """Float model -> int8 model, in three steps named as PyTorch quantizers name them::

        cal = edgeq.Calibrator("model_f32.edgeq", method="histogram")   # prepare
        cal.calibrate(loader)                # run the float model, observe every activation
        cal.fallback(loader, count=2)        # optional: keep the most sensitive layers in float
        cal.quantize("model_int8.edgeq")     # convert: write the int8 model

    Options (every ``edgeq calibrate`` option): ``method`` ("minmax", "ema",
    "histogram", "percentile", "entropy", "mse"), ``per_channel`` weights (else per
    tensor), ``act_dtype`` ("uint8" or "int8"), ``requant`` ("fp32" or "fixed"),
    ``percentile``, ``exclude`` (node names kept in float), ``full_int8`` (transformers:
    LayerNorm, Softmax, GELU and residual Adds in int8 too instead of float islands
    between the int8 GEMMs), ``ema_constant`` and ``bins``
    (how statistics are collected: fixed at construction), ``threads`` and ``isa`` of
    the float runs. The statistics of every activation are kept, so ``quantize`` may be
    called again with other options; ``save_stats`` / ``load_stats`` cache them."""

    def __init__(self, model: Union[Model, PathLike], *, method: str = "minmax", per_channel: bool = True,
                 act_dtype: str = "uint8", requant: str = "fp32", percentile: float = 99.999,
                 exclude: Sequence[str] = (), full_int8: bool = False, ema_constant: float = 0.01,
                 bins: int = 2048, threads: int = 1, isa: Optional[str] = None):
        self.model = _model(model)
        self._threads, self._isa = threads, isa or ""
        self._c = _edgeq.Calibrator(self.model._m, threads, self._isa, ema_constant, bins)
        self.options: Dict[str, Any] = {}
        self.options = self._options(dict(method=method, per_channel=per_channel, act_dtype=act_dtype,
                                          requant=requant, percentile=percentile, exclude=list(exclude),
                                          full_int8=full_int8))
        self.float_nodes: List[str] = []  # chosen by fallback()

    def _options(self, options: Dict[str, Any]) -> Dict[str, Any]:
        """The constructor's options with these overrides, checked."""
        known = {"method", "per_channel", "act_dtype", "requant", "percentile", "exclude", "full_int8"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise InvalidArgument("unknown calibration option '%s' (options: %s)" % (unknown[0], sorted(known)))
        merged = dict(self.options, **options)
        if merged["method"] not in METHODS:
            raise InvalidArgument("unknown method '%s' (%s)" % (merged["method"], ", ".join(METHODS)))
        if isinstance(merged["exclude"], str):
            merged["exclude"] = [n for n in merged["exclude"].split(",") if n]
        return merged

    @property
    def batches(self) -> int:
        """Model runs observed so far (or read with load_stats)."""
        return self._c.batches

    def calibrate(self, data: Iterable[Any], *, samples: Optional[int] = None, progress: bool = True) -> int:
        """Runs the float model over ``data`` with an observer on every activation.

        ``data``: any iterable of batches (a ``torch.utils.data.DataLoader``, a list of
        arrays, a generator); a batch is an array or tensor, a tuple/list whose first
        items are the inputs (``(images, labels)``), or a dict by input name. Float
        inputs take float data, integer inputs (token ids, masks) int64 or int32 arrays.
        Batches of any size are cut to the model's batch size. ``samples`` stops after that many
        samples. Shows a progress bar on stderr unless ``progress=False``. Returns the
        number of model runs observed."""
        bar = _Progress("calibrating", _length(data), progress)
        runs = 0
        try:
            for batch in _model_batches(_counting(data, bar), self.model.inputs, samples):
                self._c.add_batch(batch)
                runs += 1
        finally:
            bar.close()
        if runs == 0:
            raise InvalidArgument("the calibration data held no complete model batch")
        return runs

    def save_stats(self, path: PathLike) -> None:
        """Writes the statistics to a file (to quantize again later without the data)."""
        self._c.save_stats(_fspath(path))

    def load_stats(self, path: PathLike) -> None:
        """Reads statistics saved by save_stats (or ``edgeq calibrate --stats``) for this model."""
        self._c.load_stats(_fspath(path))

    def _quantize(self, path: str, float_nodes: Sequence[str], options: Dict[str, Any]) -> bytes:
        o = self._options(options)
        return self._c.quantize(o["method"], bool(o["per_channel"]), o["act_dtype"], o["requant"],
                                float(o["percentile"]), list(o["exclude"]), list(float_nodes), bool(o["full_int8"]),
                                path)

    def fallback(self, data: Iterable[Any], count: int = 1, *, sqnr_db: Optional[float] = None,
                 samples: int = 200, progress: bool = True, **options: Any) -> List[str]:
        """Chooses the layers to keep in float (mixed precision): quantizes with the
        constructor's options (keyword options override them for this call), measures every layer's isolated error on ``data`` (up to
        ``samples`` samples), and keeps the ``count`` layers with the largest isolated
        MSE plus every layer whose isolated SQNR is below ``sqnr_db``. ``quantize`` then
        keeps them in float. Returns their node names (also in ``float_nodes``)."""
        if count < 0:
            raise InvalidArgument("count must be 0 or more")
        int8 = Model(self._quantize("", (), options))
        report = _edgeq.Report(self.model._m, int8._m, self._threads, self._isa)
        _fill_report(report, data, self.model.inputs, samples, "sensitivity", progress)
        self.float_nodes = report.choose_fallback(count, sqnr_db)
        return list(self.float_nodes)

    def quantize(self, path: Optional[PathLike] = None, **options: Any) -> Model:
        """Writes the int8 model to ``path`` (complete or not at all) and returns it
        loaded; without a path it stays in memory. Keyword options override the
        constructor's for this call. Layers chosen by ``fallback`` stay in float."""
        data = self._quantize(_fspath(path) if path is not None else "", self.float_nodes, options)
        return Model(_fspath(path)) if path is not None else Model(data)


def _counting(data: Iterable[Any], bar: _Progress) -> Iterator[Any]:
    for item in data:
        yield item
        bar.update()


def quantize_dynamic(model: Union[Model, PathLike], path: PathLike, *, per_channel: bool = True,
                     requant: str = "fp32", mode: str = "row") -> Model:
    """Dynamic quantization (as ``torch.ao.quantization.quantize_dynamic``): int8
    weights of every FullyConnected and constant-weight MatMul, activations quantized
    at run time (also both sides of a MatMul of two activations); no data needed.
    ``mode``: "row" (each row its own scale, the accurate one) or "tensor" (ONNX
    Runtime's DynamicQuantizeLinear, per tensor). Writes ``path`` and returns the model."""
    if mode not in ("row", "tensor"):
        raise InvalidArgument("unknown dynamic mode '%s' (row, tensor)" % mode)
    _edgeq.quantize_dynamic(_model(model)._m, per_channel, requant, mode, _fspath(path))
    return Model(path)


# --------------------------------------------------------------------------- reports

@dataclasses.dataclass(frozen=True)
class ErrorStats:
    """One comparison of int8 against float values: SQNR in dB (10 log10(sum f^2 /
    sum (f - q)^2), infinite when equal), cosine similarity, mean squared error, and
    the number of values compared."""
    sqnr_db: float
    cosine: float
    mse: float
    count: int


@dataclasses.dataclass(frozen=True)
class LayerReport:
    """One layer: ``isolated`` is the layer's own error (it runs alone in int8 on the
    float model's values of its inputs), ``propagated`` the error accumulated through
    the network. A layer kept in float (``quantized`` False) has only propagated figures."""
    node: str
    op: str
    tensor: str
    quantized: bool
    isolated: ErrorStats
    propagated: ErrorStats


@dataclasses.dataclass(frozen=True)
class QuantReport:
    """Every compared layer in execution order, the samples compared and, for a
    classifier (one [batch, classes] output), how many agree on the top-1 class.
    ``outputs``: per float model output name, the int8 model's output at the same
    position against it (the end-to-end figure; count 0 for an integer output)."""
    layers: List[LayerReport]
    samples: int
    classifier: bool
    top1_agreement: int
    outputs: Dict[str, ErrorStats] = dataclasses.field(default_factory=dict)

    @property
    def top1_agreement_pct(self) -> Optional[float]:
        if not self.classifier or self.samples == 0:
            return None
        return 100.0 * self.top1_agreement / self.samples

    def worst(self, n: Optional[int] = None) -> List[LayerReport]:
        """Layers sorted by propagated SQNR, worst first (as ``edgeq quant-report`` prints them)."""
        layers = sorted(self.layers, key=lambda l: l.propagated.sqnr_db)
        return layers if n is None else layers[:n]


def _fill_report(report: Any, data: Iterable[Any], infos: List[TensorInfo], samples: Optional[int], label: str,
                 progress: bool) -> None:
    bar = _Progress(label, None, progress)
    try:
        for batch in _model_batches(data, infos, samples):
            report.add_batch(batch)
            bar.update()
    finally:
        bar.close()


def quant_report(float_model: Union[Model, PathLike], int8_model: Union[Model, PathLike], data: Iterable[Any], *,
                 samples: Optional[int] = None, threads: int = 1, isa: Optional[str] = None,
                 progress: bool = True) -> QuantReport:
    """Per-layer SQNR, cosine similarity and MSE of an int8 model against the float model
    it came from, isolated and propagated, over ``data`` (batches as for
    ``Calibrator.calibrate``), as ``edgeq quant-report`` measures them."""
    fm, qm = _model(float_model), _model(int8_model)
    r = _edgeq.Report(fm._m, qm._m, threads, isa or "")
    _fill_report(r, data, fm.inputs, samples, "comparing", progress)

    def stats(d: Dict[str, Any]) -> ErrorStats:
        return ErrorStats(float(d["sqnr_db"]), float(d["cosine"]), float(d["mse"]), int(d["count"]))

    layers = [LayerReport(d["node"], d["op"], d["tensor"], bool(d["quantized"]), stats(d["isolated"]),
                          stats(d["propagated"])) for d in r.layers()]
    outputs = {d["name"]: stats(d) for d in r.outputs()}
    return QuantReport(layers, int(r.samples), bool(r.classifier), int(r.top1_agreement), outputs)


# --------------------------------------------------------------------------- bench

@dataclasses.dataclass(frozen=True)
class LatencyStats:
    """Milliseconds per run: median, nearest-rank p90 and p99, and the rest."""
    min: float
    median: float
    mean: float
    p90: float
    p99: float
    max: float
    stddev: float


@dataclasses.dataclass(frozen=True)
class NodeProfile:
    """One node's median time over the timed runs and its share of their sum."""
    index: int
    name: str
    op: str
    output_shape: str
    kernel: str
    median_ms: float
    share_pct: float
    macs: int
    gmac_per_s: float


@dataclasses.dataclass(frozen=True)
class OpTypeProfile:
    """The nodes of one op type, summed."""
    op: str
    count: int
    median_ms: float
    share_pct: float
    macs: int
    gmac_per_s: float


@dataclasses.dataclass(frozen=True)
class BenchResult:
    """The figures of ``edgeq bench`` (its ``--json`` fields, from the same code): latency over the timed
    runs, memory (arena, packed weights, constants, the process's peak RSS), the ISA
    level, threads and kernels, and with ``profile`` the per-node and per-op tables
    (slowest first)."""
    latency_ms: LatencyStats
    samples_ms: List[float]
    runs: int
    warmup: int
    first_run_ms: float
    warmup_mean_ms: float
    cpu_ms_per_run: float
    load_ms: Optional[float]
    session_ms: float
    model_bytes: int
    nodes: int
    cpu: str
    isa: str
    threads: int
    arena_bytes: int
    packed_bytes: int
    constant_bytes: int
    peak_rss_bytes: int
    macs: int
    gmac_per_s: float
    kernels: Dict[str, int]
    profile: List[NodeProfile]
    op_types: List[OpTypeProfile]


def bench(model: Union[Model, PathLike], *, threads: int = 1, isa: Optional[str] = None, warmup: int = 10,
          runs: int = 100, min_time: float = 0.0, profile: bool = False) -> BenchResult:
    """Measures a model as ``edgeq bench`` does: fixed-seed random inputs, ``warmup``
    untimed runs, then ``runs`` timed runs (more until ``min_time`` seconds of them),
    with ``profile`` every node timed. The GIL is released while it runs."""
    load_ms = None
    if not isinstance(model, Model):
        t0 = time.perf_counter()
        model = Model(model)
        load_ms = 1000.0 * (time.perf_counter() - t0)
    d = json.loads(_edgeq.bench(model._m, threads, isa or "", warmup, runs, min_time, profile))
    prof = d.get("profile", {})
    return BenchResult(
        latency_ms=LatencyStats(**d["latency_ms"]), samples_ms=list(d["samples_ms"]), runs=d["runs"],
        warmup=d["warmup"], first_run_ms=d["first_run_ms"], warmup_mean_ms=d["warmup_mean_ms"],
        cpu_ms_per_run=d["cpu_ms_per_run"], load_ms=load_ms, session_ms=d["session_ms"],
        model_bytes=d["model_bytes"], nodes=d["nodes"], cpu=d["cpu"], isa=d["isa"], threads=d["threads"],
        arena_bytes=d["arena_bytes"], packed_bytes=d["packed_bytes"], constant_bytes=d["constant_bytes"],
        peak_rss_bytes=d["peak_rss_bytes"], macs=d["macs"], gmac_per_s=d["gmac_per_s"], kernels=dict(d["kernels"]),
        profile=[NodeProfile(**n) for n in prof.get("nodes", [])],
        op_types=[OpTypeProfile(**t) for t in prof.get("op_types", [])])

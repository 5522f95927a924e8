"""edgeq.convert, Model, Session: running models from Python, checked against the edgeq
tool on the same files (outputs equal bit for bit), and every error path raising."""

import gc
import os
import threading

import numpy as np
import pytest

import edgeq
from conftest import DATA


def first_batch(session, path):
    """The model's batch of the NPY file's samples (its leading rows)."""
    x = np.load(path)
    return np.ascontiguousarray(x[: session.inputs[0].shape[0]])


def cli_outputs(cli, work, model, x, name):
    """`edgeq run` on x: its float output (the tool's reference route)."""
    inp = os.path.join(work, name + ".in.npy")
    out = os.path.join(work, name + ".out.npy")
    np.save(inp, x)
    cli("run", model, "--input", inp, "--output", out)
    return np.load(out)


def test_convert_returns_counts(small, work):
    info = edgeq.convert(os.path.join(DATA, "small_qdq.onnx"), os.path.join(work, "again.edgeq"))
    assert info["nodes"] > 0 and info["tensors"] > info["nodes"] and info["constant_bytes"] > 0


def test_run_equals_cli(small, cli, work):
    for kind, inp in (("int8", "input"), ("float", "float_input")):
        s = edgeq.Model(small[kind]).session()
        x = first_batch(s, small[inp])
        (y,) = s.run(x)
        assert y.dtype == np.float32 and y.shape == s.outputs[0].shape
        np.testing.assert_array_equal(y, cli_outputs(cli, work, small[kind], x, "run_" + kind))


def test_input_forms_and_inspection(small):
    m = edgeq.Model(small["int8"])
    s = m.session(threads=2)
    (i,), (o,) = s.inputs, s.outputs
    assert [t.name for t in m.inputs] == [i.name] and m.outputs[0].shape == o.shape
    assert i.dtype == np.uint8 or i.dtype == np.int8
    assert i.quantized and i.scale > 0 and len(i.zero_points) == 1 and o.quantized
    assert s.threads == 2 and s.arena_bytes > 0 and s.packed_bytes > 0 and s.isa
    assert m.file_bytes == os.path.getsize(small["int8"]) and m.producer and m.nodes[0].op
    x = first_batch(s, small["input"])
    (ref,) = s.run(x)
    np.testing.assert_array_equal(s.run({i.name: x})[0], ref)
    np.testing.assert_array_equal(s.run([x])[0], ref)
    np.testing.assert_array_equal(s.run_dict(x)[o.name], ref)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(s.run(torch.from_numpy(x))[0], ref)


def test_raw_io(small):
    s = edgeq.Model(small["int8"]).session()
    (i,), (o,) = s.inputs, s.outputs
    x = first_batch(s, small["input"])
    (ref,) = s.run(x)
    # Quantize as the runtime does (round half to even, saturate): the raw route must agree.
    info = np.iinfo(i.dtype)
    q = np.clip(np.rint(x / np.float32(i.scale)) + i.zero_point, info.min, info.max).astype(i.dtype)
    (raw,) = s.run(q, raw=True)
    assert raw.dtype == o.dtype
    deq = (raw.astype(np.float32) - np.float32(o.zero_point)) * np.float32(o.scale)
    np.testing.assert_array_equal(deq, ref)
    np.testing.assert_array_equal(s.run(q)[0], ref)


def test_model_from_bytes(small):
    with open(small["int8"], "rb") as f:
        data = f.read()
    a = edgeq.Model(small["int8"]).session()
    b = edgeq.Model(data).session()
    x = first_batch(a, small["input"])
    np.testing.assert_array_equal(a.run(x)[0], b.run(x)[0])


def test_two_inputs(work):
    path = os.path.join(work, "add_two_inputs.edgeq")
    edgeq.convert(os.path.join(DATA, "ops", "add_two_inputs.onnx"), path)
    s = edgeq.Model(path).session()
    a = np.load(os.path.join(DATA, "ops", "add_two_inputs.input0.npy"))
    b = np.load(os.path.join(DATA, "ops", "add_two_inputs.input1.npy"))
    names = [i.name for i in s.inputs]
    (y,) = s.run(a, b)
    np.testing.assert_array_equal(s.run({names[1]: b, names[0]: a})[0], y)
    with pytest.raises(edgeq.InvalidArgument, match="missing"):
        s.run({names[0]: a})
    with pytest.raises(edgeq.InvalidArgument, match="2 input"):
        s.run(a)


def test_errors_are_exceptions(small, work):
    s = edgeq.Model(small["int8"]).session()
    x = first_batch(s, small["input"])
    with pytest.raises(edgeq.InvalidArgument, match="dtype float64"):
        s.run(x.astype(np.float64))
    with pytest.raises(ValueError, match="dtype int32"):  # InvalidArgument is a ValueError too
        s.run(x.astype(np.int32))
    with pytest.raises(edgeq.InvalidArgument, match="shape"):
        s.run(x[:, :, :-1])
    wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), np.float32)
    with pytest.raises(edgeq.InvalidArgument, match="not C-contiguous"):
        s.run(wide[..., ::2])
    with pytest.raises(edgeq.InvalidArgument, match="numpy.ndarray"):
        s.run([x.tolist()])
    with pytest.raises(edgeq.InvalidArgument, match="no input named"):
        s.run({"nope": x})
    with pytest.raises(edgeq.IoError):
        edgeq.Model(os.path.join(work, "missing.edgeq"))
    with pytest.raises(OSError):
        edgeq.convert(os.path.join(work, "missing.onnx"), os.path.join(work, "x.edgeq"))
    with open(small["int8"], "rb") as f:
        data = bytearray(f.read())
    with pytest.raises(edgeq.InvalidModel):
        edgeq.Model(bytes(data[: len(data) // 2]))
    corrupt = os.path.join(work, "corrupt.edgeq")
    with open(corrupt, "wb") as f:
        f.write(b"not an edgeq file at all" * 4)
    with pytest.raises(edgeq.InvalidModel):
        edgeq.Model(corrupt)
    with pytest.raises(edgeq.InvalidArgument, match="threads"):
        edgeq.Model(small["int8"]).session(threads=-1)
    with pytest.raises((edgeq.Unsupported, edgeq.InvalidArgument)):
        edgeq.Model(small["int8"]).session(isa="no-such-level")
    assert issubclass(edgeq.InvalidModel, edgeq.Error) and issubclass(edgeq.IoError, OSError)


def test_closed_model_and_orphaned_session(small):
    m = edgeq.Model(small["int8"])
    s = m.session()
    x = first_batch(s, small["input"])
    (ref,) = s.run(x)
    m.close()
    assert m.closed
    with pytest.raises(edgeq.InvalidArgument, match="closed"):
        m.session()
    with pytest.raises(edgeq.InvalidArgument, match="closed"):
        m.inputs
    # The session keeps its own reference to the model, as in the C API.
    del m
    gc.collect()
    np.testing.assert_array_equal(s.run(x)[0], ref)
    with edgeq.Model(small["int8"]).session() as t:
        t.run(x)
    assert t.closed
    with pytest.raises(edgeq.InvalidArgument, match="closed"):
        t.run(x)


def test_threads_run_sessions_at_once(small):
    m = edgeq.Model(small["int8"])
    probe = m.session()
    x = first_batch(probe, small["input"])
    (ref,) = probe.run(x)
    results, errors = [], []

    def worker(seed):
        try:
            s = m.session()
            rng = np.random.default_rng(seed)
            for _ in range(30):
                noise = rng.standard_normal(x.shape).astype(np.float32)
                s.run(noise)  # other inputs in between: each session keeps to its own
                results.append(s.run(x)[0])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 120
    for y in results:
        np.testing.assert_array_equal(y, ref)


def test_one_session_shared_by_threads_never_races(small):
    s = edgeq.Model(small["int8"]).session()
    x = first_batch(s, small["input"])
    (ref,) = s.run(x)
    outcomes, lock = [], threading.Lock()

    def worker():
        for _ in range(50):
            try:
                y = s.run(x)[0]
                ok = np.array_equal(y, ref)
            except edgeq.InvalidArgument as e:  # the session was busy on the other thread
                ok = "another thread" in str(e)
            with lock:
                outcomes.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 100 and all(outcomes)


def test_run_releases_the_gil(small):
    """While one thread is inside run (the GIL released), another thread gets to call
    the same session and is told it is busy. Were the GIL held through the run, the
    second call could only ever come between runs, and never see it busy."""
    s = edgeq.Model(small["int8"]).session()
    x = first_batch(s, small["input"])
    stop = threading.Event()

    def runner():
        while not stop.is_set():
            s.run(x)

    t = threading.Thread(target=runner)
    t.start()
    busy = 0
    try:
        for _ in range(20000):
            try:
                s.run(x)
            except edgeq.InvalidArgument as e:
                assert "another thread" in str(e)
                busy += 1
                break
    finally:
        stop.set()
        t.join()
    assert busy == 1


def test_bench_figures(small):
    m = edgeq.Model(small["int8"])
    r = edgeq.bench(m, runs=5, warmup=1, profile=True)
    lat = r.latency_ms
    assert r.runs == 5 and len(r.samples_ms) == 5
    assert 0 < lat.min <= lat.median <= lat.p90 <= lat.p99 <= lat.max
    assert r.arena_bytes == m.session().arena_bytes and r.isa == m.session().isa and r.threads == 1
    assert len(r.profile) == len(m.nodes) and r.op_types
    assert abs(sum(n.share_pct for n in r.profile) - 100.0) < 1e-6
    assert sum(t.count for t in r.op_types) == len(m.nodes)
    assert r.macs > 0 and r.peak_rss_bytes > 0 and sum(r.kernels.values()) == len(m.nodes)
    assert r.profile[0].median_ms >= r.profile[-1].median_ms  # slowest first
    assert edgeq.bench(small["int8"], runs=2, warmup=0).load_ms is not None

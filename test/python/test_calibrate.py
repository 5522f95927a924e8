"""edgeq.Calibrator, quantize_dynamic, quant_report, from_torch: the package's int8
models equal the edgeq tool's on the same data and options (same outputs, bit for bit),
for every observer method and option; reports are data equal to the tool's figures."""

import os
import re
import sys

import numpy as np
import pytest

import edgeq
from conftest import calibration_samples


@pytest.fixture(scope="module")
def calib(small, work):
    """A calibration set of the float model's input shape, as arrays and as one NPY."""
    shape = edgeq.Model(small["float"]).inputs[0].shape
    samples = calibration_samples(12, shape=shape)
    path = os.path.join(work, "calib.npy")
    np.save(path, np.concatenate(samples))
    return samples, path


def outputs_on(model, samples):
    s = (model if isinstance(model, edgeq.Model) else edgeq.Model(model)).session()
    return [s.run(x)[0] for x in samples]


def assert_same_model(a, b, samples):
    for x, y in zip(outputs_on(a, samples), outputs_on(b, samples)):
        np.testing.assert_array_equal(x, y)


def test_calibrate_equals_cli_every_method_and_option(small, work, calib, cli):
    samples, npy = calib
    cal = edgeq.Calibrator(small["float"])
    assert cal.calibrate(samples, progress=False) == len(samples) and cal.batches == len(samples)
    stats = os.path.join(work, "py.stats")
    cal.save_stats(stats)
    cases = [dict(method=m) for m in edgeq.METHODS] + [
        dict(method="histogram", per_channel=False),
        dict(method="minmax", act_dtype="int8"),
        dict(method="minmax", requant="fixed"),
        dict(method="percentile", percentile=99.9),
        dict(method="minmax", full_int8=True),
    ]
    for i, o in enumerate(cases):
        py_out = os.path.join(work, "py_%d.edgeq" % i)
        cli_out = os.path.join(work, "cli_%d.edgeq" % i)
        q = cal.quantize(py_out, **o)
        assert q.outputs[0].quantized or q.outputs[0].dtype == np.float32
        flags = ["--method", o["method"]]
        if o.get("per_channel") is False:
            flags.append("--per-tensor")
        if "act_dtype" in o:
            flags += ["--act-dtype", o["act_dtype"]]
        if "requant" in o:
            flags += ["--requant", o["requant"]]
        if "percentile" in o:
            flags += ["--percentile", o["percentile"]]
        if o.get("full_int8"):
            flags.append("--full-int8")
        # The tool reads the package's statistics file: the two share the format.
        cli("calibrate", small["float"], "--stats", stats, *flags, "-o", cli_out)
        assert_same_model(py_out, cli_out, samples[:3])
    # The statistics round-trip: a new calibrator loaded from the file gives the same model.
    other = edgeq.Calibrator(small["float"], method="minmax")
    other.load_stats(stats)
    assert_same_model(other.quantize(os.path.join(work, "reloaded.edgeq")).path, os.path.join(work, "py_0.edgeq"),
                      samples[:3])


def test_calibrate_from_data_equals_cli_data_route(small, work, calib, cli):
    samples, npy = calib
    py_out, cli_out = os.path.join(work, "data_py.edgeq"), os.path.join(work, "data_cli.edgeq")
    cal = edgeq.Calibrator(small["float"], method="histogram")
    cal.calibrate(samples, progress=False)
    cal.quantize(py_out)
    cli("calibrate", small["float"], "--data", npy, "--method", "histogram", "-o", cli_out)
    assert_same_model(py_out, cli_out, samples[:3])


def test_collection_options_equal_cli(small, work, calib, cli):
    samples, npy = calib
    cal = edgeq.Calibrator(small["float"], method="ema", ema_constant=0.2, bins=256)
    cal.calibrate(samples, progress=False)
    cal.quantize(os.path.join(work, "ema_py.edgeq"))
    cli("calibrate", small["float"], "--data", npy, "--method", "ema", "--ema-constant", "0.2", "--bins", "256",
        "-o", os.path.join(work, "ema_cli.edgeq"))
    assert_same_model(os.path.join(work, "ema_py.edgeq"), os.path.join(work, "ema_cli.edgeq"), samples[:3])
    cal.quantize(os.path.join(work, "hist_py.edgeq"), method="histogram")
    cli("calibrate", small["float"], "--data", npy, "--method", "histogram", "--ema-constant", "0.2", "--bins", "256",
        "-o", os.path.join(work, "hist_cli.edgeq"))
    assert_same_model(os.path.join(work, "hist_py.edgeq"), os.path.join(work, "hist_cli.edgeq"), samples[:3])


def test_batches_of_any_size_and_torch_loader(small, calib):
    torch = pytest.importorskip("torch")
    samples, _ = calib
    a = edgeq.Calibrator(small["float"])
    a.calibrate(samples, progress=False)
    b = edgeq.Calibrator(small["float"])
    stacked = torch.from_numpy(np.concatenate(samples))
    labels = torch.zeros(stacked.shape[0], dtype=torch.int64)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(stacked, labels), batch_size=5)
    batch = samples[0].shape[0]
    # DataLoader batches of 5 samples are cut into model batches; leftovers wait for the next.
    assert b.calibrate(loader) == len(samples)
    c = edgeq.Calibrator(small["float"])
    assert c.calibrate((one for x in samples for one in x), progress=False) == len(samples)  # unbatched samples
    d = edgeq.Calibrator(small["float"])
    assert d.calibrate([np.concatenate(samples)], samples=2 * batch, progress=False) == 2
    ref = a.quantize()
    for other in (b, c):
        assert_same_model(ref, other.quantize(), samples[:2])


def test_calibration_errors(small, calib):
    samples, _ = calib
    cal = edgeq.Calibrator(small["float"])
    with pytest.raises(edgeq.InvalidArgument, match="no statistics"):
        cal.quantize()
    with pytest.raises(edgeq.InvalidArgument, match="shape"):
        cal.calibrate([np.zeros((1, 5, 5), np.float32)], progress=False)
    with pytest.raises(edgeq.InvalidArgument, match="float data"):
        cal.calibrate([samples[0].astype(np.int32)], progress=False)
    with pytest.raises(edgeq.InvalidArgument, match="no complete model batch"):
        cal.calibrate([], progress=False)
    cal.calibrate(samples[:2], progress=False)
    with pytest.raises(edgeq.InvalidArgument, match="unknown method"):
        cal.quantize(method="kl")
    with pytest.raises(edgeq.InvalidArgument, match="no node named"):
        cal.quantize(exclude=["nope"])
    with pytest.raises(edgeq.InvalidArgument, match="unknown calibration option"):
        cal.quantize(colour="red")
    with pytest.raises(edgeq.InvalidArgument, match="not a float model"):
        edgeq.Calibrator(small["int8"])
    with pytest.raises(edgeq.IoError):
        cal.load_stats("/nonexistent/stats")


def test_exclude_fallback_and_dynamic_equal_cli(small, work, calib, cli):
    samples, npy = calib
    model = edgeq.Model(small["float"])
    conv = [n.name for n in model.nodes if n.op == "Conv2D"][0]
    cal = edgeq.Calibrator(model, exclude=[conv])
    cal.calibrate(samples, progress=False)
    ex = cal.quantize(os.path.join(work, "ex_py.edgeq"))
    assert any(n.op == "Dequantize" for n in ex.nodes)
    cli("calibrate", small["float"], "--data", npy, "--exclude", conv, "-o", os.path.join(work, "ex_cli.edgeq"))
    assert_same_model(ex.path, os.path.join(work, "ex_cli.edgeq"), samples[:3])

    cal = edgeq.Calibrator(model)
    cal.calibrate(samples, progress=False)
    kept = cal.fallback(samples, count=1, progress=False)
    assert len(kept) == 1 and kept == cal.float_nodes
    cal.quantize(os.path.join(work, "fb_py.edgeq"))
    _, err = cli("calibrate", small["float"], "--data", npy, "--fallback", "1", "-o", os.path.join(work, "fb_cli.edgeq"))
    assert re.search(r"kept in float: (.*)", err).group(1).split() == kept
    assert_same_model(os.path.join(work, "fb_py.edgeq"), os.path.join(work, "fb_cli.edgeq"), samples[:3])

    kept = cal.fallback(samples, count=0, sqnr_db=1000.0, progress=False)  # every quantized layer is below
    assert len(kept) > 1
    _, err = cli("calibrate", small["float"], "--data", npy, "--fallback-sqnr", "1000", "-o",
                 os.path.join(work, "fbs_cli.edgeq"))
    assert re.search(r"kept in float: (.*)", err).group(1).split() == kept

    dyn = edgeq.quantize_dynamic(small["float"], os.path.join(work, "dyn_py.edgeq"))
    cli("calibrate", small["float"], "--dynamic", "-o", os.path.join(work, "dyn_cli.edgeq"))
    assert_same_model(dyn.path, os.path.join(work, "dyn_cli.edgeq"), samples[:3])
    with pytest.raises(edgeq.InvalidArgument):
        edgeq.quantize_dynamic(small["float"], os.path.join(work, "dyn_bad.edgeq"), mode="column")


def test_quant_report_equals_cli(small, work, calib, cli):
    samples, npy = calib
    cal = edgeq.Calibrator(small["float"])
    cal.calibrate(samples, progress=False)
    q = cal.quantize(os.path.join(work, "rep.edgeq"))
    r = edgeq.quant_report(small["float"], q, samples, progress=False)
    assert r.samples == sum(x.shape[0] for x in samples) and r.layers
    for layer in r.layers:
        assert layer.quantized and layer.isolated.count > 0 and -1.0 <= layer.propagated.cosine <= 1.0000001
        assert layer.isolated.mse >= 0
    out, _ = cli("quant-report", small["float"], q.path, "--data", npy)
    rows = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 7:
            rows[parts[0]] = parts
    assert len(rows) == len(r.layers)
    for layer in r.worst():
        cells = rows[layer.node]
        assert cells[1] == layer.op
        assert cells[2] == "%.2f" % layer.isolated.sqnr_db and cells[4] == "%.2f" % layer.propagated.sqnr_db
        assert float(cells[3]) == pytest.approx(layer.isolated.cosine, abs=1e-5)
    if r.classifier:
        m = re.search(r"top-1 agreement with the float model: [0-9.]+% \((\d+) of (\d+)", out)
        assert (int(m.group(1)), int(m.group(2))) == (r.top1_agreement, r.samples)
    worst = r.worst(2)
    assert len(worst) == 2 and worst[0].propagated.sqnr_db <= worst[1].propagated.sqnr_db


def test_from_torch(work):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(8, 5))
    x = torch.randn(1, 3, 16, 16)
    m = edgeq.from_torch(net, x, os.path.join(work, "torch_net.edgeq"))
    assert m.is_float and m.inputs[0].shape == (1, 3, 16, 16) and m.inputs[0].name == "input"
    with torch.no_grad():
        ref = net(x).numpy()
    np.testing.assert_allclose(m.session().run(x)[0], ref, rtol=1e-4, atol=1e-5)
    assert net.training  # the helper puts the module back in its mode


def test_progress_without_tqdm(small, calib, monkeypatch, capsys):
    samples, _ = calib
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `from tqdm import tqdm` raises ImportError
    cal = edgeq.Calibrator(small["float"])
    cal.calibrate(samples[:10])
    err = capsys.readouterr().err
    assert "calibrating 1/10 batches" in err and "calibrating 10/10 batches" in err
    cal.calibrate(iter(samples[:3]))  # no length: one line at the end
    assert "calibrating 3 batches" in capsys.readouterr().err

"""Calibration and quant_report of a model with integer inputs from Python: token ids
and a mask (int64 or int32 arrays) in dict or tuple batches. The model is
test/data/gather_ids.edgeq (ids[2, 5] gather rows of a 10 x 4 table, an s64 mask cast to
float). The int8 model equals the edgeq tool's on the same data (one NPY per input),
tracks the float model, and wrong ids are exceptions naming the input."""

import os

import numpy as np
import pytest

import edgeq
from conftest import DATA

MODEL = os.path.join(DATA, "gather_ids.edgeq")


def id_batches(n, seed=3):
    rng = np.random.default_rng(seed)
    return [{"input_ids": rng.integers(0, 10, (2, 5)).astype(np.int64),
             "attention_mask": rng.integers(0, 2, (2, 5)).astype(np.int64)} for _ in range(n)]


def test_calibrate_ids_equals_cli_and_tracks_float(work, cli):
    batches = id_batches(8)
    cal = edgeq.Calibrator(MODEL, method="histogram")
    assert cal.calibrate(batches, progress=False) == 8
    q = cal.quantize(os.path.join(work, "ids_py.edgeq"))
    assert [t.dtype for t in q.inputs] == [np.int64, np.int64]
    ids = np.concatenate([b["input_ids"] for b in batches])
    mask = np.concatenate([b["attention_mask"] for b in batches])
    np.save(os.path.join(work, "ids.npy"), ids)
    np.save(os.path.join(work, "mask.npy"), mask)
    cli_out = os.path.join(work, "ids_cli.edgeq")
    cli("calibrate", MODEL, "--data", os.path.join(work, "ids.npy"), os.path.join(work, "mask.npy"),
        "--method", "histogram", "-o", cli_out)
    fs, qs, cs = edgeq.Model(MODEL).session(), q.session(), edgeq.Model(cli_out).session()
    table_step = 0.0
    for b in id_batches(4, seed=11):
        f = fs.run(b)
        y, c = qs.run(b), cs.run(b)
        for a, e in zip(y, c):
            np.testing.assert_array_equal(a, e)
        table_step = max(table_step, float(np.abs(y[0] - f[0]).max()))
        np.testing.assert_array_equal(y[1], f[1])  # the mask, cast to float, stays exact
    assert table_step < 0.02  # half the uint8 step of the table (values 0 to 9.75)
    # int32 ids and tuple batches give the same statistics.
    other = edgeq.Calibrator(MODEL, method="histogram")
    other.calibrate([(b["input_ids"].astype(np.int32), b["attention_mask"]) for b in batches], progress=False)
    q32 = other.quantize(os.path.join(work, "ids_py32.edgeq"))
    b = id_batches(1, seed=12)[0]
    np.testing.assert_array_equal(q32.session().run(b)[0], qs.run(b)[0])
    r = edgeq.quant_report(MODEL, q, id_batches(4, seed=13), progress=False)
    assert r.layers and all(np.isfinite(layer.propagated.sqnr_db) for layer in r.layers)
    names = [o.name for o in edgeq.Model(MODEL).outputs]
    assert list(r.outputs) == names and [r.outputs[n].count for n in names] == [4 * 40, 4 * 10]
    assert r.outputs[names[1]].sqnr_db == float("inf")  # the mask, cast to float: exact
    assert 40 < r.outputs[names[0]].sqnr_db < float("inf")  # the uint8 table


def test_wrong_ids_in_calibration_are_exceptions():
    cal = edgeq.Calibrator(MODEL)
    good = id_batches(1)[0]
    with pytest.raises(edgeq.InvalidArgument, match="'input_ids'.*integer"):
        cal.calibrate([{"input_ids": good["input_ids"].astype(np.float32), "attention_mask": good["attention_mask"]}],
                      progress=False)
    bad = dict(good, input_ids=good["input_ids"].copy())
    bad["input_ids"][0, 0] = 10
    with pytest.raises(edgeq.InvalidArgument, match=r"'input_ids'.*outside \[-10, 10\)"):
        cal.calibrate([bad], progress=False)
    with pytest.raises(edgeq.InvalidArgument, match="no entry for input 'attention_mask'"):
        cal.calibrate([{"input_ids": good["input_ids"]}], progress=False)
    assert cal.batches == 0

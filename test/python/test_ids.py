"""Integer inputs from Python: token ids and masks (int64 / int32 arrays) through
Session.run, the errors for an id outside a Gather's table and for float or misshapen
ids, and edgeq.bench drawing valid ids. The model is test/data/gather_ids.edgeq (see
test/gather_test.cc): ids[2, 5] gather rows of a 10 x 4 table, an s64 mask is cast to
float."""

import os

import numpy as np
import pytest

import edgeq
from conftest import DATA

MODEL = os.path.join(DATA, "gather_ids.edgeq")
TABLE = np.arange(10, dtype=np.float32)[:, None] + 0.25 * np.arange(4, dtype=np.float32)[None, :]
IDS = np.array([[0, 9, 3, 3, 1], [2, 2, 8, 7, 0]], dtype=np.int64)
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=np.int64)


def test_ids_and_mask_as_int64_and_int32():
    m = edgeq.Model(MODEL)
    s = m.session(threads=2)
    assert [t.dtype for t in s.inputs] == [np.int64, np.int64]
    assert [t.name for t in s.inputs] == ["input_ids", "attention_mask"]
    emb, mask_f = s.run({"input_ids": IDS, "attention_mask": MASK})
    assert emb.dtype == np.float32 and emb.shape == (2, 5, 4)
    np.testing.assert_array_equal(emb, TABLE[IDS])
    np.testing.assert_array_equal(mask_f, MASK.astype(np.float32))
    emb32, mask32 = s.run(IDS.astype(np.int32), MASK.astype(np.int32))
    np.testing.assert_array_equal(emb32, emb)
    np.testing.assert_array_equal(mask32, mask_f)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(s.run(torch.from_numpy(IDS), torch.from_numpy(MASK))[0], emb)


@pytest.mark.parametrize("bad", [10, -11, 1 << 40, -(1 << 62), np.iinfo(np.int64).max])  # -10..-1: from the end
def test_id_outside_the_table_raises(bad):
    s = edgeq.Model(MODEL).session()
    ids = IDS.copy()
    ids[1, 3] = bad
    with pytest.raises(edgeq.InvalidArgument, match=r"'input_ids'.*outside \[-10, 10\)") as e:
        s.run(ids, MASK)
    assert "word_embeddings" in str(e.value) and str(bad) in str(e.value)
    s.run(IDS, MASK)  # the session still runs valid ids
    if -(1 << 31) <= bad < (1 << 31):
        with pytest.raises(edgeq.InvalidArgument, match="input_ids"):
            s.run(ids.astype(np.int32), MASK)


def test_wrong_ids_are_exceptions():
    s = edgeq.Model(MODEL).session()
    with pytest.raises(edgeq.InvalidArgument, match="'input_ids'.*float32.*int64 or int32"):
        s.run(IDS.astype(np.float32), MASK)
    with pytest.raises(edgeq.InvalidArgument, match="'attention_mask'.*uint8"):
        s.run(IDS, MASK.astype(np.uint8))
    with pytest.raises(edgeq.InvalidArgument, match="'input_ids'.*shape"):
        s.run(IDS[:, :4].copy(), MASK)
    with pytest.raises(edgeq.InvalidArgument, match="not C-contiguous"):
        s.run(np.asfortranarray(IDS), MASK)


def test_bench_draws_valid_ids():
    r = edgeq.bench(MODEL, warmup=1, runs=3)
    assert r.runs == 3 and r.nodes == 2 and len(r.samples_ms) == 3


def test_bool_padding_mask(cli, work):
    """A bool key-padding-mask input (nn.TransformerEncoder's src_key_padding_mask) takes
    a numpy bool array (or 0/1 integers) and gives ONNX Runtime's output."""
    base = os.path.join(DATA, "transformer", "encoder_padmask")
    path = os.path.join(work, "encoder_padmask.edgeq")
    cli("convert", base + ".onnx", "-o", path)
    x, pad = np.load(base + ".input0.npy"), np.load(base + ".input1.npy")
    gold = np.load(base + ".ort.npy")
    s = edgeq.Model(path).session()
    assert [t.dtype for t in s.inputs] == [np.float32, np.bool_]
    y = s.run(x, pad)[0]
    np.testing.assert_allclose(y, gold, atol=1e-5)
    np.testing.assert_array_equal(s.run(x, pad.astype(np.int64))[0], y)
    unpadded = s.run(x, np.zeros_like(pad))[0]
    assert np.abs(unpadded - y).max() > 1e-3  # the mask changes the output
    with pytest.raises(edgeq.InvalidArgument, match="'pad'.*int64 or int32 values or bools"):
        s.run(x, pad.astype(np.float32))

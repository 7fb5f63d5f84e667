"""State dicts as .safetensors files: round trips, the reference implementation reads ours (and we read
its), and crafted files fail clearly. The reference package ``safetensors`` is optional: that part skips
without it (``pip install safetensors``)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu.nn as nn


def test_safetensors_round_trip_and_interoperability(tmp_path):
    from tinygrad_edu.export import load_safetensors, save_safetensors

    model = nn.Sequential(nn.Conv2d(1, 2, 3, seed=0), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3, seed=1))
    state = {**model.state_dict(), "steps": np.arange(3, dtype=np.int32), "mask": np.array([True, False]),
             "half": np.ones((2, 2), np.float16), "big_endian": np.arange(3.0).astype(">f8")}
    path = save_safetensors(state, tmp_path / "w.safetensors", metadata={"epoch": "3"})
    back = load_safetensors(path)
    assert list(back) == list(state)
    for key, value in state.items():
        np.testing.assert_array_equal(back[key], value)
        assert back[key].dtype == value.dtype.newbyteorder("=") and back[key].flags.writeable
    save_safetensors(model, tmp_path / "m.safetensors")  # a Module saves its state_dict
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    fresh.load_state_dict(load_safetensors(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(fresh[0].weight.data, model[0].weight.data)
    st = pytest.importorskip("safetensors.numpy")  # the reference implementation reads ours, and we read its
    theirs = st.load_file(str(path))
    for key, value in state.items():
        np.testing.assert_array_equal(theirs[key], value)
    st.save_file({"a": np.arange(6.0).reshape(2, 3), "b": np.zeros(4, np.float32)}, str(tmp_path / "t.safetensors"))
    ours = load_safetensors(tmp_path / "t.safetensors")
    np.testing.assert_array_equal(ours["a"], np.arange(6.0).reshape(2, 3))
    assert ours["b"].dtype == np.float32


def test_safetensors_bad_files_fail_clearly(tmp_path):
    import json
    import struct

    from tinygrad_edu.checkpoint import CheckpointError
    from tinygrad_edu.export import load_safetensors, save_safetensors

    def write(name: str, header: dict, data: bytes) -> str:
        text = json.dumps(header).encode()
        (tmp_path / name).write_bytes(struct.pack("<Q", len(text)) + text + data)
        return str(tmp_path / name)

    huge = write("huge.safetensors", {"x": {"dtype": "F64", "shape": [10**11], "data_offsets": [0, 8 * 10**11]}}, b"")
    with pytest.raises(CheckpointError, match="outside the data"):
        load_safetensors(huge)
    liar = write("liar.safetensors", {"x": {"dtype": "F64", "shape": [3], "data_offsets": [0, 8]}}, bytes(8))
    with pytest.raises(CheckpointError, match=r"declares shape \(3,\) of float64 but spans 8 bytes"):
        load_safetensors(liar)
    odd = write("odd.safetensors", {"x": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8))
    with pytest.raises(CheckpointError, match="malformed header entry for 'x'"):
        load_safetensors(odd)
    (tmp_path / "short.safetensors").write_bytes(b"\xff" * 12)
    with pytest.raises(CheckpointError, match="header in a 12-byte file"):
        load_safetensors(tmp_path / "short.safetensors")
    big = write("big.safetensors", {"x": {"dtype": "U8", "shape": [100], "data_offsets": [0, 100]}}, bytes(100))
    with pytest.raises(CheckpointError, match="more than max_bytes=10"):
        load_safetensors(big, max_bytes=10)
    with pytest.raises(CheckpointError, match="expected a .safetensors path"):
        save_safetensors({"x": np.ones(1)}, tmp_path / "x.npz")
    with pytest.raises(CheckpointError, match=r"'s' holds <U1 data; safetensors stores"):
        save_safetensors({"s": np.array(["a"])}, tmp_path / "s.safetensors")
    assert not (tmp_path / "s.safetensors").exists()

"""Checkpoints: .npz round trip, atomic writes, and every error case."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu.checkpoint import CheckpointError, load, save


def model(seed: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 2, 3, seed=seed), nn.Flatten(), nn.Linear(8, 3, seed=seed + 1))


def test_round_trip_module_and_state(tmp_path):
    a, b = model(0), model(1)
    path = tmp_path / "ckpt.npz"
    assert save(a, path) == path
    state = load(path)
    assert list(state) == [n for n, _ in a.named_parameters()]
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(state[key], value)
        assert state[key].dtype == value.dtype
    load(path, into=b)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    # a plain mapping (with a Tensor and a float32 array) works too; top-level re-exports
    tg.save({"w": tg.Tensor([1.0, 2.0]), "v": np.zeros((2, 2), np.float32)}, str(tmp_path / "s.npz"))
    s = tg.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(s["w"], [1.0, 2.0])
    assert s["v"].dtype == np.float32
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz", "s.npz"]  # no temporary files left behind


def test_load_into_a_model_with_other_keys_or_shapes_fails_clearly(tmp_path):
    path = tmp_path / "m.npz"
    save(model(0), path)
    with pytest.raises(nn.StateDictError, match=r"unexpected keys \['0.weight', '0.bias'"):
        load(path, into=nn.Linear(8, 3))
    other = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 4))
    with pytest.raises(nn.StateDictError, match=r"'2.weight' \(model expects \(4, 8\), state has \(3, 8\)\)"):
        load(path, into=other)
    bigger = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3), nn.Linear(3, 1))
    with pytest.raises(nn.StateDictError, match=r"missing keys \['3.weight', '3.bias'\]"):
        load(path, into=bigger)


def test_paths_must_be_npz_and_exist(tmp_path):
    with pytest.raises(CheckpointError, match=r"checkpoints are .npz files.*'.pt'"):
        save(model(0), tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="checkpoints are .npz files"):
        load(tmp_path / "m.npy")
    with pytest.raises(FileNotFoundError, match="no checkpoint file at"):
        load(tmp_path / "absent.npz")
    with pytest.raises(FileNotFoundError, match="directory .* does not exist"):
        save(model(0), tmp_path / "no" / "m.npz")
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(IsADirectoryError, match=r"save: .*d.npz' is a directory; pass a file path"):
        save(model(0), tmp_path / "d.npz")
    with pytest.raises(IsADirectoryError, match=r"load: .*d.npz' is a directory, not a checkpoint file"):
        load(tmp_path / "d.npz")
    assert sorted(os.listdir(tmp_path)) == ["d.npz"]  # no temporary file left behind


def test_corrupt_and_foreign_files_are_rejected(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(CheckpointError, match="not a valid .npz checkpoint|malformed"):
        load(garbage)
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(CheckpointError, match="single .npy array"):
        load(single)
    truncated = tmp_path / "truncated.npz"
    save(model(0), truncated)
    truncated.write_bytes(truncated.read_bytes()[:100])
    with pytest.raises(CheckpointError):
        load(truncated)


def test_loading_never_unpickles(tmp_path):
    # an object array is stored with pickle by numpy; load must refuse it instead of running it
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="allow_pickle=False"):
        load(path)
    with pytest.raises(CheckpointError, match="object data; checkpoints store only numeric arrays"):
        save({"payload": np.array([{"x": 1}], dtype=object)}, tmp_path / "o.npz")
    with pytest.raises(TypeError, match="expected a Module or a mapping"):
        save([1, 2], tmp_path / "l.npz")


def test_write_is_atomic_a_crash_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = model(0)
    save(old, path)
    before = path.read_bytes()

    def crash(f, **arrays):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save(model(1), path)
    assert path.read_bytes() == before  # the previous checkpoint is intact
    assert os.listdir(tmp_path) == ["m.npz"]  # and the temporary file was removed
    monkeypatch.undo()
    state = load(path)
    np.testing.assert_array_equal(state["2.weight"], old[2].weight.data)


def test_optimiser_and_schedule_round_trip_through_a_file(tmp_path):
    from tinygrad_edu import optim

    net = model(0)
    opt, other = optim.Adam(net.parameters(), lr=0.01), optim.Adam(net.parameters(), lr=0.5)
    net(tg.Tensor(np.ones((4, 1, 4, 4)))).sum().backward()
    opt.step()
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    sched.step()
    sched.step()
    save(opt, tmp_path / "opt.npz")
    save(sched, tmp_path / "sched.npz")
    load(tmp_path / "opt.npz", into=other)
    assert other.lr == opt.lr == 0.005 and other.state[0]["step"] == 1
    np.testing.assert_array_equal(other.state[0]["V"], opt.state[0]["V"])
    sched2 = optim.StepLR(other, step_size=2, gamma=0.5)
    load(tmp_path / "sched.npz", into=sched2)
    assert sched2.last_epoch == 2 and sched2.step() == sched.step()
    with pytest.raises(TypeError, match="into= must have a load_state_dict method"):
        load(tmp_path / "opt.npz", into=[1])

"""Checkpoints: .npz round trip, atomic writes, and every error case."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
    with pytest.raises(CheckpointError, match=r"\['payload'\] holds a object array; checkpoints store arrays"):
        save({"payload": np.array([{"x": 1}], dtype=object)}, tmp_path / "o.npz")


def test_write_is_atomic_a_crash_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = model(0)
    save(old, path)
    before = path.read_bytes()

    def crash(f, array, **kwargs):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
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


# ---------------------------------------------------------------------- nested checkpoints (issue 19)


def _train_steps(net: nn.Module, opt: object, sched: object, steps: int, start: int) -> list[float]:
    """A few deterministic Adam steps on fixed data; step k uses batch k (so resuming must know the step)."""
    losses = []
    for k in range(start, start + steps):
        rng = np.random.default_rng(k)
        x, y = rng.normal(size=(8, 1, 4, 4)), rng.normal(size=(8, 3))
        opt.zero_grad()
        loss = nn.mse_loss(net(tg.Tensor(x)), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.data))
    return losses


def test_nested_training_checkpoint_round_trips_every_leaf(tmp_path):
    from tinygrad_edu import optim

    net = model(0)
    opt = optim.Adam(net.parameters(), lr=0.01)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    _train_steps(net, opt, sched, 2, 0)
    ckpt = {
        "model": net.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "epoch": 3,
        "best": float("inf"),
        "lr_history": [0.01, 0.005],
        "betas": (0.9, 0.999),
        "notes": "résumé ✓",
        "flags": {"done": False, "early_stop": None},
        "per_class": {0: np.float32(0.25), 1: np.int64(7)},
        "w": tg.Tensor([1.0, 2.0], requires_grad=True),
        "empty": {"list": [], "dict": {}, "array": np.zeros((0, 3))},
    }
    path = save(ckpt, tmp_path / "run.npz")
    back = load(path)
    assert list(back) == list(ckpt)
    assert back["epoch"] == 3 and type(back["epoch"]) is int
    assert back["best"] == float("inf") and back["lr_history"] == [0.01, 0.005]
    assert back["betas"] == (0.9, 0.999) and type(back["betas"]) is tuple
    assert back["notes"] == "résumé ✓" and back["flags"] == {"done": False, "early_stop": None}
    assert list(back["per_class"]) == [0, 1]  # int keys stay ints (optimiser state is keyed by index)
    assert back["per_class"][0] == np.float32(0.25) and back["per_class"][0].dtype == np.float32
    assert back["per_class"][1].dtype == np.int64
    assert isinstance(back["w"], tg.Tensor) and back["w"].requires_grad
    np.testing.assert_array_equal(back["w"].data, [1.0, 2.0])
    assert back["empty"]["list"] == [] and back["empty"]["dict"] == {} and back["empty"]["array"].shape == (0, 3)
    for key, value in ckpt["model"].items():
        np.testing.assert_array_equal(back["model"][key], value)
        assert back["model"][key].dtype == value.dtype

    def same(a, b):  # whatever layout opt.state_dict() has, every leaf must come back equal
        assert type(a) is type(b) or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)), (a, b)
        if isinstance(a, dict):
            assert list(a) == list(b)
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                same(x, y)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype and a.shape == b.shape
        else:
            assert a == b

    same(ckpt["optimizer"], back["optimizer"])
    same(ckpt["scheduler"], back["scheduler"])
    # a plain numpy reader sees every array, and never needs pickle
    with np.load(path, allow_pickle=False) as raw:
        assert "model/0.weight" in raw.files and "__checkpoint__" in raw.files


def test_resumed_training_equals_uninterrupted_training_step_for_step(tmp_path):
    from tinygrad_edu import optim

    def fresh():
        net = model(0)
        opt = optim.Adam(net.parameters(), lr=0.01)
        return net, opt, optim.StepLR(opt, step_size=2, gamma=0.5)

    net, opt, sched = fresh()
    straight = _train_steps(net, opt, sched, 6, 0)

    net1, opt1, sched1 = fresh()
    first = _train_steps(net1, opt1, sched1, 3, 0)
    ckpt = {"model": net1.state_dict(), "optimizer": opt1.state_dict(), "scheduler": sched1.state_dict(), "step": 3}
    save(ckpt, tmp_path / "c.npz")
    del net1, opt1, sched1
    net2, opt2, sched2 = fresh()
    ckpt = load(tmp_path / "c.npz")
    net2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    second = _train_steps(net2, opt2, sched2, 3, ckpt["step"])
    assert first + second == straight  # the same losses, bit for bit
    for a, b in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_unsupported_objects_name_their_key_path(tmp_path):
    path = tmp_path / "c.npz"
    with pytest.raises(CheckpointError, match=r"cannot store object at \['run'\]\['extras'\]\[1\]"):
        save({"run": {"extras": [1, object()]}}, path)
    with pytest.raises(CheckpointError, match=r"cannot store set at \['tags'\]"):
        save({"tags": {"a"}}, path)
    with pytest.raises(CheckpointError, match=r"key \(1, 2\) \(tuple\) at \['m'\] is not a string or an int"):
        save({"m": {(1, 2): 3}}, path)
    loop: list = []
    loop.append(loop)
    with pytest.raises(CheckpointError, match=r"\['x'\]\[0\]\[0\] contains itself"):
        save({"x": [loop]}, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_files_written_before_the_index_still_load(tmp_path):
    path = tmp_path / "old.npz"
    weights = {"0.weight": np.arange(6.0).reshape(2, 3), "0.bias": np.zeros(2, np.float32)}
    np.savez(path, **weights)  # what save() wrote before nested checkpoints existed
    back = load(path, into=nn.Sequential(nn.Linear(3, 2)))
    assert list(back) == ["0.weight", "0.bias"]
    np.testing.assert_array_equal(back["0.weight"], weights["0.weight"])
    assert back["0.bias"].dtype == np.float32
    compressed = tmp_path / "compressed.npz"
    np.savez_compressed(compressed, **weights)
    np.testing.assert_array_equal(load(compressed)["0.weight"], weights["0.weight"])


# ---------------------------------------------------------------------- issue 13 findings 12, 15, 16, 24


def test_keys_named_like_savez_keywords_survive(tmp_path):
    # finding 12: np.savez(file, **state) lost "allow_pickle" and raised TypeError for "file"
    state = {"allow_pickle": np.ones(2), "file": np.zeros(3), "args": np.array(1.0), "kwds": 4}
    back = load(save(state, tmp_path / "k.npz"))
    assert list(back) == list(state)
    np.testing.assert_array_equal(back["allow_pickle"], [1.0, 1.0])
    np.testing.assert_array_equal(back["file"], [0.0, 0.0, 0.0])
    assert back["kwds"] == 4
    # keys that cannot be member names (slashes, the index's name, empty) are stored under other names
    odd = {"a/b": np.ones(1), "__checkpoint__": np.ones(2), "": np.ones(3), "..": np.ones(4), "k" * 70_000: np.ones(5)}
    back = load(save(odd, tmp_path / "odd.npz"))
    assert {k: v.size for k, v in back.items()} == {k: v.size for k, v in odd.items()}
    assert list(load(save({np.int64(3): 1.0}, tmp_path / "i.npz"))) == [3]  # numpy int keys are ints


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_saving_keeps_the_file_mode_or_uses_the_umask(tmp_path):
    # finding 15: saving over a 0644 file left it 0600 (the temporary file's mode)
    path = tmp_path / "m.npz"
    save(model(0), path)
    old_umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.npz"
        save(model(0), fresh)
        assert fresh.stat().st_mode & 0o777 == 0o644  # 0666 minus the umask, like any new file
    finally:
        os.umask(old_umask)
    for mode in (0o644, 0o640, 0o600):
        os.chmod(path, mode)
        save(model(1), path)
        assert path.stat().st_mode & 0o777 == mode


SAVE_AND_DIE = """
import os, signal, sys
import numpy as np
import tinygrad_edu as tg

real = np.lib.format.write_array
def write_then_die(f, array, **kw):
    real(f, array, **kw)
    if array.size > 1000:
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)  # killed mid-save, after part of the archive is on disk
np.lib.format.write_array = write_then_die
tg.save({"big": np.ones(100_000)}, sys.argv[1])
"""


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_temp_files_of_a_killed_save_are_removed_by_the_next_save_or_load(tmp_path):
    # finding 16: 25 SIGKILLs mid-save left 78 MB of hidden temporary files
    import signal
    import subprocess
    import sys

    path = tmp_path / "m.npz"
    save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    # the child imports this checkout's package (the venv's editable install may point elsewhere)
    root = str(Path(tg.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", SAVE_AND_DIE, str(path)], env=env, capture_output=True)
        assert run.returncode == -signal.SIGKILL, run.stderr.decode()
    temps = [n for n in os.listdir(tmp_path) if n.startswith(".m.npz.") and n.endswith(".tmp")]
    # the second killed save already removed the first one's leftover; the old checkpoint is intact
    assert len(temps) == 1 and path.read_bytes() == before
    # a temp file of a live process (ours) is not touched
    mine = tmp_path / f".m.npz.{os.getpid()}-abc.tmp"
    mine.write_bytes(b"in progress")
    np.testing.assert_array_equal(load(path)["w"], [0.0, 1.0, 2.0])
    assert sorted(os.listdir(tmp_path)) == sorted(["m.npz", mine.name])
    subprocess.run([sys.executable, "-c", SAVE_AND_DIE, str(path)], env=env, capture_output=True)
    save({"w": np.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.npz", mine.name])


def _zip_with(path, members: dict[str, bytes], compression: int = 0) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _npy_header(shape: tuple, dtype: str = "<f8") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_crafted_archives_are_refused_before_allocating(tmp_path):
    import zipfile

    # finding 24: a 300-byte file declaring 10^11 floats raised MemoryError
    liar = tmp_path / "liar.npz"
    _zip_with(liar, {"x.npy": _npy_header((10**11,)) + b"\0" * 16})
    assert liar.stat().st_size < 400
    with pytest.raises(CheckpointError, match=r"declares shape \(100000000000,\) of float64 .* holds 16 bytes"):
        load(liar)
    # a small compressed member that inflates beyond max_bytes (a zip bomb)
    bomb = tmp_path / "bomb.npz"
    _zip_with(bomb, {"x.npy": _npy_header((2**22,)) + bytes(8 * 2**22)}, zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(CheckpointError, match=r"declares 33,554,5\d\d bytes of arrays, more than max_bytes=1,000,000"):
        load(bomb, max_bytes=1_000_000)
    assert load(bomb, max_bytes=None)["x"].shape == (2**22,)  # trusted: the limit can be lifted
    from tinygrad_edu.checkpoint import DEFAULT_MAX_BYTES

    assert DEFAULT_MAX_BYTES >= 2**30  # generous: a 1 GB model still loads
    # the reported case, with the default limit: a small archive whose directory declares 1.6 GB
    import struct

    raw = bytearray(bomb.read_bytes())
    entry = raw.index(b"PK\x01\x02")  # the central directory entry: uncompressed size at offset 24
    raw[entry + 24 : entry + 28] = struct.pack("<I", 1_600_000_000)
    bomb.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"declares 1,600,000,000 bytes of arrays, more than max_bytes=1,073,"):
        load(bomb)
    # a member that is not .npy is refused, not returned as bytes
    foreign = tmp_path / "foreign.npz"
    _zip_with(foreign, {"x.npy": _npy_header((1,)) + bytes(8), "notes.txt": b"hello"})
    with pytest.raises(CheckpointError, match=r"member 'notes.txt' is not a .npy array"):
        load(foreign)
    pickled = tmp_path / "pickled.npz"  # object arrays are pickles: refused from the header alone
    _zip_with(pickled, {"x.npy": _npy_header((1,), "|O") + bytes(8)})
    with pytest.raises(CheckpointError, match=r"holds object data; checkpoints are read with allow_pickle=False"):
        load(pickled)


def test_tampered_and_truncated_files_fail_clearly_and_saving_keeps_the_old_file(tmp_path):
    path = tmp_path / "c.npz"
    save({"model": model(0).state_dict(), "epoch": 2}, path)
    good = path.read_bytes()
    # flip one byte inside an array: the zip CRC catches it
    pos = good.index(b"\x93NUMPY", 200) + 200
    path.write_bytes(good[:pos] + bytes([good[pos] ^ 0xFF]) + good[pos + 1 :])
    with pytest.raises(CheckpointError, match="truncated or damaged.*CRC"):
        load(path)
    for cut in (len(good) // 3, len(good) - 10):
        path.write_bytes(good[:cut])
        with pytest.raises(CheckpointError, match="truncated or damaged"):
            load(path)
    # an index that refers to an array the archive lacks, or has unknown entries
    import json
    import zipfile

    with zipfile.ZipFile(tmp_path / "c2.npz", "w") as zf:
        zf.writestr("__checkpoint__.npy", _index_npy({"format": "tinygrad_edu.checkpoint", "version": 1,
                                                       "tree": {"$dict": [["w", {"$array": "nope"}]]}}, json))
    with pytest.raises(CheckpointError, match="refers to a missing array 'nope'"):
        load(tmp_path / "c2.npz")
    with zipfile.ZipFile(tmp_path / "c3.npz", "w") as zf:
        zf.writestr("__checkpoint__.npy", _index_npy({"format": "tinygrad_edu.checkpoint", "version": 1,
                                                       "tree": {"$eval": "os.system('x')"}}, json))
    with pytest.raises(CheckpointError, match="unexpected entry"):
        load(tmp_path / "c3.npz")
    with zipfile.ZipFile(tmp_path / "c4.npz", "w") as zf:
        zf.writestr("__checkpoint__.npy", _index_npy({"format": "tinygrad_edu.checkpoint", "version": 99,
                                                       "tree": None}, json))
    with pytest.raises(CheckpointError, match="format version 99; this version of tinygrad_edu reads up to 1"):
        load(tmp_path / "c4.npz")
    # a failed save (unsupported object) leaves the existing checkpoint untouched
    path.write_bytes(good)
    with pytest.raises(CheckpointError):
        save({"model": model(1).state_dict(), "bad": object()}, path)
    assert path.read_bytes() == good and load(path)["epoch"] == 2


def _index_npy(header: dict, json) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.array(json.dumps(header)))
    return buf.getvalue()


# ---------------------------------------------------------------------- property: any JSON-like tree round-trips

INDEX = "__checkpoint__"
_ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint16, np.bool_, np.complex128, "<U3"]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
)
_LEAVES = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_subnormal=True) | st.text(max_size=5)
    | _ARRAYS | _ARRAYS.map(lambda a: tg.Tensor(a) if a.dtype.kind == "f" else a)
    | st.sampled_from([np.float32(1.5), np.int16(-3), np.bool_(True)])
)
_KEYS = st.text(max_size=4) | st.integers(-3, 3) | st.sampled_from(["file", "allow_pickle", "a/b", "..", INDEX])
_TREES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=12,
)


def _assert_same(a, b, path="obj"):
    if isinstance(a, tg.Tensor):
        assert isinstance(b, tg.Tensor) and b.requires_grad == a.requires_grad, path
        a, b = a.data, b.data
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b), path
        assert [type(k) for k in a] == [type(k) for k in b], path  # 1 and "1" stay apart
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, float):
        assert (np.isnan(a) and np.isnan(b)) or (a == b and np.copysign(1, a) == np.copysign(1, b)), path
    else:
        assert a == b, path


@given(tree=_TREES)
def test_any_tree_of_supported_leaves_round_trips_exactly(tree):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.npz"
        save(tree, path)
        _assert_same(tree, load(path))
        with np.load(path, allow_pickle=False) as raw:  # always readable by numpy alone, without pickle
            assert "__checkpoint__" in raw.files


def test_loading_a_nested_checkpoint_into_a_model_says_which_part_to_load(tmp_path):
    net = model(0)
    save({"model": net.state_dict(), "epoch": 1}, tmp_path / "c.npz")
    with pytest.raises(CheckpointError, match=r"nested checkpoint with parts \['model'\]; load one part into "
                                                r"Sequential, e.g. obj.load_state_dict\(tg.load\(path\)\['model'\]\)"):
        load(tmp_path / "c.npz", into=model(1))

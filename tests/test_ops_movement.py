"""Movement and indexing ops (tinygrad_edu.ops.movement, concatenate/stack): forward vs
numpy, gradients vs finite differences over shapes and axes (repeated indices add up),
PyTorch's semantics where numpy differs, clear errors, and linear-cost concatenation."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ops_helpers import check_grad, check_second_order, torch_or_skip

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import arrays, shapes


@st.composite
def array_and_axis(draw, min_dims: int = 1):
    x = draw(arrays(shapes(min_dims=min_dims, max_dims=3)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@st.composite
def gather_case(draw):
    x, axis = draw(array_and_axis())
    a = axis % x.ndim
    shape = tuple(draw(st.integers(1, 4)) if d == a else draw(st.integers(1, n)) for d, n in enumerate(x.shape))
    index = draw(arrays(shape, 0, x.shape[a] - 1e-9).map(np.floor)).astype(np.intp)  # repeats likely
    return x, axis, index


# ---------------------------------------------------------------- gather / scatter / index_select


@given(case=gather_case())
def test_gather_matches_take_along_axis_and_repeats_add_gradients(case) -> None:
    x, axis, index = case
    out = check_grad(lambda t: t.gather(axis, index), x)
    # torch.gather reads only the leading index.shape[d] entries of the other axes: crop x to them
    crop = tuple(slice(None) if d == axis % x.ndim else slice(0, m) for d, m in enumerate(index.shape))
    np.testing.assert_array_equal(out.data, np.take_along_axis(x[crop], index, axis))
    check_second_order(lambda t: t.gather(axis, index) ** 2, [x])


@given(case=gather_case(), data=st.data())
def test_scatter_add_and_scatter_match_numpy(case, data) -> None:
    base, axis, index = case
    src = data.draw(arrays(index.shape))
    a = axis % base.ndim
    grid = list(np.indices(index.shape, sparse=True))
    grid[a] = index
    expected = base.copy()
    np.add.at(expected, tuple(grid), src)
    out = check_grad(lambda t, s: t.scatter_add(axis, Tensor(index.astype(float)), s), base, src)
    np.testing.assert_allclose(out.data, expected, atol=1e-12)
    unique = np.unique(index, axis=a).shape == index.shape and all(
        len(set(line)) == len(line) for line in np.moveaxis(index, a, -1).reshape(-1, index.shape[a]))
    if unique:  # scatter with distinct places: plain assignment
        expected = base.copy()
        expected[tuple(grid)] = src
        out = check_grad(lambda t, s: t.scatter(axis, index, s), base, src)
        np.testing.assert_array_equal(out.data, expected)


def test_scatter_with_a_number_and_gather_errors() -> None:
    x = Tensor(np.zeros((2, 3)))
    np.testing.assert_array_equal(x.scatter(1, [[2], [0]], 5.0).data, [[0, 0, 5], [5, 0, 0]])
    with pytest.raises(ValueError, match=r"gather: index has 1 dimensions but the input has 2 \(shape \(2, 3\)\)"):
        x.gather(1, [0, 1])
    with pytest.raises(ValueError, match=r"gather: index shape \(3, 1\) is larger than the input shape \(2, 3\)"):
        x.gather(1, np.zeros((3, 1), dtype=int))
    with pytest.raises(IndexError, match=r"gather: index values must be in \[-3, 2\] for axis 1"):
        x.gather(1, [[3], [0]])
    with pytest.raises(TypeError, match="gather: the index must hold whole numbers"):
        x.gather(1, [[0.5], [0.0]])
    with pytest.raises(ValueError, match=r"scatter_add: src of shape \(1, 1\) is smaller than the index shape"):
        x.scatter_add(1, [[0, 1], [1, 2]], Tensor([[1.0]]))


def test_gather_matches_pytorch() -> None:
    torch = torch_or_skip()
    a, index = np.arange(12.0).reshape(3, 4), np.array([[0, 0, 3], [1, 2, 1]])
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    w = np.arange(6.0).reshape(2, 3)
    (x.gather(1, index) * Tensor(w)).sum().backward()
    (tx.gather(1, torch.tensor(index)) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


@given(case=array_and_axis(), data=st.data())
def test_index_select_matches_numpy_take(case, data) -> None:
    x, axis = case
    index = np.asarray(data.draw(st.lists(st.integers(0, x.shape[axis] - 1), max_size=5)), dtype=np.intp)
    out = check_grad(lambda t: t.index_select(axis, index), x)
    np.testing.assert_array_equal(out.data, np.take(x, index, axis=axis))


# ---------------------------------------------------------------- masks and triangles


@given(x=arrays(shapes(min_dims=2, max_dims=3)), data=st.data())
def test_masked_fill_tril_triu(x: np.ndarray, data) -> None:
    mask = data.draw(arrays(x.shape[-1:], 0, 1)) > 0.5  # broadcasts along the leading axes
    out = check_grad(lambda t: t.masked_fill(Tensor(mask.astype(float)), -7.5), x)
    np.testing.assert_array_equal(out.data, np.where(mask, -7.5, x))
    k = data.draw(st.integers(-3, 3))
    np.testing.assert_array_equal(check_grad(lambda t: t.tril(k), x).data, np.tril(x, k))
    np.testing.assert_array_equal(check_grad(lambda t: t.triu(k), x).data, np.triu(x, k))


def test_masked_fill_never_broadcasts_the_input() -> None:
    with pytest.raises(ValueError, match=r"masked_fill: mask of shape \(2, 3\) does not broadcast to the input shape"):
        Tensor(np.ones(3)).masked_fill(np.ones((2, 3)), 0.0)


# ---------------------------------------------------------------- reordering and repeating


@given(case=array_and_axis(), shift=st.integers(-7, 7))
def test_flip_and_roll_match_numpy(case, shift: int) -> None:
    x, axis = case
    np.testing.assert_array_equal(check_grad(lambda t: t.flip(axis), x).data, np.flip(x, axis))
    np.testing.assert_array_equal(check_grad(lambda t: t.flip(), x).data, np.flip(x))
    np.testing.assert_array_equal(check_grad(lambda t: t.roll(shift, axis), x).data, np.roll(x, shift, axis))
    np.testing.assert_array_equal(check_grad(lambda t: t.roll(shift), x).data, np.roll(x, shift))


@given(x=arrays(shapes(max_dims=3)), data=st.data())
def test_repeat_tile_and_repeat_interleave_match_numpy(x: np.ndarray, data) -> None:
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=x.ndim, max_size=x.ndim + 1)))
    np.testing.assert_array_equal(check_grad(lambda t: t.repeat(*reps), x).data, np.tile(x, reps))
    short = reps[: max(len(reps) - 1, 0)] or (2,)
    np.testing.assert_array_equal(check_grad(lambda t: t.tile(short), x).data, np.tile(x, short))
    count = data.draw(st.integers(0, 3))
    np.testing.assert_array_equal(check_grad(lambda t: t.repeat_interleave(count), x).data, np.repeat(x, count))
    if x.ndim:
        axis = data.draw(st.integers(0, x.ndim - 1))
        counts = data.draw(st.lists(st.integers(0, 3), min_size=x.shape[axis], max_size=x.shape[axis]))
        out = check_grad(lambda t: t.repeat_interleave(np.array(counts), axis), x)
        np.testing.assert_array_equal(out.data, np.repeat(x, counts, axis=axis))


# ---------------------------------------------------------------- splitting


@given(case=array_and_axis(), size=st.integers(1, 5))
def test_split_chunk_unbind_narrow_follow_pytorch(case, size: int) -> None:
    x, axis = case
    n = x.shape[axis]
    pieces = Tensor(x).split(size, axis)
    bounds = list(range(0, n, size))
    assert [p.shape[axis] for p in pieces] == [min(size, n - b) for b in bounds]
    np.testing.assert_array_equal(tg.concatenate(list(pieces), axis).data, x)
    chunks = Tensor(x).chunk(size, axis)
    assert len(chunks) == len(range(0, n, -(-n // size)))
    assert all(c.shape[axis] == -(-n // size) for c in chunks[:-1])
    unbound = Tensor(x).unbind(axis)
    assert len(unbound) == n and all(np.array_equal(u.data, np.take(x, i, axis)) for i, u in enumerate(unbound))
    check_grad(lambda t: t.split(size, axis)[-1] * 2.0, x)
    check_grad(lambda t: tg.stack(list(t.unbind(axis)), axis) ** 2, x)
    np.testing.assert_array_equal(Tensor(x).narrow(axis, -1, 1).data, np.take(x, [n - 1], axis))


def test_split_sizes_and_narrow_errors() -> None:
    x = Tensor(np.arange(5.0))
    assert [p.tolist() for p in x.split([2, 3])] == [[0.0, 1.0], [2.0, 3.0, 4.0]]
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] do not add up to 5"):
        x.split([2, 2])
    with pytest.raises(IndexError, match=r"narrow: start 4 and length 2 do not fit axis 0 of size 5"):
        x.narrow(0, 4, 2)


def test_clone_copies_and_stays_in_the_graph() -> None:
    x = Tensor([1.0, -0.0], requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(x.data, y.data) and np.signbit(y.data[1])
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# ---------------------------------------------------------------- padding (issue 13, finding 19)


NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", NUMPY_MODE)
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=2)), data=st.data())
def test_pad_modes_match_numpy(mode: str, x: np.ndarray, data) -> None:
    widths = tuple((data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))) for n in x.shape)
    kwargs = {"constant_values": 2.5} if mode == "constant" else {}
    out = check_grad(lambda t: t.pad(widths, mode=mode, value=2.5), x)
    np.testing.assert_array_equal(out.data, np.pad(x, widths, mode=NUMPY_MODE[mode], **kwargs))


def test_pad_accepts_numpys_forms_and_rejects_others_clearly() -> None:
    assert Tensor([1.0, 2.0]).sum().pad(()).item() == 3.0  # PyTorch returns the tensor
    assert Tensor([1.0, 2.0]).pad((1, 1)).tolist() == [0.0, 1.0, 2.0, 0.0]
    assert Tensor(np.ones((2, 2))).pad((1, 0)).shape == (3, 3)  # one pair for every axis, as numpy
    assert Tensor(np.ones((2, 2))).pad(1).shape == (4, 4)
    with pytest.raises(ValueError, match=r"pad: pad_width \(1, 1, 1\) for a tensor of shape \(2, 2\)"):
        Tensor(np.ones((2, 2))).pad((1, 1, 1))
    with pytest.raises(TypeError, match="pad: widths must be integers"):
        Tensor(np.ones((2, 2))).pad([(1.5, 1), (0, 0)])
    with pytest.raises(ValueError, match=r"pad: reflect padding of \(3, 0\) along axis 0 must be less than its size"):
        Tensor(np.ones(3)).pad((3, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad: mode must be one of"):
        Tensor(np.ones(3)).pad(1, mode="mirror")


def test_functional_pad_follows_pytorch() -> None:
    torch = torch_or_skip()
    from tinygrad_edu.ops.functional import pad

    a = np.arange(24.0).reshape(1, 2, 3, 4)
    for mode in ("constant", "reflect", "replicate", "circular"):
        x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out = pad(x, (1, 2, 2, 1), mode=mode)
        expected = torch.nn.functional.pad(tx, (1, 2, 2, 1), mode=mode)
        np.testing.assert_array_equal(out.data, expected.detach().numpy(), err_msg=mode)
        w = np.arange(out.size, dtype=float).reshape(out.shape)
        (out * Tensor(w)).sum().backward()
        (expected * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(x.grad.data, tx.grad.numpy(), err_msg=mode)


# ---------------------------------------------------------------- diagonals


@given(x=arrays(shapes(min_dims=2, max_dims=3)), offset=st.integers(-3, 3))
def test_diagonal_matches_numpy(x: np.ndarray, offset: int) -> None:
    out = check_grad(lambda t: t.diagonal(offset, -2, -1), x)
    np.testing.assert_array_equal(out.data, np.diagonal(x, offset, -2, -1))
    np.testing.assert_array_equal(Tensor(x).diagonal(offset, 0, -1).data, np.diagonal(x, offset, 0, -1))


@given(v=arrays(shapes(min_dims=1, max_dims=1)), k=st.integers(-2, 2))
def test_diag_matches_numpy_both_ways(v: np.ndarray, k: int) -> None:
    out = check_grad(lambda t: t.diag(k), v)
    np.testing.assert_array_equal(out.data, np.diag(v, k))
    np.testing.assert_array_equal(Tensor(np.diag(v, k)).diag(k).data, v)


# ---------------------------------------------------------------- concatenate and stack (issue 13, finding 22)


@given(data=st.data())
def test_concatenate_gradients_are_slices(data) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(0, len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    parts = [data.draw(arrays(shape[:axis] + (n,) + shape[axis + 1 :])) for n in sizes]
    out = check_grad(lambda *ts: tg.concatenate(list(ts), axis), *parts)
    np.testing.assert_array_equal(out.data, np.concatenate(parts, axis))


def test_stacking_8000_scalars_is_linear_in_memory() -> None:
    parts = [Tensor([float(i)], requires_grad=True) for i in range(8000)]
    gc.collect()
    tracemalloc.start()
    try:
        out = tg.stack(parts)
        (out * Tensor(np.arange(8000.0).reshape(8000, 1))).sum().backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"peak {peak / 1e6:.0f} MB"  # the zero-padded sum needed ~1 GB
    assert parts[7].grad.item() == 7.0 and out.shape == (8000, 1)

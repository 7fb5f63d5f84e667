"""Integer and bool tensors, ``tg.tensor``'s dtype inference, promotion and casts, against PyTorch.

Each test quotes the PyTorch snippet and the result it prints (PyTorch's default float dtype is
float32; ours is float64 unless ``set_default_dtype`` changes it, so "default float" is written
where the two differ only by that).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn

# ====================================================================== construction


def test_tensor_infers_dtypes_as_torch_tensor():
    """torch.tensor([0, 2, 1]).dtype -> int64; [True, False] -> bool; [1.5] -> default float;
    [1, 2.5] -> default float; np.int32 arrays keep int32, float32 arrays keep float32."""
    assert tg.tensor([0, 2, 1]).dtype == np.int64
    assert tg.tensor([True, False]).dtype == np.bool_
    assert tg.tensor([1.5]).dtype == tg.get_default_dtype()
    assert tg.tensor([1, 2.5]).dtype == tg.get_default_dtype()
    assert tg.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert tg.tensor(np.arange(3, dtype=np.uint8)).dtype == np.int64
    assert tg.tensor(np.ones(2, np.float32)).dtype == np.float32
    assert tg.tensor(3).dtype == np.int64 and tg.tensor(3).item() == 3
    assert tg.tensor([1, 2], dtype="float32").dtype == np.float32
    try:
        tg.set_default_dtype(np.float32)
        assert tg.tensor([1.5]).dtype == np.float32
        assert tg.tensor([1]).dtype == np.int64
    finally:
        tg.set_default_dtype(np.float64)


def test_tensor_copies_and_tensor_class_keeps_the_float_policy():
    """torch.tensor copies its data; torch.Tensor([1, 2]) is a float tensor."""
    source = np.array([1, 2, 3])
    t = tg.tensor(source)
    t += 1
    np.testing.assert_array_equal(source, [1, 2, 3])
    assert Tensor([1, 2]).dtype == np.float64 and Tensor(np.array([True])).dtype == np.float64
    assert Tensor([1, 2], dtype="long").dtype == np.int64


def test_as_tensor_shares_memory_when_it_can():
    """torch.as_tensor(np_array) shares memory; lists are converted."""
    source = np.array([1.0, 2.0])
    assert tg.as_tensor(source).data is source
    assert tg.as_tensor([1, 2]).dtype == np.int64
    t = Tensor([1.0])
    assert tg.as_tensor(t) is t


def test_integer_and_bool_tensors_cannot_require_grad():
    """torch.tensor([1, 2], requires_grad=True) -> RuntimeError: Only Tensors of floating point
    and complex dtype can require gradients."""
    with pytest.raises(RuntimeError, match=r"tensor: only float tensors can require gradients, got .* int64"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires_grad_: only float tensors can require gradients, got .* bool"):
        tg.tensor([True]).requires_grad_()
    assert tg.tensor([1.0, 2.0], requires_grad=True).requires_grad


def test_unknown_dtype_is_a_clear_error():
    for bad in ("float17", np.complex64, "half", object):
        with pytest.raises(TypeError, match=r"unknown or unsupported dtype .*expected one of float32, float64"):
            tg.tensor([1.0]).to(bad)


# ====================================================================== comparisons, logic and promotion


def test_comparisons_return_bool_tensors_and_masks_multiply_with_the_right_gradient():
    """x = torch.tensor([-1., 2., 3.], requires_grad=True); (x > 0).dtype -> torch.bool;
    y = x * (x > 0); y.sum().backward(); x.grad -> tensor([0., 1., 1.]); y.dtype -> float32."""
    x = Tensor(np.array([-1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and not mask.requires_grad
    y = x * mask
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0])
    assert x.grad.dtype == np.float32
    assert (mask.sum()).item() == 2 and mask.sum().dtype.kind == "i"  # torch: tensor(2) (int64)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: tg.tensor([1, 2]) + Tensor(np.ones(2, np.float32)), np.float32),  # int64 + float32 -> float32
        (lambda: tg.tensor([1, 2]) * 0.5, np.float64),  # int * Python float -> default float
        (lambda: tg.tensor([True]) + 1, np.int64),  # bool + Python int -> int64
        (lambda: tg.tensor([True]) & tg.tensor([False]), np.bool_),
        (lambda: tg.tensor([1, 2]) * 2, np.int64),
        (lambda: tg.tensor(np.array([1], np.int32)) + tg.tensor([1]), np.int64),
        (lambda: tg.tensor([1, 2]) / tg.tensor([2, 2]), np.float64),  # true division -> default float
        (lambda: Tensor(np.ones(2, np.float32)) + np.int64(2), np.float32),  # issue 13 #7
        (lambda: Tensor(np.ones(2, np.float32)) + np.array([1, 2]), np.float32),
        (lambda: Tensor(np.ones(2, np.float32)) * [1, 2], np.float32),
        (lambda: Tensor(np.ones(2, np.float32)) + np.ones(2), np.float64),  # two float arrays: the wider
        (lambda: tg.tensor([1, 2]).exp(), np.float64),
    ],
)
def test_promotion_follows_pytorch(make, expected):
    assert make().dtype == expected


def test_issue_13_7_float32_stays_float32_with_integer_operands():
    """Regression (issue 13 #7): x32 + np.int64(2), mse_loss(x32, [0, 1, 0]) and
    Linear(dtype=float32)(int array) gave float64."""
    x32 = Tensor(np.array([1.0, 0.0, 2.0], dtype=np.float32), requires_grad=True)
    assert (x32 + np.int64(2)).dtype == np.float32
    assert nn.mse_loss(x32, [0, 1, 0]).dtype == np.float32
    assert nn.Linear(2, 3, dtype=np.float32, seed=0)(np.ones((4, 2), dtype=np.int64)).dtype == np.float32
    assert nn.binary_cross_entropy_with_logits(x32, tg.tensor([0, 1, 1])).dtype == np.float32


def test_logical_operators_on_bool_tensors():
    """a = torch.tensor([True, True, False]); b = torch.tensor([True, False, False])
    a & b -> [True, False, False]; a | b -> [True, True, False]; a ^ b -> [False, True, False];
    ~a -> [False, False, True]"""
    a, b = tg.tensor([True, True, False]), tg.tensor([True, False, False])
    np.testing.assert_array_equal((a & b).data, [True, False, False])
    np.testing.assert_array_equal((a | b).data, [True, True, False])
    np.testing.assert_array_equal((a ^ b).data, [False, True, False])
    np.testing.assert_array_equal((~a).data, [False, False, True])
    np.testing.assert_array_equal((a & np.array([False, True, True])).data, [False, True, False])
    with pytest.raises(TypeError, match=r"and \(&\): needs bool or integer tensors, got float64"):
        Tensor([1.0]) & Tensor([0.0])
    with pytest.raises(TypeError, match=r"invert \(~\): needs bool or integer tensors"):
        ~Tensor([1.0])


# ====================================================================== indexing


def test_issue_13_1_float_mask_is_not_used_as_integer_indices():
    """Regression (issue 13 #1): x[(x > 0) * (x < 6)] on [5, -3, 7, 2] returned [-3, 5, 5, -3].

    PyTorch: bool * bool is a bool mask -> tensor([5., 2.]); x[(x > 0).float()] -> IndexError:
    tensors used as indices must be long, int, byte or bool tensors."""
    x = Tensor([5.0, -3.0, 7.0, 2.0])
    np.testing.assert_array_equal(x[(x > 0) * (x < 6)].data, [5.0, 2.0])
    np.testing.assert_array_equal(x[(x > 0) & (x < 6)].data, [5.0, 2.0])
    np.testing.assert_array_equal(x[(x < 0) | (x > 6)].data, [-3.0, 7.0])
    np.testing.assert_array_equal(x[~(x > 0)].data, [-3.0])
    with pytest.raises(IndexError, match=r"getitem: tensors used as indices must be integer or bool .* got float64"):
        x[(x > 0).float().double()]
    with pytest.raises(IndexError, match="tensors used as indices must be integer or bool"):
        x[[1.0, 0.0]]


def test_mask_of_the_wrong_shape_is_a_clear_error():
    """torch: x[torch.tensor([True, False])] on 4 elements -> IndexError: The shape of the mask [2]
    at index 0 does not match the shape of the indexed tensor [4]."""
    x = Tensor([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(IndexError, match=r"a boolean mask of shape \(2,\) does not match the shape \(4,\)"):
        x[tg.tensor([True, False])]
    m = Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"mask of shape \(3,\) does not match the shape \(2,\)"):
        m[tg.tensor([True, False, True])]
    np.testing.assert_array_equal(m[:, tg.tensor([True, False, True])].data, np.ones((2, 2)))


def test_integer_tensor_indexes_as_integer_array_and_accumulates_gradients():
    """x = torch.tensor([1., 2., 3.], requires_grad=True); x[torch.tensor([0, 0, 2])].sum().backward()
    x.grad -> tensor([2., 0., 1.])"""
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    picked = x[tg.tensor([0, 0, 2])]
    np.testing.assert_array_equal(picked.data, [1.0, 1.0, 3.0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 1.0])


# ====================================================================== casts


def test_casts_as_pytorch():
    """torch.tensor([1.7, -1.7]).long() -> tensor([ 1, -1]); .bool() -> [True, True]; .int().dtype -> int32."""
    t = Tensor([1.7, -1.7, 0.0])
    np.testing.assert_array_equal(t.long().data, [1, -1, 0])
    assert t.long().dtype == np.int64 and t.int().dtype == np.int32
    np.testing.assert_array_equal(t.bool().data, [True, True, False])
    assert t.float().dtype == np.float32 and t.float().double().dtype == np.float64
    assert t.to("float32").dtype == np.float32 and t.to("long").dtype == np.int64 and t.to(np.int32).dtype == np.int32
    assert t.to("cpu") is t
    assert t.is_floating_point() and not t.long().is_floating_point()


def test_cast_of_a_grad_tensor_to_int_is_a_constant():
    """x = torch.tensor([1.5], requires_grad=True); x.long().requires_grad -> False; x.float() keeps the graph."""
    x = Tensor([1.5], requires_grad=True)
    assert not x.long().requires_grad
    y = x.float()
    assert y.requires_grad and y._op == "cast"


def test_item_returns_the_dtypes_python_type():
    """torch.tensor([3]).item() -> 3 (int); torch.tensor([True]).item() -> True."""
    assert type(tg.tensor([3]).item()) is int
    assert tg.tensor([True]).item() is True
    assert type(Tensor([3.0]).item()) is float


def test_inplace_respects_integer_dtype():
    """t = torch.tensor([1, 2]); t += 1 -> tensor([2, 3]); t += 1.5 -> RuntimeError: result type
    Float can't be cast to the desired output type Long."""
    t = tg.tensor([1, 2])
    t += 1
    np.testing.assert_array_equal(t.data, [2, 3])
    pattern = r"add_ \(\+=\): the result has dtype float64, which cannot be written into this int64"
    with pytest.raises(TypeError, match=pattern):
        t += 1.5
    with pytest.raises(TypeError, match=r"div_ \(/=\).*int64"):
        t /= 2
    assert t.dtype == np.int64


# ====================================================================== the rest of the package


def test_cross_entropy_with_integer_label_tensor():
    """logits = torch.tensor([[2., 1., 0.], [0., 0., 3.], [1., 2., 1.]], requires_grad=True)
    F.cross_entropy(logits, torch.tensor([0, 2, 1])) -> the same value as with a numpy label array."""
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 2.0, 1.0]])
    a = Tensor(logits, requires_grad=True)
    b = Tensor(logits, requires_grad=True)
    loss_a = nn.cross_entropy(a, tg.tensor([0, 2, 1]))
    loss_b = nn.cross_entropy(b, np.array([0, 2, 1]))
    assert loss_a.item() == pytest.approx(loss_b.item(), abs=1e-15)
    loss_a.backward()
    loss_b.backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, atol=1e-15)
    accuracy = (tg.tensor(np.argmax(logits, axis=1)) == tg.tensor([0, 2, 1])).float().mean()
    assert accuracy.item() == pytest.approx(1.0)


def test_fit_accepts_integer_label_tensors_and_reports_accuracy():
    from tinygrad_edu import optim
    from tinygrad_edu.train import fit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    history = fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.5), (tg.tensor(X), tg.tensor(y)),
                  epochs=5, verbose=0, seed=0)
    assert len(history.history["accuracy"]) == 5 and 0.0 <= history.history["accuracy"][-1] <= 1.0
    assert history.history["loss"][-1] < history.history["loss"][0]

"""Convolution methods and the strided-slice pooling primitives agree with composed references.

References: the integer-array gather (``method="gather"``: one ``getitem`` of every patch,
then ``max``/``mean`` or a matmul, all composed Tensor ops), and plain numpy loops.
Shapes, kernels, strides and padding are drawn by hypothesis; gradients are compared to
first and second order (``create_graph``), and against finite differences.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn.conv import _pad_hw, _patches
from tinygrad_edu.testing import assert_grad_close


@st.composite
def window_cases(draw: st.DrawFn, max_padding: bool = False) -> dict:
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph = draw(st.integers(0, kh // 2 if max_padding else 2))
    pw = draw(st.integers(0, kw // 2 if max_padding else 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 7))
    w = draw(st.integers(max(1, kw - 2 * pw), 7))
    return {
        "n": draw(st.integers(1, 2)), "c": draw(st.integers(1, 3)), "h": h, "w": w,
        "k": (kh, kw), "s": (sh, sw), "p": (ph, pw), "seed": draw(st.integers(0, 2**32 - 1)),
    }


def _composed_pool(x: Tensor, k, s, p, kind: str) -> Tensor:
    """The reference: every window gathered with one integer-array index, then max or mean."""
    xp = _pad_hw(x, p)
    if kind == "max" and p != (0, 0):
        border = np.full(xp.shape[2:], -np.inf)
        border[p[0] : p[0] + x.shape[2], p[1] : p[1] + x.shape[3]] = 0.0
        xp = xp + border
    oh, ow = (xp.shape[2] - k[0]) // s[0] + 1, (xp.shape[3] - k[1]) // s[1] + 1
    windows = _patches(xp, k, s, (oh, ow))
    pooled = windows.max(axis=2) if kind == "max" else windows.mean(axis=2)
    return pooled.reshape(x.shape[0], x.shape[1], oh, ow)


def _grads_of(out: Tensor, inputs: list[Tensor], r: np.ndarray, create_graph: bool = False) -> list[Tensor]:
    return tg.grad((out * r).sum(), inputs, retain_graph=True, create_graph=create_graph)


@given(case=window_cases(max_padding=True), kind=st.sampled_from(["max", "avg"]), ties=st.booleans())
def test_pools_equal_the_composed_gather_values_and_gradients(case: dict, kind: str, ties: bool) -> None:
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c"], case["h"], case["w"])
    data = rng.integers(-2, 3, size=shape).astype(float) if ties else rng.normal(size=shape)  # ties: few values
    x = Tensor(data, requires_grad=True)
    pool = nn.max_pool2d if kind == "max" else nn.avg_pool2d
    fused = pool(x, case["k"], case["s"], case["p"])
    composed = _composed_pool(x, case["k"], case["s"], case["p"], kind)
    assert fused._op == f"{kind}_pool2d"
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    r = rng.normal(size=fused.shape)
    (got,), (want,) = _grads_of(fused, [x], r), _grads_of(composed, [x], r)
    np.testing.assert_allclose(got.data, want.data, rtol=1e-12, atol=1e-12)  # ties share evenly in both
    assert got.shape == x.shape


@given(case=window_cases(max_padding=True), kind=st.sampled_from(["max", "avg"]))
def test_pools_second_derivatives_equal_the_composed_gather(case: dict, kind: str) -> None:
    rng = np.random.default_rng(case["seed"])
    x = Tensor(rng.normal(size=(case["n"], case["c"], case["h"], case["w"])), requires_grad=True)
    pool = nn.max_pool2d if kind == "max" else nn.avg_pool2d

    def penalty(out: Tensor) -> Tensor:  # ||d sum(tanh(pool(x)) * r) / dx||^2, differentiated again
        r = np.random.default_rng(1).normal(size=out.shape)
        (dx,) = tg.grad((out.tanh() * r).sum(), [x], create_graph=True)
        return (dx * dx).sum()

    (got,) = tg.grad(penalty(pool(x, case["k"], case["s"], case["p"])), [x])
    (want,) = tg.grad(penalty(_composed_pool(x, case["k"], case["s"], case["p"], kind)), [x])
    np.testing.assert_allclose(got.data, want.data, rtol=1e-10, atol=1e-12)


@given(case=window_cases(), c_out=st.integers(1, 3))
def test_conv_methods_agree_values_and_gradients(case: dict, c_out: int) -> None:
    rng = np.random.default_rng(case["seed"])
    x = Tensor(rng.normal(size=(case["n"], case["c"], case["h"], case["w"])), requires_grad=True)
    w = Tensor(rng.normal(size=(c_out, case["c"]) + case["k"]), requires_grad=True)
    b = Tensor(rng.normal(size=c_out), requires_grad=True)
    outs = {m: nn.conv2d(x, w, b, case["s"], case["p"], method=m) for m in ("im2col", "shifted", "gather", "auto")}
    r = rng.normal(size=outs["gather"].shape)
    want = _grads_of(outs["gather"], [x, w, b], r)
    for method, out in outs.items():
        np.testing.assert_allclose(out.data, outs["gather"].data, rtol=1e-10, atol=1e-12, err_msg=method)
        for g1, g2 in zip(_grads_of(out, [x, w, b], r), want):
            np.testing.assert_allclose(g1.data, g2.data, rtol=1e-10, atol=1e-12, err_msg=method)


@given(case=window_cases())
def test_im2col_conv_second_derivatives_equal_the_gather(case: dict) -> None:
    rng = np.random.default_rng(case["seed"])
    x = Tensor(rng.normal(size=(case["n"], case["c"], case["h"], case["w"])), requires_grad=True)
    w = Tensor(rng.normal(size=(2, case["c"]) + case["k"]), requires_grad=True)

    def penalty(method: str) -> Tensor:
        out = nn.conv2d(x, w, None, case["s"], case["p"], method=method)
        r = np.random.default_rng(1).normal(size=out.shape)
        (dx,) = tg.grad((out.tanh() * r).sum(), [x], create_graph=True)
        return (dx * dx).sum()

    for g1, g2 in zip(tg.grad(penalty("im2col"), [x, w]), tg.grad(penalty("gather"), [x, w])):
        np.testing.assert_allclose(g1.data, g2.data, rtol=1e-9, atol=1e-12)


def test_window_primitives_match_finite_differences(rng: np.random.Generator) -> None:
    x = Tensor(rng.normal(size=(1, 2, 5, 4)), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 2, 2, 3)), requires_grad=True)
    assert_grad_close(lambda x: nn.max_pool2d(x, 2, 1, 1), x)
    assert_grad_close(lambda x: nn.avg_pool2d(x, (3, 2), (2, 1), (1, 1)), x)
    assert_grad_close(lambda x, w: nn.conv2d(x, w, None, (2, 1), (1, 0), method="im2col"), x, w)


def test_max_pool_matches_numpy_loops(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 3, 7, 6))
    got = nn.max_pool2d(Tensor(x), 3, 2, 1).data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    want = np.array([[[[xp[n, c, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max() for j in range(3)] for i in range(4)]
                      for c in range(3)] for n in range(2)])
    np.testing.assert_array_equal(got, want)

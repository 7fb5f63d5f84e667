"""Conv2d, MaxPool2d, AvgPool2d: against direct numpy loops, finite differences, and a toy task.

The loop implementations below follow the definition z[n,o,i,j] = b[o] + sum_{c,u,v}
W[o,c,u,v] x_pad[n,c,s*i+u,s*j+v] literally (and its hand-derived backward), sharing no
code with the layer, which gathers patches with Tensor indexing instead. Shapes are tiny
(C <= 2, H, W <= 5) so the finite differences stay cheap.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_closure_vjp
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, no_grad


def conv_loop(x, w, b, s, p):
    """Forward and the hand-derived backward of a convolution, by direct loops.

    ``s`` and ``p`` are ints or (height, width) pairs.
    """
    (sh, sw), (ph, pw) = [(v, v) if isinstance(v, int) else v for v in (s, p)]
    n, c, h, wd = x.shape
    co, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    z = np.zeros((n, co, oh, ow))
    for i_n in range(n):
        for o in range(co):
            for i in range(oh):
                for j in range(ow):
                    z[i_n, o, i, j] = b[o] + np.sum(w[o] * xp[i_n, :, sh * i : sh * i + kh, sw * j : sw * j + kw])

    def backward(dz):
        dxp, dw = np.zeros_like(xp), np.zeros_like(w)
        for i_n in range(n):
            for o in range(co):
                for i in range(oh):
                    for j in range(ow):
                        dxp[i_n, :, sh * i : sh * i + kh, sw * j : sw * j + kw] += w[o] * dz[i_n, o, i, j]
                        dw[o] += xp[i_n, :, sh * i : sh * i + kh, sw * j : sw * j + kw] * dz[i_n, o, i, j]
        return dxp[:, :, ph : ph + h, pw : pw + wd], dw, dz.sum(axis=(0, 2, 3))

    return z, backward


@st.composite
def conv_cases(draw):
    k = draw(st.integers(1, 3))
    p = draw(st.integers(0, 1))
    s = draw(st.integers(1, 2))
    h = draw(st.integers(max(k - 2 * p, 1), 5))
    w = draw(st.integers(max(k - 2 * p, 1), 5))
    return dict(n=draw(st.integers(1, 2)), c=draw(st.integers(1, 2)), co=draw(st.integers(1, 2)),
                h=h, w=w, k=k, s=s, p=p, seed=draw(st.integers(0, 2**16)))


def make_conv(case, method):
    rng = np.random.default_rng(case["seed"])
    conv = nn.Conv2d(case["c"], case["co"], case["k"], stride=case["s"], padding=case["p"], seed=rng, method=method)
    conv.bias.data[:] = rng.standard_normal(case["co"])
    x = Tensor(rng.standard_normal((case["n"], case["c"], case["h"], case["w"])), requires_grad=True)
    return conv, x, rng


@pytest.mark.parametrize("method", ["shifted", "im2col"])
@given(case=conv_cases())
def test_conv2d_matches_direct_loops(method, case):
    conv, x, rng = make_conv(case, method)
    x_before, w_before = x.data.copy(), conv.weight.data.copy()
    z_ref, backward = conv_loop(x.data, conv.weight.data, conv.bias.data, case["s"], case["p"])
    z = conv(x)
    np.testing.assert_allclose(z.data, z_ref, rtol=1e-12, atol=1e-12)
    dz = rng.standard_normal(z.shape)
    z.backward(dz)
    dx, dw, db = backward(dz)
    np.testing.assert_allclose(x.grad.data, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad.data, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.bias.grad.data, db, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x.data, x_before)  # inputs never mutated
    np.testing.assert_array_equal(conv.weight.data, w_before)


@given(case=conv_cases())
def test_conv2d_gradients_match_finite_differences(case):
    conv, x, _ = make_conv(case, "auto")
    check_closure_vjp(lambda: conv(x), [x, conv.weight, conv.bias], seed=case["seed"])


@pytest.mark.parametrize("method", ["shifted", "im2col"])
def test_conv2d_rectangular_kernel_stride_and_padding(method):
    # (height, width) pairs that differ: catches a height/width mix-up in any of the three
    rng = np.random.default_rng(3)
    conv = nn.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(0, 1), seed=rng, method=method)
    conv.bias.data[:] = rng.standard_normal(3)
    x = Tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    z_ref, backward = conv_loop(x.data, conv.weight.data, conv.bias.data, (2, 1), (0, 1))
    z = conv(x)
    assert z.shape == (2, 3, 2, 4)  # H' = (5 - 2)//2 + 1 = 2, W' = (4 + 2 - 3)//1 + 1 = 4
    np.testing.assert_allclose(z.data, z_ref, rtol=1e-12, atol=1e-12)
    dz = rng.standard_normal(z.shape)
    z.backward(dz)
    for got, want in zip((x.grad, conv.weight.grad, conv.bias.grad), backward(dz)):
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


def test_conv2d_and_pool_argument_errors_and_hints():
    conv = nn.Conv2d(3, 2, 3, seed=0)
    with pytest.raises(ValueError, match=r"got \(3, 5, 5\) \(one image\? add a batch axis"):
        conv(Tensor(np.zeros((3, 5, 5))))
    with pytest.raises(ValueError, match=r"expected 3 input channels.*\(1, 5, 5, 3\) \(channels last\?"):
        conv(Tensor(np.zeros((1, 5, 5, 3))))
    with pytest.raises(ValueError, match=r"3-wide kernel does not fit the input's width of 1 with padding 0"):
        conv(Tensor(np.zeros((1, 3, 4, 1))))
    for bad in (2.5, "3", (1, 2, 3), True):
        with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int >= 1 or a pair of them, got"):
            nn.Conv2d(1, 1, bad)
    with pytest.raises(ValueError, match="Conv2d: padding must be an int >= 0"):
        nn.Conv2d(1, 1, 3, padding=-1)
    # pooling layers check their arguments when built, and show the resolved stride
    with pytest.raises(ValueError, match="MaxPool2d: stride must be an int >= 1"):
        nn.MaxPool2d(2, stride=0)
    with pytest.raises(ValueError, match=r"AvgPool2d: padding \(2, 2\) must be at most half"):
        nn.AvgPool2d(3, padding=2)
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.AvgPool2d((3, 2), 1, (1, 0))) == "AvgPool2d(kernel_size=(3, 2), stride=(1, 1), padding=(1, 0))"
    with pytest.raises(ValueError, match=r"max_pool2d: the 4-wide kernel does not fit the input's height of 3"):
        nn.MaxPool2d(4)(Tensor(np.zeros((1, 1, 3, 8))))
    with pytest.raises(ValueError, match=r"avg_pool2d: expected an input of shape \(N, C, H, W\), got \(4, 4\)"):
        nn.AvgPool2d(2)(Tensor(np.zeros((4, 4))))


def test_conv2d_shares_parameters_and_checks_input():
    conv = nn.Conv2d(3, 8, 3, seed=0)
    assert conv.weight.shape == (8, 3, 3, 3) and conv.num_parameters() == 8 * 27 + 8  # independent of image size
    assert conv(Tensor(np.zeros((2, 3, 10, 7)))).shape == (2, 8, 8, 5)
    with pytest.raises(ValueError, match=r"expected 3 input channels.*\(2, 1, 5, 5\)"):
        conv(Tensor(np.zeros((2, 1, 5, 5))))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\), got \(3, 5, 5\)"):
        conv(Tensor(np.zeros((3, 5, 5))))
    with pytest.raises(ValueError, match="does not fit the input's height of 2"):
        conv(Tensor(np.zeros((1, 3, 2, 5))))
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        nn.Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="method must be"):
        nn.Conv2d(1, 1, 3, method="fft")


# ------------------------------------------------------------------ pooling


def pool_loop(x, k, s, p, kind):
    n, c, h, w = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    z = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, s * i : s * i + k, s * j : s * j + k]
            z[:, :, i, j] = window.max(axis=(2, 3)) if kind == "max" else window.mean(axis=(2, 3))
    return z


@st.composite
def pool_cases(draw):
    k = draw(st.integers(1, 3))
    return dict(k=k, s=draw(st.integers(1, 3)), p=draw(st.integers(0, k // 2)),
                shape=(draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(k, 5)),
                       draw(st.integers(k, 5))),
                seed=draw(st.integers(0, 2**16)))


@pytest.mark.parametrize("kind", ["max", "avg"])
@given(case=pool_cases())
def test_pools_forward_and_gradients(kind, case):
    rng = np.random.default_rng(case["seed"])
    size = int(np.prod(case["shape"]))
    # distinct values at least 0.01 apart: finite differences never cross a tie of the max
    x = Tensor((rng.permutation(size) * 0.01 + rng.uniform(0, 0.001, size)).reshape(case["shape"]), requires_grad=True)
    layer = (nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(case["k"], case["s"], case["p"])
    out = layer(x)
    np.testing.assert_allclose(out.data, pool_loop(x.data, case["k"], case["s"], case["p"], kind), rtol=1e-12)
    check_closure_vjp(lambda: layer(x), [x], seed=case["seed"])


def test_max_pool_ties_split_the_gradient_and_default_stride():
    x = Tensor(np.array([[[[1.0, 1.0, 0.0, 2.0], [0.0, 0.0, 3.0, 1.0]]]]), requires_grad=True)
    out = nn.MaxPool2d(2)(x)
    np.testing.assert_array_equal(out.data, [[[[1.0, 3.0]]]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]]])
    avg = nn.AvgPool2d(2)(x)
    np.testing.assert_allclose(avg.data, [[[[0.5, 1.5]]]])
    with pytest.raises(ValueError, match="padding .* at most half"):
        nn.MaxPool2d(2, padding=2)(x)


# ------------------------------------------------------------------ a small CNN learns


def bars(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """6x6 images with one vertical (label 0) or horizontal (label 1) bright bar plus noise."""
    X = rng.normal(0.0, 0.3, (n, 1, 6, 6))
    y = rng.integers(0, 2, n)
    pos = rng.integers(0, 6, n)
    for i in range(n):
        if y[i] == 0:
            X[i, 0, :, pos[i]] += 1.0
        else:
            X[i, 0, pos[i], :] += 1.0
    return X, y


def test_small_cnn_learns_vertical_vs_horizontal_bars():
    rng = np.random.default_rng(0)
    X, y = bars(64, rng)
    X_test, y_test = bars(200, rng)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 2, seed=2)
    )

    def accuracy(X_, y_):
        with no_grad():
            return float(np.mean(model(Tensor(X_)).argmax(axis=1).numpy() == y_))  # argmax: an int64 Tensor

    assert accuracy(X_test, y_test) < 0.8
    onehot = np.eye(2)[y]
    for _ in range(40):  # plain full-batch gradient descent on softmax cross-entropy
        logits = model(Tensor(X))
        loss = -(logits.log_softmax(axis=1) * onehot).sum() * (1 / len(y))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad.data
    assert loss.item() < 0.2
    assert accuracy(X_test, y_test) >= 0.95

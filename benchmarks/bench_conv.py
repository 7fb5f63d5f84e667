"""Conv2d forward + backward: tinygrad_edu (composed Tensor ops) vs a hand-written numpy im2col.

The baseline is what one writes by hand in numpy: patches via ``as_strided`` (no copy
until the reshape), one matrix product forward; backward dW = dZ @ cols^T and dX by
adding each kernel offset's slice back (col2im). It has no graph and no generic
machinery, so it is the floor the framework is measured against.

For tinygrad_edu two forward methods are timed: ``shifted`` (kH*kW strided slices, one
small matmul each) and ``im2col`` (the default: the ``im2col`` primitive copies the patches
from kH*kW strided slices, then one matmul; its VJP ``col2im`` adds them back). Times are
the minimum over ``--repeat`` interleaved rounds (numpy, shifted and im2col take turns),
with BLAS limited to one thread when threadpoolctl is installed so the numbers do not
depend on how busy the machine's other cores are.

Memory, in a separate pass after the timing (tracemalloc; see ``common.py``): the peak
bytes allocated during one forward + backward above what was held before it, for each
method and for the numpy baseline (whose patches view costs nothing until ``cols``).

Run: ``python benchmarks/bench_conv.py [--repeat 10]``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import environment_report, format_bytes, interleaved_timings, memory_use  # noqa: E402

import tinygrad_edu.nn as nn  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402

CASES = [
    # (name, N, C_in, H, W, C_out, k, stride, padding)
    ("small 8x3x16x16 -> 8, k3", 8, 3, 16, 16, 8, 3, 1, 1),
    ("mnist 32x1x28x28 -> 8, k3", 32, 1, 28, 28, 8, 3, 1, 1),
    ("deep 32x8x14x14 -> 16, k3", 32, 8, 14, 14, 16, 3, 1, 1),
    ("stride2 32x8x16x16 -> 16, k3 s2", 32, 8, 16, 16, 16, 3, 2, 1),
    ("wide 16x4x24x24 -> 8, k5", 16, 4, 24, 24, 8, 5, 1, 2),
]


def numpy_conv_forward_backward(x, w, b, s, p, dz_seed):
    """Forward and backward of a convolution in plain numpy (im2col with stride tricks)."""
    n, c, h, wd = x.shape
    co, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    sn, sc, sh, sw = xp.strides
    patches = as_strided(xp, (c, kh, kw, n, oh, ow), (sc, sh, sw, sn, sh * s, sw * s))
    cols = patches.reshape(c * kh * kw, n * oh * ow)
    z = (w.reshape(co, -1) @ cols).reshape(co, n, oh, ow).transpose(1, 0, 2, 3) + b.reshape(1, co, 1, 1)
    dz = dz_seed(z.shape)
    dz2 = dz.transpose(1, 0, 2, 3).reshape(co, -1)
    dw = (dz2 @ cols.T).reshape(w.shape)
    db = dz.sum(axis=(0, 2, 3))
    dcols = (w.reshape(co, -1).T @ dz2).reshape(c, kh, kw, n, oh, ow)
    dxp = np.zeros_like(xp)
    for u in range(kh):
        for v in range(kw):
            rows, cols_ = slice(u, u + s * (oh - 1) + 1, s), slice(v, v + s * (ow - 1) + 1, s)
            dxp[:, :, rows, cols_] += dcols[:, u, v].transpose(1, 0, 2, 3)
    dx = dxp[:, :, p : p + h, p : p + wd]
    return z, dx, dw, db


def tinygrad_conv_forward_backward(conv, x, dz_seed):
    conv.zero_grad()
    x.grad = None
    z = conv(x)
    z.backward(dz_seed(z.shape))
    return z.data, x.grad.data, conv.weight.grad.data, conv.bias.grad.data


def run_case(rng, n, c, h, w, co, k, s, p, repeat) -> tuple[str, str]:
    """Time one configuration (after checking that all three agree), then measure its peak memory.

    Returns the formatted timing row and memory row.
    """
    x_np = rng.standard_normal((n, c, h, w))
    convs = {m: nn.Conv2d(c, co, k, stride=s, padding=p, seed=1, method=m) for m in ("shifted", "im2col")}
    w_np, b_np = convs["shifted"].weight.data, convs["shifted"].bias.data
    x = Tensor(x_np, requires_grad=True)

    def dz_seed(shape):
        return np.random.default_rng(1).standard_normal(shape)

    ref = numpy_conv_forward_backward(x_np, w_np, b_np, s, p, dz_seed)
    runs = {"numpy": lambda: numpy_conv_forward_backward(x_np, w_np, b_np, s, p, dz_seed)}
    for method, conv in convs.items():
        got = tinygrad_conv_forward_backward(conv, x, dz_seed)
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
        runs[method] = lambda conv=conv: tinygrad_conv_forward_backward(conv, x, dz_seed)
    t = {key: timing.best * 1e3 for key, timing in interleaved_timings(runs, rounds=repeat).items()}
    peaks = {}
    for key, run in runs.items():
        for conv in convs.values():  # no gradients left over from the last call in the baseline
            conv.zero_grad()
        x.grad = None
        peaks[key] = memory_use(run).peak
    return (
        f"{t['numpy']:9.2f} {t['shifted']:11.2f} {t['shifted'] / t['numpy']:5.2f}x "
        f"{t['im2col']:10.2f} {t['im2col'] / t['numpy']:5.2f}x",
        f"{format_bytes(peaks['numpy']):>10s} {format_bytes(peaks['shifted']):>12s} "
        f"{peaks['shifted'] / peaks['numpy']:5.2f}x {format_bytes(peaks['im2col']):>11s} "
        f"{peaks['im2col'] / peaks['numpy']:5.2f}x",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="interleaved rounds (the minimum is reported)")
    args = parser.parse_args()
    limit = contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(1)
    except ImportError:
        print("(threadpoolctl not installed: BLAS may use several threads)")
    rng = np.random.default_rng(0)
    memory_rows = []
    with limit:
        print(environment_report(include_torch=False))
        print(f"{'case':34s} {'numpy ms':>9s} {'shifted ms':>11s} {'ratio':>6s} {'im2col ms':>10s} {'ratio':>6s}")
        for name, n, c, h, w, co, k, s, p in CASES:
            timing_row, memory_row = run_case(rng, n, c, h, w, co, k, s, p, args.repeat)
            print(f"{name:34s} " + timing_row)
            memory_rows.append(f"{name:34s} " + memory_row)
    print("ratio = tinygrad_edu time / numpy time for forward + backward (lower is better; 1.00x = numpy).")
    print("\nPeak memory of forward + backward (tracemalloc, a separate pass after the timing)")
    print(f"{'case':34s} {'numpy peak':>10s} {'shifted peak':>12s} {'ratio':>6s} {'im2col peak':>11s} {'ratio':>6s}")
    print("\n".join(memory_rows))
    print("ratio = tinygrad_edu peak / numpy peak (bytes allocated above those held before the call).")


if __name__ == "__main__":
    main()

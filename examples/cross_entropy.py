"""Cross-entropy, number for number: the lectures' numbers use base-10 logarithms.

The loss for a softmax output (Ted Scully, "Loss Function for Softmax") is

    L(h(x), y) = - sum_{i=1}^{c} y_i log h(x)_i

Worked example: h(x) = <0.952, 0.00037, 0.048>.

* y = <1, 0, 0>: the slide writes L = -1 log(0.952) - 0 log(0.00037) - 0 log(0.048) = -0.021.
  The value 0.021 is -log10(0.952) = 0.0214: a **base-10** logarithm. With the natural logarithm
  (what every ML library, ours included, means by log) it is -ln(0.952) = 0.049. The slide's
  minus sign is a slip too: -log of a probability is never negative, so L = +0.021.
* y = <0, 0, 1>: the slide's -log(0.048) = 1.31 is again base 10 (-log10(0.048) = 1.3188, which
  the slide truncates to 1.31; rounded it is 1.32); the natural log gives 3.04.

The base only rescales the loss (log10 a = ln a / ln 10), so the minimiser is the same, but the
gradient shrinks by ln 10 = 2.303 too: with ln, the softmax + cross-entropy gradient is exactly
dZ = A - Y (the lectures' formula); with log10 it is (A - Y) / ln 10. This script checks that
with autograd and shows what ``nn.cross_entropy`` (natural log, from the logits) gives.

Run:  python examples/cross_entropy.py        (FAST=1 changes nothing: it is instant)
"""

from __future__ import annotations

import math

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor

SLIDE_PROBS = [0.952, 0.00037, 0.048]


def main() -> None:
    print("h(x) = <0.952, 0.00037, 0.048> (the slide's softmax output)")
    print(f"{'target y':12s}{'slide':>8s}{'-log10':>10s}{'-ln':>10s}")
    rows = []
    for y, slide in (([1, 0, 0], 0.021), ([0, 0, 1], 1.31)):
        p = Tensor(SLIDE_PROBS)
        ln = -(Tensor(y) * p.log()).sum().item()  # L = -sum y_i ln h_i
        log10 = ln / math.log(10)  # log10 a = ln a / ln 10
        rows.append((log10, ln))
        print(f"{str(y):12s}{slide:>8.3f}{log10:>10.4f}{ln:>10.4f}")
    (l10_a, ln_a), (l10_b, ln_b) = rows
    # y = <1, 0, 0>: the slide's 0.021 is base 10; natural log gives 0.049
    assert round(l10_a, 3) == 0.021 and round(ln_a, 3) == 0.049
    assert l10_a > 0  # the slide's "= -0.021" has a sign slip: the loss is positive
    # y = <0, 0, 1>: 1.3188 (slide: 1.31, truncated); natural log 3.04
    assert math.floor(l10_b * 100) / 100 == 1.31 and round(l10_b, 2) == 1.32
    assert round(ln_b, 2) == 3.04
    print("-> the slide's numbers are base-10 logs (and '= -0.021' should be +0.021); in nats: 0.049 and 3.04")

    # the library: natural log, computed stably from the logits z = [6, -2, 3] that produced the slide's h(x)
    logits = Tensor([[6.0, -2.0, 3.0], [6.0, -2.0, 3.0]])
    per_example = nn.cross_entropy(logits, np.array([0, 2]), reduction="none").data
    print("nn.cross_entropy(z=[6,-2,3], label 0 and label 2) =", np.array2string(per_example, precision=4),
          "(exact softmax 0.95227 / 0.04741, so 0.0489 and 3.0489)")
    assert round(per_example[0], 3) == 0.049 and round(per_example[1], 2) == 3.05

    # the gradient: ln gives dZ = A - Y exactly; log10 gives (A - Y) / ln 10
    y = np.array([[0.0, 0.0, 1.0]])
    z_ln = Tensor([[6.0, -2.0, 3.0]], requires_grad=True)
    nn.cross_entropy(z_ln, y).backward()
    z_10 = Tensor([[6.0, -2.0, 3.0]], requires_grad=True)
    (-(Tensor(y) * z_10.log_softmax(axis=1)).sum() / math.log(10)).backward()
    a = Tensor([[6.0, -2.0, 3.0]]).softmax(axis=1).data
    print("dL/dz with ln    :", np.array2string(z_ln.grad.data, precision=5), "= A - Y")
    print("dL/dz with log10 :", np.array2string(z_10.grad.data, precision=5), "= (A - Y) / ln 10")
    assert np.allclose(z_ln.grad.data, a - y, atol=1e-15)
    assert np.allclose(z_10.grad.data, (a - y) / math.log(10), atol=1e-15)


if __name__ == "__main__":
    main()

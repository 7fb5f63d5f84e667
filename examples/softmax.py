"""Softmax, number for number: the lectures' two worked examples, hard max, and C = 2.

The softmax output layer turns the pre-activations z[L] (one per class) into probabilities:

    t = e^(z[L]),      a[L] = t / sum_j t_j      (down the classes; the outputs sum to 1)

Worked example 1 (Ted Scully, "Softmax Activation Layer"): A[2] = [6, -2, 3] gives
t = [403.4, 0.135, 20.0], sum t = 423.5 and H[2] = [0.952, 0.00037, 0.048].
Recomputed: the first number is right, but 0.135 / 423.5 = 0.00032 (the slide's 0.00037 is a
slip) and 20.09 / 423.6 = 0.0474, which is 0.047 to three places (the slide shows 0.048). A tell:
the slide's three probabilities add up to 1.00037, not 1.

Worked example 2 ("Understanding softmax"): z[L] = [5, 2, -1, 3] gives
[0.842, 0.042, 0.002, 0.114] -- all four right. Its "hard max" is [1, 0, 0, 0] (1 at the argmax).

"If C = 2, softmax reduces to logistic regression": softmax([z, 0])_1 = e^z / (e^z + 1) = sigma(z).

Run:  python examples/softmax.py        (FAST=1 changes nothing: it is instant)
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_edu import Tensor, Value


def hard_max(z: np.ndarray) -> np.ndarray:
    """1 at the largest entry, 0 elsewhere: what softmax approaches as the gaps between z's grow."""
    out = np.zeros_like(z, dtype=float)
    out[np.argmax(z)] = 1.0
    return out


def show(name: str, values: np.ndarray, slide: list[float]) -> None:
    print(f"  {name:8s} computed " + "  ".join(f"{v:9.5f}" for v in values))
    print(f"  {'':8s} slide    " + "  ".join(f"{v:9.5f}" for v in slide))


def main() -> None:
    # ---- example 1: [6, -2, 3]
    z = Tensor([6.0, -2.0, 3.0])
    t = z.exp()
    a = z.softmax()
    print("softmax([6, -2, 3])")
    print("  t = e^z  =", np.array2string(t.data, precision=3), f" sum t = {t.data.sum():.2f}")
    slide_a = [0.952, 0.00037, 0.048]
    show("a", a.data, slide_a)
    assert np.allclose(t.data, [403.4, 0.135, 20.0], atol=0.1)  # the slide's t (rounded)
    assert round(t.data.sum(), 0) == round(423.5, 0)  # sum t = 423.65; the slide adds its rounded t's: 423.5
    assert np.allclose(a.data, t.data / t.data.sum()) and abs(a.data.sum() - 1) < 1e-15
    assert round(a.data[0], 3) == slide_a[0]  # 0.952: right
    assert round(a.data[1], 5) == 0.00032 and round(a.data[1], 5) != slide_a[1]  # slide's 0.00037: a slip
    assert round(a.data[2], 3) == 0.047 and round(a.data[2], 3) != slide_a[2]  # 0.0474: slide shows 0.048
    assert abs(sum(slide_a) - 1.00037) < 1e-12  # the slide's probabilities do not sum to 1
    print("  -> 0.952 is right; e^-2 / sum t = 0.135 / 423.6 = 0.00032 (slide: 0.00037) and")
    print("     e^3 / sum t = 0.0474 = 0.047 to 3 places (slide: 0.048); the slide's row sums to 1.00037.")

    # ---- example 2: [5, 2, -1, 3]
    z2 = np.array([5.0, 2.0, -1.0, 3.0])
    a2 = Tensor(z2).softmax().data
    slide_a2 = [0.842, 0.042, 0.002, 0.114]
    print("softmax([5, 2, -1, 3])")
    show("a", a2, slide_a2)
    assert np.array_equal(np.round(a2, 3), slide_a2)  # all four right
    hm = hard_max(z2)
    print("  hard max:", hm.astype(int).tolist())
    assert hm.tolist() == [1, 0, 0, 0]
    # softmax tends to the hard max when the scores are scaled up (the gaps grow)
    sharp = Tensor(z2 * 20).softmax().data
    assert np.allclose(sharp, hm, atol=1e-12)
    print("  softmax(20 z) =", np.array2string(sharp, precision=6), "-> the hard max as the gaps grow")

    # ---- C = 2 is logistic regression
    for zv in (-3.0, 0.5, 4.0):
        two = Tensor([zv, 0.0]).softmax().data[0]
        assert abs(two - Value(zv).sigmoid().data) < 1e-15
    print("C = 2: softmax([z, 0])[0] == sigma(z) for z in (-3, 0.5, 4)")

    # ---- the gradient of softmax + cross-entropy is a - y (why dZ[L] = A[L] - Y holds for softmax too)
    z = Tensor([6.0, -2.0, 3.0], requires_grad=True)
    y = np.array([1.0, 0.0, 0.0])
    loss = -(Tensor(y) * z.softmax().log()).sum()
    loss.backward()
    assert np.allclose(z.grad.data, z.softmax().data - y, atol=1e-15)
    print("dL/dz for y = <1, 0, 0>:", np.array2string(z.grad.data, precision=5), "= a - y")

    # numerical safety: a large z overflows the naive formula, not the shifted one
    big = Tensor([1000.0, 0.0]).softmax().data
    assert np.all(np.isfinite(big)) and abs(big[0] - 1.0) < 1e-15 and math.isfinite(big[1])
    print("softmax([1000, 0]) =", big.tolist(), "(shifted by max z: no overflow)")


if __name__ == "__main__":
    main()

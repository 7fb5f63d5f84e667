"""The lectures' forward pass, number for number -- including the slide's arithmetic slip.

Lecture "Neural Networks" (Ted Scully), slides "Neural Networks - Forward Pass": the input
x = <0.2, 0.5, -0.9> goes through 3 sigmoid hidden units and 1 sigmoid output unit, every
bias is 0.1, and the weights are

    W[1] = [[1.2, 0.9, 0.3],      hidden unit 1
            [0.2, 0.3, 0.1],      hidden unit 2
            [1.3, 1.9, 0.1]]      hidden unit 3
    W[2] = [[0.2, 0.6, 0.2]]      output unit

    z[1] = W[1] x + b[1],  a[1] = sigma(z[1]),  z[2] = W[2] a[1] + b[2],  a[2] = sigma(z[2]).

The slides print z[1] = 0.52 / 0.55 / 1.22, a[1] = 0.62 / 0.63 / 0.77, z[2] = 0.756, a[2] = 0.68.

THE SLIDE FOR HIDDEN UNIT 2 HAS A SLIP: (0.2 * 0.2) + (0.5 * 0.3) + (-0.9 * 0.1) + 0.1 = 0.04 + 0.15
- 0.09 + 0.1 = 0.20, not 0.55. The 0.55 on the slide is sigma(0.20) = 0.5498: the sigmoid was
applied twice (sigma(0.55) = 0.63 is the slide's next number). The correct forward pass is
a[1] = 0.627 / 0.550 / 0.772, z[2] = 0.7097 (0.708 if the slide's 0.62, 0.55, 0.77 are used) and
a[2] = 0.670, not 0.756 and 0.68. Feeding the slide's own rounded 0.62 / 0.63 / 0.77 into the output unit does
reproduce its 0.756 and 0.68, so the output slide is right given the hidden slide.

This script recomputes everything from the slide's inputs three ways (scalar ``Value``s, one
``Tensor`` matmul in the lectures' column layout, and ``nn.Linear`` with rows as examples),
checks that they agree, and asserts which slide numbers hold and which do not.

Run:  python examples/forward_pass.py        (FAST=1 changes nothing: it is instant)
"""

from __future__ import annotations

import math

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, Value, no_grad

X_IN = [0.2, 0.5, -0.9]
W1 = [[1.2, 0.9, 0.3], [0.2, 0.3, 0.1], [1.3, 1.9, 0.1]]
W2 = [0.2, 0.6, 0.2]
BIAS = 0.1

# what the slides print
SLIDE_Z1 = [0.52, 0.55, 1.22]
SLIDE_A1 = [0.62, 0.63, 0.77]
SLIDE_Z2 = 0.756
SLIDE_A2 = 0.68


def rounds_to(x: float, shown: float, decimals: int) -> bool:
    """Whether the slide's ``shown`` is x rounded *or truncated* to ``decimals`` places.

    The slides sometimes truncate (sigma(0.52) = 0.6271 is shown as 0.62), so both count as a match.
    """
    scale = 10**decimals
    return round(x, decimals) == round(shown, decimals) or math.floor(x * scale + 1e-9) == round(shown * scale)


def forward_values() -> tuple[list[Value], list[Value], Value, Value]:
    """The forward pass with one scalar Value per number (the slides' hand calculation)."""
    x = [Value(v, label=f"x{i + 1}") for i, v in enumerate(X_IN)]
    z1 = [Value.dot([Value(w) for w in row], x) + BIAS for row in W1]  # z_j = w_j . x + b_j
    a1 = [z.sigmoid() for z in z1]  # a_j = sigma(z_j)
    z2 = Value.dot([Value(w) for w in W2], a1) + BIAS
    return z1, a1, z2, z2.sigmoid()


def main() -> None:
    z1, a1, z2, a2 = forward_values()

    # the same with one matmul, the lectures' layout: x is a column (n_x, 1), W[1] is (n[1], n[0])
    x_col = Tensor(np.array(X_IN).reshape(3, 1))
    Z1 = Tensor(W1) @ x_col + BIAS
    A1 = Z1.sigmoid()
    Z2 = Tensor([W2]) @ A1 + BIAS
    A2 = Z2.sigmoid()

    # and with nn.Linear (rows are examples: z = x W^T + b)
    net = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid())
    with no_grad():
        net[0].weight.data[...] = W1
        net[0].bias.data[...] = BIAS
        net[2].weight.data[...] = [W2]
        net[2].bias.data[...] = BIAS
        out = net(Tensor([X_IN]))

    z1_v = [z.data for z in z1]
    a1_v = [a.data for a in a1]
    assert np.allclose(Z1.data.ravel(), z1_v, atol=1e-15) and np.allclose(A1.data.ravel(), a1_v, atol=1e-15)
    assert abs(A2.item() - a2.data) < 1e-15 and abs(out.item() - a2.data) < 1e-15

    print("Forward pass of x = <0.2, 0.5, -0.9>, biases 0.1 (Value, Tensor and nn.Linear agree)")
    print(f"{'':14s}{'slide':>8s}{'computed':>12s}  check")
    for j in range(3):
        row = W1[j]
        terms = " + ".join(f"({xi} * {wi})" for xi, wi in zip(X_IN, row))
        ok_z = rounds_to(z1_v[j], SLIDE_Z1[j], 2)
        print(f"z[1]_{j + 1} = {terms} + 0.1")
        print(f"{'':14s}{SLIDE_Z1[j]:>8.2f}{z1_v[j]:>12.4f}  {'ok' if ok_z else 'SLIDE IS WRONG'}")
        ok_a = rounds_to(a1_v[j], SLIDE_A1[j], 2)
        verdict = "ok" if ok_a else "SLIDE IS WRONG"
        print(f"a[1]_{j + 1} = sigma(z){'':5s}{SLIDE_A1[j]:>8.2f}{a1_v[j]:>12.4f}  {verdict}")
    print(f"z[2]   {'':7s}{SLIDE_Z2:>8.3f}{z2.data:>12.4f}  (differs: follows from the slip)")
    print(f"a[2]   {'':7s}{SLIDE_A2:>8.2f}{a2.data:>12.4f}  (differs: follows from the slip)")

    # hidden units 1 and 3 are right on the slides
    for j in (0, 2):
        assert rounds_to(z1_v[j], SLIDE_Z1[j], 2) and rounds_to(a1_v[j], SLIDE_A1[j], 2)
    # hidden unit 2: the slide's 0.55 is wrong; the true pre-activation is 0.20 ...
    assert abs(z1_v[1] - 0.20) < 1e-12
    assert not rounds_to(z1_v[1], SLIDE_Z1[1], 2)
    # ... and 0.55 is sigma(0.20): the slide applied the sigmoid twice, so its 0.63 is sigma(sigma(0.20))
    assert rounds_to(a1_v[1], 0.55, 2)
    assert rounds_to(1 / (1 + math.exp(-a1_v[1])), SLIDE_A1[1], 2)
    # the correct output: z[2] = 0.710, a[2] = 0.670; on the slide's output line, replacing only
    # the wrong 0.63 by 0.55 (keeping its 0.62 and 0.77) gives 0.708
    assert round(z2.data, 3) == 0.710 and round(a2.data, 3) == 0.670
    z2_rounded = W2[0] * SLIDE_A1[0] + W2[1] * 0.55 + W2[2] * SLIDE_A1[2] + BIAS
    assert round(z2_rounded, 3) == 0.708
    # the slide's own hidden values reproduce its output numbers exactly
    z2_slide = sum(w * a for w, a in zip(W2, SLIDE_A1)) + BIAS
    a2_slide = 1 / (1 + math.exp(-z2_slide))
    assert rounds_to(z2_slide, SLIDE_Z2, 3) and rounds_to(a2_slide, SLIDE_A2, 2)

    print()
    print("The slide for hidden unit 2 is wrong: 0.2*0.2 + 0.5*0.3 + (-0.9)*0.1 + 0.1 = 0.20, not 0.55.")
    print(f"0.55 is sigma(0.20) = {a1_v[1]:.4f}; the slide then took sigma(0.55) = 0.63 (the sigmoid twice).")
    print(f"Correct: a[1] = {a1_v[0]:.3f} / {a1_v[1]:.3f} / {a1_v[2]:.3f}, z[2] = {z2.data:.4f} "
          f"({z2_rounded:.3f} with the slide's 0.62, 0.55, 0.77), a[2] = {a2.data:.4f}.")
    print(f"With the slide's 0.62 / 0.63 / 0.77: z[2] = {z2_slide:.3f}, a[2] = {a2_slide:.2f} (the slide's numbers).")


if __name__ == "__main__":
    main()

"""Gradient checking: the lectures' theta^3 quiz, a whole network, a caught bug, and why it is switched off.

The lectures check backprop against the two-sided difference

    dJ/dtheta  ~  (J(theta + eps) - J(theta - eps)) / (2 eps).

1. The quiz (Neural Networks: Learning deck): J(theta) = theta^3, theta = 1, eps = 0.01.
   (1.01^3 - 0.99^3) / 0.02 = 3.0001 against the exact derivative 3: answer (ii). The error,
   eps^2 J'''(theta) / 6 = 0.0001, shrinks like eps^2.
2. A whole network: ``tinygrad_edu.gradcheck`` perturbs every weight and bias of a 4-16-16-1
   tanh network, one at a time, and compares each central difference with backprop.
3. A bug it catches: a softmax that (wrongly) treats its denominator as a constant.
4. "Be sure to disable your gradient checking code before training your classifier ... your
   code will be 'very' slow": with n parameters a gradient check needs 2n evaluations of J, a
   backward pass about one. The script times both and prints the ratio.

Run:  python examples/gradient_checking.py        (FAST=1: fewer timing repeats)
"""

from __future__ import annotations

import os
import time

import numpy as np

from tinygrad_edu import Tensor, Value, gradcheck, numerical_grad

FAST = bool(os.environ.get("FAST"))


def quiz() -> None:
    theta, eps = 1.0, 0.01
    by_hand = ((theta + eps) ** 3 - (theta - eps) ** 3) / (2 * eps)
    (estimate,) = numerical_grad(lambda t: t**3, Value(theta), eps=eps)
    t = Value(theta)
    (t**3).backward()
    print("Quiz: J(theta) = theta^3 at theta = 1, eps = 0.01")
    print(f"  (J(1.01) - J(0.99)) / 0.02 = {by_hand:.4f}   numerical_grad: {estimate:.4f}   backprop: {t.grad:.4f}")
    assert round(by_hand, 4) == 3.0001 and round(estimate, 4) == 3.0001 and t.grad == 3.0
    assert abs(by_hand - 3.0 - eps**2) < 1e-12  # the error is eps^2 * J'''/6 = eps^2 exactly for theta^3
    for e in (1e-2, 1e-3, 1e-4):
        (est,) = numerical_grad(lambda t: t**3, Value(theta), eps=e)
        print(f"  eps = {e:g}: estimate - 3 = {est - 3:.1e}")
        assert abs(est - 3 - e**2) < 1e-8


def network_params(seed: int = 0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    sizes = [4, 16, 16, 1]
    params = []
    for l, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        params.append(Tensor(rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)), requires_grad=True, label=f"W{l}"))
        params.append(Tensor(rng.normal(0, 0.1, (n_out,)), requires_grad=True, label=f"b{l}"))
    return params


X = np.random.default_rng(1).normal(size=(32, 4))
Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)


def J(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, W3: Tensor, b3: Tensor) -> Tensor:
    """The cost of a 4-16-16-1 tanh network with a sigmoid output, from its parameters."""
    a = (Tensor(X) @ W1.T + b1).tanh()
    a = (a @ W2.T + b2).tanh()
    p = (a @ W3.T + b3).sigmoid()
    return -(Y * p.log() + (1 - Y) * (1 - p).log()).mean()


def whole_network() -> None:
    params = network_params()
    result = gradcheck(J, *params)
    n = sum(p.size for p in params)
    print(f"\nA 4-16-16-1 network: {n} parameters, each perturbed by +-1e-6")
    print("\n".join("  " + line for line in str(result).splitlines()))
    assert result.ok


def caught_bug() -> None:
    def bad_softmax(z: Tensor) -> Tensor:
        e = z.exp()
        return e / e.sum(axis=1, keepdims=True).detach()  # BUG: the denominator depends on z too

    z = Tensor(np.random.default_rng(2).normal(size=(2, 3)), requires_grad=True)
    bad = gradcheck(lambda z: bad_softmax(z), z)
    good = gradcheck(lambda z: z.softmax(axis=1), z)
    print("\nA softmax whose denominator was detached by mistake:")
    print("\n".join("  " + line for line in str(bad).splitlines()[:5]))
    print(f"  ... and the library's softmax: {'passed' if good.ok else 'FAILED'}")
    assert not bad.ok and good.ok


def timing() -> None:
    params = network_params()
    repeats = 3 if FAST else 20

    backprop = float("inf")  # the fastest of several runs: robust to a busy machine
    for _ in range(repeats):
        for p in params:
            p.grad = None
        start = time.perf_counter()
        J(*params).backward()
        backprop = min(backprop, time.perf_counter() - start)

    start = time.perf_counter()
    for _ in range(max(1, repeats // 3)):
        numerical_grad(J, *params)
    numeric = (time.perf_counter() - start) / max(1, repeats // 3)

    n = sum(p.size for p in params)
    ratio = numeric / backprop
    print(f"\nOne gradient of all {n} parameters: backprop {backprop * 1e3:.2f} ms, "
          f"finite differences ({2 * n} evaluations of J) {numeric * 1e3:.1f} ms: {ratio:.0f}x slower.")
    print("So: check the gradients once, then switch gradient checking off and train with backprop.")
    # 2n = 738 forward passes against one forward + one backward: hundreds of times slower
    # (the bound is loose so that a busy machine cannot make it flaky)
    assert ratio > 20


def main() -> None:
    quiz()
    whole_network()
    caught_bug()
    timing()


if __name__ == "__main__":
    main()

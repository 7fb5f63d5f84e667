"""The backpropagation slides' dimension bookkeeping and two quizzes (Racharak), computed.

1. **dL/dW(3) is 2x3.** For a network whose layers 2, 3, 4 have 3, 2, 1 units, the chain
   rule dL/dW(3) = dL/da(4) da(4)/dz(4) dz(4)/da(3) da(3)/dz(3) dz(3)/dW(3) has factors of
   shapes (1x1)(1x2)(2x1)(3x1) that do not multiply as written; reordered as the slide does,

       dL/dW(3) = [W(4)^T o g'(z(3))] (a(4) - y) a(2)^T     (2x1)(1x1)(1x3) = 2x3,

   it is the shape of W(3). Checked against autograd.
2. **Order of FP and BP over two examples.** Answer (iv): FP with x(1), then BP with y(1);
   then FP with x(2), then BP with y(2) -- BP of an example needs the activations of *its*
   forward pass. Accumulating that way gives the batch gradient; option (ii) (BP with y(2)
   after FP with x(1)) gives a different, wrong one.
3. **delta_1(3) when Theta_11(2) = Theta_21(2) = 0.** Those weights leave unit 1 of layer 2,
   so they make delta_1(2) = (Theta_11(2) delta_1(3) + Theta_21(2) delta_2(3)) g'(z_1(2)) = 0,
   but delta_1(3) itself comes from layer 4: over random networks with those two weights 0
   it takes both signs. Answer (iv): there is insufficient information to tell.

Run:  python examples/backprop_quizzes.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import reference


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def dimension_bookkeeping() -> None:
    rng = np.random.default_rng(0)
    a2 = rng.normal(size=(3, 1))                     # a(2): 3 units
    W3, b3 = rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
    W4, b4 = rng.normal(size=(1, 2)), rng.normal(size=(1, 1))
    y = 1.0
    z3 = W3 @ a2 + b3
    a3 = sigmoid(z3)
    a4 = sigmoid(W4 @ a3 + b4)
    g3 = a3 * (1 - a3)                                # g'(z(3)), 2x1
    dW3 = (W4.T * g3) * (a4 - y) @ a2.T               # (2x1)(1x1)(1x3)
    print(f"1. dL/dW(3): (W(4)^T {W4.T.shape} o g'(z(3)) {g3.shape}) (a(4) - y) {a4.shape} a(2)^T {a2.T.shape}"
          f" -> {dW3.shape}, the shape of W(3) {W3.shape}")
    W = tg.Tensor(W3, requires_grad=True)
    a4_t = ((tg.Tensor(W4) @ (W @ tg.Tensor(a2) + tg.Tensor(b3)).sigmoid()) + tg.Tensor(b4)).sigmoid()
    loss = -(y * a4_t.log() + (1 - y) * (1 - a4_t).log()).sum()
    loss.backward()
    np.testing.assert_allclose(W.grad.data, dW3, rtol=1e-12)
    print("   equal to autograd's dL/dW(3) (rtol 1e-12)")


def order_of_fp_and_bp() -> None:
    rng = np.random.default_rng(1)
    params = reference.initialize_parameters([2, 3, 1], seed=1)
    X, Y = rng.normal(size=(2, 2)), np.array([[1.0, 0.0]])
    batch = reference.l_layer_cost_and_grads(X, Y, params, hidden_activation="tanh")[1]

    def one_example(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """FP with x, then BP with y (m = 1)."""
        AL, caches = reference.l_layer_forward(x, params, "tanh")
        return reference.l_layer_backward(AL, y, caches, "tanh")

    iv = [one_example(X[:, i : i + 1], Y[:, i : i + 1]) for i in range(2)]   # FP x(1), BP y(1); FP x(2), BP y(2)
    ii = [one_example(X[:, 0:1], Y[:, 1:2]), one_example(X[:, 1:2], Y[:, 0:1])]  # FP x(1), BP y(2); ...
    mean_iv = {k: (iv[0][k] + iv[1][k]) / 2 for k in ("dW1", "db1", "dW2", "db2")}
    mean_ii = {k: (ii[0][k] + ii[1][k]) / 2 for k in ("dW1", "db1", "dW2", "db2")}
    assert all(np.allclose(mean_iv[k], batch[k], atol=1e-14) for k in mean_iv)
    gap = max(np.abs(mean_ii[k] - batch[k]).max() for k in mean_ii)
    assert gap > 1e-3
    print("2. two examples: (iv) FP x(1), BP y(1), FP x(2), BP y(2) averages to the batch gradient (1e-14);"
          f" (ii) misses it by up to {gap:.3f}")


def delta_quiz() -> None:
    """A 2-2-2-1 sigmoid network (layers 1..4); Theta(l)_ji maps unit i of layer l to unit j of l+1."""
    rng = np.random.default_rng(2)
    signs, zero_delta2 = set(), True
    for _ in range(200):
        Th1, Th2, Th3 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.normal(size=(1, 2))
        Th2[0, 0] = Th2[1, 0] = 0.0                   # Theta_11(2) = Theta_21(2) = 0 (the red weights)
        x, y = rng.normal(size=(2, 1)), float(rng.integers(0, 2))
        a2 = sigmoid(Th1 @ x)
        a3 = sigmoid(Th2 @ a2)
        a4 = sigmoid(Th3 @ a3)
        delta4 = a4 - y
        delta3 = (Th3.T @ delta4) * a3 * (1 - a3)
        delta2 = (Th2.T @ delta3) * a2 * (1 - a2)
        zero_delta2 &= bool(delta2[0, 0] == 0.0)
        signs.add(int(np.sign(delta3[0, 0])))
    assert zero_delta2 and signs >= {-1, 1}
    print("3. with Theta_11(2) = Theta_21(2) = 0: delta_1(2) = 0 in all 200 random networks, but delta_1(3)"
          " took both signs -> (iv) insufficient information")


def main() -> None:
    dimension_bookkeeping()
    order_of_fp_and_bp()
    delta_quiz()


if __name__ == "__main__":
    main()

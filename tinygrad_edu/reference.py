"""The lectures' hand-derived formulas in plain numpy: an oracle independent of the autograd engine.

This module imports numpy and nothing else, never the engine, ``Value`` or ``Tensor``, so
when its gradients agree with autograd the two agreeing is evidence, not a tautology.

Layout and notation are the lectures' own:

* ``X`` has shape (n_x, m): one **column** per example; ``Y`` has shape (1, m) for a sigmoid
  output or (K, m) one-hot for a softmax output.
* ``W[l]`` has shape (n[l], n[l-1]), ``b[l]`` has shape (n[l], 1); ``Z[l] = W[l] A[l-1] + b[l]``,
  ``A[l] = g[l](Z[l])``, ``A[0] = X``. Parameters live in a dict ``{"W1": ..., "b1": ..., "W2": ...}``
  and gradients in ``{"dW1": ..., "db1": ..., "dZ1": ...}``, as in the lectures' code.
* Activation derivatives as in the lectures' table: sigma'(z) = sigma(z)(1 - sigma(z)),
  tanh'(z) = 1 - tanh(z)^2, relu'(z) = 1 for z >= 0 else 0, leaky relu'(z) = 1 for z >= 0 else
  0.01. (At exactly z = 0 the derivative does not exist; the lectures pick 1, the engine picks
  PyTorch's relu'(0) = 0. Compare the two only away from z = 0.)

Contents
--------
Activations: :func:`sigmoid`, :func:`tanh`, :func:`relu`, :func:`leaky_relu`, :func:`softmax`,
their derivatives :func:`activation_derivative`.

Logistic regression (one neuron, ``w`` of shape (n_x, 1), scalar ``b``):
:func:`logistic_regression_cost_and_grads` (vectorised) and
:func:`logistic_regression_cost_and_grads_loop` (the lectures' per-example ``for i = 1 to m`` loop).

L-layer network: :func:`initialize_parameters`, :func:`l_layer_forward`, :func:`compute_cost`,
:func:`compute_cost_from_logits` (the same cost, stable), :func:`regularized_cost`,
:func:`l_layer_backward`, :func:`l_layer_cost_and_grads`, and the per-example accumulation
:func:`l_layer_grads_delta_accumulation` (Delta[l] += delta[l] a[l-1]^T).

Parameter updates: :func:`gradient_descent_update`, :func:`initialize_velocity`,
:func:`momentum_update` (EMA form), :func:`weight_decay_update` ((1 - alpha*lambda) w form).

The regulariser, worked out
---------------------------
The regularised cost is

    J_reg = J + (lambda / 2m) * sum_l sum_ij (W[l]_ij)^2        (biases excluded)

and its derivative with respect to one weight is (lambda / 2m) * 2 W = (lambda / m) W. So

    dW[l] = (1/m) dZ[l] A[l-1]^T + (lambda/m) W[l],     db[l] unchanged,

and in the per-example form D[l] = (1/m) Delta[l] + (lambda/m) W[l] = (1/m)(Delta[l] + lambda W[l]).
Some lecture slides write the regulariser term of D as ``lambda * Theta``; that is consistent only
with a cost of (lambda/2) sum Theta^2 (no 1/m), not with the (lambda/2m) cost on the same slides.
This module uses (lambda/m) W everywhere, and ``tests/test_reference.py`` checks it against
finite differences of :func:`regularized_cost` (which disagree with ``lambda * W``).

Weight decay, worked out
------------------------
A gradient-descent step on J_reg is W := W - alpha (dW + (lambda/m) W) = (1 - alpha lambda/m) W - alpha dW,
where dW is the *unregularised* gradient. That is the lectures' weight-decay form
W := (1 - alpha lambda') W - alpha dW with decay coefficient lambda' = lambda / m. (The lectures'
J_L2 = J + (lambda'/2) ||w||^2 has derivative lambda' w directly, which is where their
(1 - alpha lambda') comes from.) :func:`weight_decay_update` takes lambda'; see its docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "LEAKY_SLOPE",
    "activation_derivative",
    "compute_cost",
    "compute_cost_from_logits",
    "gradient_descent_update",
    "initialize_parameters",
    "initialize_velocity",
    "l_layer_backward",
    "l_layer_cost_and_grads",
    "l_layer_forward",
    "l_layer_grads_delta_accumulation",
    "leaky_relu",
    "logistic_regression_cost_and_grads",
    "logistic_regression_cost_and_grads_loop",
    "momentum_update",
    "regularized_cost",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "weight_decay_update",
]

#: The leaky relu slope for z < 0 used in the lectures' activation table.
LEAKY_SLOPE = 0.01

Params = dict[str, np.ndarray]
Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # (A[l-1], W[l], b[l], Z[l])


# ============================================================== activations


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^-z), evaluated without overflow (e^-|z| only)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def tanh(z: np.ndarray) -> np.ndarray:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z)."""
    return np.tanh(z)


def relu(z: np.ndarray) -> np.ndarray:
    """relu(z) = z for z >= 0, 0 for z < 0."""
    return np.maximum(z, 0.0)


def leaky_relu(z: np.ndarray, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """leaky relu(z) = z for z >= 0, slope * z for z < 0 (slope 0.01 in the lectures)."""
    return np.where(z >= 0, z, slope * z)


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the classes, i.e. down each column (axis 0): a_k = e^(z_k) / sum_j e^(z_j).

    Shifted by the column maximum first, which does not change the result but avoids overflow.
    """
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def _sigmoid_prime(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return s * (1.0 - s)


def _tanh_prime(z: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(z) ** 2


def _relu_prime(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, 1.0, 0.0)


def _leaky_relu_prime(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, 1.0, LEAKY_SLOPE)


#: name -> (g, g') for the hidden activations of the lectures' table.
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "sigmoid": (sigmoid, _sigmoid_prime),
    "tanh": (tanh, _tanh_prime),
    "relu": (relu, _relu_prime),
    "leaky_relu": (leaky_relu, _leaky_relu_prime),
}


def _activation(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"reference: unknown hidden activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None


def activation_derivative(name: str, z: np.ndarray) -> np.ndarray:
    """g'(z) for a hidden activation ``name``: sigma(1 - sigma), 1 - tanh^2, relu' or leaky relu'."""
    return _activation(name)[1](np.asarray(z, dtype=float))


# ============================================================== logistic regression


def _check_logistic(w: np.ndarray, X: np.ndarray, Y: np.ndarray, op: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w, X, Y = np.asarray(w, dtype=float), np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{op}: X must have shape (n_x, m) (one column per example), got {X.shape}")
    n_x, m = X.shape
    if w.shape != (n_x, 1):
        raise ValueError(f"{op}: w must have shape (n_x, 1) = ({n_x}, 1) for X of shape {X.shape}, got {w.shape}")
    if Y.shape != (1, m):
        raise ValueError(f"{op}: Y must have shape (1, m) = (1, {m}), got {Y.shape}")
    return w, X, Y


def logistic_regression_cost_and_grads(
    w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, lam: float = 0.0
) -> tuple[float, np.ndarray, float]:
    """Vectorised logistic regression: returns (J, dw, db).

        Z = w^T X + b,   A = sigma(Z)
        J = -(1/m) sum_i [y(i) log a(i) + (1 - y(i)) log(1 - a(i))] + (lambda/2m) sum_j w_j^2
        dZ = A - Y,   dw = (1/m) X dZ^T + (lambda/m) w,   db = (1/m) sum(dZ)

    ``w`` (n_x, 1), ``X`` (n_x, m), ``Y`` (1, m); ``b`` is not regularised.
    """
    w, X, Y = _check_logistic(w, X, Y, "logistic_regression_cost_and_grads")
    m = X.shape[1]
    Z = w.T @ X + b
    A = sigmoid(Z)
    J = -np.sum(Y * np.log(A) + (1.0 - Y) * np.log(1.0 - A)) / m + lam / (2 * m) * np.sum(w**2)
    dZ = A - Y
    dw = X @ dZ.T / m + lam / m * w
    db = np.sum(dZ) / m
    return float(J), dw, float(db)


def logistic_regression_cost_and_grads_loop(
    w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, lam: float = 0.0
) -> tuple[float, np.ndarray, float]:
    """The lectures' non-vectorised logistic regression, one example at a time: (J, dw, db).

        for i = 1 to m:
            z(i) = w^T x(i) + b;  a(i) = sigma(z(i))
            J += -[y(i) log a(i) + (1 - y(i)) log(1 - a(i))]
            dz(i) = a(i) - y(i)
            dw_j += x_j(i) dz(i)  for every feature j;   db += dz(i)
        J /= m;  dw /= m;  db /= m      (then the regulariser: J += (lambda/2m) sum w_j^2, dw += (lambda/m) w)
    """
    w, X, Y = _check_logistic(w, X, Y, "logistic_regression_cost_and_grads_loop")
    n_x, m = X.shape
    J = 0.0
    dw = np.zeros((n_x, 1))
    db = 0.0
    for i in range(m):
        z = sum(w[j, 0] * X[j, i] for j in range(n_x)) + b
        a = float(sigmoid(np.asarray(z)))
        y = Y[0, i]
        J += -(y * np.log(a) + (1.0 - y) * np.log(1.0 - a))
        dz = a - y
        for j in range(n_x):
            dw[j, 0] += X[j, i] * dz
        db += dz
    J /= m
    dw /= m
    db /= m
    J += lam / (2 * m) * float(np.sum(w**2))
    dw += lam / m * w
    return float(J), dw, float(db)


# ============================================================== L-layer network


def initialize_parameters(
    layer_dims: Sequence[int], seed: int | np.random.Generator = 0, scale: float = 1.0
) -> Params:
    """W[l] ~ N(0, scale^2 / n[l-1]) of shape (n[l], n[l-1]) and b[l] ~ N(0, 0.1^2) of shape (n[l], 1).

    ``layer_dims = [n_x, n[1], ..., n[L]]``. Small random biases (not zeros) so tests also see
    bias gradients that matter. Returns ``{"W1": ..., "b1": ..., ..., "WL": ..., "bL": ...}``.
    """
    if len(layer_dims) < 2 or any(int(n) < 1 for n in layer_dims):
        raise ValueError(f"initialize_parameters: layer_dims must be >= 2 positive sizes, got {list(layer_dims)}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    params: Params = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * scale / np.sqrt(layer_dims[l - 1])
        params[f"b{l}"] = rng.standard_normal((layer_dims[l], 1)) * 0.1
    return params


def _num_layers(params: Mapping[str, np.ndarray]) -> int:
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0:
        raise ValueError(f"reference: parameters must contain W1, b1, ...; got keys {sorted(params)}")
    return L


def _check_output(output_activation: str) -> None:
    if output_activation not in ("sigmoid", "softmax"):
        raise ValueError(f"reference: output_activation must be 'sigmoid' or 'softmax', got {output_activation!r}")


def l_layer_forward(
    X: np.ndarray,
    params: Mapping[str, np.ndarray],
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> tuple[np.ndarray, list[Cache]]:
    """Forward propagation: returns (A[L], caches) with caches[l-1] = (A[l-1], W[l], b[l], Z[l]).

        A[0] = X
        Z[l] = W[l] A[l-1] + b[l],   A[l] = g(Z[l])       for l = 1 .. L-1 (hidden activation g)
        Z[L] = W[L] A[L-1] + b[L],   A[L] = sigma(Z[L]) or softmax(Z[L]) (down each column)
    """
    _check_output(output_activation)
    g = _activation(hidden_activation)[0]
    L = _num_layers(params)
    A = np.asarray(X, dtype=float)
    caches: list[Cache] = []
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if W.shape[1] != A.shape[0] or b.shape != (W.shape[0], 1):
            raise ValueError(
                f"l_layer_forward: layer {l} has W{l} {W.shape} and b{l} {b.shape} but its input A[{l - 1}] "
                f"has shape {A.shape}; expected W{l} (n[{l}], {A.shape[0]}) and b{l} (n[{l}], 1)"
            )
        Z = W @ A + b
        caches.append((A, W, b, Z))
        if l < L:
            A = g(Z)
        else:
            A = sigmoid(Z) if output_activation == "sigmoid" else softmax(Z)
    return A, caches


def compute_cost(AL: np.ndarray, Y: np.ndarray, output_activation: str = "sigmoid") -> float:
    """Cross-entropy cost J = (1/m) sum_i L(y_hat(i), y(i)).

    sigmoid output (binary, summed over the K output units as in the lectures' neural-network cost):
        J = -(1/m) sum_i sum_k [y_k(i) log a_k(i) + (1 - y_k(i)) log(1 - a_k(i))]
    softmax output (categorical, Y one-hot (K, m)):
        J = -(1/m) sum_i sum_k y_k(i) log a_k(i)
    """
    _check_output(output_activation)
    AL, Y = np.asarray(AL, dtype=float), np.asarray(Y, dtype=float)
    if AL.shape != Y.shape:
        raise ValueError(f"compute_cost: A[L] has shape {AL.shape} but Y has shape {Y.shape}; they must match")
    m = Y.shape[1]
    if output_activation == "sigmoid":
        return float(-np.sum(Y * np.log(AL) + (1.0 - Y) * np.log(1.0 - AL)) / m)
    return float(-np.sum(Y * np.log(AL)) / m)


def compute_cost_from_logits(ZL: np.ndarray, Y: np.ndarray, output_activation: str = "sigmoid") -> float:
    """The same cross-entropy cost as :func:`compute_cost`, computed stably from the logits Z[L].

    sigmoid: with a = sigma(z), -[y log a + (1 - y) log(1 - a)] = ln(1 + e^z) - y z
             = max(z, 0) + ln(1 + e^-|z|) - y z
    softmax: -sum_k y_k log a_k = -sum_k y_k (z_k - logsumexp(z))

    Equal to the lectures' form, but when a rounds to 1 (z > ~37) log(1 - a) would be log 0,
    and already for z ~ 30 the cost computed from a is so coarsely rounded that finite
    differences of it are meaningless. :func:`regularized_cost` uses this form.
    """
    _check_output(output_activation)
    ZL, Y = np.asarray(ZL, dtype=float), np.asarray(Y, dtype=float)
    if ZL.shape != Y.shape:
        raise ValueError(f"compute_cost_from_logits: Z[L] has shape {ZL.shape} but Y has shape {Y.shape}")
    m = Y.shape[1]
    if output_activation == "sigmoid":
        return float(np.sum(np.maximum(ZL, 0.0) + np.log1p(np.exp(-np.abs(ZL))) - Y * ZL) / m)
    shifted = ZL - np.max(ZL, axis=0, keepdims=True)
    log_softmax = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    return float(-np.sum(Y * log_softmax) / m)


def _weights_squared(params: Mapping[str, np.ndarray]) -> float:
    return float(sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, _num_layers(params) + 1)))


def _regularized_cost_from_caches(
    caches: Sequence[Cache], Y: np.ndarray, params: Mapping[str, np.ndarray], lam: float, output_activation: str
) -> float:
    """J + (lambda/2m) sum W^2, with J computed stably from Z[L] (the last cache's Z)."""
    m = np.asarray(Y).shape[1]
    return compute_cost_from_logits(caches[-1][3], Y, output_activation) + lam / (2 * m) * _weights_squared(params)


def regularized_cost(
    X: np.ndarray,
    Y: np.ndarray,
    params: Mapping[str, np.ndarray],
    lam: float = 0.0,
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> float:
    """J_reg = J + (lambda / 2m) sum_l sum_ij (W[l]_ij)^2 -- biases are not regularised.

    J is computed stably from Z[L] (:func:`compute_cost_from_logits`), so finite differences
    of J_reg are meaningful even where the output saturates.
    """
    _, caches = l_layer_forward(X, params, hidden_activation, output_activation)
    return _regularized_cost_from_caches(caches, Y, params, lam, output_activation)


def l_layer_backward(
    AL: np.ndarray,
    Y: np.ndarray,
    caches: Sequence[Cache],
    hidden_activation: str = "relu",
    lam: float = 0.0,
) -> dict[str, np.ndarray]:
    """Backward propagation (vectorised over the m columns), the lectures' summary:

        dZ[L]   = A[L] - Y          (sigmoid + binary CE, or softmax + categorical CE)
        dW[l]   = (1/m) dZ[l] A[l-1]^T + (lambda/m) W[l]
        db[l]   = (1/m) np.sum(dZ[l], axis=1, keepdims=True)
        dZ[l-1] = W[l]^T dZ[l] * g'(Z[l-1])

    The deck's "Summary: forward and backward propagation" slide misprints three factors:
    it has dW[L] = (1/m) dZ[L] A[L]^T, dZ[L-1] = dW[L]^T dZ[L] g'[L](Z[L-1]) and
    dW[1] = (1/m) dZ[1] A[1]^T. The shapes only work, and the one-hidden-layer slide agrees,
    with A[l-1]^T (A[0] = X), W[l]^T and g'[l-1], as above (docs/lecture-map.md, errata).

    Returns ``{"dW1", "db1", "dZ1", ..., "dWL", "dbL", "dZL"}``.
    """
    g_prime = _activation(hidden_activation)[1]
    AL, Y = np.asarray(AL, dtype=float), np.asarray(Y, dtype=float)
    if AL.shape != Y.shape:  # A[L] - Y would broadcast silently, e.g. (1, m) - (m, 1) -> (m, m)
        raise ValueError(f"l_layer_backward: A[L] has shape {AL.shape} but Y has shape {Y.shape}; they must match")
    m = Y.shape[1]
    L = len(caches)
    grads: dict[str, np.ndarray] = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev, W, _, _ = caches[l - 1]
        grads[f"dZ{l}"] = dZ
        grads[f"dW{l}"] = dZ @ A_prev.T / m + lam / m * W
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            Z_prev = caches[l - 2][3]
            dZ = (W.T @ dZ) * g_prime(Z_prev)
    return grads


def l_layer_cost_and_grads(
    X: np.ndarray,
    Y: np.ndarray,
    params: Mapping[str, np.ndarray],
    lam: float = 0.0,
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> tuple[float, dict[str, np.ndarray]]:
    """Forward, regularised cost and backward in one call: returns (J_reg, grads)."""
    AL, caches = l_layer_forward(X, params, hidden_activation, output_activation)
    J = _regularized_cost_from_caches(caches, Y, params, lam, output_activation)
    return J, l_layer_backward(AL, Y, caches, hidden_activation, lam)


def l_layer_grads_delta_accumulation(
    X: np.ndarray,
    Y: np.ndarray,
    params: Mapping[str, np.ndarray],
    lam: float = 0.0,
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> dict[str, np.ndarray]:
    """The per-example backpropagation of the lectures, accumulating Delta.

    Written in this module's [l] numbering (layer 0 = the input). The slides number layers
    from 1 = the input, in parentheses, so their Theta(l), a(l), delta(l+1) are our W[l],
    a[l-1], delta[l], and their Delta(l) := Delta(l) + delta(l+1) (a(l))^T is the update below.
    Their bias column (j = 0, a_0 = 1) is our b[l]: the slides' "D = (1/m) Delta if j = 0"
    is D_b[l] here, and biases are not regularised.

        Delta[l] = 0 for all l
        for i = 1 to m:
            forward x(i) to get a[l], z[l];   delta[L] = a[L] - y(i)
            delta[l] = W[l+1]^T delta[l+1] * g'(z[l])           for l = L-1 .. 1
            Delta[l] := Delta[l] + delta[l] (a[l-1])^T;   Delta_b[l] := Delta_b[l] + delta[l]
        D[l] = (1/m) Delta[l] + (lambda/m) W[l]     (= dJ_reg / dW[l]; see the module docstring
                                                     for why lambda/m and not lambda)
        D_b[l] = (1/m) Delta_b[l]

    Returns ``{"dW1": D[1], "db1": D_b[1], ...}``, equal to :func:`l_layer_backward`'s.
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    g, g_prime = _activation(hidden_activation)
    _check_output(output_activation)
    L = _num_layers(params)
    m = X.shape[1]
    expected = (params[f"W{L}"].shape[0], m)
    if Y.shape != expected:
        raise ValueError(
            f"l_layer_grads_delta_accumulation: Y must have shape (n[L], m) = {expected} for X of shape "
            f"{X.shape}, got {Y.shape}"
        )
    Delta = {l: np.zeros_like(params[f"W{l}"]) for l in range(1, L + 1)}
    Delta_b = {l: np.zeros_like(params[f"b{l}"]) for l in range(1, L + 1)}
    for i in range(m):
        a = {0: X[:, i : i + 1]}
        z: dict[int, np.ndarray] = {}
        for l in range(1, L + 1):
            z[l] = params[f"W{l}"] @ a[l - 1] + params[f"b{l}"]
            if l < L:
                a[l] = g(z[l])
            else:
                a[l] = sigmoid(z[l]) if output_activation == "sigmoid" else softmax(z[l])
        delta = a[L] - Y[:, i : i + 1]
        for l in range(L, 0, -1):
            Delta[l] += delta @ a[l - 1].T
            Delta_b[l] += delta
            if l > 1:
                delta = (params[f"W{l}"].T @ delta) * g_prime(z[l - 1])
    grads: dict[str, np.ndarray] = {}
    for l in range(1, L + 1):
        grads[f"dW{l}"] = Delta[l] / m + lam / m * params[f"W{l}"]
        grads[f"db{l}"] = Delta_b[l] / m
    return grads


# ============================================================== parameter updates


def _param_names(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], op: str) -> list[str]:
    names = list(params)
    missing = [f"d{k}" for k in names if f"d{k}" not in grads]
    if missing:
        raise ValueError(f"{op}: grads lack {missing} for parameters {names}")
    return names


def gradient_descent_update(
    params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], alpha: float
) -> Params:
    """One gradient-descent step: W[l] := W[l] - alpha dW[l],  b[l] := b[l] - alpha db[l].

    Returns new arrays; the inputs are not modified.
    """
    return {k: params[k] - alpha * grads[f"d{k}"] for k in _param_names(params, grads, "gradient_descent_update")}


def initialize_velocity(params: Mapping[str, np.ndarray]) -> Params:
    """V_dW[l] = 0 and V_db[l] = 0 (same shapes), keyed ``"dW1"``, ``"db1"``, ..."""
    return {f"d{k}": np.zeros_like(v) for k, v in params.items()}


def momentum_update(
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    velocity: Mapping[str, np.ndarray],
    alpha: float,
    beta: float = 0.9,
) -> tuple[Params, Params]:
    """Momentum in the lectures' exponentially-weighted-average form:

        V_dW[l] := beta V_dW[l] + (1 - beta) dW[l],   W[l] := W[l] - alpha V_dW[l]   (same for b)

    Returns (new_params, new_velocity); the inputs are not modified. After k steps with a
    constant gradient g, V = (1 - beta^k) g (the EMA's bias towards its zero start).
    """
    names = _param_names(params, grads, "momentum_update")
    new_v = {f"d{k}": beta * velocity[f"d{k}"] + (1.0 - beta) * grads[f"d{k}"] for k in names}
    new_p = {k: params[k] - alpha * new_v[f"d{k}"] for k in names}
    return new_p, new_v


def weight_decay_update(
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    alpha: float,
    weight_decay: float,
    decay_biases: bool = False,
) -> Params:
    """The lectures' weight-decay form: W := (1 - alpha lambda') W - alpha dW,  b := b - alpha db.

    ``grads`` are the *unregularised* gradients and ``weight_decay`` is lambda'. With
    lambda' = lambda / m this step equals a gradient-descent step on the L2-regularised cost
    J + (lambda/2m) sum W^2 (see the module docstring). Biases decay too only with
    ``decay_biases=True`` (the lectures' slide regularises "every w and b"; our cost does not).
    """
    out: Params = {}
    for k in _param_names(params, grads, "weight_decay_update"):
        decay = weight_decay if (k.startswith("W") or decay_biases) else 0.0
        out[k] = (1.0 - alpha * decay) * params[k] - alpha * grads[f"d{k}"]
    return out

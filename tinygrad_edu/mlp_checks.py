"""Checks of an MLP's gradients, as the ``tinygrad-edu`` command runs them: the engine's dJ/dW[l],
dJ/db[l] against central finite differences (:func:`tinygrad_edu.gradcheck_model`) and, for
softmax cross-entropy, against the lectures' hand-derived backprop in plain numpy
(:mod:`tinygrad_edu.reference`), with J = loss + (lambda/2m) sum_l ||W[l]||_F^2.

The results are plain dicts (they go to ``metrics.json``); :func:`checks_text` renders both
tables, with a note when a relu kink (z within 1e-4 of 0) can explain a disagreement.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from . import nn
from .data import one_hot
from .nn.losses import cross_entropy, l2_penalty
from .tensor_class import Tensor

__all__ = ["check_gradients", "checks_ok", "checks_text", "count_kinks", "kink_note", "reference_word"]

# activations the lectures' reference backprop knows (tinygrad_edu.reference)
REFERENCE_ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")

_KINK_ACTIVATIONS = ("relu", "leaky_relu")


def count_kinks(model: nn.MLP, X: np.ndarray, activation: str, tol: float = 1e-4) -> int:
    """How many hidden pre-activations z sit within ``tol`` of a relu's kink at z = 0 (0 for smooth g)."""
    if activation not in _KINK_ACTIVATIONS:
        return 0
    count = 0
    a: Any = Tensor(X)
    layers = list(model)
    for i, layer in enumerate(layers):
        a = layer(a)
        if isinstance(layer, nn.Linear) and i + 1 < len(layers):
            count += int(np.sum(np.abs(a.data) < tol))
    return count


def check_gradients(
    model: nn.MLP, X: np.ndarray, y: np.ndarray, activation: str, lam: float, eps: float = 1e-6,
    loss_fn: Any = cross_entropy,
) -> dict[str, Any]:
    """Engine gradients of J = loss + (lambda/2m) sum ||W[l]||^2 vs central finite differences and, for
    softmax cross-entropy, vs the lectures' backprop in plain numpy (:mod:`tinygrad_edu.reference`)."""
    from . import reference as ref
    from .model_check import gradcheck_model

    linears = [m for m in model if isinstance(m, nn.Linear)]
    classes = linears[-1].out_features

    def cost(m: nn.MLP) -> Tensor:  # J = loss + (lambda/2m) sum ||W[l]||^2; rows are named "0.weight = W[1]"
        return loss_fn(m(X), y) + l2_penalty(m, lam, len(y)) if lam else loss_fn(m(X), y)

    start = time.perf_counter()
    result = gradcheck_model(model, cost, eps=eps)
    numeric = {
        "ok": bool(result.ok),
        "max_abs_error": max(c.max_abs_error for c in result.inputs),
        "max_rel_error": max(c.max_rel_error for c in result.inputs),
        "eps": eps,
        "kinks": count_kinks(model, X, activation),
        "report": result.report(),
        "seconds": time.perf_counter() - start,
    }
    out: dict[str, Any] = {"finite_differences": numeric}
    if loss_fn is not cross_entropy:
        out["reference"] = {"ok": None, "skipped": "the reference backprop covers the classification costs only"}
        return out
    if activation not in REFERENCE_ACTIVATIONS:
        out["reference"] = {"ok": None, "skipped": f"the reference backprop has no {activation!r}"}
        return out
    # the engine's gradients of the same cost
    model.zero_grad()
    loss = cross_entropy(model(X), y)
    if lam:
        loss = loss + l2_penalty(model, lam, len(y))
    loss.backward()
    # the lectures' layout: X (n_x, m), Y one-hot (K, m), W[l] (n[l], n[l-1]), b[l] (n[l], 1)
    J_ref, grads = ref.l_layer_cost_and_grads(
        X.T, one_hot(y, classes).T, nn.lecture_params(model), lam=lam, hidden_activation=activation,
        output_activation="softmax",
    )
    layers = []
    worst = 0.0
    for l, layer in enumerate(linears, start=1):
        dW = float(np.max(np.abs(layer.weight.grad.data - grads[f"dW{l}"])))
        db = float(np.max(np.abs(layer.bias.grad.data - grads[f"db{l}"][:, 0])))
        scale = max(float(np.max(np.abs(grads[f"dW{l}"]))), float(np.max(np.abs(grads[f"db{l}"]))), 1e-300)
        layers.append({"layer": l, "max_abs_diff_dW": dW, "max_abs_diff_db": db, "max_abs_grad": scale})
        worst = max(worst, dW, db)
    cost_diff = abs(float(loss.item()) - J_ref)
    model.zero_grad()
    out["reference"] = {
        "ok": bool(worst <= 1e-10 and cost_diff <= 1e-10),
        "max_abs_diff": worst,
        "cost_engine": float(loss.item()),
        "cost_reference": J_ref,
        "layers": layers,
    }
    return out


def checks_ok(numeric: dict[str, Any] | None, reference: dict[str, Any] | None) -> bool:
    """No check ran, or finite differences passed and the reference (unless skipped) agreed."""
    return (numeric is None or bool(numeric["ok"])) and (reference is None or reference.get("ok") is not False)


def kink_note(numeric: dict[str, Any], activation: str) -> str:
    """A hint when a relu kink explains a failed check; "" otherwise."""
    if not numeric.get("kinks"):
        return ""
    return (
        f"note: {numeric['kinks']} hidden pre-activation(s) z lie within 1e-4 of {activation}'s kink at z = 0 "
        "(e.g. a unit whose inputs are all 0 and whose bias is 0). There g is not differentiable: finite differences "
        "straddle the kink, the engine uses g'(0) = 0 (as PyTorch) and the lectures' table g'(0) = 1, so the checks "
        "can disagree there without a bug. Try another --seed or --batch."
    )


def checks_text(checks: dict[str, Any], activation: str) -> str:
    """Both gradient checks as text: the finite-difference table, the reference table, a kink note if any."""
    numeric = checks["finite_differences"]
    text = numeric["report"] + "\n\n" + reference_table(checks["reference"]) + "\n"
    note = "" if checks_ok(numeric, checks["reference"]) else kink_note(numeric, activation)
    return text + (f"\n{note}\n" if note else "")


def reference_table(ref_check: dict[str, Any]) -> str:
    if ref_check.get("ok") is None:
        return f"reference backprop: skipped ({ref_check.get('skipped')})"
    lines = [
        f"reference backprop (lectures' formulas in numpy) {'agrees' if ref_check['ok'] else 'DISAGREES'}: "
        f"J engine {ref_check['cost_engine']:.12g} vs reference {ref_check['cost_reference']:.12g}",
        f"  {'layer':<6}{'max |dW - dW_ref|':>20}{'max |db - db_ref|':>20}{'max |grad|':>14}",
    ]
    for row in ref_check["layers"]:
        lines.append(
            f"  {row['layer']:<6}{row['max_abs_diff_dW']:>20.3e}{row['max_abs_diff_db']:>20.3e}"
            f"{row['max_abs_grad']:>14.3e}"
        )
    return "\n".join(lines)


def reference_word(r: dict[str, Any]) -> str:
    if r.get("ok") is None:
        return "skipped"
    return "agrees" if r["ok"] else "DISAGREES"

"""Every public function, given arguments of the wrong kind, says which function and what it expected.

Issue 13 #20: a hostile caller found 30 public calls that answered a wrong type with a raw
Python or numpy message (``'str' object has no attribute 'ndim'``, ``unsupported operand type``,
``expected str, bytes or os.PathLike object``) from deep inside the package. This sweep calls
every public callable of the package's modules with a string and with a plain ``object()`` in
each required positional argument, and asserts that the answer is a ``TypeError`` or
``ValueError`` (or a subclass) whose message names the function. Callables without required
arguments are not called (there is nothing wrong to pass). The few documented exceptions are
listed below with the reason.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

pytest.importorskip("hypothesis")  # tinygrad_edu.testing is swept too

MODULES = [
    "tinygrad_edu", "tinygrad_edu.nn", "tinygrad_edu.nn.init", "tinygrad_edu.optim", "tinygrad_edu.optim.lr_scheduler",
    "tinygrad_edu.data", "tinygrad_edu.train", "tinygrad_edu.viz", "tinygrad_edu.plots", "tinygrad_edu.checkpoint",
    "tinygrad_edu.export", "tinygrad_edu.playground", "tinygrad_edu.report", "tinygrad_edu.jit",
    "tinygrad_edu.testing",
]

#: Aliases and thin wrappers whose message names the function they delegate to (what the user reads in the docs).
NAMED_AFTER = {
    "kaiming_normal_": "he_normal_", "kaiming_uniform_": "he_uniform_", "xavier_fan_in_normal_": "xavier_normal_",
    "get_activation": "activation", "get_initializer": "init", "render": "draw_graph",
    "plot_histograms": "layer_statistics", "assert_grad_close": "gradcheck",
}

#: Accept any value by design: result records (dataclasses the package fills in), and hypothesis strategies,
#: which hypothesis itself validates when the strategy is drawn from.
ACCEPTS_ANYTHING = {
    "FunctionCtx", "GradcheckResult", "LoadResult", "History", "BackwardExplanation", "Graph", "RunReport",
    "Jitted", "MLPSpec", "arrays", "broadcastable_shapes", "matmul_shapes", "mlp_architectures", "shapes",
    "tensors", "default_threshold",
}

#: Take one file name as their only required argument: any string is a valid one.
STRING_IS_VALID = {"CSVLogger"}

BAD_VALUES = {"a string": "abc", "an object": object()}


def public_callables() -> list[tuple[str, object, int]]:
    found: dict[int, tuple[str, object, int]] = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            try:
                signature = inspect.signature(obj)
            except (TypeError, ValueError):
                continue
            required = [p for p in signature.parameters.values()
                        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            if required and id(obj) not in found:
                found[id(obj)] = (f"{module_name}.{name}", obj, len(required))
    return sorted(found.values(), key=lambda item: item[0])


CALLABLES = public_callables()


def test_the_sweep_covers_the_public_api() -> None:
    names = {qualified.rsplit(".", 1)[1] for qualified, _, _ in CALLABLES}
    assert len(CALLABLES) > 120, len(CALLABLES)
    for expected in ("conv2d", "cross_entropy", "save", "load", "lecture_params", "gradcheck_model", "Linear"):
        assert expected in names, expected


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
@pytest.mark.parametrize(("qualified", "fn", "n_required"), CALLABLES, ids=[c[0] for c in CALLABLES])
def test_a_wrong_type_is_an_error_that_names_the_function(qualified: str, fn, n_required: int, kind: str) -> None:
    name = qualified.rsplit(".", 1)[1]
    if name in ACCEPTS_ANYTHING:
        pytest.skip("accepts any value by design (see ACCEPTS_ANYTHING)")
    if kind == "a string" and name in STRING_IS_VALID:
        pytest.skip("a string is a valid file name")
    bad = BAD_VALUES[kind]
    with pytest.raises((TypeError, ValueError)) as info:
        fn(*([bad] * n_required))
    message = str(info.value)
    named = NAMED_AFTER.get(name, name)
    assert named.lower() in message.lower(), f"{qualified}({kind}): {type(info.value).__name__}: {message}"
    for raw in ("has no attribute", "object is not iterable", "not supported between instances",
                "expected str, bytes or os.PathLike", "could not convert string to float"):
        assert raw not in message or f"{named}:" in message, f"{qualified}({kind}) leaks a raw message: {message}"


# ----------------------------------------------------------------------------- the reported calls, one by one

def test_the_reported_calls_name_their_function() -> None:
    """The calls the attack listed by name (issue 13 #20), each with the message it now gives."""
    import numpy as np

    import tinygrad_edu as tg
    from tinygrad_edu import nn, optim

    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    cases = [
        (lambda: tg.grad(3.0, x), TypeError, r"grad: output must be a Tensor"),
        (lambda: tg.Tensor(np.ones((2, 3))).permute("ab"), TypeError, r"permute: axes must be integers"),
        (lambda: optim.Adam([x], betas=0.9), TypeError, r"Adam: betas must be a pair"),
        (lambda: tg.randn(2, seed=-1), ValueError, r"randn: seed must be >= 0"),
        (lambda: nn.cross_entropy(np.zeros((2, 3)), [0, 1]), TypeError, r"cross_entropy: logits must be a Tensor"),
        (lambda: nn.mse_loss([0.5, 0.5], [0.0, 1.0]), TypeError, r"mse_loss: input must be a Tensor"),
        (lambda: nn.conv2d(tg.randn(1, 1, 4, 4), tg.randn(2, 1, 3, 3), tg.randn(3)), ValueError,
         r"conv2d: bias must have shape \(C_out,\) = \(2,\)"),
        (lambda: tg.save({"w": np.ones(2)}, object()), TypeError, r"save: path must be a file path"),
        (lambda: tg.stack(object()), TypeError, r"stack: expected a list or tuple of tensors"),
        (lambda: tg.set_grad_enabled("yes"), TypeError, r"set_grad_enabled: enabled must be True or False"),
    ]
    for call, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            call()


def test_a_number_as_a_label_is_drawn_not_a_crash() -> None:
    """Issue 13 #20: an int label crashed draw_graph (len() of an int)."""
    import tinygrad_edu as tg
    from tinygrad_edu import Value

    assert "<B>3</B>" in Value(2.0, label=3).draw().source
    assert "<B>0</B>" in tg.viz.draw_graph(tg.Tensor([1.0], label=0)).source

"""Fuzzing: random programs of primitive ops on random small shapes.

A hypothesis strategy (:func:`programs`) draws one or two leaf arrays of random shapes
(up to 3 axes, sides 1..3) and then 1..6 instructions, each applying a primitive (or a
thin domain guard around one) to earlier results: unary functions, broadcasting binary
ops, reductions, reshape/permute/getitem/pad, matmul, where. Each program is then run by
two interpreters that share nothing but the instruction list:

* ``run_numpy``: plain numpy, the oracle for the forward pass and, through central
  finite differences, for the backward pass;
* ``run_tensor``: tinygrad_edu Tensors.

Properties: the forward equals numpy (to 1e-12: the same numpy calls, but stable
formulas such as sigmoid differ in the last bits); the gradient of sum(r * out) for a
random r equals finite differences (TESTING.md: h = 1e-6, atol 1e-6, rtol 1e-4); the
gradient has the input's shape and dtype; inputs are not mutated. A second strategy
picks operands blindly, so shapes often clash: then numpy raises, and the Tensor must
raise a *documented* error (ValueError or IndexError naming the op and both shapes),
never crash otherwise.

Domains (TESTING.md): log, sqrt and fractional powers see x*x + 0.5 >= 0.5; division
divides by y*y + 0.5; relu, abs and maximum keep inputs >= 1e-3 from their kink, max
keeps the top two values >= 1e-3 apart (``assume``); every intermediate stays below
20 in magnitude so finite differences keep ~8 digits. The default profile (40
examples x 10 per property) takes a few seconds; ``HYPOTHESIS_PROFILE=thorough`` runs 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Tensor, maximum, where
from tinygrad_edu.gradcheck import numerical_grad
from tinygrad_edu.testing import arrays, shapes

# ------------------------------------------------------------------ the instruction set

UNARY = ["neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "pow"]
BINARY = ["add", "sub", "mul", "div", "maximum"]
KINK_MARGIN = 1e-3  # distance kept from kinks of relu/abs/maximum/max (TESTING.md)
MAX_MAGNITUDE = 20.0  # keeps finite differences accurate (round-off ~ eps * |f| / h)


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


NUMPY_UNARY: dict[str, Any] = {
    "neg": np.negative,
    "exp": np.exp,
    "log": lambda x: np.log(x * x + 0.5),
    "sqrt": lambda x: np.sqrt(x * x + 0.5),
    "abs": np.abs,
    "tanh": np.tanh,
    "sigmoid": _np_sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
}
TENSOR_UNARY: dict[str, Any] = {
    "neg": lambda t: -t,
    "exp": lambda t: t.exp(),
    "log": lambda t: (t * t + 0.5).log(),
    "sqrt": lambda t: (t * t + 0.5).sqrt(),
    "abs": lambda t: t.abs(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
}
NUMPY_BINARY: dict[str, Any] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": lambda x, y: x / (y * y + 0.5),
    "maximum": np.maximum,
}
TENSOR_BINARY: dict[str, Any] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "maximum": maximum,
}


@dataclass(frozen=True)
class Instr:
    """``out = op(registers[args...], **params)``; registers start with the inputs."""

    op: str
    args: tuple[int, ...]
    params: tuple[tuple[str, Any], ...] = ()

    def p(self) -> dict[str, Any]:
        return dict(self.params)


def _apply_numpy(ins: Instr, regs: list[np.ndarray]) -> np.ndarray:
    a = regs[ins.args[0]]
    p = ins.p()
    if ins.op in NUMPY_UNARY:
        return NUMPY_UNARY[ins.op](a)
    if ins.op == "pow":
        return np.power(a * a + 0.5, p["c"])
    if ins.op in NUMPY_BINARY:
        return NUMPY_BINARY[ins.op](a, regs[ins.args[1]])
    if ins.op == "sum":
        return np.sum(a, axis=p["axis"], keepdims=p["keepdims"])
    if ins.op == "max":
        return np.max(a, axis=p["axis"], keepdims=p["keepdims"])
    if ins.op == "reshape":
        return np.reshape(a, p["shape"])
    if ins.op == "permute":
        return np.transpose(a, p["axes"])
    if ins.op == "getitem":
        return a[p["index"]]
    if ins.op == "pad":
        return np.pad(a, p["widths"])
    if ins.op == "matmul":
        return np.matmul(a, regs[ins.args[1]])
    if ins.op == "where":
        return np.where(p["cond"], a, regs[ins.args[1]])
    raise AssertionError(ins.op)


def _apply_tensor(ins: Instr, regs: list[Tensor]) -> Tensor:
    a = regs[ins.args[0]]
    p = ins.p()
    if ins.op in TENSOR_UNARY:
        return TENSOR_UNARY[ins.op](a)
    if ins.op == "pow":
        return (a * a + 0.5) ** p["c"]
    if ins.op in TENSOR_BINARY:
        return TENSOR_BINARY[ins.op](a, regs[ins.args[1]])
    if ins.op == "sum":
        return a.sum(axis=p["axis"], keepdims=p["keepdims"])
    if ins.op == "max":
        return a.max(axis=p["axis"], keepdims=p["keepdims"])
    if ins.op == "reshape":
        return a.reshape(p["shape"])
    if ins.op == "permute":
        return a.permute(p["axes"])
    if ins.op == "getitem":
        return a[p["index"]]
    if ins.op == "pad":
        return a.pad(p["widths"])
    if ins.op == "matmul":
        return a @ regs[ins.args[1]]
    if ins.op == "where":
        return where(p["cond"], a, regs[ins.args[1]])
    raise AssertionError(ins.op)


def run_numpy(program: list[Instr], inputs: list[np.ndarray]) -> np.ndarray:
    regs = list(inputs)
    for ins in program:
        regs.append(_apply_numpy(ins, regs))
    return regs[-1]


def run_tensor(program: list[Instr], inputs: list[Tensor]) -> Tensor:
    regs = list(inputs)
    for ins in program:
        regs.append(_apply_tensor(ins, regs))
    return regs[-1]


# ------------------------------------------------------------------ strategies

small_shapes = shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def _is_safe(ins: Instr, regs: list[np.ndarray]) -> bool:
    """Whether ``ins`` is away from kinks and ties, so finite differences are meaningful."""
    a = regs[ins.args[0]]
    if ins.op in ("relu", "abs"):
        return bool(np.all(np.abs(a) > KINK_MARGIN))
    if ins.op == "maximum":
        b = regs[ins.args[1]]
        return bool(np.all(np.abs(np.subtract(a, b)) > KINK_MARGIN))
    if ins.op == "max":
        axis = ins.p()["axis"]
        moved = np.moveaxis(a, axis, list(range(len(axis)))).reshape(-1, *[n for i, n in enumerate(a.shape)
                                                                            if i not in axis])
        if moved.shape[0] < 2:
            return True
        top = np.sort(moved, axis=0)
        return bool(np.all(top[-1] - top[-2] > KINK_MARGIN))
    return True


@st.composite
def _instruction(draw: st.DrawFn, regs: list[np.ndarray], blind: bool) -> Instr:
    """One instruction over the registers. ``blind`` picks binary operands without checking shapes."""
    n = len(regs)
    i = draw(st.integers(0, n - 1))
    a = regs[i]
    kind = draw(st.sampled_from(["unary", "binary", "reduce", "move", "matmul", "where"]))
    if kind == "unary":
        op = draw(st.sampled_from(UNARY))
        if op == "pow":
            return Instr("pow", (i,), (("c", draw(st.sampled_from([-1.0, 0.5, 2.0, 3.0]))),))
        return Instr(op, (i,))
    if kind in ("binary", "where", "matmul"):
        if blind:
            j = draw(st.integers(0, n - 1))
        else:
            if kind == "matmul":
                ok = [j for j in range(n) if a.ndim == 2 and regs[j].ndim == 2 and regs[j].shape[0] == a.shape[1]]
            else:
                ok = [j for j in range(n) if _broadcastable(a.shape, regs[j].shape)]
            if not ok:
                return Instr("neg", (i,))
            j = draw(st.sampled_from(ok))
        if kind == "binary":
            return Instr(draw(st.sampled_from(BINARY)), (i, j))
        if kind == "matmul":
            return Instr("matmul", (i, j))
        try:
            shape = np.broadcast_shapes(a.shape, regs[j].shape)
        except ValueError:
            shape = a.shape  # the op will fail: that is what the blind strategy tests
        cond = draw(hnp.arrays(np.bool_, shape))
        return Instr("where", (i, j), (("cond", cond),))
    if kind == "reduce":
        if a.ndim == 0:
            return Instr("neg", (i,))
        axis = tuple(sorted(draw(st.sets(st.integers(0, a.ndim - 1), min_size=1, max_size=a.ndim))))
        return Instr(draw(st.sampled_from(["sum", "max"])), (i,), (("axis", axis), ("keepdims", draw(st.booleans()))))
    move = draw(st.sampled_from(["reshape", "permute", "getitem", "pad"]))
    if move == "reshape":
        shape = draw(st.sampled_from([(a.size,), (1, a.size), tuple(reversed(a.shape)), (a.size, 1)]))
        return Instr("reshape", (i,), (("shape", shape),))
    if move == "permute":
        axes = tuple(draw(st.permutations(range(a.ndim))))
        return Instr("permute", (i,), (("axes", axes),))
    if move == "getitem":
        if a.ndim == 0:
            return Instr("neg", (i,))
        rows = draw(st.lists(st.integers(0, a.shape[0] - 1), min_size=1, max_size=4))  # repeats accumulate
        return Instr("getitem", (i,), (("index", (np.array(rows),)),))
    if a.ndim == 0:
        return Instr("neg", (i,))
    widths = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in range(a.ndim))
    return Instr("pad", (i,), (("widths", widths),))


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


@st.composite
def programs(draw: st.DrawFn, blind: bool = False, max_steps: int = 6) -> tuple[list[Instr], list[np.ndarray]]:
    """Inputs and a program over them; safe programs (``blind=False``) are valid and smooth."""
    n_inputs = draw(st.integers(1, 2))
    inputs = [draw(arrays(small_shapes, -2.0, 2.0)) for _ in range(n_inputs)]
    regs: list[np.ndarray] = list(inputs)
    program: list[Instr] = []
    for _ in range(draw(st.integers(1, max_steps))):
        ins = draw(_instruction(regs, blind))
        if blind:
            program.append(ins)
            try:
                regs.append(_apply_numpy(ins, regs))
            except (ValueError, IndexError):
                break  # an invalid step ends the program: the test checks the Tensor error
            continue
        assume(_is_safe(ins, regs))
        out = _apply_numpy(ins, regs)
        assume(out.size > 0 and np.all(np.abs(out) < MAX_MAGNITUDE))
        regs.append(out)
        program.append(ins)
    return program, inputs


# ------------------------------------------------------------------ properties

# A program costs a few milliseconds, so each property runs 10x the profile's example count:
# 400 by default (~5 s for both), 10,000 with HYPOTHESIS_PROFILE=thorough.
FUZZ = settings(max_examples=10 * settings().max_examples)


@FUZZ
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_program_forward_matches_numpy_and_backward_matches_finite_differences(
    case: tuple[list[Instr], list[np.ndarray]], seed: int
) -> None:
    program, inputs = case
    originals = [x.copy() for x in inputs]
    expected = run_numpy(program, inputs)

    leaves = [Tensor(x, requires_grad=True) for x in inputs]
    out = run_tensor(program, leaves)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)

    r = np.random.default_rng(seed).uniform(-1.0, 1.0, expected.shape)  # not all ones (TESTING.md)
    (out * Tensor(r)).sum().backward()
    # numpy is the oracle: central differences of L = sum(r * run_numpy(program, inputs))
    numeric = numerical_grad(lambda *xs: run_numpy(program, list(xs)), *inputs, cotangent=r)
    for leaf, g, x0 in zip(leaves, numeric, originals):
        if leaf.grad is None:  # the output does not depend on this input: the true gradient is 0
            assert np.all(g == 0.0)
            continue
        assert leaf.grad.shape == x0.shape and leaf.grad.dtype == x0.dtype
        np.testing.assert_allclose(leaf.grad.data, g, rtol=1e-4, atol=1e-6)
        assert np.array_equal(leaf.data, x0)  # neither pass mutated an input


DOCUMENTED = (ValueError, IndexError)


@FUZZ
@given(programs(blind=True))
def test_random_program_with_clashing_shapes_fails_only_with_documented_errors(
    case: tuple[list[Instr], list[np.ndarray]],
) -> None:
    program, inputs = case
    regs_np: list[np.ndarray] = list(inputs)
    regs_t: list[Tensor] = [Tensor(x, requires_grad=True) for x in inputs]
    for ins in program:
        try:
            with np.errstate(all="ignore"):  # blind programs may overflow: values are not the point here
                expected = _apply_numpy(ins, regs_np)
        except (ValueError, IndexError):
            shapes = [regs_np[k].shape for k in ins.args]
            try:
                _apply_tensor(ins, regs_t)
            except DOCUMENTED as err:
                message = str(err)
                assert message.startswith(f"{ins.op}:"), message  # names the op first
                # ... and each operand's shape (for matmul, the clashing batch axes suffice)
                assert all(str(s) in message or str(s[:-2]) in message for s in shapes), (message, shapes)
            else:
                raise AssertionError(f"{ins.op} on shapes {shapes}: numpy refused but Tensor did not") from None
            return
        out = _apply_tensor(ins, regs_t)
        assert out.shape == expected.shape
        regs_np.append(expected)
        regs_t.append(out)
    if regs_t[-1].requires_grad:
        loss = regs_t[-1].sum()
        loss.backward()  # a valid program always differentiates without error
        assert all(t.grad is None or t.grad.shape == t.shape for t in regs_t[: len(inputs)])

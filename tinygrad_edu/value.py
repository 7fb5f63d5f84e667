"""``Value``: a scalar that remembers how it was computed (micrograd's idea, made robust).

Every op computes its result *and its local derivatives* in the same few lines::

    z = x * y        local derivatives: dz/dx = y, dz/dy = x

The engine then applies the chain rule: a parent's gradient is the sum over its
children of ``local derivative * upstream gradient``. Because the local
derivatives are plain floats saved at forward time, ``Value`` supports first-order
gradients; use :class:`~tinygrad_edu.Tensor` for higher-order ones.

Read :mod:`tinygrad_edu.engine` first (the chain rule); this file is the simplest user
of it. The lectures' logistic-regression example is written with Values in the README:
z = w1 x1 + w2 x2 + b, a = sigma(z), L = -(y ln a + (1 - y) ln(1 - a)), and after
``L.backward()`` the leaves hold dw1 = x1 dz, db = dz with dz = a - y. Next read
:mod:`tinygrad_edu.primitives`, the same ops on arrays.

Derivatives at kinks follow PyTorch: relu'(0) = 0, leaky_relu'(0) = slope,
elu'(0) = alpha, selu'(0) = scale*alpha, abs'(0) = 0. Where the slope is vertical
it is inf: sqrt'(0) = inf, and (x^n)'(0) = inf for 0 < n < 1. d(x^n)/dn = 0 at x = 0.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence

from . import engine
from .constants import SELU_ALPHA, SELU_SCALE  # re-exported: tinygrad_edu.value.SELU_ALPHA

__all__ = ["Value", "SELU_ALPHA", "SELU_SCALE"]

Number = int | float


def _stable_sigmoid(z: float) -> float:
    """sigma(z) = 1 / (1 + e^-z), evaluated so that e^(|z|) is never formed."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _power(x: float, n: float) -> tuple[float, float]:
    """x^n and its derivative n x^(n-1), with clear errors; the derivative is inf at x = 0 when 0 < n < 1."""
    try:
        out = x**n
    except ZeroDivisionError:
        raise ZeroDivisionError(f"pow: 0.0 ** {n} is undefined (negative power of zero)") from None
    except OverflowError:
        raise OverflowError(f"pow: {x} ** {n} overflows a float") from None
    if isinstance(out, complex):
        raise ValueError(f"pow: {x} ** {n} is not real (negative base with a fractional exponent)")
    if n == 0:
        return out, 0.0
    try:
        return out, n * x ** (n - 1)
    except ZeroDivisionError:  # x = 0 and 0 < n < 1: the slope is vertical, as sqrt'(0)
        return out, math.inf
    except OverflowError:
        return out, math.copysign(math.inf, n * x)


def _records(parents: tuple[Value, ...]) -> bool:
    """Whether an op on ``parents`` joins the graph: grad mode is on and a parent needs grad."""
    if not engine.is_grad_enabled():
        return False
    for parent in parents:  # a plain loop: cheaper than any() on this per-op path
        if parent.requires_grad:
            return True
    return False


class Value:
    """A scalar node of the computation graph.

    ``data`` is the float value, ``grad`` is dL/d(this value) after ``backward``
    (``None`` until a backward pass reaches it), ``label`` an optional name used by
    drawings. Values you create require grad; numbers mixed into an expression
    (``2 * v``) become constants that do not.
    """

    __slots__ = ("data", "grad", "label", "requires_grad", "_parents", "_op", "_local", "__weakref__")

    def __init__(self, data: Number, label: str = "", requires_grad: bool = True) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use it directly or call .detach()")
        if not isinstance(data, (int, float)) or isinstance(data, bool):
            if isinstance(data, (str, bytes)):
                raise TypeError(f"Value(data) expects a real number, got a string: {data!r}")
            try:
                data = float(data)  # numpy scalars and 0-d arrays
            except (TypeError, ValueError):
                raise TypeError(
                    f"Value(data) expects a real number, got {type(data).__name__}: {data!r}. "
                    "For arrays use tinygrad_edu.Tensor."
                ) from None
        self.data = float(data)
        self.grad: float | None = None
        self.label = label
        self.requires_grad = requires_grad
        self._parents: tuple[Value, ...] = ()
        self._op = ""
        self._local: tuple[float, ...] | None = None

    # ------------------------------------------------------------------ graph plumbing

    @classmethod
    def _result(cls, data: float, op: str, parents: tuple[Value, ...], local: tuple[float, ...]) -> Value:
        """Make the output node of ``op``; ``local[i]`` is d(out)/d(parents[i])."""
        out = cls.__new__(cls)  # skips __init__'s input checks: ``data`` is already a float
        out.data = data
        out.grad = None
        out.label = ""
        if _records(parents):
            out.requires_grad = True
            out._parents = parents
            out._op = op
            out._local = local
        else:
            out.requires_grad = False
            out._parents = ()
            out._op = ""
            out._local = None
        if _anomaly_hooks:  # detect_anomaly's check and creation site (see _anomaly_hooks at the end); normally empty
            for hook in _anomaly_hooks:
                hook(out, op, parents)
        return out

    def _vjp(self, upstream: float) -> list[float]:
        """Chain rule: dL/d(parent_i) = d(out)/d(parent_i) * dL/d(out)."""
        return [d * upstream for d in self._local]  # type: ignore[union-attr]

    def _release(self) -> None:
        self._local = None

    def _has_vjp(self) -> bool:
        return self._local is not None

    @property
    def local_grads(self) -> tuple[float, ...] | None:
        """The local derivatives d(self)/d(parent) saved by the op (``None`` once released)."""
        return self._local

    @staticmethod
    def _lift(x: Value | Number, op: str) -> Value:
        """``x`` as a Value: a number becomes a constant (``requires_grad=False``); ``op`` names errors."""
        if isinstance(x, Value):
            return x
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return Value(x, requires_grad=False)
        if any(cls.__name__ == "Tensor" for cls in type(x).__mro__):  # Tensor or a subclass (Parameter)
            raise TypeError(
                f"{op}: cannot mix a Value with a Tensor. Convert the Value with "
                "Tensor(v.data) (a constant) or the Tensor with Value(t.item()); "
                "they are separate graphs."
            )
        try:
            return Value(float(x), requires_grad=False)
        except (TypeError, ValueError):
            raise TypeError(f"{op}: expected a Value or a real number, got {type(x).__name__}: {x!r}") from None

    def backward(self, gradient: float = 1.0, retain_graph: bool = False) -> None:
        """Fill ``.grad`` of every node this value depends on with dL/d(node).

        ``L`` is this value (seeded with dL/dL = ``gradient``, 1 by default).
        Leaves accumulate across calls; interior nodes are overwritten; the graph is
        released afterwards unless ``retain_graph=True`` (see :mod:`tinygrad_edu.engine`).
        """
        engine.backward(self, float(gradient), retain_graph=retain_graph)

    def zero_grad(self) -> None:
        """Forget this node's gradient (``grad = None``)."""
        self.grad = None

    def detach(self) -> Value:
        """A constant with the same data, cut from the graph."""
        return Value(self.data, label=self.label, requires_grad=False)

    def item(self) -> float:
        """The value as a Python float (as ``Tensor.item``)."""
        return self.data

    def __float__(self) -> float:
        """``float(v)``: the value, without its graph."""
        return float(self.data)

    def __format__(self, spec: str) -> str:
        """``f"{v:.4f}"`` formats the value; with no spec, the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __repr__(self) -> str:
        parts = [f"data={self.data:.6g}"]
        if self.grad is not None:
            parts.append(f"grad={self.grad:.6g}")
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._op:
            parts.append(f"op={self._op!r}")
        return f"Value({', '.join(parts)})"

    def draw(self, **options: object):  # noqa: ANN201 - returns graphviz.Digraph
        """Draw this value's graph (see :func:`tinygrad_edu.viz.draw_graph`)."""
        from .viz import draw_graph

        return draw_graph(self, **options)

    # ------------------------------------------------------------------ arithmetic

    def __add__(self, other: Value | Number) -> Value:
        """z = x + y;  dz/dx = 1, dz/dy = 1."""
        other = Value._lift(other, "add")
        return Value._result(self.data + other.data, "+", (self, other), (1.0, 1.0))

    def __mul__(self, other: Value | Number) -> Value:
        """z = x * y;  dz/dx = y, dz/dy = x."""
        other = Value._lift(other, "mul")
        return Value._result(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __sub__(self, other: Value | Number) -> Value:
        """z = x - y;  dz/dx = 1, dz/dy = -1."""
        other = Value._lift(other, "sub")
        return Value._result(self.data - other.data, "-", (self, other), (1.0, -1.0))

    def __truediv__(self, other: Value | Number) -> Value:
        """z = x / y;  dz/dx = 1/y, dz/dy = -x/y^2."""
        other = Value._lift(other, "div")
        if other.data == 0.0:
            raise ZeroDivisionError(f"div: division by zero ({self.data!r} / 0.0)")
        out = self.data / other.data
        return Value._result(out, "/", (self, other), (1.0 / other.data, -out / other.data))

    def __pow__(self, exponent: Value | Number) -> Value:
        """z = x^n;  dz/dx = n x^(n-1), and for a Value exponent dz/dn = x^n ln x (x > 0)."""
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        n = float(Value._lift(exponent, "pow").data)
        out, dx = _power(self.data, n)
        return Value._result(out, f"**{n:g}", (self,), (dx,))

    def _pow_value(self, exponent: Value) -> Value:
        """z = x^n with n a Value;  dz/dx = n x^(n-1), dz/dn = x^n ln x (0 at x = 0, as PyTorch)."""
        x, n = self.data, exponent.data
        out, dx = _power(x, n)
        if x < 0 and exponent.requires_grad and engine.is_grad_enabled():
            raise ValueError(f"pow: d(x^n)/dn = x^n ln x needs x >= 0, got x = {x} (exponent {n})")
        dn = out * math.log(x) if x > 0 else 0.0
        return Value._result(out, "**", (self, exponent), (dx, dn))

    def __neg__(self) -> Value:
        """z = -x;  dz/dx = -1."""
        return Value._result(-self.data, "neg", (self,), (-1.0,))

    def __radd__(self, other: Number) -> Value:
        """z = c + x for a number c;  dz/dx = 1."""
        return Value._lift(other, "add") + self

    def __rsub__(self, other: Number) -> Value:
        """z = c - x for a number c;  dz/dx = -1."""
        return Value._lift(other, "sub") - self

    def __rmul__(self, other: Number) -> Value:
        """z = c * x for a number c;  dz/dx = c."""
        return Value._lift(other, "mul") * self

    def __rtruediv__(self, other: Number) -> Value:
        """z = c / x for a number c;  dz/dx = -c / x^2."""
        return Value._lift(other, "div") / self

    def __rpow__(self, base: Number) -> Value:
        """z = a^x for a constant a > 0;  dz/dx = a^x ln a."""
        return Value._lift(base, "pow")._pow_value(self)

    # ------------------------------------------------------------------ comparisons (plain bools)

    # Comparisons look at ``data`` only and are not recorded (they have no derivative).
    # Anything other than a Value or a real number gives NotImplemented, so Python
    # raises its usual TypeError (or, for ==, falls back to identity).

    @staticmethod
    def _compare_data(other: object) -> float | None:
        if isinstance(other, Value):
            return other.data
        if isinstance(other, (int, float)):
            return float(other)
        return None

    def __lt__(self, other: Value | Number) -> bool:
        y = Value._compare_data(other)
        return NotImplemented if y is None else self.data < y

    def __le__(self, other: Value | Number) -> bool:
        y = Value._compare_data(other)
        return NotImplemented if y is None else self.data <= y

    def __gt__(self, other: Value | Number) -> bool:
        y = Value._compare_data(other)
        return NotImplemented if y is None else self.data > y

    def __ge__(self, other: Value | Number) -> bool:
        y = Value._compare_data(other)
        return NotImplemented if y is None else self.data >= y

    def __eq__(self, other: object) -> bool:
        y = Value._compare_data(other)
        return NotImplemented if y is None else self.data == y

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = object.__hash__  # identity, so Values can key dicts and sets

    # ------------------------------------------------------------------ n-ary sum

    @staticmethod
    def sum(values: Iterable[Value | Number]) -> Value:
        """z = x_1 + ... + x_n as one node;  dz/dx_i = 1.

        One node instead of a chain of n-1 additions: smaller graphs, faster backward.
        Adds left to right like ``x_1 + x_2 + ...``; the empty sum is the constant 0.
        """
        nodes = tuple(Value._lift(v, "sum") for v in values)
        if not nodes:
            return Value(0.0, requires_grad=False)
        return Value._result(sum(v.data for v in nodes), "sum", nodes, (1.0,) * len(nodes))

    @staticmethod
    def dot(weights: Sequence[Value | Number], inputs: Sequence[Value | Number]) -> Value:
        """z = sum_i w_i x_i = w . x as one node;  dz/dw_i = x_i, dz/dx_i = w_i.

        A neuron's pre-activation z = w . x + b is ``Value.dot(w, x) + b``: two nodes
        instead of 2n (n products and a sum), which makes a Value MLP several times faster.
        The parents are ``(w_1, ..., w_n, x_1, ..., x_n)``.
        """
        # (the isinstance test first skips a function call for the usual all-Value case)
        ws = tuple(w if isinstance(w, Value) else Value._lift(w, "dot") for w in weights)
        xs = tuple(x if isinstance(x, Value) else Value._lift(x, "dot") for x in inputs)
        if len(ws) != len(xs):
            raise ValueError(f"dot: lengths differ ({len(ws)} weights, {len(xs)} inputs); expected equal lengths")
        w_data = tuple(w.data for w in ws)
        x_data = tuple(x.data for x in xs)
        return Value._result(sum(map(operator.mul, w_data, x_data)), "dot", ws + xs, x_data + w_data)

    # ------------------------------------------------------------------ functions

    def exp(self) -> Value:
        """z = e^x;  dz/dx = e^x = z."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp: e^{self.data} overflows a float (x must be <= ~709.78)") from None
        return Value._result(out, "exp", (self,), (out,))

    def log(self) -> Value:
        """z = ln x (x > 0);  dz/dx = 1/x."""
        if self.data <= 0:
            raise ValueError(f"log: input must be > 0, got {self.data}")
        return Value._result(math.log(self.data), "log", (self,), (1.0 / self.data,))

    def sqrt(self) -> Value:
        """z = sqrt(x) (x >= 0);  dz/dx = 1 / (2 sqrt(x)), inf at x = 0 (a vertical slope)."""
        if self.data < 0:
            raise ValueError(f"sqrt: input must be >= 0, got {self.data}")
        out = math.sqrt(self.data)
        local = 0.5 / out if out > 0 else math.inf
        return Value._result(out, "sqrt", (self,), (local,))

    def abs(self) -> Value:
        """z = |x|;  dz/dx = sign(x), with sign(0) = 0 (as PyTorch)."""
        x = self.data
        return Value._result(abs(x), "abs", (self,), (1.0 if x > 0 else (-1.0 if x < 0 else 0.0),))

    __abs__ = abs

    def tanh(self) -> Value:
        """a = tanh(z) = (e^z - e^-z) / (e^z + e^-z);  da/dz = 1 - tanh(z)^2 = 1 - a^2."""
        t = math.tanh(self.data)
        return Value._result(t, "tanh", (self,), (1.0 - t * t,))

    def sigmoid(self) -> Value:
        """a = sigma(z) = 1 / (1 + e^-z);  da/dz = sigma(z)(1 - sigma(z)) = a(1 - a).

        Evaluated stably: never forms e^|z|, so |z| up to 1e4 (and beyond) is fine.
        """
        s = _stable_sigmoid(self.data)
        return Value._result(s, "sigmoid", (self,), (s * (1.0 - s),))

    def relu(self) -> Value:
        """a = max(0, z);  da/dz = 1 if z > 0 else 0 (relu'(0) = 0, as PyTorch)."""
        z = self.data
        return Value._result(z if z > 0 else 0.0, "relu", (self,), (1.0 if z > 0 else 0.0,))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """a = z if z > 0 else slope*z (= max(slope*z, z) for slope < 1);  da/dz = 1 if z > 0 else slope."""
        z = self.data
        return Value._result(z if z > 0 else slope * z, "leaky_relu", (self,), (1.0 if z > 0 else slope,))

    def elu(self, alpha: float = 1.0) -> Value:
        """a = z if z > 0 else alpha(e^z - 1);  da/dz = 1 if z > 0 else alpha e^z."""
        z = self.data
        if z > 0:
            return Value._result(z, "elu", (self,), (1.0,))
        e = math.exp(z)
        return Value._result(alpha * (e - 1.0), "elu", (self,), (alpha * e,))

    def selu(self) -> Value:
        """a = scale * elu(z, alpha);  da/dz = scale if z > 0 else scale alpha e^z (alpha ~ 1.6733, scale ~ 1.0507)."""
        z = self.data
        if z > 0:
            return Value._result(SELU_SCALE * z, "selu", (self,), (SELU_SCALE,))
        e = math.exp(z)
        return Value._result(SELU_SCALE * SELU_ALPHA * (e - 1.0), "selu", (self,), (SELU_SCALE * SELU_ALPHA * e,))


# Hooks called after every Value op with (out, op, parents) (used by detect_anomaly); empty means no cost.
_anomaly_hooks: list[Callable[[Value, str, tuple[Value, ...]], None]] = []

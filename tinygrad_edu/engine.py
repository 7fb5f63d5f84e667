"""The autograd engine shared by :class:`~tinygrad_edu.Value` and :class:`~tinygrad_edu.Tensor`.

Read this file first: it is the whole of backprop, independent of scalars or arrays.
Then read :mod:`tinygrad_edu.value` (scalar ops, each with its local derivative),
:mod:`tinygrad_edu.primitives` and :mod:`tinygrad_edu.tensor_class` (the same idea on arrays),
then :mod:`tinygrad_edu.nn` and :mod:`tinygrad_edu.optim`.

In the lectures' terms: the forward pass computes Z[l] = W[l] A[l-1] + b[l] and
A[l] = g[l](Z[l]) layer by layer; the backward pass below starts from dJ/dJ = 1 and hands
each node its "d" (dA[l], then dZ[l] = dA[l] * g[l]'(Z[l]), then dW[l] = (1/m) dZ[l] A[l-1]^T
and dA[l-1] = W[l]^T dZ[l]) -- except that no node knows about layers: each op only
knows its own local derivative, and the engine chains them. (The gradient the engine
stores for Z[l] is dJ/dZ[l] = (1/m) dZ[l]: the 1/m of the mean cost J flows in from the
loss, so the matmul's VJP "gradient times A[l-1]^T" is exactly the lectures' dW[l].)

Reverse-mode automatic differentiation in three steps:

1. During the forward pass every result remembers its *parents* (a tuple, so the
   order is deterministic) and the *op* that made it. That is the computation graph.
2. ``backward`` orders the graph topologically (parents before children) with an
   explicit stack -- never recursion, so a chain of a million ops is fine.
3. It walks that order in reverse, asking each node for its vector-Jacobian
   product (VJP): given the upstream gradient dL/d(out), the node returns
   dL/d(parent) = dL/d(out) * d(out)/d(parent) for each parent -- the chain rule.
   Gradients reaching a node along several paths are summed.

A node type (``Value`` or ``Tensor``) implements this small protocol:

* ``_parents``: tuple of parent nodes (empty for leaves and constants);
* ``_op``: the op's name (``""`` for leaves);
* ``requires_grad``: whether gradients flow to this node;
* ``grad``: the stored gradient (``None`` until a backward pass reaches it);
* ``_vjp(upstream)``: a sequence with one gradient (or ``None``) per parent;
* ``_release()``: drop what the VJP saved, after a backward without ``retain_graph``;
* ``_has_vjp()``: whether the saved state is still there;
* hashing by identity (``__hash__ = object.__hash__``): the engine keys its sets and
  dicts by the nodes themselves. (Two distinct live nodes never have equal hashes, so
  a node type's ``__eq__`` -- which may compare data -- is never called.)

Semantics of calling ``backward`` more than once (same as PyTorch for leaves):

* **Leaves accumulate**: ``leaf.grad`` is *added to* on every call; reset it with
  ``zero_grad`` (or ``Module.zero_grad`` / ``optimizer.zero_grad``).
* **Interior nodes are overwritten**: their ``.grad`` holds the gradient of the
  *latest* backward call only, so it is never silently stale.
* **The graph is released** after a backward call unless ``retain_graph=True``; a
  second backward through the same graph raises :class:`GraphFreedError`. The
  graph's *structure* (parents, ops, values, gradients) is kept so it can still be
  drawn and explained; only the state saved for the VJP is dropped.

In-place changes (``w -= lr * w.grad``, ``t[i] = v``, ``add_``) follow PyTorch's rules; see
:mod:`tinygrad_edu.tensor_inplace`. A VJP reads its saved values only at backward time, so
a value changed in place in between would give a silently wrong gradient: each recorded
node notes the in-place clock when it was made, and a node made before the latest in-place
change checks its saved arrays' version counters before its VJP runs
(:mod:`tinygrad_edu.versions`), raising "modified by an inplace operation" as PyTorch does.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

__all__ = [
    "GraphFreedError",
    "Node",
    "backward",
    "current_scope",
    "enable_grad",
    "gradients",
    "is_grad_enabled",
    "no_grad",
    "scope",
    "set_grad_enabled",
    "topological_order",
]


class GraphFreedError(RuntimeError):
    """Raised when backward reaches a node whose saved state was released."""


class Node(Protocol):
    """What the engine needs from a graph node (see the module docstring)."""

    _parents: tuple[Any, ...]
    _op: str
    requires_grad: bool
    grad: Any

    def _vjp(self, upstream: Any) -> Sequence[Any]: ...

    def _release(self) -> None: ...

    def _has_vjp(self) -> bool: ...


# ====================================================================== grad mode

class _GradMode(threading.local):
    # A class-level default: every thread starts enabled, and reading it never takes the
    # slow AttributeError path of getattr(local, name, default) (this runs for every op).
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new ops record the graph (the default, per thread)."""
    return _grad_mode.enabled


F = TypeVar("F", bound=Callable[..., Any])


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off inside a ``with`` block or a decorated function.

    The setting is thread-local and restored on exit, so blocks nest. One object may be
    entered by several threads at once (a decorated function called from two threads):
    the settings to restore are kept per thread.
    """

    def __init__(self, enabled: bool) -> None:
        if not isinstance(enabled, bool) and type(enabled).__name__ != "bool_":  # numpy's bool too; "abc" is no mode
            raise TypeError(f"set_grad_enabled: enabled must be True or False, got {type(enabled).__name__}: "
                            f"{enabled!r:.40}")
        self.enabled = bool(enabled)
        self._saved = threading.local()  # per thread: a stack of the modes to restore

    def __enter__(self) -> set_grad_enabled:
        stack = self._saved.__dict__.setdefault("stack", [])
        stack.append(is_grad_enabled())
        _grad_mode.enabled = self.enabled
        return self

    def __exit__(self, *exc: object) -> None:
        _grad_mode.enabled = self._saved.stack.pop()

    def __call__(self, func: F) -> F:  # type: ignore[override]
        """Decorate ``func``; a generator function gets the mode in its body, around every resume
        (as PyTorch), not just while the generator object is created."""
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)  # type: ignore[return-value]
        return super().__call__(func)

    def _wrap_generator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any) -> Any:
            inner = func(*args, **kwargs)
            try:
                with self:
                    response = inner.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self:
                            inner.close()
                        raise
                    except BaseException as err:  # thrown in by the caller: pass it on, in the mode
                        with self:
                            response = inner.throw(err)
                    else:
                        with self:
                            response = inner.send(request)
            except StopIteration as stop:
                return stop.value

        return generator


class _FixedGradMode(set_grad_enabled):
    """A fixed mode, used as ``with mode():``, ``@mode()`` or ``@mode`` (no parentheses)."""

    _mode: bool

    def __new__(cls, func: F | None = None) -> Any:
        if func is not None:  # @no_grad written without parentheses: decorate func directly
            if not callable(func):
                raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}; write `with {cls.__name__}():`")
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func: F | None = None) -> None:
        super().__init__(self._mode)


class no_grad(_FixedGradMode):
    """Stop recording the graph: ``with no_grad(): ...``, ``@no_grad()`` or ``@no_grad``.

    Results computed inside are constants (``requires_grad=False``, no parents), so
    inference allocates no graph.
    """

    _mode = False


class enable_grad(_FixedGradMode):
    """Record the graph again inside a ``no_grad`` block (same three forms as ``no_grad``)."""

    _mode = True


# ====================================================================== scopes

class _ScopeState(threading.local):
    entries: tuple[Any, ...] = ()  # class-level default, as for _GradMode


_scope_state = _ScopeState()


def current_scope() -> tuple[Any, ...]:
    """The stack of scope entries (e.g. ``nn.Module`` objects) active in this thread."""
    return _scope_state.entries


@contextlib.contextmanager
def scope(entry: Any) -> Any:
    """Tag every op recorded inside the block with ``entry`` (pushed on the scope stack).

    ``nn.Module.__call__`` enters ``scope(module)``, so a drawing can group the nodes
    a module created. Nodes store the stack as it was when they were made.
    """
    previous = current_scope()
    _scope_state.entries = previous + (entry,)
    try:
        yield
    finally:
        _scope_state.entries = previous


# ====================================================================== traversal

def topological_order(root: Any) -> list[Any]:
    """Nodes reachable from ``root`` through ``requires_grad`` parents, parents first.

    An iterative depth-first search with an explicit stack (never recursion, so a chain
    of a million ops is fine): a node is pushed once to be *expanded* (its unvisited
    parents are pushed above it) and, when it comes back to the top, it is *emitted* --
    after all its parents. The order is deterministic because ``_parents`` is a tuple.
    Time and memory are linear in the size of the graph.

    The stack is two parallel lists (nodes, and whether each is already expanded) rather
    than a list of tuples: it then allocates no new objects per node, so a million-node
    graph does not keep waking Python's cyclic garbage collector.
    """
    order: list[Any] = []
    visited: set[Any] = set()
    stack: list[Any] = [root]
    expanded: list[bool] = [False]
    while stack:
        node = stack.pop()
        if expanded.pop():  # all its parents are in ``order`` already
            order.append(node)
            continue
        if node in visited:  # reached along another path meanwhile
            continue
        visited.add(node)
        stack.append(node)
        expanded.append(True)
        for parent in reversed(node._parents):
            if parent.requires_grad and parent not in visited:
                stack.append(parent)
                expanded.append(False)
    return order


# ====================================================================== backward pass

# Hooks wrapped around every vector-Jacobian product (used by tinygrad_edu.anomaly to
# check gradients). Each is called as hook(node, vjp, upstream) and returns vjp(upstream).
# The list is empty unless anomaly mode is on, which costs one truth test per node.
_vjp_hooks: list[Callable[[Any, Callable[[Any], Sequence[Any]], Any], Sequence[Any]]] = []


def _hooked_vjp(node: Any, upstream: Any) -> Sequence[Any]:
    """``node._vjp(upstream)`` passed through every hook in ``_vjp_hooks``."""
    vjp: Callable[[Any], Sequence[Any]] = node._vjp
    for hook in _vjp_hooks:
        vjp = functools.partial(hook, node, vjp)  # hook(node, inner vjp, upstream)
    return vjp(upstream)


# The grad modes of the backward pass, made once (set_grad_enabled keeps per-thread state,
# so one object may be entered by several threads and nested).
_RECORD_BACKWARD = set_grad_enabled(True)
_NO_RECORD_BACKWARD = set_grad_enabled(False)


def _propagate(
    root: Any, seed: Any, retain_graph: bool, create_graph: bool
) -> tuple[list[Any], dict[Any, Any]]:
    """Run the chain rule from ``root`` backwards; return the order and all gradients.

    ``grads[node]`` is dL/d(node) summed over every path from node to root.
    """
    order = topological_order(root)
    grads: dict[Any, Any] = {root: seed}  # gradients live here, not on the nodes, until the pass ends
    grad_of = grads.get  # bound once: called for every node and edge
    with _RECORD_BACKWARD if create_graph else _NO_RECORD_BACKWARD:
        for node in reversed(order):
            parents = node._parents
            if not parents:
                continue
            upstream = grad_of(node)
            if upstream is None:  # no path from this node to root carries a gradient
                continue
            if not node._has_vjp():
                raise GraphFreedError(
                    f"backward through the graph a second time: the saved state of op "
                    f"'{node._op}' was released by the first backward call. Call "
                    "backward(retain_graph=True) the first time if you need to go "
                    "through the graph again, or recompute the forward pass."
                )
            parent_grads = _hooked_vjp(node, upstream) if _vjp_hooks else node._vjp(upstream)
            for parent, parent_grad in zip(parents, parent_grads):
                if parent_grad is not None and parent.requires_grad:
                    previous = grad_of(parent)
                    # several paths to root: dL/d(parent) is the sum over them (multivariable chain rule)
                    grads[parent] = parent_grad if previous is None else previous + parent_grad
    if not retain_graph:
        for node in order:
            if node._parents:
                node._release()
    return order, grads


# Leaf gradients are accumulated under one lock: backward() from several threads into a shared
# leaf (a model trained by worker threads) must not lose updates (grad = grad + g is a read,
# an add and a write; two threads interleaving them drop one g). One acquire per backward call.
_accumulate_lock = threading.Lock()


def backward(
    root: Any, seed: Any, retain_graph: bool = False, create_graph: bool = False,
    finish_leaves: Callable[[list[Any]], None] | None = None,
) -> list[Any]:
    """Store dL/d(node) in ``node.grad`` for every node that ``root`` depends on.

    Returns the nodes it reached, parents first. ``finish_leaves(leaves)``, if given, runs
    while the leaves' gradients are still locked (a node type post-processes them there, e.g.
    ``Tensor`` gives each leaf an array of its own), so concurrent calls stay atomic per leaf.

    ``seed`` is dL/d(root) (1 for a scalar loss). Leaves accumulate into ``.grad``;
    interior nodes have ``.grad`` overwritten (see the module docstring).
    ``create_graph=True`` records the backward pass itself, so gradients can be
    differentiated again (only node types whose VJPs are written in their own ops,
    such as ``Tensor``, support this).
    """
    if not root.requires_grad:
        raise RuntimeError(
            f"backward: this {type(root).__name__} does not require grad, so there is "
            "no graph to differentiate. Create the inputs with requires_grad=True "
            "(and not inside no_grad())."
        )
    order, grads = _propagate(root, seed, retain_graph, create_graph)
    leaves = []
    with _accumulate_lock:
        for node in order:
            g = grads.get(node)
            if node._parents:
                node.grad = g
            elif g is not None:
                node.grad = g if node.grad is None else node.grad + g
                leaves.append(node)
        if finish_leaves is not None:
            finish_leaves(leaves)
    return order


def gradients(
    root: Any,
    seed: Any,
    inputs: Iterable[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
) -> list[Any]:
    """dL/d(input) for each of ``inputs`` without touching any ``.grad``.

    An input that ``root`` does not depend on gets ``None``.
    """
    if not root.requires_grad:
        raise RuntimeError(
            f"grad: the output {type(root).__name__} does not require grad, so it "
            "does not depend on any input that requires grad."
        )
    _, grads = _propagate(root, seed, retain_graph, create_graph)
    return [grads.get(node) for node in inputs]

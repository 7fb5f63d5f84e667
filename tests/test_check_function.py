"""The testing kit's check_function: property tests of custom ops that pass right ones and catch wrong ones.

The mutation check injects the five bugs of the project's gradient-testing recipe (wrong tanh
formula, sign error in division, missing broadcast reduction, overwrite instead of accumulate,
log' = 1/x^2) into custom ops and shows that check_function catches each within 30 examples,
while the correct op passes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import errors as hypothesis_errors

from tinygrad_edu import Function, GradcheckError, Tensor
from tinygrad_edu.testing import assert_grad_close, broadcastable_shapes, check_function, shapes, tensors

ROOT = Path(__file__).resolve().parents[1]


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum g over the axes that broadcasting added or stretched, back to ``shape``."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


# ============================================================== five ops, each correct or with one bug


def make_tanh(bug: bool) -> type[Function]:
    class MyTanh(Function):
        """a = tanh(z);  da/dz = 1 - a^2."""

        @staticmethod
        def forward(ctx, z):
            a = np.tanh(z)
            ctx.save_for_backward(a)
            return a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * (1 - a) if bug else g * (1 - a * a)  # bug: 1 - a instead of 1 - a^2

    return MyTanh


def make_div(bug: bool) -> type[Function]:
    class MyDiv(Function):
        """z = x / y;  dz/dx = 1/y, dz/dy = -x/y^2."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x / y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gy = g * x / y**2 if bug else -g * x / y**2  # bug: the sign
            return g / y, gy

    return MyDiv


def make_mul(bug: bool) -> type[Function]:
    class MyMul(Function):
        """z = x * y (broadcasting);  dL/dx = g * y summed over broadcast axes, same for y."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            if bug:  # bug: no reduction over the broadcast axes
                return g * y, g * x
            return _unbroadcast(g * y, x.shape), _unbroadcast(g * x, y.shape)

    return MyMul


def make_mul_add(bug: bool) -> type[Function]:
    class MyMulAdd(Function):
        """z = x * y + x;  dz/dx = y + 1 (two paths add up), dz/dy = x."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y + x

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            gx = g * y
            gx = g if bug else gx + g  # bug: overwrite instead of accumulate
            return gx, g * x

    return MyMulAdd


def make_log(bug: bool) -> type[Function]:
    class MyLog(Function):
        """z = ln x;  dz/dx = 1/x."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.log(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g / x**2 if bug else g / x  # bug: 1/x^2

    return MyLog


SAME_SHAPES = shapes(max_dims=2).map(lambda s: (s, s))
CASES = {
    "wrong tanh formula": (make_tanh, dict(shapes=[shapes()], domain=dict(low=-3, high=3), reference=np.tanh)),
    "sign error in division": (
        make_div,
        dict(shapes=SAME_SHAPES, domain=[{}, dict(away_from=(0,), margin=0.1)], reference=np.divide),
    ),
    "missing broadcast reduction": (
        make_mul,
        dict(shapes=broadcastable_shapes(2).map(lambda s: s.input_shapes), reference=np.multiply),
    ),
    "overwrite instead of accumulate": (make_mul_add, dict(shapes=SAME_SHAPES, reference=lambda x, y: x * y + x)),
    "log' = 1/x^2": (make_log, dict(shapes=[shapes()], domain=dict(low=1e-3, high=1e3, positive=True),
                                   reference=np.log)),
}


@pytest.mark.parametrize("bug", list(CASES))
def test_each_injected_bug_is_caught_within_30_examples_and_the_right_op_passes(bug: str) -> None:
    make, options = CASES[bug]
    check_function(make(bug=False), **options)  # the default profile's example count
    with pytest.raises((AssertionError, ValueError)):  # a gradcheck table, or a clear shape error
        check_function(make(bug=True), max_examples=30, **options)


def test_a_wrong_backward_shrinks_to_a_small_readable_counterexample() -> None:
    with pytest.raises(GradcheckError) as info:
        check_function(make_tanh(bug=True), shapes=[shapes()], max_examples=30)
    message = str(info.value)
    assert message.startswith("gradcheck FAILED")  # the table first
    example = next(n for n in info.value.__notes__ if n.startswith("Failing test case: check_MyTanh("))
    assert len(example) < 120, example  # e.g. check_MyTanh(arrays=(array(1.),),) -- one small array


def test_forward_is_compared_with_the_numpy_reference() -> None:
    with pytest.raises(AssertionError, match=r"MyTanh.forward differs from the numpy reference at"):
        check_function(make_tanh(bug=False), shapes=[(2, 3)], reference=np.sin, max_examples=5)


def test_flat_examples_are_redrawn_and_an_op_that_is_always_flat_cannot_pass() -> None:
    class MyRelu(Function):
        """z = max(x, 0);  dz/dx = 1 for x > 0, else 0."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0.0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x > 0)

    # all-negative draws (every gradient exactly 0) are rejected as vacuous, not failed nor counted as passed
    check_function(MyRelu, shapes=[shapes(max_side=2)], domain=dict(away_from=(0,)), reference=lambda x: x * (x > 0))

    class Flat(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 0.0

        @staticmethod
        def backward(ctx, g):
            return g * 0.0

    with pytest.raises((hypothesis_errors.Unsatisfiable, hypothesis_errors.FailedHealthCheck)):
        check_function(Flat, shapes=[(2,)], max_examples=20)


def test_an_input_the_op_ignores_fails_unless_allowed() -> None:
    class First(Function):
        """z = 2 x (y is ignored)."""

        @staticmethod
        def forward(ctx, x, y):
            return 2.0 * x

        @staticmethod
        def backward(ctx, g):
            return 2.0 * g, None

    # y never changes the output and backward sends it no gradient: it is not used
    with pytest.raises(GradcheckError, match=r"input #1 \(x1\) is not used by the function"):
        check_function(First, shapes=[(2,), (2,)], max_examples=5)
    check_function(First, shapes=[(2,), (2,)], max_examples=5, allow_unused=True)
    with pytest.raises(GradcheckError, match=r"input #1 \(x1\) is not used by the function"):
        check_function(lambda x, y: x * 2.0, shapes=[(2,), (2,)], max_examples=5)
    check_function(lambda x, y: x * 2.0, shapes=[(2,), (2,)], max_examples=5, allow_unused=True)


def test_bad_arguments_get_clear_errors() -> None:
    with pytest.raises(TypeError, match="check_function: expected a tg.Function subclass or a callable"):
        check_function(3)
    with pytest.raises(ValueError, match="one dict of arrays\\(\\) options or one per input \\(2\\)"):
        check_function(make_div(False), shapes=[(2,), (2,)], domain=[{}], max_examples=1)


def test_assert_grad_close_rejects_vacuous_examples_only_inside_hypothesis() -> None:
    x = Tensor([-1.0, -2.0], requires_grad=True)
    with pytest.raises(GradcheckError, match="Vacuous check"):  # outside hypothesis: a failure
        assert_grad_close(lambda x: x.relu().sum(), x)
    assert tensors  # (the kit's strategies are importable next to check_function)


def test_importing_the_kit_without_hypothesis_names_the_extra() -> None:
    code = "import sys; sys.modules['hypothesis'] = None; import tinygrad_edu.testing"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode != 0
    assert 'tinygrad_edu.testing needs hypothesis, which is not installed: pip install "tinygrad-edu[testing]"' in (
        result.stderr
    )
    core = subprocess.run([sys.executable, "-c", "import sys; sys.modules['hypothesis'] = None; import tinygrad_edu"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert core.returncode == 0, core.stderr


def test_pytest_output_shows_the_table_and_hides_the_kits_frames(tmp_path: Path) -> None:
    test_file = tmp_path / "test_user_op.py"
    test_file.write_text(textwrap.dedent('''
        import numpy as np
        from tinygrad_edu import Function
        from tinygrad_edu.testing import check_function

        class Half(Function):
            """z = x^2 with a wrong derivative x."""

            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x

        def test_half():
            check_function(Half, shapes=[(2,)], max_examples=10)
    '''))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    out = result.stdout
    assert result.returncode == 1 and "gradcheck FAILED" in out and "'Half'" in out
    # the kit's frames (check_function, assert_grad_close) and gradcheck's are hidden: the test's own frame
    # and the example hypothesis replays are all that is shown, then the table
    separators = [line for line in out.splitlines() if line.startswith("_ _ _ _")]
    assert len(separators) <= 1 and "def check_function" not in out and "def assert_grad_close" not in out
    assert "These lines were always and only run by failing test cases" not in out
    assert out.index("gradcheck FAILED") < out.index("Failing test case: check_Half(")


def test_an_op_that_changes_its_input_in_place_is_caught() -> None:
    class Doubler(Function):
        @staticmethod
        def forward(ctx, x):
            x *= 2.0
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    with pytest.raises(ValueError, match="Doubler.forward changed one of its arrays in place"):
        check_function(Doubler, shapes=[(2,)], max_examples=3)

    def sneaky(x: Tensor) -> Tensor:
        out = x * 2.0
        x.data += 1.0  # behind autograd's back
        return out

    with pytest.raises(GradcheckError, match="fn modified x0 in place"):
        check_function(sneaky, shapes=[(2,)], max_examples=3)

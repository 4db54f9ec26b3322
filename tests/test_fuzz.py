"""Fuzz every public function with arbitrary values for every argument.

Hypothesis starts from a valid call (tests/strategies.py) and replaces up
to three of its arguments with anything: any Python object, wrong types,
huge and negative numbers, NaN and inf, odd shapes, every dtype, every
memory layout, lists, masked, byte-swapped and broadcast arrays. Each call
must either return what the loop reference (tests/reference.py) returns,
or raise ``ValueError``/``TypeError`` whose message names one of the
function's arguments; never another exception, never a writeable or
out-of-bounds view, never a modified input.

The CI run tries a fixed number of examples per function
(``FUZZ_EXAMPLES``, default :data:`CI_EXAMPLES`); ``make fuzz`` runs a long
session with fresh seeds and prints how many examples it tried.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import im2col
from tests import reference as ref
from tests.fuzz_inputs import (
    ALL_DTYPES,
    ANYTHING,
    EXAMPLES,
    FUZZ,
    HUGE,
    NUMERIC,
    OPTION,
    RETURNED,
    TRIED,
    mutate,
    plain,
    run,
    same,
    valid_array,
    weird_arrays,
)
from tests.strategies import cases, random_array

pytestmark = pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning",
                                        "ignore:overflow:RuntimeWarning")

# ----------------------------------------------------------------- tests

CONV = {"stride", "padding", "dilation", "groups"}


@st.composite
def conv_calls(draw: st.DrawFn, backward: bool) -> dict[str, Any]:
    case = draw(cases())
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float64])))
    args: dict[str, Any] = {
        "x": valid_array(draw, case, case.x_shape, dtype),
        "w": valid_array(draw, case, case.w_shape, dtype),
        **case.options(), "groups": case.groups,
        "max_memory": draw(st.sampled_from([None, 10**9, 60_000])),
        "workers": draw(st.sampled_from([None, 1, 2])),
    }
    if backward:
        out = ref.Geometry(case.x_shape, case.kernel, case.stride, case.padding,
                           case.dilation)
        args["dout"] = valid_array(draw, case, (case.N, case.F, out.oh, out.ow), dtype)
    elif draw(st.booleans()):
        args["b"] = valid_array(draw, case, (case.F,), dtype)
    garbage = dict.fromkeys(CONV | {"max_memory", "workers"}, OPTION)
    garbage.update({k: weird_arrays(ndim=4) for k in ("x", "w", "dout")})
    garbage["b"] = weird_arrays(ndim=1)
    if backward:
        del garbage["b"]
    return mutate(draw, args, garbage)


@FUZZ
@given(conv_calls(backward=False))
def test_conv2d(args: dict[str, Any]) -> None:
    out = run(im2col.conv2d, args)
    if out is not None:
        opts = {k: args[k] for k in CONV}
        b = None if args.get("b") is None else plain(args["b"])
        same(out, ref.conv2d(plain(args["x"]), plain(args["w"]), b, **opts))
        assert out.flags.c_contiguous


@FUZZ
@given(conv_calls(backward=True))
def test_conv2d_backward(args: dict[str, Any]) -> None:
    grads = run(im2col.conv2d_backward, args)
    if grads is not None:
        opts = {k: args[k] for k in CONV}
        wants = ref.conv2d_backward(plain(args["dout"]), plain(args["x"]),
                                    plain(args["w"]), **opts)
        for k in range(3):
            same(grads[k], wants[k])


@st.composite
def unfold_calls(draw: st.DrawFn, func: str) -> dict[str, Any]:
    case = draw(cases(groups=False))
    dtype = draw(st.sampled_from(NUMERIC if func != "col2im" else
                                 [np.dtype(np.float32), np.dtype(np.float64)]))
    opts = {"stride": case.stride, "dilation": case.dilation, "padding": case.padding}
    garbage: dict[str, Any] = dict.fromkeys(opts, OPTION)
    garbage["kernel_size"] = OPTION
    if func == "window_view":
        del opts["padding"], garbage["padding"]
        g = ref.Geometry(case.x_shape, case.kernel, case.stride, case.padding,
                         case.dilation)
        xp = valid_array(draw, case, (case.N, case.C, g.H + sum(g.padding[0]),
                                      g.W + sum(g.padding[1])), dtype)
        garbage["xp"] = weird_arrays(ndim=4)
        return mutate(draw, {"xp": xp, "kernel_size": case.kernel, **opts}, garbage)
    if func == "im2col":
        garbage["x"] = weird_arrays(ndim=4)
        x = valid_array(draw, case, case.x_shape, dtype)
        return mutate(draw, {"x": x, "kernel_size": case.kernel, **opts}, garbage)
    cols = ref.im2col(random_array(case.seed, case.x_shape, dtype), case.kernel, **opts)
    garbage.update(cols=weird_arrays(ndim=2), x_shape=st.one_of(
        OPTION, st.lists(st.integers(-1, 6), max_size=5), st.builds(np.array, st.lists(
            st.integers(0, 6), min_size=4, max_size=4)), weird_arrays(ndim=1)))
    shape = draw(st.sampled_from([case.x_shape, list(case.x_shape), np.array(case.x_shape)]))
    return mutate(draw, {"cols": valid_array(draw, case, cols.shape, dtype),
                         "x_shape": shape, "kernel_size": case.kernel, **opts}, garbage)


@FUZZ
@given(unfold_calls("im2col"))
def test_im2col(args: dict[str, Any]) -> None:
    cols = run(im2col.im2col, args)
    if cols is not None:
        opts = {k: v for k, v in args.items() if k not in ("x", "kernel_size")}
        same(cols, ref.im2col(plain(args["x"]), args["kernel_size"], **opts), exact=True)
        assert cols.dtype == plain(args["x"]).dtype


@FUZZ
@given(unfold_calls("col2im"))
def test_col2im(args: dict[str, Any]) -> None:
    x = run(im2col.col2im, args)
    if x is not None:
        opts = {k: v for k, v in args.items() if k not in ("cols", "x_shape", "kernel_size")}
        same(x, ref.col2im(plain(args["cols"]), tuple(int(n) for n in args["x_shape"]),
                           args["kernel_size"], **opts))


@FUZZ
@given(unfold_calls("window_view"))
def test_window_view(args: dict[str, Any]) -> None:
    view = run(im2col.window_view, args)
    if view is not None:
        xp = plain(args["xp"])
        assert not view.flags.writeable
        if view.size:
            lo, hi = _byte_bounds(view)
            base_lo, base_hi = _byte_bounds(xp)
            assert base_lo <= lo, "the view starts before its buffer"
            assert hi <= base_hi, "the view ends after its buffer"
        same(view, ref.window(xp, args["kernel_size"], stride=args["stride"],
                              dilation=args["dilation"]), exact=True)


def _byte_bounds(a: np.ndarray) -> tuple[int, int]:
    """``numpy.lib.array_utils.byte_bounds`` (NumPy 2) or ``np.byte_bounds``."""
    utils = getattr(np.lib, "array_utils", np)
    lo, hi = utils.byte_bounds(a)
    return int(lo), int(hi)


SIZES = st.one_of(st.integers(-1, 6), HUGE, ANYTHING)


@st.composite
def size_calls(draw: st.DrawFn) -> dict[str, Any]:
    k, d, s, p = (draw(st.integers(1, 4)), draw(st.integers(1, 3)),
                  draw(st.integers(1, 3)), draw(st.integers(0, 3)))
    n = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 12))
    args = {"size": n, "kernel_size": k, "stride": s, "padding": p, "dilation": d}
    return mutate(draw, args, dict.fromkeys(args, SIZES))


@FUZZ
@given(size_calls())
def test_conv_output_size(args: dict[str, Any]) -> None:
    n = run(im2col.conv_output_size, args)
    if n is not None:
        size, k, s, p, d = (int(args[key]) for key in
                            ("size", "kernel_size", "stride", "padding", "dilation"))
        if (size + 2 * p) // s < 10**5:  # the reference walks every window
            assert n == ref.out_len(size, k, s, (p, p), d)
        else:
            assert n == (size + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def bill_calls(draw: st.DrawFn) -> dict[str, Any]:
    case = draw(cases(groups=False))
    shapes = st.one_of(OPTION, st.lists(st.one_of(st.integers(-1, 6), HUGE), max_size=5))
    garbage = {"x_shape": shapes, "w_shape": shapes, "stride": OPTION,
               "padding": OPTION, "dilation": OPTION,
               "dtype": st.one_of(st.sampled_from(ALL_DTYPES), ANYTHING)}
    return mutate(draw, {"x_shape": case.x_shape, "w_shape": case.w_shape,
                         "dtype": draw(st.sampled_from(ALL_DTYPES)), **case.options()},
                  garbage)


@FUZZ
@given(bill_calls())
def test_memory_bill(args: dict[str, Any]) -> None:
    bill = run(im2col.memory_bill, args)
    if bill is not None:
        g = ref.Geometry(tuple(args["x_shape"]), tuple(args["w_shape"])[2:],
                         args["stride"], args["padding"], args["dilation"])
        item = np.dtype(args["dtype"]).itemsize
        F, kh, kw = args["w_shape"][0], g.kh, g.kw
        (t, b), (left, r) = g.padding
        assert bill.input == g.N * g.C * g.H * g.W * item
        assert bill.padded == (g.N * g.C * (g.H + t + b) * (g.W + left + r) * item
                               if t or b or left or r else 0)
        assert bill.columns == g.C * kh * kw * g.N * g.oh * g.ow * item
        assert bill.output == g.N * F * g.oh * g.ow * item


@settings(max_examples=max(1, EXAMPLES // 4))  # tracemalloc makes each call slow
@given(st.one_of(ANYTHING, st.sampled_from([np.ones, len, lambda *a: a])),
       st.lists(ANYTHING, max_size=2))
def test_peak_memory(func: Any, args: list[Any]) -> None:
    tracing = tracemalloc.is_tracing()
    if callable(func):
        try:
            expected: Any = func(*args)
        except Exception as e:  # the function's own errors pass through unchanged
            with pytest.raises(type(e)):
                im2col.peak_memory(func, *args)
        else:
            result, peak = im2col.peak_memory(func, *args)
            assert peak >= 0
            assert type(result) is type(expected)
    else:
        assert run(im2col.peak_memory, {"func": func}) is None
    assert tracemalloc.is_tracing() == tracing


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many examples each function was called with."""
    start = time.perf_counter()
    yield
    plugins = request.config.pluginmanager
    terminal = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if terminal is None or capture is None or not TRIED:
        return
    counts = ", ".join(f"{k} {v} ({RETURNED[k]} returned)"
                       for k, v in sorted(TRIED.items()))
    with capture.global_and_fixture_disabled():
        terminal.write_line(
            f"\nfuzz: {sum(TRIED.values())} calls tried in "
            f"{time.perf_counter() - start:.0f} s ({counts})")


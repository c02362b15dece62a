from hypothesis import given
from hypothesis import strategies as st

from synack.tcp.seq import (
    MASK,
    seq_add,
    seq_ge,
    seq_gt,
    seq_in_window,
    seq_le,
    seq_lt,
    seq_max,
    seq_min,
    seq_sub,
)

u32 = st.integers(min_value=0, max_value=MASK)


def test_comparisons_hold_across_the_wrap():
    near_top = MASK - 10
    past_wrap = seq_add(near_top, 20)
    assert past_wrap == 9
    assert seq_lt(near_top, past_wrap)
    assert seq_gt(past_wrap, near_top)
    assert seq_sub(past_wrap, near_top) == 20
    assert seq_sub(near_top, past_wrap) == -20
    assert seq_max(near_top, past_wrap) == past_wrap
    assert seq_min(near_top, past_wrap) == near_top


def test_window_test_spans_the_wrap():
    assert seq_in_window(5, MASK - 5, 100)
    assert seq_in_window(MASK, MASK - 5, 100)
    assert not seq_in_window(MASK - 6, MASK - 5, 100)
    assert not seq_in_window(95, MASK - 5, 100)
    assert not seq_in_window(3, 3, 0)


def test_equal_numbers_are_neither_before_nor_after():
    assert not seq_lt(7, 7) and not seq_gt(7, 7)
    assert seq_le(7, 7) and seq_ge(7, 7)


@given(u32, st.integers(min_value=1, max_value=(1 << 31) - 1))
def test_adding_less_than_half_the_space_moves_forward(a, n):
    b = seq_add(a, n)
    assert seq_lt(a, b) and seq_gt(b, a)
    assert seq_sub(b, a) == n
    assert not seq_lt(b, a)


@given(u32, u32)
def test_exactly_one_order_holds(a, b):
    if a == b:
        return
    if (a - b) & MASK == 1 << 31:  # antipodal points are ordered one way only
        assert seq_lt(a, b) != seq_lt(b, a) or not (seq_lt(a, b) or seq_lt(b, a))
        return
    assert seq_lt(a, b) != seq_lt(b, a)

"""The final step's prefetching: items come in order, an error in the thread reaches the
caller, and a caller that stops early stops the thread (it does not read on)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.prefetch import prefetched


@given(st.lists(st.integers()))
def test_items_come_in_order_and_all_of_them(items):
    assert list(prefetched(iter(items))) == items


def test_an_error_while_making_an_item_is_raised_to_the_caller():
    def items():
        yield 1
        raise OSError("part file gone")

    stream = prefetched(items())
    assert next(stream) == 1
    with pytest.raises(OSError, match="part file gone"):
        next(stream)


def test_a_caller_that_stops_early_stops_the_thread():
    made = []

    def items():
        for i in range(1_000):
            made.append(i)
            yield i

    threads = threading.active_count()
    for item in prefetched(items()):
        if item == 2:
            break
    assert threading.active_count() == threads  # joined when the loop left the stream
    assert len(made) <= 5  # at most the item in use, one ready and the one being made

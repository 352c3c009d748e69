"""The garbage-collector setting around a clock's run is undone afterwards."""

import gc
import threading

import pytest

from sim.collector import YOUNG_GENERATION_THRESHOLD, long_lived_world


def test_the_world_is_frozen_while_the_clock_runs_and_thawed_after():
    before = gc.get_threshold()
    world = [[] for _ in range(1000)]  # noqa: F841 - alive while frozen
    with long_lived_world():
        assert gc.get_freeze_count() >= 1000
        assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_error_in_the_run_still_restores_the_collector():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), long_lived_world():
        raise RuntimeError("the clock failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_program_that_froze_its_own_objects_keeps_them_frozen():
    gc.freeze()
    try:
        with long_lived_world():
            pass
        assert gc.get_freeze_count() > 0  # not thawed (a frozen object freed leaves the count)
    finally:
        gc.unfreeze()


def test_clocks_running_in_several_threads_restore_the_collector_when_the_last_ends():
    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with long_lived_world():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with long_lived_world():
            second_in.set()
            first_out.wait(5)
            seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [(YOUNG_GENERATION_THRESHOLD, True)]  # still set after the first ended
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0

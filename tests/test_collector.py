"""The garbage-collector setting around a clock's run is undone afterwards."""

import gc

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
        frozen = gc.get_freeze_count()
        with long_lived_world():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()

"""How regions are packed into tasks: consecutive in key order, every region once, about
``TASKS_PER_WORKER`` tasks per worker, never over the region bound unless one region is."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from reporting.app.tasks import MIN_TASK_PATIENTS, TASKS_PER_WORKER, group_regions


def regions(sizes: list[int]) -> list[SimpleNamespace]:
    return [SimpleNamespace(key=f"R{i:03d}", patients=size) for i, size in enumerate(sizes)]


@given(
    sizes=st.lists(st.integers(1, 30_000), min_size=1, max_size=60),
    workers=st.integers(1, 16),
    max_region=st.integers(100, 30_000),
)
def test_tasks_are_runs_of_consecutive_regions_within_the_target(sizes, workers, max_region):
    specs = regions(sizes)[::-1]  # any order in: key order out
    total = sum(sizes)
    groups = group_regions(specs, total, max_region, workers)
    assert [s.key for group in groups for s in group] == sorted(s.key for s in specs)
    target = min(max_region, max(MIN_TASK_PATIENTS, total // (TASKS_PER_WORKER * workers)))
    for group in groups:
        assert len(group) == 1 or sum(s.patients for s in group) <= target


def test_more_workers_get_more_and_smaller_tasks():
    specs = regions([500] * 400)  # 200,000 patients in small regions
    counts = {w: len(group_regions(specs, 200_000, 100_000, w)) for w in (1, 2, 8)}
    for workers, tasks in counts.items():  # regions do not divide every target exactly
        assert TASKS_PER_WORKER * workers <= tasks <= 1.1 * TASKS_PER_WORKER * workers, counts
    assert len(group_regions(specs, 200_000, 10_000, 1)) == 20  # the region bound caps tasks

"""Shared fixtures: small simulations built once per test session."""

from __future__ import annotations

import datetime as dt

import pytest

from reporting.app import Simulation
from reporting.summary import build_summary
from sim.scenario import Scenario

TODAY = dt.date(2025, 6, 30)


def simulate(**values):
    """Run a scenario to its end; returns (simulation, tables, summary)."""
    values.setdefault("today", TODAY)
    simulation = Simulation(Scenario(**values)).run()
    tables = simulation.tables()
    return simulation, tables, build_summary(simulation, tables)


@pytest.fixture(scope="session")
def small_run():
    """600 patients, seed 42, fixed --today."""
    return simulate(patients=600, seed=42)


@pytest.fixture(scope="session")
def medium_run():
    """3,000 patients, seed 7: enough visits for distribution figures."""
    return simulate(patients=3000, seed=7)


@pytest.fixture(scope="session")
def postgres_dsn():
    """A DSN of a real PostgreSQL server: HOSPITAL_SIM_TEST_POSTGRES, else a throwaway cluster."""
    import os

    from tests.postgres_cluster import throwaway_cluster

    if os.environ.get("HOSPITAL_SIM_TEST_POSTGRES"):
        yield os.environ["HOSPITAL_SIM_TEST_POSTGRES"]
        return
    cluster = throwaway_cluster()
    try:
        dsn = cluster.__enter__()
    except RuntimeError as error:
        if os.environ.get("HOSPITAL_SIM_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"no PostgreSQL for the database tests: {error}")
    try:
        yield dsn
    finally:
        cluster.__exit__(None, None, None)


# The longest tests of each tier (the README's blocks; the 50,000-patient realism run, the
# streaming and property runs of the slow tier), started first so that parallel workers share
# the rest while they run instead of one worker finishing them alone.
LONGEST_FIRST = (
    "test_readme.py",
    "test_realism_targets.py",
    "test_streaming.py",
    "test_properties.py",
    "test_invariants.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the longest test files first (``LONGEST_FIRST``); the order of the rest is kept."""
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))

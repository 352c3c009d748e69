"""Shared fixtures: small simulations built once per test session."""

from __future__ import annotations

import datetime as dt

import pytest

from reporting.summary import build_summary
from sim.scenario import Scenario
from sim.simulation import Simulation

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

"""Property-based: whatever the scenario values, every rule check holds."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import simulate

scenarios = st.fixed_dictionaries(
    {
        "patients": st.integers(1, 250),
        "seed": st.integers(0, 2**32 - 1),
        "today": st.dates(dt.date(2001, 3, 1), dt.date(2030, 12, 31)),
        "history_days": st.integers(0, 4 * 365),
        "minor_same_day_rate": st.floats(0, 1),
        "insured_rate": st.floats(0, 1),
        "continuity_preference": st.floats(0, 1),
        "room_scale": st.floats(0.05, 2.0),
    }
)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
def test_rule_checks_hold_for_any_scenario(values):
    history = values.pop("history_days")
    values["start"] = values["today"] - dt.timedelta(days=history)
    _, tables, summary = simulate(**values)
    failing = {name: count for name, count in summary["checks"].items() if count}
    assert failing == {}
    assert len(tables.patients) == values["patients"]
    assert len(tables.visits) == len(tables.billing)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    patients=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    history_days=st.integers(0, 2 * 365),
    max_region_patients=st.integers(1, 200),
    single_hospital=st.booleans(),
)
@pytest.mark.slow
def test_tasks_give_the_in_process_tables_and_summary(
    tmp_path_factory, patients, seed, history_days, max_region_patients, single_hospital
):
    from reporting.app import Simulation
    from reporting.app.cli import run_summary
    from reporting.app.tasks import PartOptions
    from reporting.summary import build_summary
    from sim.scenario import Scenario

    today = dt.date(2025, 6, 30)
    scenario = Scenario(
        patients=patients,
        seed=seed,
        today=today,
        start=today - dt.timedelta(days=history_days),
        max_region_patients=max_region_patients,
        single_hospital=single_hospital,
    )
    here = Simulation(scenario).run()
    folder = tmp_path_factory.mktemp("parts")
    tasks = Simulation(scenario, parts=PartOptions(folder=str(folder))).run()
    for name, frame in here.tables().items():
        assert getattr(tasks.tables(), name).equals(frame), name
    whole, merged = build_summary(here, here.tables()), run_summary(tasks)
    for section in ("checks", "distributions", "continuity", "simulation", "ok"):
        assert merged[section] == whole[section], section

"""The problem list (``conditions``): chronic conditions from the prevalence draws, with
diagnosis days that may precede --start, one row per episode of other conditions, the rule
checks, the event-log rebuild, and the diagnosis draw itself."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd
import pytest

from reporting.app import Simulation
from reporting.eventlog import tables_from_events
from reporting.validation import validate
from sim.calendar import add_years
from sim.epidemiology import load_rate_tables
from sim.illness import EpisodePlan, Prevalent, diagnosis_days
from sim.refdata import load_catalog
from sim.scenario import Scenario
from tests.conftest import TODAY

CATALOG = load_catalog()
CHRONIC = {c.name for c in CATALOG.conditions if load_rate_tables(CATALOG).chronic[c.code]}


@pytest.fixture(scope="module")
def run():
    simulation = Simulation(Scenario(patients=700, seed=21, today=TODAY)).run()
    return simulation, simulation.tables()


def test_every_rule_check_of_the_problem_list_is_zero(run):
    _, tables = run
    checks = validate(tables)["checks"]
    listed = {name: count for name, count in checks.items() if "problem" in name}
    assert len(listed) >= 8 and not any(listed.values()), listed
    assert checks["visits_outside_their_episode_row"] == 0


def test_chronic_rows_are_once_per_patient_and_never_resolved(run):
    simulation, tables = run
    conditions = tables.conditions
    chronic = conditions[conditions["chronic"] == "Y"]
    assert set(chronic["condition"].astype(str)) <= CHRONIC
    assert not chronic.duplicated(["patient_id", "condition"]).any()
    assert chronic["resolution_date"].isna().all() and (chronic["status"] == "Active").all()
    assert chronic["episode_id"].isna().all()
    # many are diagnosed before --start, and some have no visit in the window at all
    start = pd.Timestamp(simulation.scenario.start)
    assert (chronic["diagnosis_date"] < start).mean() > 0.3
    assert (chronic["n_visits"] == 0).any()


def test_chronic_diagnoses_respect_the_conditions_minimum_age(run):
    _, tables = run
    conditions = tables.conditions
    chronic = conditions[conditions["chronic"] == "Y"]
    birth = tables.patients.set_index("patient_id")["date_of_birth"]
    born = birth.reindex(chronic["patient_id"]).to_numpy().astype("datetime64[D]")
    youngest = np.array([CATALOG.by_name[c].min_age for c in chronic["condition"].astype(str)])
    reached = add_years(born, youngest)
    assert (chronic["diagnosis_date"].to_numpy().astype("datetime64[D]") >= reached).all()


def test_one_row_per_episode_of_other_conditions(run):
    _, tables = run
    conditions, visits = tables.conditions, tables.visits
    episodic = conditions[conditions["chronic"] == "N"]
    other = visits[~visits["condition"].astype(str).isin(CHRONIC)]
    assert sorted(episodic["episode_id"].astype(int)) == sorted(other["episode_id"].unique())
    first = other.groupby("episode_id")["date_of_admission"].min()
    rows = episodic.set_index(episodic["episode_id"].astype(int))
    assert (rows["diagnosis_date"] == first.reindex(rows.index)).all()
    assert (rows["n_visits"] == other.groupby("episode_id").size().reindex(rows.index)).all()
    resolved = rows["resolution_date"].notna()
    assert resolved.mean() > 0.8
    last = other.groupby("episode_id")["date_of_discharge"].max().reindex(rows.index)
    assert (rows["resolution_date"][resolved] >= last[resolved]).all()


def test_condition_ids_number_the_rows_by_patient_and_diagnosis(run):
    _, tables = run
    conditions = tables.conditions
    assert conditions["condition_id"].tolist() == list(range(1, len(conditions) + 1))
    ordered = conditions.sort_values(["patient_id", "diagnosis_date"], kind="stable")
    assert ordered.index.tolist() == conditions.index.tolist()
    assert set(conditions["patient_id"]) <= set(tables.patients["patient_id"])


def test_nothing_is_diagnosed_after_death(run):
    _, tables = run
    death = tables.patients.set_index("patient_id")["date_of_death"]
    died = tables.conditions["patient_id"].map(death)
    assert died.notna().any()  # the run has deaths, so the rule is exercised
    assert not (tables.conditions["diagnosis_date"] > died).any()


def test_a_broken_problem_list_fails_the_checks(run):
    _, tables = run
    conditions = tables.conditions.copy()
    visited = conditions.index[conditions["n_visits"] > 0][0]
    conditions.loc[visited, "diagnosis_date"] = pd.Timestamp(TODAY) + pd.Timedelta(days=1)
    chronic = conditions.index[conditions["chronic"] == "Y"][0]
    conditions.loc[chronic, "resolution_date"] = pd.Timestamp(TODAY)
    checks = validate(attrs.evolve(tables, conditions=conditions))["checks"]
    assert checks["visits_not_on_the_problem_list"] >= 1
    assert checks["chronic_problems_resolved"] == 1


def test_the_problem_list_rebuilds_from_the_event_log(run):
    simulation, tables = run
    rebuilt = tables_from_events(simulation.event_log(tables), TODAY).conditions
    assert list(rebuilt.columns) == list(tables.conditions.columns)
    for column in rebuilt.columns:
        assert rebuilt[column].astype(str).tolist() == (
            tables.conditions[column].astype(str).tolist()
        ), column


def test_the_diagnosis_draw_moves_no_visit(monkeypatch):
    """The diagnoses come from a stream of their own: other diagnosis days leave every
    visit where it was."""
    scenario = Scenario(patients=250, seed=4, today=TODAY)
    before = Simulation(scenario).run().tables()

    def at_first_possible_day(rng, catalog, rates, prevalent, *, birth, **_):
        born = np.asarray(birth, dtype="datetime64[D]")[prevalent.patient]
        youngest = np.array(
            [catalog.conditions[c].min_age for c in prevalent.condition], dtype=np.int64
        )
        day_0 = np.datetime64(scenario.clock_start, "D")  # simulation days count from it
        return (add_years(born, youngest) - day_0).astype(np.int64)

    monkeypatch.setattr("sim.catchment.diagnosis_days", at_first_possible_day)
    after = Simulation(scenario).run().tables()
    pd.testing.assert_frame_equal(before.visits, after.visits)
    moved = (
        before.conditions["diagnosis_date"].to_numpy()
        != after.conditions["diagnosis_date"].to_numpy()
    )
    assert len(before.conditions) == len(after.conditions) and moved.any()


# ------------------------------------------------------------------ the diagnosis draw


def _draw(age: int, count: int, plan: EpisodePlan | None = None, horizon: int = 1000):
    """Diagnosis days of ``count`` men born 2000-01-01 who have high blood pressure, its
    prevalence read at ``age``; --start 2070-01-01."""
    code = CATALOG.by_name["High blood pressure"].code
    prevalent = Prevalent(
        np.arange(count), np.full(count, code), np.full(count, age, dtype=np.int64)
    )
    empty = np.empty(0, dtype=np.int64)
    day = diagnosis_days(
        np.random.default_rng(1),
        CATALOG,
        load_rate_tables(CATALOG),
        prevalent,
        birth=np.full(count, np.datetime64("2000-01-01")),
        gender=np.zeros(count, dtype=np.int64),
        plan=plan or EpisodePlan(empty, empty, empty, empty, np.empty(0)),
        start=np.datetime64("2070-01-01"),
        horizon=horizon,
    )
    return np.datetime64("2070-01-01") + day


def test_diagnosis_ages_follow_the_rise_of_the_prevalence():
    rates = load_rate_tables(CATALOG)
    curve = rates.prevalence[CATALOG.by_name["High blood pressure"].code, 0]
    dates = _draw(age=70, count=20_000)
    ages = dates.astype("datetime64[Y]").astype(np.int64) + 1970 - 2000
    assert ages.min() >= 18 and ages.max() <= 70  # the minimum age; the age it was read at
    # each age's share of diagnoses is what the prevalence gains at that age (men)
    gains = np.diff(np.where(np.arange(101) >= 18, curve, 0.0), prepend=0.0)[:71]
    expected = np.maximum(gains, 0) / np.maximum(gains, 0).sum()
    observed = np.bincount(ages, minlength=71) / len(ages)
    assert np.abs(observed - expected).max() < 0.01
    assert observed[18] > observed[30]  # the first gain is at the minimum age


def test_a_diagnosis_is_never_after_the_first_encounter_nor_after_today():
    code = CATALOG.by_name["High blood pressure"].code
    # the start is 2070-01-01: an encounter on day 5 for the first resident
    plan = EpisodePlan(
        np.array([0]), np.array([code]), np.array([5]), np.array([2]), np.array([0.0])
    )
    dates = _draw(age=70, count=400, plan=plan, horizon=10)
    assert dates[0] <= np.datetime64("2070-01-06")
    assert (dates <= np.datetime64("2070-01-11")).all()

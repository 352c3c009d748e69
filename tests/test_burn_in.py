"""The burn-in: the clock starts ``burn_in_days`` before ``--start``, and that time is simulated,
not written. Episodes begun in it bring their clinic follow-ups into the first months (their
initial encounter is not in the tables), so the history starts in a steady state."""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import pandas as pd
import pytest

from reporting.app import Simulation
from reporting.validation import validate
from sim.facts import own_room
from sim.processes import BOOKING_WINDOW_DAYS, FOLLOWUP_LAPSE_DAYS
from sim.refdata import load_catalog
from sim.scenario import Scenario, ScenarioError
from tests.conftest import TODAY, simulate

START = dt.date(2024, 1, 1)
FIRST_DAYS = 45  # the first weeks of the history, when a cold start has few follow-ups


def _run(burn_in_days: int):
    return simulate(patients=1500, seed=11, start=START, burn_in_days=burn_in_days)


@pytest.fixture(scope="module")
def warm():
    return _run(365)


@pytest.fixture(scope="module")
def cold():
    return _run(0)


def _followups_early_over_later(visits: pd.DataFrame) -> float:
    """Follow-ups per day in the first weeks over those per day from the fourth month on."""
    day = (pd.to_datetime(visits["date_of_admission"]) - pd.Timestamp(START)).dt.days
    followup = (visits["visit_type"] == "Follow-up").to_numpy()
    early = followup & (day < FIRST_DAYS).to_numpy()
    later = followup & (day >= 120).to_numpy()
    later_days = (TODAY - START).days + 1 - 120
    return (early.sum() / FIRST_DAYS) / (later.sum() / later_days)


def _left_censored(visits: pd.DataFrame) -> pd.Series:
    """Follow-ups that open their episode in the tables (its initial encounter is not there)."""
    return (visits["visit_type"] == "Follow-up") & (visits["episode_id"] == visits["visit_id"])


def test_the_first_weeks_have_their_follow_ups_only_with_a_burn_in(warm, cold):
    assert _followups_early_over_later(warm[1].visits) > 0.8
    assert _followups_early_over_later(cold[1].visits) < 0.6


def test_an_episode_begun_in_the_burn_in_opens_with_a_follow_up_soon_after_start(warm, cold):
    visits = warm[1].visits.sort_values(["patient_id", "condition", "date_of_admission"])
    censored = _left_censored(visits)
    assert censored.sum() > 20
    assert not _left_censored(cold[1].visits).any()
    # it is the first of the patient's visits for the condition (episodes never overlap) ...
    first = ~visits.duplicated(["patient_id", "condition"], keep="first")
    assert first[censored].all()
    # ... and comes within a follow-up gap (and the booking week, or the lapse of a follow-up
    # put off by a stay) of --start
    catalog = load_catalog()
    longest_gap = {
        c.name: catalog.categories[c.category].followup_gap_days[1] for c in catalog.conditions
    }
    reach = visits.loc[censored, "condition"].astype(str).map(longest_gap)
    day = (pd.to_datetime(visits.loc[censored, "date_of_admission"]) - pd.Timestamp(START)).dt.days
    assert (day <= reach + FOLLOWUP_LAPSE_DAYS + BOOKING_WINDOW_DAYS // 2).all()


def test_nothing_before_start_is_written(warm):
    simulation, tables, summary = warm
    start = pd.Timestamp(START)
    assert pd.to_datetime(tables.visits["date_of_admission"]).min() >= start
    assert pd.to_datetime(tables.billing["billing_date"]).min() >= start
    assert pd.to_datetime(tables.coverage["start_date"]).min() >= start
    events = simulation.event_log(tables)
    assert pd.to_datetime(events["date"]).min() == start
    assert pd.to_datetime(simulation.census()["date"]).min() == start
    assert summary["ok"] and not any(summary["checks"].values())


def test_the_checks_catch_a_follow_up_opening_an_episode_after_the_first(warm):
    tables = warm[1]
    visits = tables.visits.copy()
    followup = (visits["visit_type"] == "Follow-up") & (visits["episode_id"] != visits["visit_id"])
    ordered = visits.sort_values(["patient_id", "condition", "date_of_admission"])
    later = followup & ordered.duplicated(["patient_id", "condition"], keep="first")
    row = later[later].index[0]
    visits.loc[row, "episode_id"] = visits.loc[row, "visit_id"]
    checks = validate(attrs.evolve(tables, visits=visits), today=TODAY)["checks"]
    assert checks["episode_ids_not_matching_visit_type"] == 1
    assert validate(tables, today=TODAY)["checks"]["episode_ids_not_matching_visit_type"] == 0


def test_stepping_counts_days_from_start():
    scenario = Scenario(patients=200, seed=3, today=TODAY, start=START, burn_in_days=100)
    assert scenario.clock_start == START - dt.timedelta(days=100)
    assert scenario.first_day == 100
    simulation = Simulation(scenario)
    state = simulation.run(until=0).state()
    assert (state.day, state.date) == (0, START)
    assert simulation.run(until=dt.date(2024, 3, 1)).state().day == 60
    with pytest.raises(ValueError, match="outside"):
        simulation.run(until=-1)


@pytest.mark.parametrize("days", [-1, 4000])
def test_a_burn_in_out_of_range_is_refused(days):
    with pytest.raises(ScenarioError, match="burn_in_days"):
        Scenario(patients=10, today=TODAY, burn_in_days=days)


def test_the_burn_in_shifts_no_written_day_of_birth_or_death(warm):
    patients = warm[1].patients
    died = pd.to_datetime(patients["date_of_death"]).dropna()
    assert (died >= pd.Timestamp(START)).all()
    assert np.isin(patients["patient_id"], warm[1].visits["patient_id"]).mean() > 0.99


@pytest.fixture(scope="module")
def long_burn_in():
    """3,000 patients, half a year written after four years of burn-in: (simulation, the
    birthdays drawn per region before the run)."""
    scenario = Scenario(
        patients=3000, seed=2, today=TODAY, start=dt.date(2025, 1, 1), burn_in_days=1500
    )
    simulation = Simulation(scenario)
    drawn = {region.world.key: region.world.registry.birth.copy() for region in simulation.regions}
    return simulation.run(), drawn


def test_the_census_counts_the_stays_of_the_burn_in_still_in_bed(long_burn_in):
    # the census counts every stay in a room at the end of the day, those admitted before
    # --start (not rows) included
    simulation = long_burn_in[0]
    census = simulation.census()
    dates = pd.to_datetime(census["date"])
    assert dates.min() == pd.Timestamp(simulation.scenario.start)
    first = simulation.scenario.first_day
    held, from_burn_in = np.zeros(7, dtype=np.int64), 0
    for region in simulation.regions:
        admitted = region.log.all_columns("Admitted")
        discharged = region.log.all_columns("Discharged")
        end = np.full(region.next_visit, 10**9)
        end[discharged["visit"]] = discharged["day"]
        in_room = own_room(admitted)
        begin, until = admitted["day"][in_room], end[admitted["visit"][in_room]]
        for k in range(7):
            held[k] += ((begin <= first + k) & (until > first + k)).sum()
            from_burn_in += ((begin < first) & (until > first + k)).sum()
    by_day = census.groupby(dates)["sample_occupied_rooms"].sum()
    assert by_day.iloc[:7].tolist() == held.tolist()
    assert from_burn_in > 0


def test_a_delivery_in_the_burn_in_never_brings_a_later_baby_early(long_burn_in):
    # a mother's baby born in the burn-in with no encounter after it is not a patient: her
    # delivery then brings no baby, and her next one is born on its own day
    simulation, drawn = long_burn_in
    earlier = 0
    for region in simulation.regions:
        registry = region.world.registry
        linked = registry.mother >= 0
        born = registry.birth[linked]
        earlier += int((born < drawn[region.world.key][linked]).sum())
    assert earlier == 0
    assert validate(simulation.tables(), today=TODAY)["ok"]


def test_an_extract_forgotten_is_made_again_the_same():
    """The event log caches the extracts it shows readers and forgets them to free memory
    (``release_extracts``): a read after that makes the same extract again."""
    simulation = Simulation(
        Scenario(patients=120, seed=4, today=TODAY, start=START, burn_in_days=200)
    ).run()
    log = simulation.regions[0].log
    before = {name: log.columns(name) for name in ("Admitted", "Discharged", "CoverageStarted")}
    log.release_extracts()
    for name, columns in before.items():
        again = log.columns(name)
        assert again.keys() == columns.keys()
        assert all(np.array_equal(again[field], columns[field]) for field in columns)
        assert len(again["day"]) and again["day"].min() >= log.first_day > 0

"""Hospitals of real size and their unwritten load (sim.capacity, sim.hospital_load)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import simpy

from entities import RoomPool
from sim.capacity import (
    bed_counts,
    beds_serving,
    capacity_figures,
    hospital_sites,
    served_population,
    size_mix,
)
from sim.geography import METROPOLITAN, load_zip_table
from sim.hospital_load import UnwrittenLoad, day_factors
from sim.refdata import read_csv
from sim.rng import stream
from tests.conftest import simulate


def test_size_bands_have_sources_shares_that_add_up_and_do_not_overlap():
    sources = set(read_csv("capacity/sources.csv")["source_id"])
    for name in ("figures.csv", "bed_sizes.csv"):
        assert set(read_csv(f"capacity/{name}")["source_id"]) <= sources, name
    for area, bands in size_mix().items():
        assert bands.share.sum() == pytest.approx(1.0), area
        assert (bands.low[1:] > bands.high[:-1]).all(), area
    # AHA: 792,417 beds in 5,141 community hospitals, 1,805 of them rural (2019)
    mix = size_mix()
    rural, urban = mix["nonmetropolitan"].mean_beds, mix["metropolitan"].mean_beds
    national = (1805 * rural + 3336 * urban) / 5141
    assert 140 < national < 170
    assert rural < 60 < 180 < urban


def test_hospitals_are_placed_and_sized_by_population():
    zips = load_zip_table()
    rng = stream(3, "test", "providers")
    rows = hospital_sites(rng, zips, 2000)
    beds = bed_counts(rng, zips, rows)
    metro = zips.area[rows] == METROPOLITAN
    # rural areas get many small hospitals: more than their 15% of residents, fewer beds each
    assert 0.25 < 1 - metro.mean() < 0.6
    assert np.median(beds[~metro]) <= 25 < 100 <= np.median(beds[metro])
    # the larger hospitals stand in the more populous places
    ranks = pd.Series(zips.population[rows][metro]).rank().corr(pd.Series(beds[metro]).rank())
    assert ranks > 0.3
    # beds per resident about even between city and country (rural a bit higher, as in AHA data)
    people = zips.population[rows]
    assert 0.5 < (beds[~metro].sum() / beds.sum()) / (people[~metro].sum() / people.sum()) < 6


def test_a_hospital_serves_its_beds_worth_of_people():
    assert served_population(np.array([240]))[0] == pytest.approx(100_000)


def test_the_beds_for_a_population_invert_the_people_served():
    beds = np.arange(1, 5001)
    np.testing.assert_array_equal(beds_serving(served_population(beds)), beds)
    assert beds_serving(served_population(np.array([40])) + 1)[0] == 41  # one more person


def test_day_factors_swing_by_season_and_weekday():
    start = dt.date(2024, 1, 1)  # a Monday
    factors = day_factors(start, 0, 365)
    days = np.datetime64(start) + np.arange(366)
    weekday = (days.astype(np.int64) + 3) % 7
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    weekend = factors[weekday >= 5].mean() / factors[weekday < 5].mean()
    assert 0.6 < weekend < 0.85
    assert factors[month == 0].mean() > factors[month == 8].mean()
    assert factors.mean() == pytest.approx(1.0, abs=0.03)


def _load(beds: int, people: float, horizon: int = 730, seed: int = 1):
    env = simpy.Environment()
    pool = RoomPool(env, beds)

    class Site:
        rooms = pool

    load = UnwrittenLoad(
        [Site()], np.array([people]), dt.date(2023, 1, 1), horizon, stream(seed, "test", "load")
    )
    env.process(load.process(env))
    env.run()
    return load, pool


def test_the_unwritten_load_fills_a_hospital_as_aha_figures_say():
    figures = capacity_figures()
    beds = 400
    people = float(served_population(np.array([beds]))[0])
    load, pool = _load(beds, people)
    expected = (
        figures["community_admissions_per_1000"]
        / 1000
        / 365.25
        * people
        * figures["community_average_stay_days"]
        / beds
    )
    occupancy = load.history.mean() / beds
    assert expected == pytest.approx(0.643, abs=0.01)
    assert occupancy == pytest.approx(expected, abs=0.04)
    assert load.history.max() <= beds and pool.peak <= beds
    assert load.history[0, 0] > 0.5 * beds  # warmed up: full from the first day


def test_a_smaller_hospital_for_the_same_people_is_fuller_and_turns_more_away():
    people = float(served_population(np.array([100]))[0])
    roomy, _ = _load(100, people)
    tight, _ = _load(70, people)
    assert tight.history.mean() / 70 > roomy.history.mean() / 100
    assert tight.turned_away.sum() > roomy.turned_away.sum()
    assert tight.history.max() <= 70


def test_written_stays_and_the_unwritten_load_share_the_beds():
    env = simpy.Environment()
    pool = RoomPool(env, 3)
    pool.background = 2
    first = pool.acquire()
    assert first is not None and pool.acquire() is None  # the third bed is the load's
    waiting = pool.request()
    pool.background = 1  # a stay of the load went home: the waiting patient gets the bed
    assert pool.serve_waiting() == 1 and waiting.triggered
    assert pool.occupied == 2 and pool.peak == 3


def test_the_unwritten_load_makes_way_for_labour_and_the_history_shows_it():
    load, pool = _load(3, float(served_population(np.array([3]))[0]) * 5, horizon=40)
    day = int(np.argmax(load.history[:, 0] == 3))
    assert load.history[day, 0] == 3  # a day when the load held every bed
    pool.background = 3
    assert pool.acquire() is None
    assert load.make_way(0, day)  # one of its patients moves on
    assert pool.acquire() is not None
    assert load.history[day, 0] == 2 and pool.background == 2
    pool.background = 0
    assert not load.make_way(0, day)  # nothing of the load's to move: labour waits


def test_census_totals_include_the_unwritten_load_and_never_exceed_the_beds():
    simulation, _, summary = simulate(patients=400, seed=5)
    census = simulation.census()
    assert (census["occupied_rooms"] <= census["rooms"]).all()
    assert (census["sample_occupied_rooms"] <= census["occupied_rooms"]).all()
    pooled = census["occupied_rooms"].sum() / census["rooms"].sum()
    assert 0.55 < pooled < 0.8
    capacity = summary["capacity"]
    sample = census["sample_occupied_rooms"].sum()
    assert capacity["sample_room_days"] == sample
    assert capacity["unwritten_room_days"] == census["occupied_rooms"].sum() - sample
    hospitals = simulation.hospitals()
    assert (
        hospitals["sampling_fraction"].round(6).tolist()
        == capacity["sampling_fraction_by_hospital"]
    )
    by_hospital = census.groupby("hospital_id")[["sample_occupied_rooms", "occupied_rooms"]].sum()
    fraction = by_hospital["sample_occupied_rooms"] / by_hospital["occupied_rooms"]
    assert np.allclose(fraction.to_numpy(), hospitals["sampling_fraction"].to_numpy(), atol=1e-6)


@pytest.mark.slow
def test_compare_shows_that_fuller_hospitals_divert_more():
    from reporting.app.experiments import compare
    from sim.scenario import Scenario

    # several hospitals per state, so that a full one can send patients to another
    common = {
        "patients": 1500,
        "seed": 8,
        "today": dt.date(2025, 6, 30),
        "patients_per_hospital": 25,
    }
    frame = compare({"beds": Scenario(**common), "fewer beds": Scenario(**common, room_scale=0.75)})
    figures = frame.to_dict()
    roomy, tight = figures["beds"], figures["fewer beds"]
    assert 0.55 < roomy["pooled occupancy"] < 0.8 < tight["pooled occupancy"]
    assert tight["diversions"] > 3 * roomy["diversions"]  # 3.5-7 times at seeds 8-11
    assert tight["switches: no room"] > roomy["switches: no room"]
    assert tight["unwritten stays turned away"] > 3 * roomy["unwritten stays turned away"]


def test_the_summary_has_the_censuss_weekly_occupancy_without_a_census():
    simulation, _, summary = simulate(patients=300, seed=6)
    census = simulation.census()
    day = (census["date"] - census["date"].min()).dt.days
    pooled = census.groupby(day)[["occupied_rooms", "rooms"]].sum()
    weekly = (pooled["occupied_rooms"] / pooled["rooms"]).groupby(pooled.index // 7).mean()
    assert np.allclose(summary["capacity"]["occupancy_by_week"], weekly.to_numpy(), atol=1e-6)
    assert summary["capacity"]["pooled_occupancy"] == pytest.approx(
        census["occupied_rooms"].sum() / census["rooms"].sum(), abs=1e-6
    )

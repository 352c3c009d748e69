"""Deaths outside hospital (US life table) and what they imply: dates of death, nothing
afterwards, person-years that stop at death, the population's deaths in hospital and
elsewhere, and the event log as the source of ``date_of_death``. Newborns linked to their
mothers: the delivery rules, the mother's delivery as the birth, the same hospital and day,
and the checks that catch a broken link."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd
import pytest

from reporting.app import Simulation
from reporting.eventlog import event_log_table, tables_from_events
from reporting.realism import COMPUTATIONS, load_targets, scorecard
from reporting.validation import validate
from sim.catchment import (
    assign_mothers,
    draw_deaths,
    person_years,
    take_families,
    yearly_death_hazard,
)
from sim.epidemiology import load_rate_tables, population_figures
from sim.illness import ED_ARRIVAL, EpisodePlan
from sim.population import FEMALE, MALE, Residents
from sim.refdata import load_catalog
from sim.rng import stream
from sim.scenario import Scenario
from tests.conftest import TODAY, simulate

START = np.datetime64("2022-01-01")
PLAN_FIELDS = ("patient", "condition", "day", "kind", "release")
END = np.datetime64("2024-12-31")


def _deaths(ages: np.ndarray, sex: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    birth = START - (ages * 365.25).astype(np.int64)
    gender = np.full(len(ages), sex, dtype=np.int8)
    return birth, draw_deaths(stream(seed, "test", "deaths"), birth, gender, START, END)


def test_deaths_fall_in_the_window_and_after_birth():
    rng = np.random.default_rng(0)
    birth = END - rng.integers(-400, 95 * 365, 50_000)  # some born after the window starts
    gender = rng.integers(0, 2, len(birth)).astype(np.int8)
    death = draw_deaths(stream(1, "test", "deaths"), birth, gender, START, END)
    died = ~np.isnat(death)
    assert died.any()
    assert (death[died] >= START).all() and (death[died] <= END).all()
    assert (death[died] > birth[died]).all()  # not on the birthday: the birth stay is first
    assert np.isnat(death[birth > END]).all()


def test_death_rate_is_the_life_table_outside_hospital():
    # women aged 80 for three years: the share dying is 1 - exp(-cumulative hazard)
    ages = np.full(200_000, 80.5)
    _, death = _deaths(ages, FEMALE)
    years = (END - START).astype(int) / 365.25
    rates = [yearly_death_hazard(y)[FEMALE, 80 + k] for k, y in enumerate((2022, 2023, 2024))]
    expected = 1 - np.exp(-np.mean(rates) * years)
    assert abs((~np.isnat(death)).mean() - expected) < 0.01
    # the share in hospital is left to the timeline
    share = population_figures()["in_hospital_share_of_deaths"]
    assert 0.25 < share < 0.36
    life_table = pd.read_csv("sim/data/demography/life_table.csv")
    qx = life_table[(life_table["sex"] == "Female") & (life_table["age"] == 80)]["qx"].item()
    trend = pd.read_csv("sim/data/demography/mortality_trend.csv").set_index("year")["factor"]
    q_2022 = -np.expm1(-yearly_death_hazard(2022)[FEMALE, 80])
    assert q_2022 == pytest.approx(qx * trend[2022] * (1 - share))


def test_older_people_and_men_die_more():
    old = (~np.isnat(_deaths(np.full(50_000, 75.0), MALE)[1])).mean()
    young = (~np.isnat(_deaths(np.full(50_000, 35.0), MALE)[1])).mean()
    women = (~np.isnat(_deaths(np.full(50_000, 75.0), FEMALE)[1])).mean()
    assert old > 5 * young
    assert old > women


def test_years_after_the_trend_take_its_last_factor():
    assert np.array_equal(yearly_death_hazard(2030), yearly_death_hazard(2024))
    assert np.array_equal(yearly_death_hazard(2010), yearly_death_hazard(2019))
    assert (yearly_death_hazard(2024) < yearly_death_hazard(2021)).all()


def test_person_years_stop_at_death():
    birth = np.array(["1950-01-01", "1950-01-01", "2023-07-01"], dtype="datetime64[D]")
    gender = np.array([MALE, MALE, FEMALE], dtype=np.int8)
    end = np.array(["2025-01-01", "2023-01-01", "2025-01-01"], dtype="datetime64[D]")
    years = person_years(birth, gender, START, end)
    assert years[MALE].sum() == pytest.approx((3 * 365 + 1 + 365) / 365.25)
    assert years[MALE, 72] == pytest.approx(2 * 365 / 365.25)  # 2022 by both, lived at 72
    assert years[FEMALE].sum() == pytest.approx(550 / 365.25)  # from birth on


@pytest.fixture(scope="module")
def run():
    """1,500 patients over three years: enough deaths of both kinds."""
    return simulate(patients=1500, seed=11)


def test_patients_die_outside_hospital_and_nothing_follows(run):
    simulation, tables, summary = run
    assert {k: v for k, v in summary["checks"].items() if v} == {}
    patients, visits = tables.patients, tables.visits
    dead = patients[patients["date_of_death"].notna()]
    last = visits.groupby("patient_id")["date_of_discharge"].max()
    assert (last.reindex(dead["patient_id"]).to_numpy() <= dead["date_of_death"].to_numpy()).all()
    expired = visits[visits["discharge_disposition"] == "Expired"]
    elsewhere = dead[~dead["patient_id"].isin(expired["patient_id"])]
    assert len(elsewhere) > 10 and len(expired) > 3
    # a death outside hospital is a Died event, and only that
    died = sum(len(r.log.columns("Died")["day"]) for r in simulation.regions)
    assert died == len(elsewhere)


def test_plans_stop_before_the_day_of_death(run):
    simulation = run[0]
    for region in simulation.regions:
        world = region.world
        start = np.datetime64(simulation.scenario.clock_start)  # of the plan's day 0
        death = world.registry.death[world.plan.patient]
        planned = start + world.plan.day
        assert not (~np.isnat(death) & (planned >= death)).any()
        # a patient with a death drawn in the window has an encounter before it (a linked
        # newborn's birth stay comes with the mother's delivery, not from the plan)
        drawn = ~np.isnat(world.registry.death) & (world.registry.mother < 0)
        assert np.isin(np.flatnonzero(drawn), world.plan.patient).all()


def test_the_population_counts_deaths_in_hospital_and_elsewhere(run):
    _, tables, summary = run
    population = summary["population"]
    deaths = population["deaths"]
    expired = (tables.visits["discharge_disposition"] == "Expired").sum()
    assert deaths["in_hospital"] == expired
    assert deaths["total"] == deaths["in_hospital"] + deaths["elsewhere"]
    patients_dead = tables.patients["date_of_death"].notna().sum()
    assert deaths["elsewhere"] >= patients_dead - expired  # and the residents' who are no patients
    rate = population["per_1000_residents"]["deaths_per_person_year"]
    assert rate == pytest.approx(1000 * deaths["total"] / population["person_years"], abs=1e-3)
    by_age = population["person_years_by_age"]
    assert sum(map(sum, by_age.values())) == pytest.approx(population["person_years"], rel=1e-6)
    rows = {row["id"]: row for row in summary["realism"]}
    assert rows["crude_death_rate"]["value"] == pytest.approx(rate, abs=1e-3)
    share = 100 * deaths["in_hospital"] / deaths["total"]
    assert rows["deaths_in_hospital_share"]["value"] == pytest.approx(share, abs=1e-3)


def test_the_scorecard_counts_deaths_from_the_tables_without_a_population(run):
    simulation, tables, _ = run
    targets = {t.id: t for t in load_targets().rows}
    assert targets["crude_death_rate"].computation in COMPUTATIONS
    rows = {
        r["id"]: r
        for r in scorecard(tables, start=simulation.scenario.start, today=TODAY, population=None)
    }
    died = tables.patients["date_of_death"].notna().sum()
    expired = (tables.visits["discharge_disposition"] == "Expired").sum()
    assert rows["deaths_in_hospital_share"]["value"] == pytest.approx(100 * expired / died, 1e-3)
    assert "the patients are the population" in rows["crude_death_rate"]["note"]


def test_date_of_death_rebuilds_from_the_event_log(run):
    simulation, tables, _ = run
    events = event_log_table(simulation, tables)
    assert (events["event_type"] == "Died").any()
    rebuilt = tables_from_events(events, TODAY).patients
    pd.testing.assert_series_equal(
        rebuilt["date_of_death"].reset_index(drop=True),
        tables.patients["date_of_death"].reset_index(drop=True),
        check_names=False,
    )


# ----------------------------------------------------------------- newborns and mothers


def _residents(birth: list[str], gender: list[int], death: list[str] | None = None) -> Residents:
    count = len(birth)
    return Residents(
        zip_row=np.arange(count),
        age=np.zeros(count, dtype=np.int64),
        birth=np.array(birth, dtype="datetime64[D]"),
        gender=np.array(gender, dtype=np.int8),
        death=np.array(death or ["NaT"] * count, dtype="datetime64[D]"),
        mother=np.full(count, -1),
    )


def test_mothers_keep_the_delivery_rules():
    catalog = load_catalog()
    rates = load_rate_tables(catalog)
    # one woman of 30 and five babies: two deliveries at most, 274 days apart
    babies = ["2022-02-01", "2022-03-01", "2022-12-01", "2023-01-01", "2024-06-01"]
    residents = _residents(["1992-01-01", *babies], [FEMALE] * 6)
    mother = assign_mothers(stream(1, "t", "m"), residents, catalog, rates, START)
    assert mother.tolist() == [-1, 0, -1, 0, -1, -1]
    # too young, too old, a man, dead before: nobody can be the mother
    residents = _residents(
        ["2006-01-01", "1960-01-01", "1990-01-01", "1990-01-01", "2023-05-01"],
        [FEMALE, FEMALE, MALE, FEMALE, MALE],
        ["NaT", "NaT", "NaT", "2023-04-30", "NaT"],
    )
    assert assign_mothers(stream(1, "t", "m"), residents, catalog, rates, START)[-1] == -1


def test_mothers_are_drawn_by_fertility():
    catalog = load_catalog()
    rates = load_rate_tables(catalog)
    women = ["1993-01-01"] * 2000 + ["1982-01-01"] * 2000  # 30 and 41 in 2023
    babies = list(np.datetime64("2023-01-01") + np.arange(400).astype("timedelta64[D]"))
    residents = _residents([*women, *map(str, babies)], [FEMALE] * 4400)
    mother = assign_mothers(stream(2, "t", "m"), residents, catalog, rates, START)[4000:]
    assert (mother >= 0).all()
    older = (mother >= 2000).mean()
    assert 0.04 < older < 0.25  # 12.6 / (97.3 + 12.6) = 11%


def test_a_family_is_taken_whole_and_the_count_is_exact():
    has = np.ones(10, dtype=bool)
    mother = np.full(10, -1)
    mother[[1, 9]] = 2  # woman 2's two babies: a family of three at her place
    rows = take_families(has, mother, 4)  # 0, 1 (baby of 2) and 2 would make only three...
    assert has[rows].sum() == 4
    assert set(rows) in ({0, 1, 2, 9}, {0, 3, 4, 5})
    rows = take_families(has, mother, 2)  # the family of three overshoots: left out
    assert rows.tolist() == [0, 3]


def test_every_newborn_is_born_at_the_mothers_delivery(run):
    _, tables, summary = run
    patients, visits = tables.patients, tables.visits
    assert len(patients) == 1500  # families taken whole, the number still exact
    linked = patients[patients["mother_patient_id"].notna()]
    assert len(linked) > 20
    start = pd.Timestamp(summary["run"]["start"])
    born = patients[patients["date_of_birth"] >= start]
    assert born["patient_id"].isin(linked["patient_id"]).all()  # every one born since linked
    # ... and those born in the year's burn-in before it, when their mother is a patient
    burn_in = start - pd.Timedelta(days=summary["run"]["burn_in_days"])
    assert (linked["date_of_birth"] >= burn_in).all()
    mothers = patients.set_index("patient_id").loc[linked["mother_patient_id"].astype(int)]
    assert (mothers["gender"] == "Female").all()
    assert (mothers["last_name"].to_numpy() == linked["last_name"].to_numpy()).all()
    assert (mothers["address"].to_numpy() == linked["address"].to_numpy()).all()
    assert (mothers["zipcode"].to_numpy() == linked["zipcode"].to_numpy()).all()
    age = (linked["date_of_birth"].to_numpy() - mothers["date_of_birth"].to_numpy()).astype(
        "timedelta64[D]"
    ).astype(int) / 365.25
    assert (age >= 18).all() and (age < 51).all()
    stays = visits[visits["admission_type"] == "Newborn"].merge(
        linked[["patient_id", "mother_patient_id", "date_of_birth"]], on="patient_id"
    )
    assert (stays["date_of_admission"] == stays["date_of_birth"]).all()
    deliveries = visits[(visits["condition"] == "Childbirth") & (visits["visit_type"] == "Initial")]
    pairs = stays.merge(
        deliveries,
        left_on=["mother_patient_id", "date_of_admission", "hospital"],
        right_on=["patient_id", "date_of_admission", "hospital"],
    )
    # a stay admitted near --today may still be open (not a visit yet): the longest delivery
    # takes 14 days, the longest birth stay 30
    settled = stays["date_of_admission"] <= pd.Timestamp(TODAY) - pd.Timedelta(days=14)
    assert pairs["visit_id_x"].isin(stays.loc[settled, "visit_id"]).sum() == settled.sum()
    month_ago = pd.Timestamp(TODAY) - pd.Timedelta(days=30)
    # every delivery brings its baby, and only it
    assert (deliveries["date_of_admission"] <= month_ago).sum() == (
        stays["date_of_admission"] <= month_ago
    ).sum()


def test_the_newborn_checks_catch_a_broken_link(run):
    _, tables, _ = run
    checks = _newborn_checks(tables)
    assert set(checks.values()) == {0}
    patients = tables.patients.copy()
    # a baby with its birth stay in the tables (one born in the burn-in has none)
    newborns = tables.visits.loc[tables.visits["admission_type"] == "Newborn", "patient_id"]
    linked = patients["mother_patient_id"].notna() & patients["patient_id"].isin(newborns)
    child = linked.to_numpy().nonzero()[0][0]
    men = patients.loc[patients["gender"] == "Male", "patient_id"]
    patients.loc[child, "mother_patient_id"] = men.iloc[0]
    broken = _newborn_checks(attrs.evolve(tables, patients=patients))
    assert broken["mothers_not_women_of_delivery_age"] == 1
    assert broken["birth_stays_without_mother_delivery"] == 1


def _newborn_checks(tables) -> dict:
    summary = validate(tables, today=TODAY)["checks"]
    names = (
        "mothers_unknown",
        "mothers_not_women_of_delivery_age",
        "birth_stays_not_on_date_of_birth",
        "birth_stays_without_mother_delivery",
    )
    return {name: summary[name] for name in names}


def test_mothers_rebuild_from_the_event_log(run):
    simulation, tables, _ = run
    rebuilt = tables_from_events(event_log_table(simulation, tables), TODAY).patients
    pd.testing.assert_series_equal(
        rebuilt["mother_patient_id"].reset_index(drop=True),
        tables.patients["mother_patient_id"].reset_index(drop=True),
        check_names=False,
    )


def _babies(region) -> tuple[np.ndarray, np.ndarray]:
    """The region's residents born to a mother in the window, and their birthdays as drawn."""
    registry = region.world.registry
    babies = np.flatnonzero(registry.mother >= 0)
    return babies, registry.birth[babies].copy()


def test_an_encounter_on_the_day_of_birth_waits_for_the_birth_stay():
    # A baby's own onset on its birthday, planned after its mother's delivery that day: the
    # birth stay comes first (it used to be pushed behind the other encounter's stay)
    simulation = Simulation(Scenario(patients=1500, seed=5, today=TODAY))
    start = np.datetime64(simulation.scenario.clock_start, "D")  # of simulation day 0
    for region in simulation.regions:
        babies, birth = _babies(region)
        day = (birth - start).astype(np.int64)
        babies, day = babies[day >= 0], day[day >= 0]
        plan = region.world.plan
        sepsis = region.catalog.by_name["Sepsis"].code
        extra = EpisodePlan(
            patient=babies.astype(plan.patient.dtype),
            condition=np.full(len(babies), sepsis, dtype=plan.condition.dtype),
            day=day.astype(plan.day.dtype),
            kind=np.full(len(babies), ED_ARRIVAL, dtype=plan.kind.dtype),
            release=np.zeros(len(babies), dtype=plan.release.dtype),
        )
        joined = [np.concatenate([getattr(plan, f), getattr(extra, f)]) for f in PLAN_FIELDS]
        order = np.lexsort((joined[0], joined[2]))  # by day, then resident: mothers come first
        region.world.plan = EpisodePlan(*(column[order] for column in joined))
    tables = simulation.run().tables()
    assert set(_newborn_checks(tables).values()) == {0}
    visits = tables.visits.merge(tables.patients[["patient_id", "date_of_birth"]])
    stays = visits[visits["admission_type"] == "Newborn"]
    assert (stays["date_of_admission"] == stays["date_of_birth"]).all()
    sick = visits[(visits["condition"] == "Sepsis") & (visits["age"] == 0)]
    first = sick.groupby("patient_id")["date_of_admission"].min()
    births = stays.set_index("patient_id")["date_of_discharge"]
    both = first.index.intersection(births.index)
    assert len(both) >= 3
    assert (first[both] >= births[both]).all()  # after the birth stay, not before it

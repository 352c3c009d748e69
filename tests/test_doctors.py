"""Doctors of real kinds and numbers, and who sees whom (sim/physicians.py, sim/care.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from entities import Hospital
from sim.geography import load_zip_table
from sim.physicians import load_physicians, usual_source_shares
from sim.refdata import load_catalog, read_csv
from sim.world import doctor_specialties, hospital_preferences
from tests.conftest import simulate


def _hospital(index: int, population: float) -> Hospital:
    return Hospital(index, f"H{index}", "00000", "X", "XX", 0.0, 0.0, 0.0, 1.0, 1.0, None,
                    population, 2)  # fmt: skip


def test_the_staffing_data_name_their_sources_and_every_specialty_a_condition_needs():
    physicians = load_physicians()
    sources = set(read_csv("staffing/sources.csv")["source_id"])
    for name in ("physicians.csv", "usual_source.csv", "figures.csv"):
        assert set(read_csv(f"staffing/{name}")["source_id"]) <= sources, name
    assert {c.specialty for c in load_catalog().conditions} <= set(physicians.specialties)
    assert set(physicians.fallback.values()) <= set(physicians.specialties)
    # about 100 doctors for a 150-bed hospital serving 62,500 people (2.4 beds per 1,000)
    assert 150 <= physicians.per_100k.sum() <= 200
    shares = usual_source_shares()
    assert [(low, high) for low, high, _, _ in shares] == [(0, 17), (18, 25), (26, 64), (65, 200)]
    assert all(0 < uninsured < insured < 1 for _, _, insured, uninsured in shares)


def test_a_roster_is_the_population_times_the_rates_with_the_minimum_kinds():
    physicians = load_physicians()
    home, specialty = doctor_specialties([_hospital(0, 62_500), _hospital(1, 2_000)])
    large = pd.Series(specialty)[home == 0].value_counts()
    small = pd.Series(specialty)[home == 1].value_counts().to_dict()
    assert len(large) == len(physicians.specialties) and 100 <= large.sum() <= 115
    assert large["Family Medicine"] == round(62_500 * 35.0 / 100_000)
    # a small rural hospital: one emergency physician, hospitalist and family physician
    assert small == {"Emergency Medicine": 1, "Hospital Medicine": 1, "Family Medicine": 1}
    assert (np.diff(home) >= 0).all()


def test_patients_far_from_hospitals_have_only_the_nearest_within_reach():
    zips = load_zip_table()
    state = zips.rows_of_state("MT")
    city = state[np.argmax(zips.population[state])]
    far = state[np.argmax((zips.lat[state] - zips.lat[city]) ** 2
                          + (zips.lon[state] - zips.lon[city]) ** 2)]  # fmt: skip
    near = state[np.argsort((zips.lat[state] - zips.lat[city]) ** 2
                            + (zips.lon[state] - zips.lon[city]) ** 2)[1:4]]  # fmt: skip
    hospitals = np.array([city, *near])
    ranked = hospital_preferences(np.random.default_rng(1), zips, np.array([city, far]), hospitals)
    assert (ranked[0] >= 0).sum() == len(hospitals)  # the city: every hospital within reach
    assert (ranked[1] >= 0).sum() == 1  # far away: the nearest one only


@pytest.fixture(scope="module")
def staffed_run():
    """A small run (hospitals of real size have full rosters)."""
    return simulate(patients=1200, seed=5)


def _visits_with_doctors(run) -> pd.DataFrame:
    simulation, tables, _ = run
    doctors = simulation.doctors()[["doctor_id", "specialty"]]
    visits = tables.visits.merge(doctors, on="doctor_id", how="left")
    born = tables.patients.set_index("patient_id")["date_of_birth"]
    age = (visits["date_of_admission"] - visits["patient_id"].map(born)).dt.days / 365.2425
    return visits.assign(child=age < 18)


def test_each_setting_has_its_kind_of_doctor(staffed_run):
    visits = _visits_with_doctors(staffed_run)
    kind = visits["specialty"].astype(str).map(load_physicians().kind)
    emergency = visits["encounter_type"] == "Emergency"
    # a small hospital's one emergency physician is sometimes away: another doctor covers
    assert (kind[emergency] == "emergency").mean() > 0.95
    clinic = visits["encounter_type"] == "Outpatient"
    assert kind[clinic].isin(["primary", "specialist"]).mean() > 0.98
    inpatient = visits["encounter_type"].isin(["Inpatient", "Observation"])
    assert (kind[inpatient] == "emergency").mean() < 0.01
    adults = inpatient & ~visits["child"] & visits["condition"].isin(["Pneumonia", "Sepsis"])
    assert (visits.loc[adults, "specialty"] == "Hospital Medicine").mean() > 0.95
    births = inpatient & (visits["condition"] == "Childbirth")
    assert (visits.loc[births, "specialty"] == "Obstetrics and Gynecology").mean() > 0.9
    child_clinic = clinic & visits["child"] & (kind == "primary")
    assert (visits.loc[child_clinic, "specialty"] == "Pediatrics").mean() > 0.9
    adult_clinic = clinic & ~visits["child"] & (kind == "primary")
    assert (visits.loc[adult_clinic, "specialty"] == "Pediatrics").mean() < 0.02


def test_every_switch_has_a_reason_and_emergencies_are_on_shift(staffed_run):
    switches = staffed_run[2]["continuity"]["provider_switches"]
    assert switches["on_shift"] > 0 and switches["back_to_usual_doctor"] > 0
    assert switches["patient_choice"] > 0 and switches["new_specialty"] > 0

"""Doctors and hospitals tables, names unique without suffixes, and IDs in a meaningful
order (patients by first encounter, visits by admission), so any first rows are a fair
sample."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import simulate


@pytest.fixture(scope="module")
def crowded():
    """Many hospitals and doctors per state (one hospital per 15 patients): names collide
    across states unless made unique; several small regions per task."""
    return simulate(patients=2000, seed=11, patients_per_hospital=15, max_region_patients=150)


def test_visits_refer_to_doctors_and_hospitals_by_id_and_name(crowded):
    simulation, tables, _ = crowded
    visits, doctors, hospitals = tables.visits, simulation.doctors(), simulation.hospitals()
    assert list(doctors["doctor_id"]) == list(range(1, len(doctors) + 1))
    assert list(hospitals["hospital_id"]) == list(range(1, len(hospitals) + 1))
    doctor_name = doctors.set_index("doctor_id")["name"]
    hospital = hospitals.set_index("hospital_id")
    assert visits["doctor_id"].isin(doctor_name.index).all()
    assert visits["hospital_id"].isin(hospital.index).all()
    assert (
        doctor_name.reindex(visits["doctor_id"]).to_numpy() == visits["doctor"].astype(str)
    ).all()
    assert (
        hospital["name"].reindex(visits["hospital_id"]).to_numpy() == visits["hospital"].astype(str)
    ).all()
    assert (
        hospital["zipcode"].reindex(visits["hospital_id"]).to_numpy()
        == visits["hospital_zipcode"].astype(str)
    ).all()
    assert doctors["hospital_id"].isin(hospital.index).all()
    assert (doctors["state"] == hospital["state"].reindex(doctors["hospital_id"]).to_numpy()).all()
    replaced = doctors["replaces_doctor_id"].dropna()
    assert len(replaced) > 0 and replaced.isin(doctors["doctor_id"]).all()
    left = doctors["end_date"].notna()
    assert left.any() and (doctors.loc[left, "end_date"] >= doctors.loc[left, "start_date"]).all()


def test_names_are_unique_without_state_suffixes(crowded):
    simulation = crowded[0]
    for table in (simulation.doctors(), simulation.hospitals()):
        names = table["name"].astype(str)
        assert names.is_unique
        assert not names.str.contains(r"\(").any()
    # the run is crowded enough that drawn names collided and alternatives were used
    drawn = [h.name for region in simulation.facts() for h in region.hospitals]
    assert len(set(drawn)) < len(drawn)
    # a doctor's drawn name that an earlier region took gets middle initials, and only then
    drawn = [d.name for region in simulation.facts() for d in region.staff]
    initials = simulation.doctors()["name"].str.fullmatch(r"Dr\. \S+ ([A-Z]\. )+\S.*")
    assert initials.sum() == len(drawn) - len(set(drawn))


def test_patients_are_numbered_by_first_encounter_and_visits_by_admission(crowded):
    tables = crowded[1]
    visits = tables.visits
    assert np.all(np.diff(visits["date_of_admission"].to_numpy()) >= np.timedelta64(0))
    first = visits.groupby("patient_id")["date_of_admission"].min()
    seen = tables.patients["patient_id"].isin(first.index).to_numpy()
    assert seen[: seen.sum()].all()  # patients with a visit come first
    assert np.all(np.diff(first.sort_index().to_numpy()) >= np.timedelta64(0))
    assert (tables.billing["billing_id"] == tables.billing["visit_id"]).all()


def test_the_first_tenth_of_patients_covers_many_states(crowded):
    patients = crowded[1].patients
    head = patients.head(len(patients) // 10)
    assert head["state"].nunique() >= 0.6 * patients["state"].nunique()

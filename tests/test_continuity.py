"""Continuity-of-care indices: published examples, identities, and the vectorised form."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.continuity import continuity_indices, continuity_table, indices_by_patient


def visits(*per_provider: int) -> list[str]:
    return [chr(ord("A") + i) for i, count in enumerate(per_provider) for _ in range(count)]


@pytest.mark.parametrize(
    ("counts", "coc", "mmci"),
    [((2, 1), 0.33, 0.52), ((2, 2), 0.33, 0.68), ((3, 1, 1), 0.30, 0.51), ((4, 1), 0.60, 0.76)],
)
def test_magill_and_senf_table_1(counts, coc, mmci):
    result = continuity_indices(visits(*counts))
    assert result["coc"] == pytest.approx(coc, abs=0.005)
    assert result["mmci"] == pytest.approx(mmci, abs=0.015)


def test_worked_example_of_the_api():
    result = continuity_indices(["A", "A", "B"])
    assert result == pytest.approx(
        {
            "n": 3,
            "m": 2,
            "upc": 2 / 3,
            "coc": 1 / 3,
            "hhi": 5 / 9,
            "secon": 0.5,
            "mmci": (1 - 2 / 3.1) / (1 - 1 / 3.1),
            "kpc": 0.5,
        }
    )


def test_single_visit_leaves_pair_indices_undefined():
    result = continuity_indices(["A"])
    assert result["coc"] is None and result["secon"] is None and result["kpc"] is None
    assert result["upc"] == 1.0


sequences = st.lists(st.sampled_from("ABCDE"), min_size=2, max_size=30)


@given(sequences)
def test_identities(providers):
    r = continuity_indices(providers)
    assert r["coc"] <= r["hhi"] + 1e-12 <= r["upc"] + 2e-12
    assert r["secon"] <= r["kpc"] + 1e-12
    assert math.isclose(r["coc"], (r["n"] * r["hhi"] - 1) / (r["n"] - 1), abs_tol=1e-12)
    for name in ("upc", "coc", "hhi", "secon", "mmci", "kpc"):
        assert -1e-12 <= r[name] <= 1 + 1e-12


@given(st.integers(2, 30))
def test_one_provider_scores_one_everywhere(n):
    r = continuity_indices(["A"] * n)
    for name in ("upc", "coc", "hhi", "secon", "mmci", "kpc"):
        assert r[name] == pytest.approx(1.0)


@given(st.lists(sequences, min_size=1, max_size=8))
def test_vectorised_form_equals_the_scalar_one(patients):
    patient = np.repeat(np.arange(len(patients)), [len(p) for p in patients])
    provider = np.concatenate([np.array(p) for p in patients])
    table = indices_by_patient(patient, provider)
    for index, providers in enumerate(patients):
        expected = continuity_indices(providers)
        row = table.loc[index]
        assert row["n_visits"] == expected["n"] and row["n_providers"] == expected["m"]
        for name in ("upc", "coc", "hhi", "secon", "mmci", "kpc"):
            assert row[name] == pytest.approx(expected[name])


def test_minimum_visits_threshold():
    patient = np.array([1, 2, 2, 3, 3, 3])
    provider = np.array(["A", "A", "B", "A", "A", "A"])
    assert list(indices_by_patient(patient, provider, min_visits=2).index) == [2, 3]
    assert list(indices_by_patient(patient, provider, min_visits=3).index) == [3]


EMERGENCY, CLINIC = "Emergency", "Outpatient"


def test_the_table_measures_every_visit_and_clinic_visits_apart():
    visits = pd.DataFrame(
        {
            "visit_id": [1, 2, 3, 4, 5, 6],
            "patient_id": [1, 1, 1, 1, 2, 2],
            "date_of_admission": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-01-05", "2024-02-05"]
            ),
            "encounter_type": [EMERGENCY, CLINIC, CLINIC, "Inpatient", CLINIC, EMERGENCY],
            "doctor": ["Dr. A", "Dr. B", "Dr. B", "Dr. C", "Dr. A", "Dr. A"],
            "hospital": ["H1", "H1", "H1", "H2", "H1", "H1"],
        }
    )
    table = continuity_table(visits)
    rows = table[table["level"] == "doctor"].astype({"setting": str})
    assert rows[["patient_id", "setting", "n_visits", "n_providers", "coc"]].to_dict("records") == [
        {"patient_id": 1, "setting": "All", "n_visits": 4, "n_providers": 3, "coc": 0.166667},
        {"patient_id": 1, "setting": "Outpatient", "n_visits": 2, "n_providers": 1, "coc": 1.0},
        {"patient_id": 2, "setting": "All", "n_visits": 2, "n_providers": 1, "coc": 1.0},
    ]  # patient 2 has one clinic visit: no Outpatient row
    assert list(table["level"].astype(str)[:6]) == [
        "doctor", "doctor", "hospital", "hospital", "doctor_hospital", "doctor_hospital"
    ]  # fmt: skip

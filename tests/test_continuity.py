"""Continuity-of-care indices: published examples, identities, and the vectorised form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.continuity import continuity_indices, indices_by_patient


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

"""Continuity by setting and by group: the setting rows of continuity.csv, the patients'
rurality, their validation checks, and the summary's ``continuity_by_group`` recomputed
from the written files."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pandas as pd
import pytest

from reporting.app.cli import main
from reporting.continuity import _sums, continuity_table
from reporting.validation import validate
from sim.geography import AREA_NAMES, load_zip_table
from tests.conftest import TODAY, simulate

# the summary's groupings and the patients' columns they group by
GROUPINGS = {
    "payer_type": "payer_type",
    "age_band": "age_band",
    "sex": "gender",
    "rurality": "rurality",
}


@pytest.fixture(scope="module")
def tiny():
    """200 patients, seed 11: (tables, summary, continuity table)."""
    _, tables, summary = simulate(patients=200, seed=11)
    return tables, summary, continuity_table(tables.visits)


def test_regression_values_of_a_tiny_run(tiny):
    tables, summary, continuity = tiny
    rurality = tables.patients["rurality"].astype(str).value_counts().to_dict()
    assert rurality == {"Metropolitan": 171, "Micropolitan": 15, "Noncore": 14}
    assert continuity.groupby("setting", observed=True).size().to_dict() == {
        "All": 558,
        "Outpatient": 495,
    }
    doctor = continuity[(continuity["patient_id"] == 3) & (continuity["level"] == "doctor")]
    assert doctor[["setting", "n_visits", "n_providers", "upc", "coc"]].astype(
        {"setting": str}
    ).to_dict("records") == [
        {"setting": "All", "n_visits": 4, "n_providers": 4, "upc": 0.25, "coc": 0.0},
        {"setting": "Outpatient", "n_visits": 4, "n_providers": 4, "upc": 0.25, "coc": 0.0},
    ]
    assert summary["continuity_by_group"]["groups"]["rurality"]["Noncore"] == {
        "patients": 14,
        "hospitals_per_patient": 1.0,
        "patients_measured": 10,
        "doctor_coc": 0.4256,
        "doctor_upc": 0.6592,
    }


def test_setting_rows_are_consistent(tiny):
    tables, summary, continuity = tiny
    assert list(continuity.columns[:3]) == ["patient_id", "level", "setting"]
    assert set(continuity["setting"].astype(str)) == {"All", "Outpatient"}
    assert not continuity.duplicated(["patient_id", "level", "setting"]).any()
    ordered = continuity.sort_values(["patient_id", "level", "setting"], kind="stable")
    assert continuity.index.equals(ordered.index)
    wide = continuity.pivot_table(
        index=["patient_id", "level"], columns="setting", values="n_visits", observed=True
    )
    both = wide.dropna()
    assert (both["Outpatient"] <= both["All"]).all()
    assert wide["All"].notna().all()  # two clinic visits are two visits
    visits = tables.visits
    clinic = visits[visits["encounter_type"].astype(str) == "Outpatient"]
    expected = clinic["patient_id"].value_counts()
    expected = expected[expected >= 2].sort_index()
    measured = wide["Outpatient"].dropna().xs("doctor", level="level").astype(int).sort_index()
    assert measured.to_dict() == expected.to_dict()
    assert summary["checks"]["continuity_visits_not_the_patients"] == 0


def test_settings_honour_the_minimum_visits(tiny):
    tables, _, _ = tiny
    table = continuity_table(tables.visits, min_visits=4)
    assert (table["n_visits"] >= 4).all()
    outpatient = table[table["setting"] == "Outpatient"]
    assert 0 < len(outpatient) < (table["setting"] == "All").sum()


def test_rurality_is_the_area_of_the_patients_zip(tiny):
    tables, _, _ = tiny
    zips = load_zip_table()
    area = pd.Series(np.array(AREA_NAMES)[zips.area], index=zips.zipcode)
    patients = tables.patients
    assert (patients["rurality"].astype(str) == area.reindex(patients["zipcode"]).values).all()
    assert list(patients["rurality"].cat.categories) == list(AREA_NAMES)


def test_the_checks_catch_their_faults(tiny):
    tables, _, continuity = tiny

    def checks(**options) -> dict:
        return validate(tables, today=TODAY, **options)["checks"]

    assert checks(continuity=continuity)["continuity_visits_not_the_patients"] == 0
    wrong = continuity.copy()
    wrong.loc[wrong["setting"] == "Outpatient", "n_visits"] += 1
    assert checks(continuity=wrong)["continuity_visits_not_the_patients"] == 495
    assert checks()["continuity_visits_not_the_patients"] == 0  # the visits' own table
    moved = tables.patients.copy()
    moved["rurality"] = moved["rurality"].astype(str).replace({"Noncore": "Metropolitan"})
    moved_tables = attrs.evolve(tables, patients=moved)
    assert validate(moved_tables, today=TODAY)["checks"]["rurality_not_of_the_zip"] == 14


def test_the_summary_by_group_is_what_pandas_reads_from_the_files(tmp_path):
    args = ["--patients", "250", "--seed", "4", "--today", TODAY.isoformat(), "--quiet"]
    assert main([*args, "--outdir", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "validation_summary.json").read_text())["continuity_by_group"]
    patients = pd.read_csv(tmp_path / "patients.csv", dtype={"zipcode": str})
    visits = pd.read_csv(tmp_path / "visits.csv")
    continuity = pd.read_csv(tmp_path / "continuity.csv")
    measured = continuity[
        (continuity["setting"] == "Outpatient")
        & (continuity["level"] == "doctor")
        & (continuity["n_visits"] >= 2)
    ].set_index("patient_id")
    frame = patients.set_index("patient_id")
    frame["hospitals"] = visits.groupby("patient_id")["hospital_id"].nunique()
    frame["coc"], frame["upc"] = measured["coc"], measured["upc"]
    frame["age_band"] = pd.cut(
        frame["age"], [0, 18, 40, 65, 200], right=False, labels=["0-17", "18-39", "40-64", "65+"]
    )
    assert (summary["setting"], summary["level"], summary["min_visits"]) == (
        "Outpatient",
        "doctor",
        2,
    )
    assert list(summary["groups"]) == list(GROUPINGS)
    assert list(summary["groups"]["rurality"]) == list(AREA_NAMES)
    for grouping, column in GROUPINGS.items():
        groups = summary["groups"][grouping]
        assert sum(figures["patients"] for figures in groups.values()) == frame["hospitals"].count()
        for name, figures in groups.items():
            rows = frame[frame[column].astype(str) == name]
            seen = rows[rows["hospitals"].notna()]
            assert figures["patients"] == len(seen), (grouping, name)
            assert figures["patients_measured"] == rows["coc"].count(), (grouping, name)
            for key, values in (
                ("hospitals_per_patient", seen["hospitals"]),
                ("doctor_coc", rows["coc"].dropna()),
                ("doctor_upc", rows["upc"].dropna()),
            ):
                if values.empty:
                    assert figures[key] is None
                else:
                    assert figures[key] == pytest.approx(values.mean(), abs=5.1e-5), (key, name)


def test_a_patient_without_a_group_counts_in_none():
    groups = pd.Categorical(["a", None, "b", "a"], categories=["a", "b"])
    assert _sums(groups, np.array([1, 5, 2, 3])) == [4, 2]

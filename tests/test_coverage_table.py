"""The coverage (enrollment) table: one row per spell, tiling each patient's time in the window
without gap or overlap, ended by the next spell or by death; the patients' and the bills'
payers read off it; rebuilt from the event log, consistent when stepping the clock, and the
same files at any number of workers."""

from __future__ import annotations

import datetime as dt
import filecmp

import numpy as np
import pandas as pd
import pytest

from reporting.app import Simulation
from reporting.app.cli import main
from reporting.eventlog import tables_from_events
from reporting.validation import validate
from sim.scenario import Scenario
from tests.conftest import TODAY

MIDWAY = dt.date(2024, 2, 10)


@pytest.fixture(scope="module")
def run():
    simulation = Simulation(Scenario(patients=800, seed=5, today=TODAY)).run()
    return simulation, simulation.tables()


def test_every_rule_check_of_the_coverage_is_zero(run):
    _, tables = run
    checks = validate(tables)["checks"]
    listed = {name: n for name, n in checks.items() if "coverage" in name}
    assert len(listed) >= 12 and not any(listed.values()), listed


def test_the_rows_tile_each_patients_time_from_registration(run):
    simulation, tables = run
    coverage, patients = tables.coverage, tables.patients.set_index("patient_id")
    assert coverage["coverage_id"].tolist() == list(range(1, len(coverage) + 1))
    order = coverage.sort_values(["patient_id", "start_date"], kind="stable")
    assert order.index.tolist() == coverage.index.tolist()
    assert set(coverage["patient_id"]) == set(patients.index)
    first = coverage.groupby("patient_id").head(1).set_index("patient_id")
    start = pd.Timestamp(simulation.scenario.start)
    birth = patients.loc[first.index, "date_of_birth"]
    assert (first["start_date"] == birth.where(birth > start, start)).all()
    last = coverage.groupby("patient_id").tail(1).set_index("patient_id")
    death = patients.loc[last.index, "date_of_death"]
    assert (last["end_date"].isna() == death.isna()).all()
    assert (last["end_date"][death.notna()] == death[death.notna()]).all()
    # coverage changes (turning 19 or 65, pregnancy, job and income changes, the Medicaid
    # renewals after 2023): a sizeable minority have several spells in three years
    assert 0.15 < (coverage.groupby("patient_id").size() > 1).mean() < 0.5
    assert set(coverage["payer_type"].astype(str)) == {
        "Medicare",
        "Medicaid",
        "Private",
        "Self-pay",
    }
    self_pay = coverage["payer_type"] == "Self-pay"
    assert (coverage["plan_type"][self_pay] == "Uninsured").all()
    assert coverage["insurance_plan"][self_pay].isna().all()
    assert coverage["insurance_plan"][~self_pay].notna().all()


def test_patients_hold_their_last_spell_and_a_policy_number_with_a_plan(run):
    _, tables = run
    last = tables.coverage.groupby("patient_id").tail(1).set_index("patient_id")
    patients = tables.patients.set_index("patient_id").loc[last.index]
    assert (patients["payer_type"].astype(str) == last["payer_type"].astype(str)).all()
    assert (patients["insurance_provider"].fillna("") == last["insurance_plan"].fillna("")).all()
    has_plan = patients["insurance_provider"].notna()
    assert (patients["insurance_policy_number"].notna() == has_plan).all()


def test_the_coverage_rebuilds_from_the_event_log(run):
    simulation, tables = run
    rebuilt = tables_from_events(simulation.event_log(tables), TODAY)
    for name in ("coverage", "patients"):
        again, frame = getattr(rebuilt, name), getattr(tables, name)
        assert list(again.columns) == list(frame.columns), name
        for column in frame.columns:
            left = frame[column].astype(str).tolist()
            assert left == again[column].astype(str).tolist(), (name, column)


def test_a_snapshot_holds_the_final_spells_cut_at_its_day(run):
    _, final = run
    simulation = Simulation(Scenario(patients=800, seed=5, today=TODAY)).run(until=MIDWAY)
    early = simulation.tables().coverage
    day = pd.Timestamp(MIDWAY)
    assert (early["start_date"] <= day).all()
    # patient IDs follow first visits, which differ between the two: join on who they are
    person = ["name", "date_of_birth", "address", "zipcode"]

    def spells(tables, rows):
        who = tables.patients.set_index("patient_id")[person]
        joined = rows.join(who, on="patient_id").drop(columns=["coverage_id", "patient_id"])
        return joined.sort_values([*person, "start_date"], kind="stable").reset_index(drop=True)

    later = final.coverage
    early = spells(simulation.tables(), early)
    kept = spells(final, later[later["start_date"] <= day])
    assert len(early) == len(kept) > 0
    for column in [*person, "start_date", "payer_type", "insurance_plan", "plan_type"]:
        assert early[column].astype(str).tolist() == kept[column].astype(str).tolist(), column
    open_now = early["end_date"].isna().to_numpy()
    assert (early["end_date"][~open_now] == kept["end_date"][~open_now]).all()
    assert (kept["end_date"][open_now].isna() | (kept["end_date"][open_now] >= day)).all()
    assert validate(simulation.tables(), today=MIDWAY)["checks"]["bills_not_matching_coverage"] == 0


def test_one_and_two_workers_write_identical_coverage_files(tmp_path):
    args = ["--patients", "500", "--seed", "4", "--today", TODAY.isoformat(), "--quiet"]
    args += ["--max-region-patients", "120", "--format", "both"]
    for workers in ("1", "2"):
        assert main([*args, "--outdir", str(tmp_path / workers), "--workers", workers]) == 0
    for name in ("coverage.csv", "coverage.parquet", "patients.csv"):
        assert filecmp.cmp(tmp_path / "1" / name, tmp_path / "2" / name, shallow=False), name
    rows = pd.read_csv(tmp_path / "1" / "coverage.csv")
    assert rows["coverage_id"].tolist() == list(range(1, len(rows) + 1))
    assert np.all(np.diff(rows["patient_id"]) >= 0)

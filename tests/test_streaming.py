"""Regions as tasks that write part files, assembled by streaming: the files equal those of the
in-memory tables, however regions are grouped, split or sliced, and the merged validation
equals validating the whole tables."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reporting.app.tasks
import reporting.assembly
from reporting.app import Simulation
from reporting.app.cli import main
from reporting.app.tasks import PartOptions
from reporting.recorder import Tables
from reporting.summary import build_summary
from reporting.validation import merge_validation, validation_part
from reporting.writers import write_csv
from sim.geography import load_zip_table
from sim.placement import plan_regions, split_state
from sim.refdata import load_catalog
from sim.scenario import Scenario

pytestmark = pytest.mark.slow  # task mode end to end: groupings, slices, failures, part folders

TODAY = dt.date(2025, 6, 30)
ARGS = ["--patients", "1200", "--seed", "5", "--today", TODAY.isoformat(), "--quiet"]
EXTRAS = ["--census", "--event-log", "--max-region-patients", "100"]
NAMES = ("hospitals", "doctors", "patients", "visits", "billing", "continuity", "census", "events")


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("streamed")
    assert main([*ARGS, *EXTRAS, "--outdir", str(folder), "--workers", "1"]) == 0
    return folder


def test_grouping_and_slicing_never_change_the_files(streamed, tmp_path, monkeypatch):
    monkeypatch.setattr(reporting.app.tasks, "MIN_TASK_PATIENTS", 1)  # one region per task
    monkeypatch.setattr(reporting.app.tasks, "TASKS_PER_WORKER", 10_000)
    monkeypatch.setattr(reporting.assembly, "SLICE_ROWS", 10_000)  # some weeks at a time
    assert main([*ARGS, *EXTRAS, "--outdir", str(tmp_path), "--workers", "1"]) == 0
    for name in NAMES:
        assert filecmp.cmp(streamed / f"{name}.csv", tmp_path / f"{name}.csv", shallow=False), name


def test_streamed_files_equal_the_in_memory_tables(streamed, tmp_path):
    scenario = Scenario(patients=1200, seed=5, today=TODAY, max_region_patients=100)
    simulation = Simulation(scenario).run()  # regions in this process, no part files
    tables = simulation.tables()
    frames = dict(tables.items())
    frames["census"] = simulation.census()
    frames["events"] = simulation.event_log(tables)
    frames["doctors"], frames["hospitals"] = simulation.doctors(), simulation.hospitals()
    for name in ("hospitals", "doctors", "patients", "visits", "billing", "census", "events"):
        write_csv(frames[name], name, tmp_path / f"{name}.csv", scenario.date_format)
        assert filecmp.cmp(streamed / f"{name}.csv", tmp_path / f"{name}.csv", shallow=False), name
    written = json.loads((streamed / "validation_summary.json").read_text())
    whole = build_summary(simulation, tables)
    sections = ("checks", "distributions", "continuity", "continuity_by_group", "simulation", "ok")
    for section in sections:
        assert written[section] == json.loads(json.dumps(whole[section])), section


def test_the_part_folder_is_removed(tmp_path):
    scratch = tmp_path / "scratch"
    assert main([*ARGS, "--outdir", str(tmp_path / "out"), "--parts-dir", str(scratch)]) == 0
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scratch"]


def test_task_mode_tables_and_summary_equal_the_in_process_ones(tmp_path):
    scenario = Scenario(patients=900, seed=3, today=TODAY, max_region_patients=60)
    here = Simulation(scenario).run()
    tasks = Simulation(scenario, parts=PartOptions(folder=str(tmp_path))).run()
    assert len(tasks.results) > 3  # several tasks, some with several regions
    assert any(len(result.facts) > 1 for result in tasks.results)
    for name, frame in here.tables().items():
        pd.testing.assert_frame_equal(frame, getattr(tasks.tables(), name), obj=name)
    assert tasks.statistics() == here.statistics()
    assert tasks.state().hospitals.equals(here.state().hospitals)


@pytest.fixture(scope="module")
def tables():
    return Simulation(Scenario(patients=400, seed=9, today=TODAY)).run().tables()


def _validation_of(parts: list[Tables], id_maps=None) -> dict:
    kwargs = {"today": TODAY, "catalog": load_catalog(), "zips": load_zip_table()}
    return merge_validation([validation_part(p, **kwargs) for p in parts], id_maps)


def _halves(tables: Tables) -> list[Tables]:
    """The tables cut in two, as tasks cut them: whole regions (states, in key order)."""
    first = set(tables.patients.loc[tables.patients["state"] < "MA", "patient_id"])
    return [
        Tables(*(frame[frame["patient_id"].isin(first)] for _, frame in tables.items())),
        Tables(*(frame[~frame["patient_id"].isin(first)] for _, frame in tables.items())),
    ]


def test_merged_parts_validate_exactly_like_the_whole_tables(tables):
    assert _validation_of(_halves(tables)) == _validation_of([tables])


def test_duplicates_across_parts_are_caught(tables):
    first, second = _halves(tables)
    patients = second.patients.copy()
    patients.loc[patients.index[0], "insurance_policy_number"] = (
        first.patients["insurance_policy_number"].dropna().iloc[0]
    )
    moved = Tables(patients, second.visits, second.billing)
    assert _validation_of([first, moved])["checks"]["duplicate_policy_numbers"] == 1
    # the second part numbered from 1 again, without its offset: every ID collides
    shifted = _validation_of([first, first])
    assert shifted["checks"]["duplicate_patient_ids"] == len(first.patients)
    # renumbered into the dataset's IDs (here: the second copy's IDs after the first's)
    patients, visits = first.patients["patient_id"].max(), first.visits["visit_id"].max()
    id_maps = [
        (np.arange(1, patients + 1), np.arange(1, visits + 1)),
        (np.arange(patients + 1, 2 * patients + 1), np.arange(visits + 1, 2 * visits + 1)),
    ]
    renumbered = _validation_of([first, first], id_maps)["checks"]
    assert renumbered["duplicate_patient_ids"] == renumbered["duplicate_visit_ids"] == 0


def test_a_large_state_becomes_parts_that_keep_to_themselves(tmp_path):
    scenario = Scenario(patients=1200, seed=5, today=TODAY, max_region_patients=100)
    specs = {spec.key: spec for spec in plan_regions(scenario, load_zip_table())}
    california = sorted(key for key in specs if key.startswith("CA"))
    assert len(california) > 1 and all(key.startswith("CA-") for key in california)
    zips = [set(specs[key].zips.zipcode) for key in california]
    assert sum(len(z) for z in zips) == len(set().union(*zips))  # parts share no ZIP
    tables = Simulation(scenario).run().tables()
    assert not tables.patients["insurance_policy_number"].dropna().duplicated().any()
    part_of_zip = {z: key for key in california for z in specs[key].zips.zipcode}
    visits = tables.visits.merge(tables.patients[["patient_id", "zipcode"]], on="patient_id")
    visits = visits[visits["zipcode"].isin(part_of_zip)]
    home = visits["zipcode"].map(part_of_zip)
    treated = visits["hospital_zipcode"].astype(str).map(part_of_zip)
    assert len(visits) > 0 and (home == treated).all()


@settings(max_examples=40, deadline=None)
@given(patients=st.integers(1, 400_000), max_patients=st.integers(1, 100_000))
def test_splitting_keeps_every_patient_and_zip(patients, max_patients):
    whole = plan_regions(Scenario(patients=10_000, today=TODAY), load_zip_table())
    texas = next(spec for spec in whole if spec.key == "TX")
    texas = type(texas)(
        key="TX", number=texas.number, patients=patients, zips=texas.zips,
        residence_weights=texas.residence_weights,
    )  # fmt: skip
    parts = split_state(texas, max_patients)
    assert sum(part.patients for part in parts) == patients
    populated = np.count_nonzero(texas.residence_weights > 0)
    expected = min(-(-patients // max_patients), populated, 100)
    assert len(parts) <= expected
    if len(parts) > 1:
        assert all(part.patients > 0 and len(part.zips.zipcode) > 0 for part in parts)
        rows = np.concatenate([part.zips.zipcode for part in parts])
        assert len(rows) == len(set(rows.tolist())) <= len(texas.zips)
        keys = [part.key for part in parts]
        assert keys == sorted(keys)  # parts keep ZIP order in key order (TX-001 ... TX-100)
        numbers = [part.part for part in parts]
        assert numbers == sorted(set(numbers)) and numbers[-1] < 100


def test_a_relative_parts_dir_works_and_is_left_empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*ARGS, "--outdir", "out", "--parts-dir", "scratch", "--workers", "2"]) == 0
    assert list((tmp_path / "scratch").iterdir()) == []


def test_a_failing_task_stops_the_run_and_leaves_nothing(tmp_path, monkeypatch):
    real = reporting.app.tasks.write_part

    def failing(frame, folder, table):
        if Path(folder).name >= "M":  # the tasks of the second half of the states
            raise OSError("disk full")
        real(frame, folder, table)

    monkeypatch.setattr(reporting.app.tasks, "write_part", failing)  # forked workers inherit it
    out = tmp_path / "out"
    assert main([*ARGS, *EXTRAS, "--outdir", str(out), "--workers", "2"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_failed_duckdb_load_still_writes_the_files(tmp_path, monkeypatch, capsys):
    pytest.importorskip("duckdb")
    import reporting.databases

    real = reporting.databases.to_typed_arrow

    def duplicated_patients(rows, name):
        arrow = real(rows, name)
        return pa.concat_tables([arrow, arrow.slice(0, 1)]) if name == "patients" else arrow

    monkeypatch.setattr(reporting.databases, "to_typed_arrow", duplicated_patients)
    database = tmp_path / "db.duckdb"
    out = tmp_path / "out"
    assert main([*ARGS, "--outdir", str(out), "--duckdb", str(database)]) == 2
    assert "--duckdb" in capsys.readouterr().err
    assert (out / "visits.csv").exists() and (out / "validation_summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no database, no partial


def test_the_api_with_an_executor_gives_census_and_events(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    scenario = Scenario(patients=300, seed=2, today=TODAY, max_region_patients=40)
    here = Simulation(scenario).run()
    with ThreadPoolExecutor(2) as pool:
        tasks = Simulation(scenario, executor=pool).run()
    pd.testing.assert_frame_equal(here.census(), tasks.census())
    pd.testing.assert_frame_equal(here.event_log(), tasks.event_log())


def test_part_options_make_their_folder(tmp_path):
    """``Simulation(scenario, parts=PartOptions(folder=...))`` with a folder that does not exist
    yet (as the README shows) makes it."""
    folder = tmp_path / "scratch" / "parts"
    scenario = Scenario(patients=150, seed=2, today=TODAY)
    simulation = Simulation(scenario, parts=PartOptions(folder=str(folder))).run()
    assert folder.is_dir() and len(simulation.tables().patients) == 150

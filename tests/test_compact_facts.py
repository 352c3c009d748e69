"""What a large run's main process holds and writes in compact form gives what the objects and
whole tables gave: a region's staff as columns, CSV text made some rows at a time; and a task
frees its simulated regions before it returns."""

from __future__ import annotations

import datetime as dt
import gc

import numpy as np
import pyarrow as pa

import reporting.app.tasks
import reporting.writers
from reporting.app.simulation import Simulation
from reporting.app.tasks import PartOptions
from reporting.summary import id_runs, ids_of_runs
from reporting.writers import TableFiles
from sim.facts import DoctorFacts, Staff
from sim.processes import RegionSimulation
from sim.scenario import Scenario


def test_staff_columns_give_back_every_doctor(small_run):
    simulation = small_run[0]
    for region in simulation.regions:
        staff = Staff.of(region.world.doctors)
        assert len(staff) == len(region.world.doctors)
        assert list(staff) == [
            DoctorFacts(d.name, d.specialty, d.hospitals, d.joined_day, d.left_day, d.replaces)
            for d in region.world.doctors
        ]
    assert len(Staff.of([])) == 0 and list(Staff.of([])) == []


def test_doctors_table_has_a_row_per_doctor_of_the_staff(small_run):
    simulation = small_run[0]
    doctors = simulation.doctors()
    staff = [d for region in simulation.facts() for d in region.staff]
    assert len(doctors) == len(staff)
    assert doctors["specialty"].tolist() == [d.specialty for d in staff]
    departed = [d.left_day >= 0 for d in staff]
    assert doctors["end_date"].notna().tolist() == departed
    replaced = [d.replaces >= 0 for d in staff]
    assert doctors["replaces_doctor_id"].notna().tolist() == replaced
    listed = doctors["hospital_ids"].str.split(";").map(len).tolist()
    assert listed == [len(d.hospitals) for d in staff]


def test_csv_written_a_few_rows_at_a_time_is_the_same_file(small_run, tmp_path, monkeypatch):
    visits = pa.Table.from_pandas(small_run[1].visits, preserve_index=False)
    whole, parts = tmp_path / "whole.csv", tmp_path / "parts.csv"
    files = TableFiles("visits", csv_path=whole)
    files.write(visits)
    files.close()
    monkeypatch.setattr(reporting.writers, "CSV_BATCH_ROWS", 7)
    files = TableFiles("visits", csv_path=parts)
    files.write(visits.slice(0, 100))
    files.write(visits.slice(100))
    files.close()
    assert files.rows == visits.num_rows
    assert parts.read_bytes() == whole.read_bytes()


def test_id_runs_give_back_the_ids():
    for ids in ([], [1], [1, 2, 3], [2, 3, 7, 9, 10, 11], [5, 6, 8]):
        ids = np.array(ids, dtype=np.int64)
        runs = id_runs(ids)
        assert np.array_equal(ids_of_runs(runs), ids)
    assert id_runs(np.arange(1, 100_001)).tolist() == [[1, 100_001]]  # a task's IDs: one run


def test_a_task_frees_its_simulated_regions_before_it_returns(tmp_path, monkeypatch):
    # A region is held in reference cycles (SimPy processes and the region they belong to):
    # with the collector off, only the task's own collection can free it. Other tests'
    # fixtures may hold regions of their own: only new ones count.
    def regions_alive() -> set[int]:
        return {id(thing) for thing in gc.get_objects() if isinstance(thing, RegionSimulation)}

    monkeypatch.setattr(reporting.app.tasks, "COLLECT_FROM_PATIENTS", 150)
    gc.collect()
    gc.disable()
    try:
        before = regions_alive()
        scenario = Scenario(patients=150, seed=2, today=dt.date(2025, 6, 30))
        Simulation(scenario, parts=PartOptions(folder=str(tmp_path))).run()
        left = regions_alive() - before
    finally:
        gc.enable()
    assert not left

"""Atomic output: a failure never leaves half a dataset or damages an older one."""

from __future__ import annotations

import pytest

import reporting.writers
from reporting.app.cli import main

ARGS = ["--patients", "40", "--today", "2025-06-30", "--quiet"]


def test_a_failure_while_writing_keeps_the_older_dataset(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main([*ARGS, "--outdir", str(out), "--seed", "1"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    class FailingOnSecondTable(reporting.writers.TableFiles):
        def write(self, frame):
            if self.table == "visits":
                raise OSError("disk full")
            super().write(frame)

    monkeypatch.setattr("reporting.app.cli.TableFiles", FailingOnSecondTable)
    assert main([*ARGS, "--outdir", str(out), "--seed", "2"]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left


def test_an_interrupt_writes_nothing(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("reporting.app.cli.write_json", interrupted)
    assert main([*ARGS, "--outdir", str(tmp_path / "new")]) == 130
    assert list(tmp_path.iterdir()) == []


def test_a_new_folder_appears_complete_with_normal_permissions(tmp_path):
    out = tmp_path / "fresh" / "data"
    assert main([*ARGS, "--outdir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "billing.csv",
        "conditions.csv",
        "continuity.csv",
        "coverage.csv",
        "datapackage.json",
        "doctors.csv",
        "hospitals.csv",
        "manifest.json",
        "patients.csv",
        "schema.sql",
        "validation_summary.json",
        "visits.csv",
    ]
    assert out.stat().st_mode & 0o755 == 0o755


def test_other_files_in_the_folder_are_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert main([*ARGS, "--outdir", str(tmp_path)]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("fmt", ["slash", "iso"])
def test_written_tables_read_back_to_the_same_validation(tmp_path, fmt):
    from reporting.readers import read_tables
    from reporting.validation import validate
    from sim.geography import load_zip_table
    from sim.refdata import load_catalog
    from tests.conftest import TODAY, simulate

    _, tables, summary = simulate(patients=300, seed=4, date_format=fmt)
    for name, frame in tables.items():
        reporting.writers.write_csv(frame, name, tmp_path / f"{name}.csv", fmt)
    again = validate(
        read_tables(tmp_path), today=TODAY, catalog=load_catalog(), zips=load_zip_table()
    )
    assert again["checks"] == summary["checks"]
    assert again["distributions"] == summary["distributions"]


def test_a_new_run_removes_an_older_runs_extra_files(tmp_path):
    assert (
        main([*ARGS, "--outdir", str(tmp_path), "--event-log", "--census", "--format", "both"]) == 0
    )
    assert (tmp_path / "events.csv").exists() and (tmp_path / "visits.parquet").exists()
    (tmp_path / "notes.txt").write_text("mine")
    assert main([*ARGS, "--outdir", str(tmp_path), "--no-continuity"]) == 0
    left = sorted(p.name for p in tmp_path.iterdir())
    kept = [
        "billing.csv", "conditions.csv", "coverage.csv", "datapackage.json", "doctors.csv",
        "hospitals.csv", "manifest.json",
        "notes.txt", "patients.csv", "schema.sql", "validation_summary.json",
    ]  # fmt: skip
    assert left == [*kept, "visits.csv"]

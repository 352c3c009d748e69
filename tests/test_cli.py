"""The command line: outputs, flags, and one clear line with exit status 2 for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reporting.app.cli import main

ROOT = Path(__file__).resolve().parents[1]
TODAY = ["--today", "2025-06-30"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=300,
    )


def test_the_seed_command_writes_prefixed_tables_and_the_summary(tmp_path):
    result = run_cli(
        "--patients",
        "120",
        "--validate",
        "--outdir",
        str(tmp_path / "out"),
        "--export-prefix",
        "healthcare_v12",
        *TODAY,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "healthcare_v12_billing.csv",
        "healthcare_v12_continuity.csv",
        "healthcare_v12_doctors.csv",
        "healthcare_v12_hospitals.csv",
        "healthcare_v12_patients.csv",
        "healthcare_v12_visits.csv",
        "schema.sql",
        "validation_summary.json",
    ]
    printed = json.loads(result.stdout)
    saved = json.loads((tmp_path / "out" / "validation_summary.json").read_text())
    assert printed == saved
    assert saved["ok"] is True and saved["violations"] == 0
    assert saved["run"]["today"] == "2025-06-30" and saved["run"]["seed"] == 42
    assert list(saved)[-1] == "ok"


def test_defaults_write_1000_patients_to_output_and_record_today(tmp_path):
    result = run_cli("--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "output" / "validation_summary.json").read_text())
    assert summary["distributions"]["rows"]["patients"] == 1000
    assert summary["run"]["today"]  # the current date, written down so the run can be repeated
    header = (tmp_path / "output" / "visits.csv").read_text().splitlines()[0]
    assert header.replace('"', "").split(",")[:3] == ["visit_id", "patient_id", "name"]


def test_date_formats(tmp_path):
    main(["--patients", "30", *TODAY, "--outdir", str(tmp_path / "s"), "--quiet"])
    main(
        [
            "--patients",
            "30",
            *TODAY,
            "--outdir",
            str(tmp_path / "i"),
            "--quiet",
            "--date-format",
            "iso",
        ]
    )
    slash = (tmp_path / "s" / "patients.csv").read_text().splitlines()[1]
    iso = (tmp_path / "i" / "patients.csv").read_text().splitlines()[1]
    assert "/" in slash.split(",")[5] and "-" in iso.split(",")[5]  # date_of_birth
    assert slash.replace("/", "-") == iso


def test_no_validate_skips_the_checks(tmp_path):
    assert (
        main(["--patients", "20", *TODAY, "--outdir", str(tmp_path), "--quiet", "--no-validate"])
        == 0
    )
    summary = json.loads((tmp_path / "validation_summary.json").read_text())
    assert summary["ok"] is None and "checks" not in summary


def test_a_failed_rule_check_exits_3_and_still_writes(tmp_path, monkeypatch):
    import reporting.summary

    real = reporting.summary.merge_validation

    def failing(*args, **kwargs):
        result = real(*args, **kwargs)
        result["checks"]["overlapping_stays"] = 1
        return result | {"violations": 1, "ok": False}

    monkeypatch.setattr(reporting.summary, "merge_validation", failing)
    assert main(["--patients", "20", *TODAY, "--outdir", str(tmp_path), "--quiet"]) == 3
    assert (tmp_path / "visits.csv").exists()


BAD_INPUTS = [
    (["--patients", "0"], "--patients"),
    (["--patients", "-5"], "--patients"),
    (["--patients", "many"], "--patients"),
    (["--today", "2025-13-45"], "--today"),
    (["--start", "yesterday"], "--start"),
    (["--start", "2025-07-01", "--today", "2025-06-30"], "--start"),
    (["--insured-rate", "1.5"], "--insured-rate"),
    (["--minor-same-day-rate", "-0.1"], "--minor-same-day-rate"),
    (["--seed", "-1"], "--seed"),
    (["--export-prefix", "a/b"], "--export-prefix"),
    (["--date-format", "dmy"], "--date-format"),
    (["--today", "0001-01-01"], "--today"),
    (["--today", "9999-12-31"], "--today"),
    (["--start", "1850-01-01", "--today", "1850-06-01"], "--today"),
    (["--patients", "50000000", "--max-region-patients", "50000", "--workers", "999"], "memory"),
    (["--patients", "5000000", "--single-hospital"], "memory"),  # one region, never split
    (["--patients", "20000000", "--hospital-state", "NY"], "--patients"),
    (["--max-region-patients", "60000"], "--max-region-patients"),
]


@pytest.mark.parametrize(("args", "mentions"), BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, mentions):
    result = run_cli(*args, "--outdir", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and mentions in lines[0]
    assert not (tmp_path / "out").exists()


def test_an_outdir_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me")
    result = run_cli("--patients", "5", "--outdir", str(target))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert target.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_outdir_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    result = run_cli("--patients", "5", "--outdir", str(locked / "out"))
    assert result.returncode == 2 and "not writable" in result.stderr


def test_an_empty_outdir_is_refused(tmp_path):
    result = run_cli("--patients", "5", "--outdir", "", cwd=tmp_path)
    assert result.returncode == 2 and "--outdir" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_outdir_on_a_read_only_place_is_refused_before_simulating(tmp_path):
    result = run_cli("--patients", "5", "--outdir", "/proc/hospital-sim-test")
    assert result.returncode == 2 and "not writable" in result.stderr

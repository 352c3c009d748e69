"""The command line: outputs, flags, and one clear line with exit status 2 for bad input."""

from __future__ import annotations

import contextlib
import io
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
    """The command line in this process (an escaping exception fails the test, as a traceback
    would), as if run from ``cwd``; its exit status and what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(cwd or ROOT)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(list(args))
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, status, stdout.getvalue(), stderr.getvalue())


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
        "--json",
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "datapackage.json",
        "healthcare_v12_billing.csv",
        "healthcare_v12_conditions.csv",
        "healthcare_v12_continuity.csv",
        "healthcare_v12_coverage.csv",
        "healthcare_v12_doctors.csv",
        "healthcare_v12_hospitals.csv",
        "healthcare_v12_patients.csv",
        "healthcare_v12_visits.csv",
        "manifest.json",
        "schema.sql",
        "validation_summary.json",
    ]
    printed = json.loads(result.stdout)
    saved = json.loads((tmp_path / "out" / "validation_summary.json").read_text())
    assert printed == saved
    assert saved["ok"] is True and saved["violations"] == 0
    assert saved["run"]["today"] == "2025-06-30" and saved["run"]["seed"] == 42
    assert list(saved)[-1] == "ok"


@pytest.mark.slow  # the README test runs the same command
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


# What the command line prints, its help and version, --config, the reproducibility record.


def _small(outdir: Path, *extra: str) -> list[str]:
    return ["--patients", "40", *TODAY, "--outdir", str(outdir), *extra]


def test_a_default_run_prints_a_short_digest(tmp_path, capsys):
    assert main(_small(tmp_path / "out")) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert 5 <= len(lines) <= 20, captured.out
    assert "seed 42" in lines[0] and "--today 2025-06-30" in lines[0]
    assert str(tmp_path / "out") in captured.out
    rows = json.loads((tmp_path / "out" / "validation_summary.json").read_text())["distributions"]
    assert any(
        "visits.csv" in line and f"{rows['rows']['visits']:,} rows" in line for line in lines
    )
    assert lines[-1].startswith("checks: all ") and lines[-1].endswith(" passed")
    assert captured.err == ""  # no progress bars: stderr is not a terminal here


def test_json_prints_the_summary_that_was_written(tmp_path, capsys):
    assert main(_small(tmp_path, "--json")) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "validation_summary.json").read_text())


def test_quiet_prints_nothing(tmp_path, capsys):
    assert main(_small(tmp_path, "--quiet")) == 0
    assert capsys.readouterr() == ("", "")


def test_a_failed_check_is_named_on_stderr_even_when_quiet(tmp_path, monkeypatch, capsys):
    import reporting.summary

    real = reporting.summary.merge_validation

    def failing(*args, **kwargs):
        result = real(*args, **kwargs)
        result["checks"]["overlapping_stays"] = 2
        return result | {"violations": 2, "ok": False}

    monkeypatch.setattr(reporting.summary, "merge_validation", failing)
    assert main(_small(tmp_path / "q", "--quiet")) == 3
    assert (tmp_path / "q" / "visits.csv").exists()  # exit 3: the dataset is written
    captured = capsys.readouterr()
    assert captured.out == "" and "overlapping_stays (2)" in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert main(_small(tmp_path / "d")) == 3
    assert "checks: 1 of" in capsys.readouterr().out


def test_version_and_help(capsys):
    from reporting.summary import package_version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"hospital-synth {package_version()}\n"
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "compare" in text and "--config" in text and "examples:" in text
    for status in ("0 ", "1 ", "2 ", "3 ", "130 "):
        assert f"\n  {status}" in text, status
    assert main(["compare", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--scenario" in text and "exit status" in text and "examples:" in text


def test_messages_use_the_name_the_program_was_invoked_by(tmp_path):
    bad = subprocess.run(
        [sys.executable, "-m", "reporting.app", "--insured-rate", "2", "--outdir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("python -m reporting.app: error: --insured-rate"), bad.stderr
    version = subprocess.run(
        [sys.executable, "-m", "run_sim", "--version"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert version.returncode == 0 and version.stdout.startswith("hospital-synth ")


def test_config_values_apply_and_flags_override_them(tmp_path, capsys):
    config = tmp_path / "scenario.toml"
    config.write_text(
        'patients = 30\ntoday = 2025-06-30\nseed = 3\ninsured-rate = 0.5\ndate_format = "iso"\n'
    )
    argv = ["--config", str(config), "--seed", "9", "--outdir", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 0
    run = json.loads((tmp_path / "out" / "validation_summary.json").read_text())["run"]
    assert (run["patients"], run["seed"], run["today"]) == (30, 9, "2025-06-30")
    assert run["scenario"]["insured_rate"] == 0.5 and run["scenario"]["date_format"] == "iso"
    assert run["invocation"]["argv"] == argv
    assert main(["--config", str(config), "--date-format", "slash", "--outdir", str(tmp_path / "s"),
                 "--quiet"]) == 0  # fmt: skip
    run = json.loads((tmp_path / "s" / "validation_summary.json").read_text())["run"]
    assert run["scenario"]["date_format"] == "slash" and run["seed"] == 3


@pytest.mark.parametrize(
    ("setting", "names"),
    [
        ("insured-rate = 1.5", "insured-rate must be between 0 and 1"),
        ("insured_rate = 1.5", "insured_rate must be between 0 and 1"),  # spelled as given
        ('patients = "many"', "patients must be a whole number"),
        ("local-decay = nan", "local-decay must be a finite number"),
        ("bill-delay-days = [5, 1]", "bill-delay-days must be a range"),
        ("start = 2025-07-01", "start (2025-07-01) is after --today"),
    ],
)
def test_a_bad_value_in_a_config_file_names_its_key(tmp_path, capsys, setting, names):
    config = tmp_path / "scenario.toml"
    config.write_text(f"{setting}\n")
    assert main(["--config", str(config), *TODAY, "--outdir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and f"--config {config}: {names}" in error
    assert not (tmp_path / "out").exists()


def test_a_bad_flag_over_a_config_file_names_the_flag(tmp_path, capsys):
    config = tmp_path / "scenario.toml"
    config.write_text("insured-rate = 0.5\n")
    argv = ["--config", str(config), "--insured-rate", "1.5", "--outdir", str(tmp_path / "o")]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "error: --insured-rate must be between 0 and 1, got 1.5" in error
    assert str(config) not in error
    assert main(["--workers", "0", "--outdir", str(tmp_path / "o")]) == 2
    assert "--workers" in capsys.readouterr().err


def test_the_python_api_names_the_field():
    from sim.scenario import Scenario, ScenarioError

    with pytest.raises(ScenarioError, match=r"^insured_rate must be between 0 and 1, got 1.5$"):
        Scenario(insured_rate=1.5)
    with pytest.raises(ScenarioError, match=r"^patients must be a whole number, got 2.5$"):
        Scenario(patients=2.5)
    with pytest.raises(ScenarioError, match=r"^first_visit_treatment_weights must be 3 weights"):
        Scenario(first_visit_treatment_weights=(1, 2))


def test_the_run_section_records_versions_the_command_and_each_file(tmp_path, capsys):
    import hashlib
    from importlib import metadata

    argv = _small(tmp_path, "--quiet", "--format", "both", "--census")
    assert main(argv) == 0
    run = json.loads((tmp_path / "validation_summary.json").read_text())["run"]
    environment = run["environment"]
    assert environment["python"] == ".".join(map(str, sys.version_info[:3]))
    assert environment["implementation"] and environment["platform"]
    for package in ("numpy", "pandas", "simpy", "attrs", "pyarrow"):
        assert environment["packages"][package] == metadata.version(package)
    assert run["invocation"] == {"program": run["invocation"]["program"], "argv": argv}
    written = {p.name for p in tmp_path.iterdir()} - {"validation_summary.json", "manifest.json"}
    assert set(run["files"]) == written and "census.parquet" in written
    for name, record in run["files"].items():
        content = (tmp_path / name).read_bytes()
        assert record == {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    assert "cannot hold its own hash" in run["files_note"]

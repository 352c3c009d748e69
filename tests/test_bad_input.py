"""Hostile and extreme input (issue 14): accepted settings give valid data, refused ones are
one line on stderr with exit status 2, before any simulation and without a traceback."""

from __future__ import annotations

import importlib.util
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.app.cli import main, program_name
from sim.scenario import Scenario, ScenarioError
from sim.zip_pool import load_zip_pool
from tests.conftest import simulate

_spec = importlib.util.spec_from_file_location(
    "fuzz_cli", Path(__file__).resolve().parents[1] / "scripts" / "fuzz_cli.py"
)
fuzz_cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz_cli)


@pytest.mark.parametrize(
    "rooms",
    [
        {"rooms_per_hospital": 1, "patients": 150},
        {"room_scale": 0.2, "patients": 300},
    ],
)
def test_waiting_for_a_room_keeps_every_rule(rooms):
    """Few rooms: every room is taken at times, stays wait for one, follow-ups of patients
    still waiting a month after their day are missed (flag N), and the LOS bounds, follow-up
    flags and episode caps all hold."""
    simulation, tables, summary = simulate(seed=3, single_hospital=True, **rooms)
    assert {name: n for name, n in summary["checks"].items() if n} == {}
    (region,) = simulation.regions
    (hospital,) = region.world.hospitals
    assert hospital.rooms.peak == hospital.rooms.capacity
    missed = region.log.columns("FollowUpMissed")["visit"]
    assert len(missed) > 0
    flags = tables.visits.set_index("visit_id")["follow_up_required"]
    written = region_keys_of(tables).visit_ids[missed]
    assert (flags.reindex(written[written > 0]) == "N").all()


def region_keys_of(tables):
    """The only region's map from its local numbers to the tables' IDs."""
    (keys,) = tables.keys
    return keys


def refused(capsys, tmp_path, *args: str, mention: str) -> None:
    """The command line refuses ``args``: exit 2, one line naming ``mention``, nothing
    written."""
    out = tmp_path / "out"
    status = main(["--patients", "30", "--today", "2025-06-30", "--outdir", str(out), *args])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2, (args, lines)
    assert len(lines) == 1 and lines[0].startswith(f"{program_name()}: error: "), lines
    assert mention in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        (",,,\n,,,\n", "only empty rows"),
        ("zipcode,zipcode\n10036,10036\n", "'zipcode' more than once"),
        ("zipcode,state,city,City\n10036,NY,New York,NYC\n", "'city' more than once"),
    ],
)
def test_pool_files_that_used_to_crash_are_refused(capsys, tmp_path, text, mention):
    pool = tmp_path / "pool.csv"
    pool.write_text(text)
    refused(capsys, tmp_path, "--zip-pool-file", str(pool), mention=mention)


def test_zipcodes_in_other_digits_than_ascii_are_skipped_and_counted(tmp_path):
    pool = tmp_path / "pool.csv"
    rows = [
        "zipcode,state",
        "\uff11\uff10\uff10\uff10\uff12,NY",
        "\u0660\u0660\u0660\u0661\u0662,NY",
    ]
    rows += [f"{z},NY" for z in range(10001, 10040)]
    pool.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table, report = load_zip_pool(pool)
    assert all(z.isascii() and z.isdigit() and len(z) == 5 for z in table.zipcode)
    assert report.skipped["non_ascii_digits_in_zipcode"] == 2
    assert "invalid_zipcode" not in report.skipped
    with pytest.raises(ScenarioError, match="not a 5-digit ZIP"):
        Scenario(hospital_zipcode="\uff11\uff10\uff10\uff13\uff16")


def test_a_pool_file_that_is_not_a_regular_file_is_refused(capsys, tmp_path):
    refused(capsys, tmp_path, "--zip-pool-file", "/dev/zero", mention="not a regular file")


def test_compare_neutralises_scenario_names_in_the_csv_header(tmp_path, capsys):
    for name in ("=HYPERLINK(1)", "@SUM(1)"):
        (tmp_path / f"{name}.toml").write_text("patients = 20\n")
    output = tmp_path / "comparison.csv"
    args = ["compare", "--today", "2025-06-30", "--output", str(output)]
    args += ["--scenario", str(tmp_path / "=HYPERLINK(1).toml")]
    args += ["--scenario", str(tmp_path / "@SUM(1).toml")]
    assert main(args) == 0
    header = output.read_text().splitlines()[0].split(",")
    assert header[1:] == ["'=HYPERLINK(1)", "'@SUM(1)"]


def test_compare_refuses_a_folder_as_scenario_or_output_before_running(tmp_path, capsys):
    (tmp_path / "a.toml").write_text("patients = 20\n")
    (tmp_path / "folder").mkdir()
    scenario = str(tmp_path / "a.toml")
    cases = {
        "is a folder, not a file": ["--scenario", str(tmp_path / "folder")],
        "is a folder; give a file name": ["--output", str(tmp_path / "folder")],
    }
    for mention, args in cases.items():
        status = main(["compare", "--scenario", scenario, "--scenario", scenario, *args])
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert status == 2 and len(lines) == 1 and mention in lines[0], lines
        assert captured.out == ""  # refused before any scenario ran


def test_late_or_wrong_failures_are_refused_up_front(capsys, tmp_path, monkeypatch):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "specialty.toml").write_text('generalist-specialty = "Dentistry"\n')
    (tmp_path / "weights.toml").write_text("conditions-per-patient = [1e308, 1e308, 1e308]\n")
    (tmp_path / "many.toml").write_text("conditions-per-patient = [1, 1, 1, 1, 1]\n")
    cases = {
        "--export-prefix is too long": ["--export-prefix", "p" * 300],
        "leads nowhere": ["--outdir", str(tmp_path / "dangling")],
        "(dangling, or a loop)": ["--outdir", str(tmp_path / "loop")],
        "is not 'local' nor a scheduler address": ["--dask", "notanaddress"],
        "--hospital-name must not be blank": ["--hospital-name", "   "],
        "known: Internal Medicine": ["--config", str(tmp_path / "specialty.toml")],
        "conditions-per-patient must be": ["--config", str(tmp_path / "weights.toml")],
        "must be 3 weights": ["--config", str(tmp_path / "many.toml")],
        "--config /dev/zero: not a regular file": ["--config", "/dev/zero"],
    }
    for mention, args in cases.items():
        refused(capsys, tmp_path, *args, mention=mention)
    assert Scenario(hospital_name="  Midtown  ").hospital_name == "Midtown"


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(number=st.integers(min_value=0, max_value=10**6))
def test_the_fuzzer_finds_nothing(number):
    """A few cases of scripts/fuzz_cli.py's generator: exit 0, or 2 with one line."""
    with tempfile.TemporaryDirectory(prefix="fuzz.") as folder:
        tmp = Path(folder)
        argv = fuzz_cli.draw_case(random.Random(f"hypothesis:{number}"), tmp)
        assert fuzz_cli.run_case(argv, tmp, timeout=0) is None, argv

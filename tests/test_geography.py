"""User ZIP pools, --zip-target and the single-hospital locality mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reporting.app import Simulation
from reporting.app.cli import main
from sim.geography import load_zip_table
from sim.placement import state_neighbors
from sim.scenario import Scenario
from sim.zip_pool import PoolError, load_zip_pool
from tests.conftest import TODAY, simulate

ROOT = Path(__file__).resolve().parents[1]
STATES = ("NY", "NJ", "CT", "PA", "MA", "VT", "CA", "TX", "FL")


def pool_rows(per_state: int = 60) -> list[tuple[str, str, str]]:
    """(zip, state, city) of the most populous embedded ZIPs of a few states."""
    zips = load_zip_table()
    rows = []
    for state in STATES:
        index = zips.rows_of_state(state)
        top = index[np.argsort(-zips.population[index], kind="stable")[:per_state]]
        rows += [(zips.zipcode[i], state, zips.city[i]) for i in sorted(top)]
    return rows


@pytest.fixture(scope="module")
def clean_pool(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pools") / "pool.csv"
    lines = ["zipcode,state"] + [f"{z},{s}" for z, s, _ in pool_rows()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def messy_pool(tmp_path_factory) -> Path:
    """The same pool as users really send it: renamed headers, lower-case states, ZIPs as
    numbers without leading zeros, ZIP+4, a BOM, CRLF, extra columns, duplicate rows."""
    path = tmp_path_factory.mktemp("pools") / "messy.csv"
    lines = [" Postal_Code ;State_ID; notes "]
    for i, (z, s, _) in enumerate(pool_rows()):
        zipcode = str(int(z)) if i % 3 == 0 else (f"{z}-1234" if i % 3 == 1 else z)
        lines.append(f"{zipcode};{s.lower()};row {i}")
        if i % 10 == 0:
            lines.append(f"{zipcode};{s.lower()};duplicate")
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_messy_pool_loads_to_the_same_pool(clean_pool, messy_pool):
    clean, clean_report = load_zip_pool(clean_pool)
    messy, messy_report = load_zip_pool(messy_pool)
    for field in ("zipcode", "state", "city", "population"):
        assert list(getattr(clean, field)) == list(getattr(messy, field)), field
    assert messy_report.duplicate_rows == (len(pool_rows()) - 1) // 10 + 1
    assert clean_report.city_filled_from_embedded == len(clean)
    assert all(len(z) == 5 for z in messy.zipcode)


def test_unknown_zipcodes_and_disagreements_are_handled_and_counted(tmp_path):
    path = tmp_path / "pool.csv"
    path.write_text(
        "zip,state,city\n"
        "10036,NY,\n"  # known: city filled
        "10079,NY,\n"  # a PO-box ZIP unknown to the data: city from the nearest known ZIP
        "99999,,\n"  # unknown and no state: skipped
        "07030,NY,Hoboken\n"  # the user says NY where the data say NJ: the user wins
        "12345,PR,Somewhere\n"  # not one of the 50 states + DC: skipped
        "abcde,NY,Bad\n"  # not a ZIP: skipped
    )
    table, report = load_zip_pool(path)
    cities = dict(zip(table.zipcode, table.city))
    assert set(table.zipcode) == {"10036", "10079", "07030"}
    assert cities["10079"] == cities["10036"] == "New York"
    assert dict(zip(table.zipcode, table.state))["07030"] == "NY"
    assert report.state_disagreements == 1
    assert report.city_from_nearest_known_zipcode == 1
    assert report.skipped == {
        "invalid_zipcode": 1,
        "unknown_zipcode_without_state": 1,
        "state_not_in_50_states_and_dc": 1,
    }


def test_a_run_over_a_pool_passes_every_check_and_stays_in_the_pool(clean_pool):
    _, tables, summary = simulate(patients=1500, seed=3, zip_pool_file=str(clean_pool))
    assert summary["ok"] is True, {k: v for k, v in summary["checks"].items() if v}
    allowed = {z for z, _, _ in pool_rows()}
    assert set(tables.patients["zipcode"]) <= allowed
    assert set(tables.visits["hospital_zipcode"].astype(str)) <= allowed
    assert set(tables.patients["state"]) <= set(STATES)
    assert summary["geography"]["zip_pool"]["zipcodes_used"] == len(allowed)


@pytest.mark.slow
def test_zip_target_bounds_distinct_zipcodes_and_keeps_state_shares():
    _, tables, summary = simulate(patients=4000, seed=5, zip_target=120)
    distinct = tables.patients["zipcode"].nunique()
    assert distinct <= 120
    assert summary["distributions"]["distinct_patient_zipcodes"] == distinct
    share = tables.patients["state"].value_counts(normalize=True)
    assert share["CA"] > share["TX"] > share.get("WY", 0)  # populous states keep larger shares
    assert 0.07 < share["CA"] < 0.17


@pytest.mark.slow
def test_single_hospital_in_new_york_reaches_the_local_and_neighbour_shares():
    simulation, tables, summary = simulate(
        patients=20000, seed=42, hospital_state="NY", hospital_zipcode="10036"
    )
    assert summary["ok"] is True, {k: v for k, v in summary["checks"].items() if v}
    assert tables.visits["hospital"].nunique() == 1
    assert set(tables.visits["hospital_zipcode"].astype(str)) == {"10036"}
    geography = summary["distributions"]["geography"]
    assert abs(geography["local_share"] - 0.83) <= 0.02
    assert abs(geography["out_of_state_from_neighboring_states"] - 0.6) <= 0.03
    hospital = summary["geography"]["hospital"]
    assert 0 < hospital["peak_occupied_rooms"] <= hospital["rooms"]
    outside = tables.patients[tables.patients["state"] != "NY"]
    assert outside["state"].isin(state_neighbors()["NY"]).mean() == pytest.approx(0.6, abs=0.03)
    assert len(simulation.regions[0].world.doctors) >= 100  # doctors scale with the load


@pytest.mark.slow
def test_local_patients_live_near_the_hospital():
    _, tables, _ = simulate(patients=3000, seed=1, hospital_zipcode="10036", local_top_n=50)
    local = tables.patients[tables.patients["state"] == "NY"]
    assert local["zipcode"].nunique() <= 50
    assert (
        local["zipcode"]
        .str.startswith(
            ("100", "101", "102", "103", "104", "110", "111", "112", "113", "114", "070", "075")
        )
        .mean()
        > 0.9
    )


def test_hospital_state_alone_anchors_one_hospital_and_name_is_neutralised():
    _, tables, summary = simulate(
        patients=300, seed=2, hospital_state="vermont", hospital_name="=cmd|calc"
    )
    assert set(tables.visits["hospital_state"].astype(str)) == {"VT"}
    assert set(tables.visits["hospital"].astype(str)) == {"'=cmd|calc"}
    assert summary["geography"]["mode"] == "single-hospital"


def test_city_names_that_look_like_formulas_are_neutralised(tmp_path):
    path = tmp_path / "pool.csv"
    path.write_text('zipcode,state,city\n10036,NY,=HYPERLINK("x")\n10001,NY,+Plus\n10002,NY,@at\n')
    table, _ = load_zip_pool(path)
    assert sorted(table.city) == ["'+Plus", '\'=HYPERLINK("x")', "'@at"]
    _, tables, summary = simulate(patients=50, seed=1, zip_pool_file=str(path))
    assert not tables.patients["city"].str.match(r"[=+\-@]").any()
    assert summary["checks"]["zip_state_city_disagreement"] == 0


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "--patients",
            "50",
            "--today",
            TODAY.isoformat(),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def bad_pools(tmp: Path) -> dict[str, tuple[list[str], str]]:
    (tmp / "nozip.csv").write_text("code,region\n10036,NY\n")
    (tmp / "binary.csv").write_bytes(b"PK\x03\x04\x00\x00binary")
    (tmp / "encoding.csv").write_bytes(b"zipcode,state,city\n10036,NY,\x81\x8d\x90\n")
    (tmp / "nothing.csv").write_text("zipcode,state\nabc,NY\n99999,\n")
    (tmp / "tiny.csv").write_text("zipcode,state\n10036,NY\n")
    return {
        "missing file": (["--zip-pool-file", str(tmp / "absent.csv")], "no such file"),
        "no zip column": (["--zip-pool-file", str(tmp / "nozip.csv")], "found: code, region"),
        "binary": (["--zip-pool-file", str(tmp / "binary.csv")], "not a text file"),
        "encoding": (["--zip-pool-file", str(tmp / "encoding.csv")], "encoding"),
        "no usable rows": (["--zip-pool-file", str(tmp / "nothing.csv")], "no usable rows"),
        "too few zips": (
            ["--zip-pool-file", str(tmp / "tiny.csv"), "--patients", "5000"],
            "fewer than",
        ),
        "unknown state": (["--hospital-state", "ZZ"], "--hospital-state"),
        "zip not in pool": (
            ["--zip-pool-file", str(tmp / "tiny.csv"), "--hospital-zipcode", "90210"],
            "not in the ZIP pool",
        ),
        "zip in another state": (
            ["--hospital-state", "NJ", "--hospital-zipcode", "10036"],
            "is in NY",
        ),
        "local share": (["--hospital-state", "NY", "--local-share", "1.2"], "--local-share"),
        "neighbour share": (
            ["--hospital-state", "NY", "--outstate-neighbor-share", "-1"],
            "--outstate-neighbor-share",
        ),
        "top n": (["--hospital-state", "NY", "--local-top-n", "0"], "--local-top-n"),
        "decay": (["--hospital-state", "NY", "--local-decay", "0"], "--local-decay"),
        "zip target": (["--zip-target", "0"], "--zip-target"),
    }


def test_bad_geography_input_is_one_line_and_exit_2(tmp_path, capsys):
    """In this process (a traceback would fail the test); one case also as a real command."""
    for case, (args, mention) in bad_pools(tmp_path).items():
        status = main(["--patients", "50", "--today", TODAY.isoformat(), *args,
                       "--outdir", str(tmp_path / "out")])  # fmt: skip
        lines = capsys.readouterr().err.strip().splitlines()
        assert status == 2, (case, lines)
        assert len(lines) == 1, (case, lines)
        assert mention in lines[0], (case, lines[0])
        assert not (tmp_path / "out").exists(), case
    result = run_cli("--hospital-state", "ZZ", "--outdir", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_scenario_knows_the_mode():
    assert not Scenario(today=TODAY).anchored
    assert Scenario(today=TODAY, single_hospital=True).anchored
    with pytest.raises(PoolError):
        Simulation(Scenario(today=TODAY, zip_pool_file="/nonexistent/pool.csv"))

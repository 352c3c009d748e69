"""Continuity of care as a research instrument: switches and their reasons, direction tests,
the continuity table, snapshots, the census, and scenario comparisons."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reporting.app.experiments import compare
from reporting.continuity import continuity_indices, continuity_table
from sim.scenario import Scenario, ScenarioError
from sim.scenario_file import load_scenario
from tests.conftest import TODAY, simulate

pytestmark = pytest.mark.slow  # continuity studies run several scenarios each

ROOT = Path(__file__).resolve().parents[1]


def continuity(**values) -> dict:
    return simulate(patients=2500, seed=8, **values)[2]["continuity"]


def test_default_scenario_lands_in_published_ranges():
    summary = simulate(patients=8000, seed=42)[2]
    # continuity studies measure ambulatory visits: the scorecard's row is over clinic visits
    (row,) = [row for row in summary["realism"] if row["id"] == "doctor_coc"]
    assert 0.4 <= row["value"] <= 0.7
    levels = summary["continuity"]["levels"]
    for index in ("upc", "coc", "secon"):
        assert levels["hospital"][index]["mean"] > levels["doctor"][index]["mean"]


def test_every_switch_reason_occurs_in_a_strained_system():
    switches = continuity(room_scale=0.1, doctor_departure_rate=0.3)["provider_switches"]
    assert all(count > 0 for count in switches.values()), switches


def test_fewer_rooms_mean_more_diversions_and_lower_hospital_continuity():
    roomy = continuity(room_scale=2.0)
    # half the beds: often full, with beds free elsewhere to divert to (with a tenth, nearly
    # every hospital is full at once and patients wait instead of diverting)
    tight = continuity(room_scale=0.5)
    # only stays take rooms: a few thousand patients divert a handful of times when tight
    assert tight["diversions"] >= max(5, 3 * roomy["diversions"])
    assert tight["levels"]["hospital"]["coc"]["mean"] < roomy["levels"]["hospital"]["coc"]["mean"]


def test_more_departures_mean_lower_doctor_continuity():
    stable = continuity(doctor_departure_rate=0.0)
    churn = continuity(doctor_departure_rate=0.5)
    assert (
        churn["provider_switches"]["doctor_left"] > stable["provider_switches"]["doctor_left"] == 0
    )
    assert churn["levels"]["doctor"]["coc"]["mean"] < stable["levels"]["doctor"]["coc"]["mean"]


def test_perfect_continuity_keeps_patients_with_a_usual_source_with_it():
    steady = {"doctor_absence_rate": 0.0, "doctor_departure_rate": 0.0, "room_scale": 3.0}
    perfect = continuity(continuity_preference=1.0, **steady)
    usual = continuity(**steady)
    assert perfect["diversions"] == 0
    switches = perfect["provider_switches"]
    assert switches["doctor_absent"] == switches["doctor_left"] == 0
    # the patients without a usual source of care still pick a doctor afresh
    assert 0 < switches["patient_choice"] < usual["provider_switches"]["patient_choice"]
    assert perfect["levels"]["doctor"]["coc"]["mean"] > usual["levels"]["doctor"]["coc"]["mean"]


def test_the_continuity_table_matches_the_scalar_definition(small_run):
    _, tables, summary = small_run
    table = continuity_table(tables.visits, min_visits=3)
    assert set(table["level"].astype(str)) == {"doctor", "hospital", "doctor_hospital"}
    assert (table["n_visits"] >= 3).all()
    visits = tables.visits.sort_values(["patient_id", "date_of_admission", "visit_id"])
    for patient in table["patient_id"].unique()[:25]:
        mine = visits[visits["patient_id"] == patient]
        expected = continuity_indices(list(mine["doctor"].astype(str)))
        row = table[(table["patient_id"] == patient) & (table["level"] == "doctor")].iloc[0]
        for name in ("upc", "coc", "hhi", "secon", "mmci", "kpc"):
            assert row[name] == pytest.approx(expected[name], abs=1e-6)
    measured = summary["continuity"]["levels"]["doctor"]
    assert measured["patients_measured"] + measured["patients_excluded"] == len(tables.patients)


def test_state_and_census_agree_with_the_event_log():
    from reporting.app import Simulation

    simulation = Simulation(Scenario(patients=4000, seed=4, today=TODAY, room_scale=0.3))
    simulation.run(until=400)
    state = simulation.state()
    census = simulation.census()
    last = census[census["date"] == census["date"].max()].set_index("hospital")
    assert state.date == simulation.as_of and census["date"].max() == pd.Timestamp(state.date)
    assert (state.hospitals["occupied_rooms"] <= state.hospitals["rooms"]).all()
    assert state.patients_admitted == state.hospitals["sample_occupied_rooms"].sum()
    assert last["occupied_rooms"].sum() == state.hospitals["occupied_rooms"].sum()
    assert last["sample_occupied_rooms"].sum() == state.patients_admitted
    assert census["admissions"].sum() == state.hospitals["admissions"].sum()
    assert census["diversions"].sum() == state.hospitals["diversions"].sum() > 0
    assert sum(state.doctors.values()) >= 1 and state.open_bills > 0


def test_compare_uses_common_random_numbers_and_shows_the_difference():
    base = Scenario(patients=1200, seed=3, today=TODAY)
    table = compare({"base": base, "churn": base.evolve(doctor_departure_rate=0.6)})
    assert list(table.columns) == ["base", "churn"]
    assert table.loc["patients", "base"] == table.loc["patients", "churn"] == 1200
    assert table.loc["doctor coc (mean)", "churn"] < table.loc["doctor coc (mean)", "base"]
    with pytest.raises(ScenarioError):
        compare({"a": base, "b": base.evolve(seed=4)})


def test_scenario_files_use_the_flag_names(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "patients = 700\ntoday = 2025-06-30\ndoctor-departure-rate = 0.25\nroom_scale = 0.8\n"
    )
    scenario = load_scenario(path, seed=5)
    assert (
        scenario.patients,
        scenario.doctor_departure_rate,
        scenario.room_scale,
        scenario.seed,
    ) == (700, 0.25, 0.8, 5)
    (tmp_path / "bad.toml").write_text("patient = 5\n")
    with pytest.raises(ScenarioError, match="unknown setting 'patient'"):
        load_scenario(tmp_path / "bad.toml")


def test_compare_on_the_command_line(tmp_path):
    (tmp_path / "a.toml").write_text("patients = 600\ntoday = 2025-06-30\n")
    (tmp_path / "b.toml").write_text("patients = 600\ntoday = 2025-06-30\nroom-scale = 0.4\n")
    command = [
        sys.executable,
        str(ROOT / "run_sim.py"),
        "compare",
        "--scenario",
        str(tmp_path / "a.toml"),
        "--scenario",
        str(tmp_path / "b.toml"),
        "--output",
        str(tmp_path / "out" / "comparison.csv"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "doctor coc (mean)" in result.stdout and " a " in result.stdout.splitlines()[0] + " "
    saved = pd.read_csv(tmp_path / "out" / "comparison.csv", index_col=0)
    assert list(saved.columns) == ["a", "b"]
    bad = subprocess.run(
        [*command[:3], "--scenario", str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_census_and_continuity_files(tmp_path):
    from reporting.app.cli import main

    assert (
        main(
            [
                "--patients",
                "300",
                "--today",
                TODAY.isoformat(),
                "--outdir",
                str(tmp_path),
                "--quiet",
                "--census",
                "--continuity-min-visits",
                "3",
            ]
        )
        == 0
    )
    census = pd.read_csv(tmp_path / "census.csv")
    assert list(census.columns) == [
        "date",
        "hospital_id",
        "hospital",
        "rooms",
        "occupied_rooms",
        "sample_occupied_rooms",
        "admissions",
        "discharges",
        "diversions",
    ]
    assert census["date"].str.fullmatch(r"\d{4}/\d{2}/\d{2}").all()
    table = pd.read_csv(tmp_path / "continuity.csv")
    assert (table["n_visits"] >= 3).all()
    summary = json.loads((tmp_path / "validation_summary.json").read_text())
    assert summary["continuity"]["min_visits"] == 3
    assert (
        main(
            [
                "--patients",
                "50",
                "--today",
                TODAY.isoformat(),
                "--outdir",
                str(tmp_path / "b"),
                "--quiet",
                "--no-continuity",
            ]
        )
        == 0
    )
    assert not (tmp_path / "b" / "continuity.csv").exists()
    assert np.isclose(census["occupied_rooms"].max(), census["occupied_rooms"].max())


def test_a_region_is_never_left_without_a_doctor():
    summary = simulate(patients=1000, seed=2, doctor_departure_rate=4.0)[2]
    assert summary["ok"] is True
    assert summary["continuity"]["provider_switches"]["doctor_left"] > 0

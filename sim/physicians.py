"""The kinds of doctors and how often people have a usual source of care (sim/data/staffing/).

A specialty's kind decides which encounters its doctors take: emergency physicians the ED
visits, hospitalists the inpatients (surgeons and obstetricians their own), primary-care
doctors and the conditions' specialists the clinic visits.
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

from sim.refdata import read_csv

EMERGENCY, HOSPITAL, PRIMARY, SPECIALIST = "emergency", "hospital", "primary", "specialist"
KINDS = (EMERGENCY, HOSPITAL, PRIMARY, SPECIALIST)
PEDIATRICS = "Pediatrics"
ADULT_PRIMARY = ("Family Medicine", "Internal Medicine")
CHILD_PRIMARY = (PEDIATRICS,)
ADULT_AGE = 18


@attrs.frozen
class Physicians:
    """The specialties of doctors, with their rates per 100,000 residents and their roles."""

    specialties: tuple[str, ...]
    kind: dict[str, str]
    per_100k: np.ndarray  # in ``specialties`` order
    minimum: np.ndarray
    attends: frozenset[str]  # look after their own inpatients
    fallback: dict[str, str]

    def of_kind(self, kind: str) -> tuple[str, ...]:
        """The specialties of one kind, in file order."""
        return tuple(s for s in self.specialties if self.kind[s] == kind)

    def substitutes(self, specialty: str) -> tuple[str, ...]:
        """The specialty, then who stands in for it where it is missing (the fallback chain)."""
        chain = [specialty]
        while (nxt := self.fallback.get(chain[-1])) is not None and nxt not in chain:
            chain.append(nxt)
        return tuple(chain)


@functools.lru_cache(maxsize=1)
def load_physicians() -> Physicians:
    """The specialties of ``staffing/physicians.csv``."""
    table = read_csv("staffing/physicians.csv")
    unknown = set(table["kind"]) - set(KINDS)
    if unknown:
        raise ValueError(f"staffing/physicians.csv: unknown kinds {sorted(unknown)}")
    specialties = tuple(table["specialty"])
    return Physicians(
        specialties=specialties,
        kind=dict(zip(specialties, table["kind"])),
        per_100k=table["per_100k"].to_numpy(dtype=float),
        minimum=table["minimum"].to_numpy(dtype=np.int64),
        attends=frozenset(table.loc[table["attends"] == "yes", "specialty"]),
        fallback=dict(zip(specialties, table["fallback"])),
    )


@functools.lru_cache(maxsize=1)
def usual_source_shares() -> tuple[tuple[int, int, float, float], ...]:
    """(first age, last age, share if insured, share if uninsured) of having a usual source
    of care (``staffing/usual_source.csv``)."""
    table = read_csv("staffing/usual_source.csv")
    rows = []
    for (low, high), group in table.groupby(["age_from", "age_to"], sort=True):
        share = dict(zip(group["insured"], group["share"]))
        rows.append((int(low), int(high), float(share["yes"]), float(share["no"])))
    return tuple(rows)


@functools.lru_cache(maxsize=1)
def access_figures() -> dict[str, float]:
    """The single figures of ``staffing/figures.csv`` by name."""
    table = read_csv("staffing/figures.csv")
    return {row.figure: float(row.value) for row in table.itertuples(index=False)}

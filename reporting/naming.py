"""The dataset's doctors and hospitals: their IDs and names, handed out region by region in
key order.

A region's doctors and hospitals are numbered after those of the regions before it. Names are
unique by construction: each takes the first of its candidate names that no earlier doctor or
hospital took (hospitals: the world's alternatives, ending with one that names the hospital's
ZIP code; doctors: middle initials), so the result depends only on the regions' key order.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from sim.facts import RegionFacts
from sim.refdata import NameLists, load_names
from sim.world import doctor_name_candidates


@attrs.frozen
class RegionNames:
    """A region's doctors and hospitals as in the dataset: their names, in the region's
    order, and the IDs before the region's first (ID = offset + the region's index + 1)."""

    doctor_offset: int
    hospital_offset: int
    doctors: list[str]
    hospitals: list[str]


def dataset_names(regions: list[RegionFacts]) -> list[RegionNames]:
    """The names and ID offsets of every region's doctors and hospitals (regions in key
    order)."""
    names = load_names()
    doctors: set[str] = set()
    hospitals: set[str] = set()
    named = []
    for facts in regions:
        named.append(
            RegionNames(
                doctor_offset=len(doctors),
                hospital_offset=len(hospitals),
                doctors=[_doctor_name(name, names, doctors) for name in facts.staff.name_list()],
                hospitals=[
                    _first_free((h.name, *h.other_names), hospitals) for h in facts.hospitals
                ],
            )
        )
    return named


def _doctor_name(name: str, names: NameLists, taken: set[str]) -> str:
    """A doctor's name in the dataset: the first of its candidates no earlier doctor took
    (most often the name itself, without making the candidates)."""
    if name not in taken:
        taken.add(name)
        return name
    return _first_free(doctor_name_candidates(name, names), taken)


def _first_free(candidates: Iterable[str], taken: set[str]) -> str:
    """The first candidate not in ``taken``, which it joins. The last hospital candidate and
    the doctors' endless initials make sure there is one."""
    for candidate in candidates:
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise ValueError("every candidate name is taken")

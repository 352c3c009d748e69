"""Hospitals of real size: where they stand, how many beds they have, whom they serve.

A region's hospitals are placed by population so that beds per resident are even between
city and country: a site's chance is its ZIP's population over the mean size of hospitals in
its kind of area, so rural areas get many small hospitals (critical access hospitals) and cities
fewer, larger ones. Bed counts come from the size mix of the area (``capacity/bed_sizes.csv``)
and go to the sites in order of population, with some luck: the largest hospitals stand in the
most populous places, and those in the 100 largest metropolitan areas with many beds teach.

A hospital of B beds serves B / (beds per 1,000 residents) thousand people (AHA). The
dataset's patients are a sample of them; the rest are the hospital's *unwritten load*
(``sim.hospital_load``), which shares the beds.
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

from sim.geography import METROPOLITAN, ZipTable
from sim.refdata import read_csv

METRO_KEY, NONMETRO_KEY = "metropolitan", "nonmetropolitan"


@functools.lru_cache(maxsize=1)
def capacity_figures() -> dict[str, float]:
    """The single figures of ``capacity/figures.csv``, by name."""
    frame = read_csv("capacity/figures.csv")
    return dict(zip(frame["figure"], frame["value"].astype(float)))


@attrs.frozen
class SizeBands:
    """The bed-size mix of hospitals in one kind of area: bands and their shares."""

    low: np.ndarray
    high: np.ndarray
    share: np.ndarray

    @property
    def mean_beds(self) -> float:
        return float(np.sum(self.share * (self.low + self.high) / 2.0))

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` bed counts: a band by its share, then a whole number within it."""
        band = rng.choice(len(self.share), size=count, p=self.share)
        return rng.integers(self.low[band], self.high[band] + 1)


@functools.lru_cache(maxsize=1)
def size_mix() -> dict[str, SizeBands]:
    """The size mix of metropolitan and nonmetropolitan hospitals."""
    frame = read_csv("capacity/bed_sizes.csv")
    mix = {}
    for area, rows in frame.groupby("area", sort=True):
        share = rows["share"].to_numpy(dtype=float)
        mix[str(area)] = SizeBands(
            low=rows["min_beds"].to_numpy(dtype=np.int64),
            high=rows["max_beds"].to_numpy(dtype=np.int64),
            share=share / share.sum(),
        )
    return mix


def _area_key(area: np.ndarray) -> np.ndarray:
    return np.where(area == METROPOLITAN, METRO_KEY, NONMETRO_KEY)


def hospital_sites(rng: np.random.Generator, zips: ZipTable, count: int) -> np.ndarray:
    """ZIP rows of ``count`` hospitals: distinct ZIPs drawn by population over the mean
    hospital size of their kind of area (so beds per resident come out even)."""
    count = min(max(1, count), len(zips))
    mix = size_mix()
    mean_beds = np.where(
        zips.area == METROPOLITAN, mix[METRO_KEY].mean_beds, mix[NONMETRO_KEY].mean_beds
    )
    weight = np.log(zips.population / mean_beds)
    keys = weight - np.log(-np.log(rng.random(len(zips))))  # Gumbel keys: a weighted draw
    return np.sort(np.argsort(-keys, kind="stable")[:count])


def bed_counts(rng: np.random.Generator, zips: ZipTable, rows: np.ndarray) -> np.ndarray:
    """Beds of the hospitals at ZIP ``rows``: drawn from their area's size mix, the larger
    counts going to the more populous sites (ranked with some luck)."""
    beds = np.zeros(len(rows), dtype=np.int64)
    areas = _area_key(zips.area[rows])
    luck = rng.lognormal(0.0, 1.0, len(rows))
    for area, bands in size_mix().items():
        members = np.flatnonzero(areas == area)
        if not len(members):
            continue
        drawn = np.sort(bands.draw(rng, len(members)))[::-1]
        order = np.argsort(-(zips.population[rows[members]] * luck[members]), kind="stable")
        beds[members[order]] = drawn
    return beds


def teaching(zips: ZipTable, rows: np.ndarray, beds: np.ndarray) -> np.ndarray:
    """Major teaching hospitals: large ones in the 100 largest metropolitan areas."""
    return zips.large_metro[rows] & (beds >= capacity_figures()["teaching_min_beds"])


def served_population(beds: np.ndarray) -> np.ndarray:
    """The people hospitals of ``beds`` beds serve (AHA's community beds per 1,000)."""
    return beds * 1000.0 / capacity_figures()["community_beds_per_1000"]


def beds_serving(people: np.ndarray) -> np.ndarray:
    """The beds hospitals need to serve ``people`` (``served_population`` inverted, rounded up
    to whole beds)."""
    beds = people / served_population(np.ones(1))[0]
    # a hospital's own beds' people give back its beds, not one more through rounding error
    return np.ceil(beds - 1e-9).astype(int)

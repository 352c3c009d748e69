"""National figures of the population, read from the package data.

``sim/data/demography/figures.csv`` holds figures of the whole population (each row with its
source in ``sources.csv`` beside it); the simulation reads only the values. Figures per
condition are part of the catalog (``sim.refdata.load_catalog``).
"""

from __future__ import annotations

import functools

from sim.refdata import read_csv


@functools.lru_cache(maxsize=1)
def population_figures() -> dict[str, float]:
    """National figures of the population by name (``readmission_other_hospital_share``, ...)."""
    table = read_csv("demography/figures.csv")
    return {row.figure: float(row.value) for row in table.itertuples(index=False)}

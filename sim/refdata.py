"""Reference data shipped with the package: conditions, drugs, names, places, probabilities.

Everything is read once from ``sim/data`` (TOML and CSV) and turned into numpy arrays that the
vectorised builders and the simulation index by small integer codes. Nothing here is random.
"""

from __future__ import annotations

import functools
import sys
from importlib import resources

import attrs
import numpy as np
import pandas as pd

from entities.treatments import MEDICATION, MONITORING

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SEVERITIES = ("Normal", "Mild", "Moderate", "Severe")
CATEGORIES = ("chronic", "complex", "mental", "acute", "minor")
AGE_BANDS = ("child", "young", "middle", "senior")
AGE_BAND_EDGES = (18, 40, 65)  # child < 18 <= young < 40 <= middle < 65 <= senior


def data_path(name: str):
    """Path-like handle of a file in the package's data folder."""
    return resources.files("sim") / "data" / name


def read_toml(name: str) -> dict:
    """Parse a TOML file of the package data folder."""
    with data_path(name).open("rb") as handle:
        return tomllib.load(handle)


def read_csv(name: str, **kwargs) -> pd.DataFrame:
    """Read a CSV file of the package data folder (``#`` starts a comment line)."""
    with data_path(name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, comment="#", skipinitialspace=True, **kwargs)


@attrs.frozen
class CategoryRules:
    """Billing and recurrence rules shared by the conditions of one category."""

    name: str
    severity: tuple[float, float, float, float]  # weights of a first encounter, Normal..Severe
    episodes_per_year: float
    followup_probability: float
    max_followups: int
    followup_gap_days: tuple[int, int]
    uses_minor_same_day_rate: bool


@attrs.frozen
class Condition:
    """One condition of the catalog, with its gating, stays and treatments."""

    code: int
    name: str
    category: str
    specialty: str
    los: tuple[int, int]  # bounds of a stay in a bed, days
    los_median: float  # of an inpatient stay, days
    los_mean: float
    elective_share: float  # of stays: planned ahead
    urgent_share: float  # of stays: admitted urgently (the rest through the ED)
    ed_admit_share: float  # of stays: admitted through the ED
    observation_share: float  # of unplanned stays: observation stays
    mortality: float  # in-hospital deaths per inpatient stay
    readmission: float  # unplanned readmissions within 30 days per inpatient stay
    followup_share: float  # of first encounters: a clinic follow-up is booked
    trauma: bool  # admissions through the ED are Trauma admissions
    adult_only: bool
    same_day_ok: bool  # may be an ED visit treated and released the same day
    treatments: tuple[str, str]
    first_visit_monitoring: bool  # whether a first visit may be Monitoring only
    followup_treatments: tuple[str, ...]
    followup_treatment_weights: tuple[float, ...]
    prevalence: tuple[float, float, float, float]
    sex: str | None
    age_range: tuple[int, int] | None
    min_age: int  # youngest age at the start of an episode (18 when adult-only)
    max_episodes_per_patient: int | None
    max_episodes_per_year: int | None
    min_days_between_episodes: int | None

    @property
    def max_age(self) -> int | None:
        """Oldest age at the start of an episode, when the condition has an age range."""
        return self.age_range[1] if self.age_range is not None else None

    @property
    def is_minor(self) -> bool:
        return self.category == "minor"


@attrs.frozen
class Medication:
    """Medications that may be prescribed for each condition, with the age range of each
    dose (rows of medications.csv)."""

    conditions: tuple[str, ...]
    names: tuple[str, ...]
    dosages: tuple[str, ...]
    frequencies: tuple[str, ...]
    min_age: tuple[int, ...]
    max_age: tuple[int | None, ...]  # None: no upper limit
    rows_by_age: tuple[tuple[tuple[int, ...], ...], ...]  # [condition][age, the last for older]

    def rows_for(self, condition: int, age: int) -> tuple[int, ...]:
        """The rows of ``condition`` whose age range holds ``age`` (whole years)."""
        table = self.rows_by_age[condition]
        return table[min(age, len(table) - 1)]


@attrs.frozen
class Catalog:
    """The clinical catalog: conditions, categories, treatments, drugs, test results."""

    conditions: tuple[Condition, ...]
    categories: dict[str, CategoryRules]
    treatments: tuple[str, ...]
    medications: Medication
    test_results: tuple[str, ...]
    test_result_weights: np.ndarray  # (severity, result) probabilities
    once_per_patient: frozenset[str]  # treatments a patient receives at most once

    @functools.cached_property
    def by_name(self) -> dict[str, Condition]:
        return {condition.name: condition for condition in self.conditions}

    @functools.cached_property
    def specialties(self) -> tuple[str, ...]:
        """The doctors' specialties, in catalog order."""
        return tuple(dict.fromkeys(c.specialty for c in self.conditions))

    @functools.cached_property
    def specialty_weights(self) -> np.ndarray:
        """Relative demand for each specialty (summed prevalence of its conditions)."""
        weights = np.zeros(len(self.specialties))
        for condition in self.conditions:
            weights[self.specialties.index(condition.specialty)] += sum(condition.prevalence)
        return weights / weights.sum()


@functools.lru_cache(maxsize=1)
def stay_figures() -> dict[str, dict[str, float]]:
    """Per condition, its national stay figures by name (epidemiology/figures.csv)."""
    figures: dict[str, dict[str, float]] = {}
    for row in read_csv("epidemiology/figures.csv").itertuples(index=False):
        figures.setdefault(row.condition, {})[row.figure] = float(row.value)
    return figures


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Load and check the catalog: conditions.toml, medications.csv, test_results.csv."""
    raw = read_toml("conditions.toml")
    figures_of = stay_figures()
    categories = {
        name: CategoryRules(
            name=name,
            severity=tuple(float(w) for w in rules["severity"]),
            episodes_per_year=float(rules["episodes_per_year"]),
            followup_probability=float(rules["followup_probability"]),
            max_followups=int(rules["max_followups"]),
            followup_gap_days=tuple(rules["followup_gap_days"]),
            uses_minor_same_day_rate=rules["same_day_rate"] == "minor",
        )
        for name, rules in raw["categories"].items()
    }
    conditions = []
    for code, item in enumerate(raw["conditions"]):
        if item["category"] not in categories:
            raise ValueError(
                f"conditions.toml: {item['name']}: unknown category {item['category']}"
            )
        figures = figures_of.get(item["name"])
        if figures is None:
            raise ValueError(f"epidemiology/figures.csv has no figures for {item['name']}")
        low, high = item["los"]
        if not 1 <= low <= figures["los_median"] <= figures["los_mean"] <= high:
            raise ValueError(
                f"{item['name']}: needs 1 <= los low (conditions.toml) <= los_median <= "
                "los_mean (epidemiology/figures.csv) <= los high"
            )
        if figures["elective_share"] + figures["ed_admit_share"] > 1:
            raise ValueError(f"{item['name']}: elective + ED admission share > 1")
        observation = figures["observation_ratio"]
        followups = item.get("followup_treatments")
        conditions.append(
            Condition(
                code=code,
                name=item["name"],
                category=item["category"],
                specialty=item["specialty"],
                los=tuple(item["los"]),
                los_median=figures["los_median"],
                los_mean=figures["los_mean"],
                elective_share=figures["elective_share"],
                urgent_share=1.0 - figures["elective_share"] - figures["ed_admit_share"],
                ed_admit_share=figures["ed_admit_share"],
                observation_share=observation / (1.0 + observation),
                mortality=figures["mortality"],
                readmission=figures["readmit_30d"],
                followup_share=figures["followup_visit_share"],
                trauma=bool(item.get("trauma", False)),
                adult_only=bool(item["adult_only"]),
                same_day_ok=bool(item["same_day_ok"]),
                treatments=tuple(item["treatments"]),
                first_visit_monitoring=bool(item.get("first_visit_monitoring", True)),
                followup_treatments=tuple(followups or ()),
                followup_treatment_weights=tuple(item.get("followup_treatment_weights", ())),
                prevalence=tuple(float(item["prevalence"][band]) for band in AGE_BANDS),
                sex=item.get("sex"),
                age_range=tuple(item["age_range"]) if "age_range" in item else None,
                min_age=max(
                    int(item.get("min_age", 0)),
                    18 if item["adult_only"] else 0,
                    item["age_range"][0] if "age_range" in item else 0,
                ),
                max_episodes_per_patient=item.get("max_episodes_per_patient"),
                max_episodes_per_year=item.get("max_episodes_per_year"),
                min_days_between_episodes=item.get("min_days_between_episodes"),
            )
        )
    treatments = [MONITORING]
    for condition in conditions:
        for name in (*condition.treatments, *condition.followup_treatments):
            if name not in treatments:
                treatments.append(name)

    medications = load_medications(conditions)

    tests = read_csv("test_results.csv")
    results = tuple(dict.fromkeys(tests["test_result"]))
    weights = np.zeros((len(SEVERITIES), len(results)))
    for row in tests.itertuples(index=False):
        weights[SEVERITIES.index(row.severity), results.index(row.test_result)] = row.weight
    weights /= weights.sum(axis=1, keepdims=True)
    return Catalog(
        conditions=tuple(conditions),
        categories=categories,
        treatments=tuple(treatments),
        medications=medications,
        test_results=results,
        test_result_weights=weights,
        once_per_patient=frozenset(raw.get("once_per_patient_treatments", ())),
    )


def load_medications(conditions: list[Condition]) -> Medication:
    """Read medications.csv and check that a condition treated with Medication has a dose
    for every age from the youngest at which it can begin."""
    meds = read_csv("medications.csv", dtype=str, keep_default_na=False)
    unknown = set(meds["condition"]) - {c.name for c in conditions}
    if unknown:
        raise ValueError(f"medications.csv names unknown conditions: {sorted(unknown)}")
    if meds.duplicated(["condition", "medication", "dosage", "frequency"]).any():
        raise ValueError("medications.csv: a condition lists the same dose twice")
    min_age = meds["min_age"].astype(int).to_numpy()
    max_age = pd.to_numeric(meds["max_age"].replace("", None)).to_numpy(dtype=float)
    if (min_age < 0).any() or (max_age < min_age).any():
        raise ValueError("medications.csv: an age range is empty or negative")
    # one table entry per age up to the last age where a range starts or ends
    oldest = int(max(min_age.max(), np.nanmax(max_age, initial=0) + 1))
    ages = np.arange(oldest + 1)
    fits = (min_age[:, None] <= ages) & ~(max_age[:, None] < ages)  # (row, age)
    rows_by_age = []
    for condition in conditions:
        rows = meds["condition"].to_numpy() == condition.name
        by_age = tuple(tuple(np.flatnonzero(rows & fits[:, age]).tolist()) for age in ages)
        if MEDICATION in (*condition.treatments, *condition.followup_treatments):
            bare = [a for a in range(condition.min_age, oldest + 1) if not by_age[a]]
            if bare:
                raise ValueError(
                    f"medications.csv has no drug for {condition.name} at age {bare[0]}"
                )
        rows_by_age.append(by_age)
    return Medication(
        conditions=tuple(meds["condition"]),
        names=tuple(meds["medication"]),
        dosages=tuple(meds["dosage"]),
        frequencies=tuple(meds["frequency"]),
        min_age=tuple(min_age.tolist()),
        max_age=tuple(None if np.isnan(a) else int(a) for a in max_age.tolist()),
        rows_by_age=tuple(rows_by_age),
    )


@attrs.frozen
class Weighted:
    """A list of labels with sampling probabilities (normalised)."""

    labels: np.ndarray
    probabilities: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, label: str, weight: str) -> Weighted:
        weights = frame[weight].to_numpy(dtype=float)
        return cls(frame[label].to_numpy(dtype=object), weights / weights.sum())

    @functools.cached_property
    def cumulative(self) -> np.ndarray:
        """Cumulative probabilities, computed as ``numpy.random.Generator.choice`` does."""
        cdf = self.probabilities.cumsum()
        return cdf / cdf[-1]

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` labels drawn by weight: the draws of ``rng.choice(len(labels), size,
        p=probabilities)`` without summing the weights again at every call."""
        return self.labels[self.cumulative.searchsorted(rng.random(size), side="right")]


@attrs.frozen
class FirstNames:
    """Given names by birth block and sex (US births, first_names.csv), drawn by birth year.

    The names of every (block, sex) group follow one another in ``labels`` (group ``2 * block``
    for boys, ``2 * block + 1`` for girls); ``edges`` are each group's cumulative
    probabilities plus its group number, so that one search finds a name of any group.
    """

    block_from: np.ndarray  # first birth year of each block, ascending
    labels: np.ndarray
    edges: np.ndarray
    group_last: np.ndarray  # index in ``labels`` of each group's last name

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> FirstNames:
        """Check and index the rows of first_names.csv."""
        starts, first_row = np.unique(frame["birth_year_from"].to_numpy(), return_index=True)
        ends = frame["birth_year_to"].to_numpy()[first_row]
        block = np.searchsorted(starts, frame["birth_year_from"].to_numpy())
        if (
            (ends[:-1] + 1 != starts[1:]).any()
            or (ends < starts).any()
            or (frame["birth_year_to"].to_numpy() != ends[block]).any()
        ):
            raise ValueError("first_names.csv: birth blocks must follow one another")
        births = frame["births"].to_numpy(dtype=float)
        gender = frame["gender"].to_numpy(dtype=object)
        female = gender == "Female"
        if not (female | (gender == "Male")).all() or (births <= 0).any():
            raise ValueError("first_names.csv: gender must be Male or Female, births positive")
        group = 2 * block + female
        order = np.argsort(group, kind="stable")
        group, births = group[order], births[order]
        sizes = np.bincount(group, minlength=2 * len(starts))
        if (sizes == 0).any():
            raise ValueError("first_names.csv: every birth block needs names of both sexes")
        last = np.cumsum(sizes) - 1
        cumulative = np.cumsum(births)
        before = np.append(0.0, cumulative[last[:-1]])
        edges = group + (cumulative - before[group]) / (cumulative[last] - before)[group]
        edges[last] = np.arange(1, len(sizes) + 1)
        return cls(
            block_from=starts,
            labels=frame["first_name"].to_numpy(dtype=object)[order],
            edges=edges,
            group_last=last,
        )

    def draw(self, u: np.ndarray, birth_year: np.ndarray, female: np.ndarray) -> np.ndarray:
        """A name for each person from a uniform number in [0, 1), by birth year and sex
        (years before the first block or after the last take that block's names)."""
        block = np.searchsorted(self.block_from, birth_year, side="right") - 1
        group = 2 * np.clip(block, 0, len(self.block_from) - 1) + np.asarray(female, dtype=int)
        index = np.searchsorted(self.edges, group + u, side="right")
        return self.labels[np.minimum(index, self.group_last[group])]


@attrs.frozen
class NameLists:
    """Word lists for people, streets, insurers and hospitals."""

    first_by_birth: FirstNames  # patients' given names
    first_male: Weighted  # doctors' given names (births of doctor_names.toml's birth_years)
    first_female: Weighted
    last: Weighted  # surnames by national frequency
    prefixes: pd.DataFrame
    street_names: Weighted
    street_suffixes: Weighted
    insurer_brands: tuple[str, ...]
    insurer_lines: tuple[str, ...]
    insurer_forms: tuple[str, ...]
    hospital_patterns: tuple[str, ...]
    hospital_saints: tuple[str, ...]
    hospital_families: tuple[str, ...]
    hospital_alternatives: tuple[str, ...]  # further names, for a name an earlier region uses
    hospital_last_resort: str  # names the ZIP code: unique in the dataset
    middle_initials: tuple[str, ...]  # tried in order when a doctor's name is taken
    email_domains: tuple[str, ...]
    phone_line_prefix: str
    secondary_address_share: float
    secondary_address_kinds: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def load_names() -> NameLists:
    """Load the name and address word lists."""
    first = read_csv("first_names.csv", keep_default_na=False)
    last = read_csv("last_names.csv", keep_default_na=False)
    if (last["count"] <= 0).any() or last["last_name"].duplicated().any():
        raise ValueError("last_names.csv: counts must be positive and names distinct")
    insurers = read_toml("insurers.toml")
    hospitals = read_toml("hospital_names.toml")
    contacts = read_toml("contacts.toml")
    doctors = read_toml("doctor_names.toml")
    born_from, born_to = doctors["birth_years"]
    doctor_first = (
        first[(first["birth_year_to"] >= born_from) & (first["birth_year_from"] <= born_to)]
        .groupby(["gender", "first_name"], as_index=False)["births"]
        .sum()
    )
    return NameLists(
        first_by_birth=FirstNames.from_frame(first),
        first_male=Weighted.from_frame(
            doctor_first[doctor_first["gender"] == "Male"], "first_name", "births"
        ),
        first_female=Weighted.from_frame(
            doctor_first[doctor_first["gender"] == "Female"], "first_name", "births"
        ),
        last=Weighted.from_frame(last, "last_name", "count"),
        prefixes=read_csv("name_prefixes.csv"),
        street_names=Weighted.from_frame(read_csv("street_names.csv"), "street_name", "weight"),
        street_suffixes=Weighted.from_frame(read_csv("street_suffixes.csv"), "suffix", "weight"),
        insurer_brands=tuple(insurers["brands"]),
        insurer_lines=tuple(insurers["lines"]),
        insurer_forms=tuple(insurers["forms"]),
        hospital_patterns=tuple(hospitals["patterns"]),
        hospital_saints=tuple(hospitals["saints"]),
        hospital_families=tuple(hospitals["families"]),
        hospital_alternatives=tuple(hospitals["alternatives"]),
        hospital_last_resort=hospitals["last_resort"],
        middle_initials=tuple(doctors["middle_initials"]),
        email_domains=tuple(contacts["email_domains"]),
        phone_line_prefix=contacts["phone_line_prefix"],
        secondary_address_share=float(contacts["secondary_address_share"]),
        secondary_address_kinds=tuple(contacts["secondary_address_kinds"]),
    )


@attrs.frozen
class Demography:
    """Population figures: age pyramid, female share by age, blood types, states."""

    age_band_from: np.ndarray
    age_band_to: np.ndarray
    age_band_share: np.ndarray
    female_from: np.ndarray
    female_to: np.ndarray
    female_share: np.ndarray
    blood_types: Weighted
    states: pd.DataFrame  # state, state_name, area_codes (tuple of str)

    @functools.cached_property
    def single_year_weights(self) -> np.ndarray:
        """National population weight of each single year of age 0..90."""
        weights = np.zeros(91)
        for lo, hi, share in zip(self.age_band_from, self.age_band_to, self.age_band_share):
            weights[lo : hi + 1] = share / (hi - lo + 1)
        return weights

    @functools.cached_property
    def female_share_by_age(self) -> np.ndarray:
        shares = np.full(91, 0.5)
        for lo, hi, share in zip(self.female_from, self.female_to, self.female_share):
            shares[lo : hi + 1] = share
        return shares


@functools.lru_cache(maxsize=1)
def load_demography() -> Demography:
    """Load the age pyramid, female shares, blood types and the list of states."""
    pyramid = read_csv("age_pyramid.csv")
    female = read_csv("female_share.csv")
    states = read_csv("states.csv", dtype=str)
    states["area_codes"] = states["area_codes"].str.split().map(tuple)
    return Demography(
        age_band_from=pyramid["age_from"].to_numpy(),
        age_band_to=pyramid["age_to"].to_numpy(),
        age_band_share=pyramid["share"].to_numpy(dtype=float),
        female_from=female["age_from"].to_numpy(),
        female_to=female["age_to"].to_numpy(),
        female_share=female["female_share"].to_numpy(dtype=float),
        blood_types=Weighted.from_frame(read_csv("blood_types.csv"), "blood_type", "share"),
        states=states,
    )


@functools.lru_cache(maxsize=1)
def money_figures() -> dict[str, float]:
    """The single figures of ``money/figures.csv`` (coverage, prices, cost sharing, payment
    behaviour), by name."""
    frame = read_csv("money/figures.csv")
    return dict(zip(frame["figure"], frame["value"].astype(float)))


@functools.cache
def weekday_factors(series: str) -> tuple[float, ...]:
    """Monday-to-Sunday rate factors of a series of ``demography/weekdays.csv`` (mean 1)."""
    table = read_csv("demography/weekdays.csv")
    factor = table[table["series"] == series].set_index("weekday")["factor"].sort_index()
    if len(factor) != 7:
        raise ValueError(f"demography/weekdays.csv: series {series!r} needs 7 weekdays")
    return tuple(float(f) for f in factor / factor.mean())

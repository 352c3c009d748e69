"""Continuity-of-care indices (UPC, COC, HHI, SECON, MMCI, KPC), per patient.

Definitions follow docs in CONTINUITY.md: for a patient with N visits (in admission order,
ties by visit id) to M distinct providers, n_i visits to provider i:

    UPC   = max(n_i) / N                                   (Breslau & Reeb 1975)
    COC   = (sum n_i^2 - N) / (N (N - 1))                  (Bice & Boxerman 1977)
    HHI   = sum (n_i / N)^2
    SECON = consecutive pairs with the same provider / (N - 1)   (Steinwachs 1979)
    MMCI  = (1 - M / (N + 0.1)) / (1 - 1 / (N + 0.1))      (Magill & Senf 1987)
    KPC   = (N - M) / (N - 1)

Indices that divide by N - 1 are undefined (None / NaN) for a single visit.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

from reporting.schema import CONTINUITY_COLUMNS
from reporting.schema import CONTINUITY_LEVELS as LEVELS
from reporting.schema import CONTINUITY_SETTINGS as SETTINGS
from sim.coverage import PAYER_TYPES
from sim.geography import AREA_NAMES
from sim.population import GENDERS
from sim.refdata import AGE_BAND_EDGES

INDICES = ("upc", "coc", "hhi", "secon", "mmci", "kpc")
ALL, OUTPATIENT = SETTINGS  # every visit; clinic visits (the encounter type `Outpatient`)


def continuity_indices(providers: Sequence) -> dict[str, float | int | None]:
    """The indices for one patient's providers in visit order.

    >>> continuity_indices(["A", "A", "B"])["coc"]
    0.3333333333333333
    """
    n = len(providers)
    counts = Counter(providers)
    m = len(counts)
    result: dict[str, float | int | None] = {"n": n, "m": m}
    if n == 0:
        return result | dict.fromkeys(INDICES)
    squares = sum(c * c for c in counts.values())
    result["upc"] = max(counts.values()) / n
    result["hhi"] = squares / (n * n)
    result["mmci"] = (1 - m / (n + 0.1)) / (1 - 1 / (n + 0.1))
    if n < 2:
        result.update(coc=None, secon=None, kpc=None)
    else:
        result["coc"] = (squares - n) / (n * (n - 1))
        same = sum(1 for a, b in itertools.pairwise(providers) if a == b)
        result["secon"] = same / (n - 1)
        result["kpc"] = (n - m) / (n - 1)
    return {key: result[key] for key in ("n", "m", *INDICES)}


def indices_by_patient(
    patient: np.ndarray, provider: np.ndarray, min_visits: int = 2
) -> pd.DataFrame:
    """Vectorised indices for many patients.

    ``patient`` and ``provider`` are parallel arrays (any comparable values) already sorted
    in visit order within each patient, patients contiguous (the caller sorts by patient,
    admission date, visit id). Patients with fewer than ``min_visits`` visits are left out.
    Returns one row per patient, indexed by patient.
    """
    if len(patient) == 0:
        columns = ["n_visits", "n_providers", *INDICES]
        return pd.DataFrame(columns=columns, index=pd.Index([], name="patient_id"))
    patients, columns = _indices(patient, provider)
    result = pd.DataFrame(columns, index=pd.Index(patients, name="patient_id"))
    return result[result["n_visits"] >= min_visits]


def _indices(patient: np.ndarray, provider: np.ndarray) -> tuple[np.ndarray, dict]:
    """``indices_by_patient`` as arrays: the patients in order of first visit, and each
    column's values for them (every patient, whatever the number of visits)."""
    if len(patient) == 0:
        counts = dict.fromkeys(("n_visits", "n_providers"), np.zeros(0, dtype=np.int64))
        return np.asarray(patient), counts | dict.fromkeys(INDICES, np.zeros(0))
    patient_codes, patients = pd.factorize(np.asarray(patient))
    provider_codes = pd.factorize(np.asarray(provider))[0]
    count = len(patients)
    n = np.bincount(patient_codes, minlength=count).astype(np.float64)
    order = np.lexsort((provider_codes, patient_codes))
    pp, pv = patient_codes[order], provider_codes[order]
    starts = np.flatnonzero(np.concatenate([[True], (pp[1:] != pp[:-1]) | (pv[1:] != pv[:-1])]))
    per_pair = np.diff(np.append(starts, len(pp))).astype(np.float64)
    pair_patient = pp[starts]
    m = np.bincount(pair_patient, minlength=count).astype(np.float64)
    squares = np.bincount(pair_patient, weights=per_pair**2, minlength=count)
    top = np.zeros(count)
    np.maximum.at(top, pair_patient, per_pair)
    repeat = (patient_codes[1:] == patient_codes[:-1]) & (provider_codes[1:] == provider_codes[:-1])
    same = np.bincount(patient_codes[1:][repeat], minlength=count).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(patients), {
            "n_visits": n.astype(np.int64),
            "n_providers": m.astype(np.int64),
            "upc": top / n,
            "coc": (squares - n) / (n * (n - 1)),
            "hhi": squares / (n * n),
            "secon": same / (n - 1),
            "mmci": (1 - m / (n + 0.1)) / (1 - 1 / (n + 0.1)),
            "kpc": (n - m) / (n - 1),
        }


def index_counts(indices: pd.DataFrame | dict[str, np.ndarray]) -> dict:
    """How many patients were measured and how often each value of each index occurs: the
    counts add up across groups of patients, so summaries merge exactly (``indices``: a
    frame, or its index columns as arrays)."""
    counts: dict = {"measured": len(indices[INDICES[0]])}
    for name in INDICES:
        values = np.asarray(indices[name], dtype=np.float64)
        distinct, times = np.unique(values[~np.isnan(values)], return_counts=True)
        counts[name] = Counter(dict(zip(distinct.tolist(), times.tolist())))
    return counts


def _summary_from(parts: list[dict], patients_total: int) -> dict:
    measured = sum(part["measured"] for part in parts)
    summary: dict = {"patients_measured": measured, "patients_excluded": patients_total - measured}
    for name in INDICES:
        counts: Counter = Counter()
        for part in parts:
            counts.update(part[name])
        summary[name] = {"mean": _mean(counts), "median": _median(counts)}
    return summary


def _mean(counts: Counter) -> float | None:
    n = sum(counts.values())
    if n == 0:
        return None
    # exactly: a float is an integer over a power of two, so over the largest one they add up
    # as integers (adding Fractions would reduce every partial sum)
    ratios = [value.as_integer_ratio() for value in counts]
    common = max(denominator for _, denominator in ratios)
    total = sum(
        numerator * (common // denominator) * count
        for (numerator, denominator), count in zip(ratios, counts.values())
    )
    return round(float(Fraction(total, common * n)), 4)


def _median(counts: Counter) -> float | None:
    n = sum(counts.values())
    if n == 0:
        return None
    values = sorted(counts)
    cumulative = np.cumsum([counts[v] for v in values])
    lower = values[int(np.searchsorted(cumulative, (n - 1) // 2 + 1))]
    upper = values[int(np.searchsorted(cumulative, n // 2 + 1))]
    return round((lower + upper) / 2, 4)


def continuity_table(visits: pd.DataFrame, min_visits: int = 2) -> pd.DataFrame:
    """One row per patient, provider level (doctor, hospital, doctor at hospital) and setting
    (every visit, or clinic visits only) with the indices, for patients with at least
    ``min_visits`` visits in the setting; visits in admission order, ties by visit id."""
    order = np.lexsort(
        (
            visits["visit_id"].to_numpy(),
            visits["date_of_admission"].to_numpy(),
            visits["patient_id"].to_numpy(),
        )
    )
    patient = visits["patient_id"].to_numpy()[order]
    doctor = pd.factorize(visits["doctor"])[0][order].astype(np.int64)
    hospital = pd.factorize(visits["hospital"])[0][order].astype(np.int64)
    providers = {
        "doctor": doctor,
        "hospital": hospital,
        "doctor_hospital": doctor * (int(hospital.max(initial=0)) + 1) + hospital,
    }
    outpatient = (visits["encounter_type"] == OUTPATIENT).to_numpy(bool)[order]
    rows = {ALL: np.ones(len(patient), dtype=bool), OUTPATIENT: outpatient}
    parts: dict[str, list] = {name: [] for name in ("patient_id", "level", "setting")}
    parts |= {name: [] for name in ("n_visits", "n_providers", *INDICES)}
    for setting_code, setting in enumerate(SETTINGS):
        for level_code, level in enumerate(LEVELS):
            chosen = rows[setting]
            patients, columns = _indices(patient[chosen], providers[level][chosen])
            kept = columns["n_visits"] >= min_visits
            parts["patient_id"].append(patients[kept])
            parts["level"].append(np.full(kept.sum(), level_code, dtype=np.int8))
            parts["setting"].append(np.full(kept.sum(), setting_code, dtype=np.int8))
            for name, values in columns.items():
                parts[name].append(values[kept])
    table = {name: np.concatenate(values) for name, values in parts.items()}
    order = np.lexsort((table["setting"], table["level"], table["patient_id"]))
    table = {name: values[order] for name, values in table.items()}
    table["level"] = pd.Categorical.from_codes(table["level"], categories=LEVELS)
    table["setting"] = pd.Categorical.from_codes(table["setting"], categories=SETTINGS)
    for column in ("patient_id", "n_visits", "n_providers"):
        table[column] = table[column].astype(np.int64)
    for column in INDICES:
        table[column] = table[column].astype(float).round(6)
    return pd.DataFrame({column: table[column] for column in CONTINUITY_COLUMNS})


def followup_shares(episodes: pd.DataFrame) -> dict:
    """Where follow-ups went, from visits sorted by case with an ``is_followup`` column."""
    return followup_shares_from([followup_counts(episodes)])


def followup_counts(episodes: pd.DataFrame) -> Counter:
    """The counts behind ``followup_shares`` (they add up across groups of patients): each
    follow-up against the episode's visit before it (the first follow-up in the tables of an
    episode begun before --start has none and is not counted)."""
    episode = episodes["episode"].to_numpy()
    followup = episodes["is_followup"].to_numpy() & np.concatenate(
        [[False], episode[1:] == episode[:-1]]
    )
    same = {}
    for column in ("doctor", "hospital", "hospital_state"):
        codes = pd.factorize(episodes[column])[0]
        same[column] = np.concatenate([[False], codes[1:] == codes[:-1]]) & followup
    return Counter(
        followups=int(followup.sum()),
        same_doctor_and_hospital=int((same["doctor"] & same["hospital"]).sum()),
        same_hospital_other_doctor=int((~same["doctor"] & same["hospital"]).sum()),
        other_hospital_same_state=int(
            (~same["hospital"] & same["hospital_state"] & followup).sum()
        ),
        other_state=int((~same["hospital_state"] & followup).sum()),
    )


def followup_shares_from(parts: list[Counter]) -> dict:
    """``followup_shares`` from the ``followup_counts`` of slices of whole patients."""
    total = sum(parts, Counter())
    count = total["followups"]
    shares: dict = {"followups": count}
    for name in (
        "same_doctor_and_hospital",
        "same_hospital_other_doctor",
        "other_hospital_same_state",
        "other_state",
    ):
        shares[name] = None if count == 0 else round(total[name] / count, 4)
    return shares


def continuity_counts(table: pd.DataFrame) -> dict:
    """Per level, the index counts over every visit (setting ``All``) of a continuity table
    (or of a slice of whole patients)."""
    every = (table["setting"] == ALL).to_numpy(bool)
    values = {name: table[name].to_numpy(dtype=np.float64) for name in INDICES}
    counts = {}
    for level in LEVELS:
        rows = every & (table["level"] == level).to_numpy(bool)
        counts[level] = index_counts({name: column[rows] for name, column in values.items()})
    return counts


def continuity_section(table: pd.DataFrame, patients_with_visits: int, min_visits: int) -> dict:
    """Per level: patients measured and excluded, and the mean and median of each index."""
    return continuity_section_from([continuity_counts(table)], patients_with_visits, min_visits)


def continuity_section_from(parts: list[dict], patients_with_visits: int, min_visits: int) -> dict:
    """``continuity_section`` from the ``continuity_counts`` of slices of whole patients."""
    return {
        "min_visits": min_visits,
        "levels": {
            level: _summary_from([part[level] for part in parts], patients_with_visits)
            for level in LEVELS
        },
    }


MICRO = 1_000_000  # the table's indices have 6 decimals: summed as whole millionths, exactly


def patient_groups(patients: pd.DataFrame) -> dict[str, pd.Categorical]:
    """Each patient's group under each grouping of ``continuity_by_group`` (payer on the last
    day, age band, sex, rurality), categories in a fixed order."""
    edges = (0, *AGE_BAND_EDGES)
    bands = [f"{low}-{high - 1}" for low, high in itertools.pairwise(edges)] + [f"{edges[-1]}+"]
    band = np.searchsorted(AGE_BAND_EDGES, patients["age"].to_numpy(np.int64), side="right")
    return {
        "payer_type": pd.Categorical(patients["payer_type"], categories=PAYER_TYPES),
        "age_band": pd.Categorical.from_codes(band, categories=bands),
        "sex": pd.Categorical(patients["gender"], categories=GENDERS),
        "rurality": pd.Categorical(patients["rurality"], categories=AREA_NAMES),
    }


def group_counts(patients: pd.DataFrame, visits: pd.DataFrame, table: pd.DataFrame) -> dict:
    """Per grouping and group: patients with a visit and their distinct hospitals, and the
    patients with a doctor-level index over two or more outpatient visits with the sums of
    their COC and UPC (in millionths): counts that add up across slices of whole patients."""
    ids = patients["patient_id"].to_numpy(np.int64)
    hospitals = _hospitals_per_patient(visits, ids)
    rows = (
        (table["setting"] == OUTPATIENT).to_numpy(bool)
        & (table["level"] == "doctor").to_numpy(bool)
        & (table["n_visits"].to_numpy() >= 2)
    )
    measured_ids = table["patient_id"].to_numpy()[rows]
    measured = np.isin(ids, measured_ids)
    row = pd.Index(measured_ids).get_indexer(ids)  # -1: not measured, taken as 0
    micro = {}
    for name in ("coc", "upc"):
        values = np.append(table[name].to_numpy(dtype=np.float64)[rows], 0.0)[row]
        micro[name] = np.rint(np.where(np.isnan(values), 0, values) * MICRO).astype(np.int64)
    columns = {
        "patients": hospitals > 0,
        "hospitals": hospitals,
        "measured": measured,
        "coc": micro["coc"],
        "upc": micro["upc"],
    }
    counts: dict = {}
    for grouping, groups in patient_groups(patients).items():
        sums = {key: _sums(groups, values) for key, values in columns.items()}
        counts[grouping] = {
            name: Counter({key: values[index] for key, values in sums.items()})
            for index, name in enumerate(groups.categories)
        }
    return counts


def _hospitals_per_patient(visits: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """The number of distinct hospitals of each patient's visits (0 without a visit)."""
    patient, patients = pd.factorize(visits["patient_id"].to_numpy())
    hospital, hospitals = pd.factorize(visits["hospital"])  # -1: missing, not counted
    known = (patient >= 0) & (hospital >= 0)
    pairs = np.unique(patient[known] * len(hospitals) + hospital[known])
    counts = np.bincount(pairs // max(len(hospitals), 1), minlength=len(patients))
    return np.append(counts, 0)[pd.Index(patients).get_indexer(ids)].astype(np.int64)


def _sums(groups: pd.Categorical, values: np.ndarray) -> list[int]:
    """The sum of integer ``values`` in each group, in the order of the categories (a value
    without a group is in none)."""
    sums = np.zeros(len(groups.categories), dtype=np.int64)
    known = groups.codes >= 0  # code -1 would index the last group
    np.add.at(sums, groups.codes[known], values[known].astype(np.int64))
    return sums.tolist()


def continuity_by_group_from(parts: list[dict], min_visits: int) -> dict:
    """The summary's ``continuity_by_group`` from the ``group_counts`` of slices of whole
    patients: per grouping and group, patients with a visit and their mean distinct
    hospitals, and the mean doctor-level COC and UPC over outpatient visits of the patients
    with at least two (and ``min_visits``) of them."""
    groups: dict = {}
    for grouping in parts[0]:
        groups[grouping] = {}
        for name in parts[0][grouping]:
            total = sum((part[grouping][name] for part in parts), Counter())
            measured = total["measured"]
            groups[grouping][name] = {
                "patients": total["patients"],
                "hospitals_per_patient": _ratio(total["hospitals"], total["patients"]),
                "patients_measured": measured,
                "doctor_coc": _ratio(total["coc"], measured * MICRO),
                "doctor_upc": _ratio(total["upc"], measured * MICRO),
            }
    return {
        "setting": OUTPATIENT,
        "level": "doctor",
        "min_visits": max(2, min_visits),
        "groups": groups,
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 4)

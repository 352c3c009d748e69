"""The condition epidemiology data (sim/data/epidemiology/): shape, sources, and national totals."""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "sim" / "data"
FOLDER = DATA / "epidemiology"

COLUMNS = {
    "conditions.csv": ["condition", "kind", "icd10", "icd10_label", "specialty", "description"],
    "rates.csv": [
        "condition",
        "measure",
        "sex",
        "age_low",
        "age_high",
        "value",
        "source_id",
        "note",
    ],
    "figures.csv": ["condition", "figure", "value", "source_id", "note"],
    "sources.csv": ["source_id", "publisher", "title", "year", "table_or_page", "url"],
}
MEASURES = {"inpatient_per_1000", "ed_per_1000", "prevalence", "clinic_visits_per_year"}
FIGURES = {
    "los_mean",
    "los_median",
    "los_share_15_plus",
    "mortality",
    "readmit_30d",
    "ed_admit_share",
    "elective_share",
    "observation_ratio",
    "followup_visit_share",
    "disposition_home_health",
    "disposition_snf",
}
SHARE_FIGURES = FIGURES - {"los_mean", "los_median", "observation_ratio"}
SPECIALTIES = {
    "Internal Medicine",
    "Family Medicine",
    "Pediatrics",
    "Emergency Medicine",
    "Hospital Medicine",
    "Cardiology",
    "Pulmonology",
    "Oncology",
    "Orthopedics",
    "Obstetrics and Gynecology",
    "Psychiatry",
    "Neurology",
    "Nephrology",
    "Gastroenterology",
    "General Surgery",
}
# The seed's condition names (sim/data/conditions.toml) and the ones REALISM.md targets name.
SEED_CONDITIONS = {
    "High blood pressure",
    "Diabetes",
    "Arthritis",
    "Asthma",
    "Cancer",
    "Broken bones",
    "Heart disease",
    "Pneumonia",
    "Flu",
    "Migraine",
    "Depression",
    "Anxiety",
    "Allergies",
    "Kidney failure",
    "Stroke",
    "COVID-19",
    "Childbirth",
}
PREGNANCY = {"Childbirth", "Pregnancy complications"}
# COVID-19 rates are for 2021 and scaled by the wave series; the pre-2020 totals leave them out.
TIME_VARYING = {"COVID-19"}
# HCUP Statistical Brief 165, Table 3: all stays per 1,000 by age band, 2011.
SB165_STAYS_PER_1000 = {
    (0, 0): 1066.5,
    (1, 17): 20.1,
    (18, 44): 82.7,
    (45, 64): 117.1,
    (65, 84): 295.4,
    (85, 100): 572.3,
}


def read(name: str) -> list[dict[str, str]]:
    """Rows of one of the folder's CSV files."""
    with open(FOLDER / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def rows(name: str) -> tuple[dict[str, str], ...]:
    return tuple(read(name))


@cache
def population() -> tuple[list[float], list[float]]:
    """Share of residents at each single year of age 0..100 and the female share at each age,
    from the generator's national pyramid (sim/data/age_pyramid.csv, female_share.csv)."""
    share = [0.0] * 101
    female = [0.5] * 101
    files = (("age_pyramid.csv", "share", share), ("female_share.csv", "female_share", female))
    for name, column, target in files:
        text = (DATA / name).read_text().splitlines()
        for row in csv.DictReader(line for line in text if not line.startswith("#")):
            lo, hi = int(row["age_from"]), int(row["age_to"])
            value = float(row[column])
            for age in range(lo, hi + 1):
                target[age] = value / (hi - lo + 1) if target is share else value
    total = sum(share)
    return [s / total for s in share], female


def band_weight(lo: int, hi: int, sex: str) -> float:
    """Share of all residents in an age band, of one sex or both."""
    share, female = population()
    if sex == "All":
        return sum(share[lo : hi + 1])
    of_sex = female if sex == "Female" else [1 - f for f in female]
    return sum(share[a] * of_sex[a] for a in range(lo, hi + 1))


def rate_table(measure: str) -> dict[tuple[str, str, int, int], float]:
    """(condition, sex, age_low, age_high) -> value for one measure."""
    return {
        (r["condition"], r["sex"], int(r["age_low"]), int(r["age_high"])): float(r["value"])
        for r in rows("rates.csv")
        if r["measure"] == measure
    }


def band_totals(measure: str, exclude: set[str] = frozenset()) -> dict[tuple[int, int], float]:
    """All-cause rate per band (both sexes, population-weighted), summed over conditions."""
    sums: dict[tuple[int, int], float] = defaultdict(float)
    for (condition, sex, lo, hi), value in rate_table(measure).items():
        if condition not in exclude:
            sums[(lo, hi)] += value * band_weight(lo, hi, sex)
    return {band: total / band_weight(*band, "All") for band, total in sums.items()}


def overall(measure: str, exclude: set[str] = frozenset()) -> float:
    """National rate per 1,000 residents of one measure, weighted by the age pyramid."""
    totals = band_totals(measure, exclude)
    return sum(rate * band_weight(*band, "All") for band, rate in totals.items())


def figure(condition: str, name: str) -> float:
    return next(
        float(r["value"])
        for r in rows("figures.csv")
        if r["condition"] == condition and r["figure"] == name
    )


def national_stays() -> dict[str, float]:
    """Stays per 1,000 residents by condition (pre-2020 conditions): weights for stay means."""
    stays: dict[str, float] = defaultdict(float)
    for (condition, sex, lo, hi), value in rate_table("inpatient_per_1000").items():
        if condition not in TIME_VARYING:
            stays[condition] += value * band_weight(lo, hi, sex)
    return stays


def stays_weighted(name: str, exclude: set[str] = frozenset()) -> float:
    stays = {c: s for c, s in national_stays().items() if c not in exclude}
    return sum(s * figure(c, name) for c, s in stays.items()) / sum(stays.values())


# ---- shape -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_columns_and_no_comment_lines(name):
    text = (FOLDER / name).read_text(encoding="utf-8")
    assert text.splitlines()[0].split(",") == COLUMNS[name]
    assert not any(line.startswith("#") for line in text.splitlines())
    assert all(None not in row and all(v is not None for v in row.values()) for row in read(name))


def test_conditions_cover_the_seed_and_hospital_activity():
    conditions = rows("conditions.csv")
    names = [r["condition"] for r in conditions]
    assert len(names) == len(set(names))
    assert 25 <= len(names) <= 35
    assert set(names) >= SEED_CONDITIONS
    assert set(names) >= {
        "Sepsis",
        "COPD",
        "Newborn",
        "Pregnancy complications",
        "Other conditions",
    }
    assert {r["kind"] for r in conditions} == {"chronic", "acute", "birth"}
    assert {r["specialty"] for r in conditions} <= SPECIALTIES
    for row in conditions:
        assert row["icd10"][0].isalpha() and row["icd10_label"] and row["description"], row


def test_every_source_resolves_and_every_row_says_where_it_comes_from():
    sources = {r["source_id"] for r in rows("sources.csv")}
    assert len(sources) == len(rows("sources.csv"))
    for name in ("rates.csv", "figures.csv"):
        for row in rows(name):
            assert row["source_id"] in sources, row
            assert row["note"].strip(), row
    for row in rows("sources.csv"):
        assert row["url"].startswith("https://") or row["source_id"] == "estimate", row


def test_rate_rows_are_valid_and_bands_contiguous_from_0_to_100():
    conditions = {r["condition"]: r["kind"] for r in rows("conditions.csv")}
    bands: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for row in rows("rates.csv"):
        assert row["condition"] in conditions, row
        assert row["measure"] in MEASURES, row
        assert row["sex"] in {"Female", "Male", "All"}, row
        value = float(row["value"])
        assert value >= 0, row
        if row["measure"] == "prevalence":
            assert value <= 1, row
        span = (int(row["age_low"]), int(row["age_high"]))
        bands[(row["condition"], row["measure"], row["sex"])].append(span)
    for key, spans in bands.items():
        spans.sort()
        assert spans[0][0] == 0 and spans[-1][1] == 100, key
        assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans)), key
        assert all(lo <= hi for lo, hi in spans), key
    for condition, measure, sex in bands:
        if sex == "All":
            assert (condition, measure, "Female") not in bands, (condition, measure)
        else:
            other = "Female" if sex == "Male" else "Male"
            assert (condition, measure, other) in bands, (condition, measure)
    for condition, kind in conditions.items():
        assert (condition, "inpatient_per_1000", "Female") in bands
        assert (condition, "ed_per_1000", "Female") in bands
        chronic = kind == "chronic"
        assert ((condition, "prevalence", "Female") in bands) == chronic, condition
        assert ((condition, "clinic_visits_per_year", "All") in bands) == chronic, condition


def test_figures_complete_and_in_range():
    seen: dict[str, set[str]] = defaultdict(set)
    for row in rows("figures.csv"):
        seen[row["condition"]].add(row["figure"])
        value = float(row["value"])
        assert value >= 0, row
        if row["figure"] in SHARE_FIGURES or row["figure"] == "cesarean_share":
            assert value <= 1, row
    for condition in (r["condition"] for r in rows("conditions.csv")):
        assert seen[condition] >= FIGURES, condition
        assert figure(condition, "los_median") <= figure(condition, "los_mean") + 1e-9, condition
        assert figure(condition, "los_mean") >= 1, condition
        leaving = ("disposition_home_health", "disposition_snf", "mortality")
        assert sum(figure(condition, name) for name in leaving) < 1, condition


# ---- national totals ---------------------------------------------------------------------


def test_inpatient_rates_by_band_near_hcup():
    """Each band within 25% of HCUP SB 165 (2011; stays fell about 8% by 2018, most at 65+)."""
    totals = band_totals("inpatient_per_1000", TIME_VARYING)
    assert set(totals) == set(SB165_STAYS_PER_1000)
    for band, published in SB165_STAYS_PER_1000.items():
        assert 0.75 * published <= totals[band] <= 1.05 * published, (band, totals[band])
    assert 2.0 <= totals[(65, 84)] / totals[(45, 64)] <= 3.2  # SB 79: 253.4 / 101.7 (65-74 / 45-54)


def stays_of(sex: str, age_low: int, exclude: set[str]) -> float:
    """Inpatient stays per 1,000 residents of one sex in the band starting at age_low."""
    table = rate_table("inpatient_per_1000")
    return sum(
        value
        for (condition, s, lo, _), value in table.items()
        if s == sex and lo == age_low and condition not in exclude
    )


def test_inpatient_overall_and_sex_split():
    # SB 180: 116.2 per 1,000 (2012); NIS 2018: 35.5 million stays, about 108 per 1,000
    assert 100 <= overall("inpatient_per_1000", TIME_VARYING) <= 120
    women, men = (stays_of(sex, 45, PREGNANCY | TIME_VARYING) for sex in ("Female", "Male"))
    assert 0.80 * men <= women < men  # excluding pregnancy, women slightly fewer stays at 45-64
    women, men = (stays_of(sex, 18, TIME_VARYING) for sex in ("Female", "Male"))
    assert women > 1.5 * men  # deliveries


def test_ed_treat_and_release_overall():
    # HCUP SB 286: 378 treat-and-release visits per 1,000 (2018); NHAMCS 2021: 430 incl. admitted
    assert 330 <= overall("ed_per_1000", TIME_VARYING) <= 420
    totals = band_totals("ed_per_1000", TIME_VARYING)
    assert totals[(0, 0)] == max(totals.values())  # NCHS DB 478: infants highest


def test_stays_weighted_figures_match_hcup():
    assert 4.4 <= stays_weighted("los_mean") <= 4.8  # HCUP 4.5-4.7 days
    assert 0.02 <= stays_weighted("los_share_15_plus") <= 0.06
    assert 0.015 <= stays_weighted("mortality") <= 0.025  # about 2% of stays
    # SB 248: 14.0% in 2016, patients aged 1 and over
    assert 0.12 <= stays_weighted("readmit_30d", {"Newborn"}) <= 0.16
    assert 0.10 <= stays_weighted("observation_ratio") <= 0.20
    assert 0.40 <= stays_weighted("ed_admit_share") <= 0.65
    assert 0.12 <= stays_weighted("elective_share") <= 0.30
    assert 0.15 <= figure("Heart disease", "readmit_30d") <= 0.27  # CMS HRRP heart failure 21%
    assert 0.12 <= figure("Pneumonia", "readmit_30d") <= 0.22  # CMS HRRP pneumonia about 16%


def test_childbirth_figures():
    cesarean = figure("Childbirth", "cesarean_share")
    vaginal_los = figure("Childbirth", "los_mean_vaginal")
    cesarean_los = figure("Childbirth", "los_mean_cesarean")
    assert 0.29 <= cesarean <= 0.35  # NCHS 2022: 32.1%
    assert 1.9 <= vaginal_los <= 2.7 and 2.9 <= cesarean_los <= 3.9
    mixed = cesarean * cesarean_los + (1 - cesarean) * vaginal_los
    assert figure("Childbirth", "los_mean") == pytest.approx(mixed, abs=0.05)


def prevalence(condition: str, lo: int, hi: int) -> float:
    """Population-weighted prevalence over the ages lo..hi, both sexes."""
    table = rate_table("prevalence")
    total = weight = 0.0
    for (c, sex, blo, bhi), value in table.items():
        if c == condition:
            a, b = max(lo, blo), min(hi, bhi)
            if a <= b:
                w = band_weight(a, b, sex)
                total, weight = total + value * w, weight + w
    return total / weight


def test_prevalence_targets():
    assert abs(prevalence("High blood pressure", 18, 39) - 0.22) <= 0.08  # NHANES 2017-2018: 22.4%
    assert abs(prevalence("High blood pressure", 60, 100) - 0.75) <= 0.08  # 74.5%
    assert 0.04 <= prevalence("Asthma", 0, 17) <= 0.08  # NHIS 2021
    assert 0.06 <= prevalence("Asthma", 18, 100) <= 0.10
    for condition in ("Diabetes", "Arthritis", "Heart disease", "Stroke", "COPD", "Cancer"):
        assert prevalence(condition, 65, 100) > 2 * prevalence(condition, 18, 44), condition
    table = rate_table("prevalence")
    for condition in ("Migraine", "Depression", "Anxiety"):
        assert table[(condition, "Female", 18, 44)] > table[(condition, "Male", 18, 44)], condition

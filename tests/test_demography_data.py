"""Reference data in sim/data/demography/: shape, sources, ranges and national totals."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "sim" / "data"
FOLDER = DATA / "demography"

COLUMNS = {
    "life_table.csv": ["sex", "age", "qx", "source_id", "note"],
    "mortality_trend.csv": ["year", "factor", "source_id", "note"],
    "fertility.csv": ["age_low", "age_high", "births_per_1000_women", "source_id", "note"],
    "cesarean.csv": ["age_low", "age_high", "cesarean_share", "source_id", "note"],
    "seasonality.csv": ["series", "month", "factor", "source_id", "note"],
    "covid_waves.csv": ["month", "factor", "admissions_per_day", "source_id", "note"],
    "weekdays.csv": ["series", "weekday", "factor", "source_id", "note"],
    "disposition.csv": ["age_low", "age_high", "disposition", "share", "source_id", "note"],
    "figures.csv": ["figure", "value", "source_id", "note"],
}
DISPOSITIONS = {
    "Home",
    "Home health",
    "Skilled nursing facility",
    "Transferred to another hospital",
    "Left against medical advice",
}


def read(name: str) -> pd.DataFrame:
    """One data file of the folder, notes as empty strings rather than NaN."""
    frame = pd.read_csv(FOLDER / name)
    if "note" in frame:
        frame["note"] = frame["note"].fillna("")
    return frame


def figure(name: str) -> float:
    """One value of figures.csv."""
    figures = read("figures.csv").set_index("figure")["value"]
    return float(figures[name])


def life_expectancy(qx: np.ndarray) -> float:
    """Period e0 from single-year qx, deaths at mid-year, the last age an open interval."""
    survivors = np.concatenate([[1.0], np.cumprod(1 - qx[:-1])])
    deaths = survivors * qx
    years = np.sum(survivors[1:]) + 0.5 * np.sum(deaths[:-1])
    return float(years + survivors[-1] / -np.log(1 - qx[-1]))


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_columns_and_sources(name: str) -> None:
    frame = read(name)
    assert list(frame.columns) == COLUMNS[name]
    sources = read("sources.csv")
    assert set(frame["source_id"]) <= set(sources["source_id"])
    assert frame.drop(columns="note").notna().all().all()
    estimated = frame["source_id"] == "project_estimate"
    assert frame.loc[estimated, "note"].str.startswith("estimate").all()


def test_sources_are_complete_and_used() -> None:
    sources = read("sources.csv")
    assert list(sources.columns) == [
        "source_id",
        "publisher",
        "title",
        "year",
        "table_or_page",
        "url",
    ]
    assert sources["source_id"].is_unique
    published = sources[sources["source_id"] != "project_estimate"]
    assert published["url"].str.startswith("https://").all()
    used = set().union(*(set(read(name)["source_id"]) for name in COLUMNS))
    assert set(sources["source_id"]) == used


def test_life_table_shape_and_monotone_after_ten() -> None:
    table = read("life_table.csv")
    for sex in ("Female", "Male"):
        qx = table[table["sex"] == sex].sort_values("age")
        assert list(qx["age"]) == list(range(101))
        values = qx["qx"].to_numpy()
        assert ((values > 0) & (values < 1)).all()
        assert (np.diff(values[10:]) > 0).all()
        assert values[0] > values[1]
    by_sex = table.pivot(index="age", columns="sex", values="qx")
    assert (by_sex["Male"] > by_sex["Female"]).loc[15:95].all()


@pytest.mark.parametrize(
    ("sex", "published"),
    [
        ("Male", "life_expectancy_at_birth_2021_male"),
        ("Female", "life_expectancy_at_birth_2021_female"),
    ],
)
def test_life_expectancy_matches_the_published_one(sex: str, published: str) -> None:
    table = read("life_table.csv")
    qx = table[table["sex"] == sex].sort_values("age")["qx"].to_numpy()
    assert abs(life_expectancy(qx) - figure(published)) < 0.5


def test_mortality_trend_falls_after_2021() -> None:
    trend = read("mortality_trend.csv").set_index("year")["factor"]
    assert trend[2021] == 1.0
    assert trend.between(0.7, 1.2).all()
    assert trend[2020] > trend[2019] and trend[2022] < trend[2021] and trend[2023] < trend[2022]


def band_shares(bands: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Women's share of the national population in each band, and by single year of age."""
    pyramid = pd.read_csv(DATA / "age_pyramid.csv", comment="#")
    female = pd.read_csv(DATA / "female_share.csv", comment="#")
    by_age = np.zeros(91)
    for row in pyramid.itertuples():
        by_age[row.age_from : row.age_to + 1] = row.share / (row.age_to - row.age_from + 1)
    women = by_age.copy()
    for row in female.itertuples():
        women[row.age_from : row.age_to + 1] *= row.female_share
    return np.array(
        [women[low : high + 1].sum() for low, high in zip(bands["age_low"], bands["age_high"])]
    ), women


def test_fertility_bands_and_implied_general_fertility_rate() -> None:
    fertility = read("fertility.csv")
    assert (
        fertility["age_low"].iloc[1:].to_numpy() == fertility["age_high"].iloc[:-1].to_numpy() + 1
    ).all()
    assert (fertility["age_low"].iloc[0], fertility["age_high"].iloc[-1]) == (10, 49)
    assert fertility["births_per_1000_women"].between(0, 150).all()
    width = fertility["age_high"] - fertility["age_low"] + 1
    tfr = (width * fertility["births_per_1000_women"]).sum()
    assert abs(tfr - figure("total_fertility_rate_per_1000_women")) < 1
    shares, women = band_shares(fertility)
    births = np.sum(shares * fertility["births_per_1000_women"].to_numpy())
    gfr = births / women[15:45].sum()
    assert abs(gfr - figure("general_fertility_rate_per_1000_women_15_44")) < 2.5


def test_maternal_age_mix_and_cesarean_share() -> None:
    fertility = read("fertility.csv")
    shares, _ = band_shares(fertility)
    births = shares * fertility["births_per_1000_women"].to_numpy()
    births = births / births.sum()
    under_20 = births[fertility["age_high"] < 20].sum()
    over_40 = births[fertility["age_low"] >= 40].sum()
    assert 0.03 <= under_20 <= 0.06 and 0.03 <= over_40 <= 0.06
    cesarean = read("cesarean.csv")
    assert (
        cesarean["age_low"].iloc[1:].to_numpy() == cesarean["age_high"].iloc[:-1].to_numpy() + 1
    ).all()
    assert (np.diff(cesarean["cesarean_share"]) > 0).all()
    per_band = np.interp(fertility["age_low"], cesarean["age_low"], cesarean["cesarean_share"])
    overall = float(np.sum(births * per_band))
    assert abs(overall - figure("cesarean_share")) < 0.01


def test_seasonality_factors_average_one_and_peak_in_the_right_season() -> None:
    season = read("seasonality.csv")
    assert set(season["series"]) == {
        "flu",
        "rsv",
        "pneumonia",
        "all_admissions",
        "births",
        "injury",
    }
    for _, series in season.groupby("series"):
        assert sorted(series["month"]) == list(range(1, 13))
        assert series["factor"].mean() == pytest.approx(1.0, abs=1e-3)
        assert (series["factor"] > 0).all()
    factor = season.set_index(["series", "month"])["factor"]
    winter, summer = [12, 1, 2], [6, 7, 8]
    assert factor["flu"][winter].mean() / factor["flu"][summer].mean() >= 5
    assert factor["rsv"][winter].mean() / factor["rsv"][summer].mean() >= 5
    assert 1.1 < factor["pneumonia"][winter].mean() / factor["pneumonia"][summer].mean() < 2.5
    assert factor["injury"][summer].mean() > factor["injury"][winter].mean()
    assert factor["births"][[7, 8, 9]].mean() > factor["births"][[1, 2, 3, 4]].mean()
    assert factor["all_admissions"].between(0.9, 1.1).all()


def test_covid_waves_cover_the_window_and_fall_after_2022() -> None:
    waves = read("covid_waves.csv")
    months = pd.period_range("2020-03", "2026-12", freq="M").strftime("%Y-%m").tolist()
    assert waves["month"].tolist() == months
    factor = waves.set_index("month")["factor"]
    assert factor["2022-01"] == 1.0 and factor.max() == 1.0
    assert (factor > 0).all()
    year = factor.groupby(factor.index.str[:4]).mean()
    assert year["2023"] < 0.5 * year["2022"] and year["2025"] < year["2023"]
    peak = waves.set_index("month")["admissions_per_day"]["2022-01"]
    assert np.allclose(waves["factor"] * peak, waves["admissions_per_day"], atol=2)


def test_weekday_factors_average_one_and_the_weekend_ratio_is_in_band() -> None:
    weekdays = read("weekdays.csv")
    assert set(weekdays["series"]) == {
        "elective_admissions",
        "urgent_admissions",
        "emergency_admissions",
        "discharges",
        "births",
        "ed_visits",
        "clinic_visits",
    }
    for _, series in weekdays.groupby("series"):
        assert sorted(series["weekday"]) == list(range(7))
        assert series["factor"].mean() == pytest.approx(1.0, abs=1e-3)
    factor = weekdays.set_index(["series", "weekday"])["factor"]
    days, weekend = [0, 1, 2, 3, 4], [5, 6]
    admissions = sum(
        figure(f"admission_mix_{kind}") * factor[f"{kind}_admissions"].to_numpy()
        for kind in ("emergency", "urgent", "elective")
    )
    ratio = admissions[weekend].mean() / admissions[days].mean()
    assert 0.65 <= ratio <= 0.85
    assert (
        abs(
            2 * admissions[weekend].mean() / admissions.sum()
            - figure("weekend_share_of_admissions")
        )
        < 0.02
    )
    assert factor["elective_admissions"][weekend].max() < 0.3
    assert (
        0.85
        <= factor["emergency_admissions"][weekend].mean()
        / factor["emergency_admissions"][days].mean()
        <= 0.97
    )
    discharges = factor["discharges"]
    assert discharges.idxmax() == 4 and discharges.idxmin() == 6
    assert factor["births"][weekend].max() < factor["births"][days].min()
    assert factor["ed_visits"].idxmax() == 0


def test_dispositions_sum_to_one_per_band_and_cover_all_ages() -> None:
    disposition = read("disposition.csv")
    assert set(disposition["disposition"]) == DISPOSITIONS
    bands = disposition.groupby(["age_low", "age_high"])
    for _, band in bands:
        assert set(band["disposition"]) == DISPOSITIONS
        assert band["share"].sum() == pytest.approx(1.0, abs=1e-9)
    edges = sorted(bands.groups)
    assert edges[0][0] == 0 and edges[-1][1] == 100
    assert all(
        low == previous_high + 1 for (_, previous_high), (low, _) in itertools.pairwise(edges)
    )
    share = disposition.set_index(["age_low", "disposition"])["share"]
    facility = [share[low, "Skilled nursing facility"] for low, _ in edges]
    assert facility == sorted(facility)


def test_figures_are_in_plausible_ranges() -> None:
    assert 50 <= figure("general_fertility_rate_per_1000_women_15_44") <= 62
    assert 0.29 <= figure("cesarean_share") <= 0.35
    assert 0.025 <= figure("twin_share_of_births") <= 0.035
    assert 800 <= figure("crude_death_rate_per_100000_2022") <= 1100
    assert (
        abs(figure("deaths_2022") / 333.3e6 * 1e5 - figure("crude_death_rate_per_100000_2022")) < 1
    )
    assert 0.2 <= figure("in_hospital_share_of_deaths") <= 0.4
    assert 0.15 <= figure("readmission_other_hospital_share") <= 0.3
    assert 330 <= figure("ed_visits_per_1000_2021") <= 480
    assert 0.1 <= figure("ed_visit_admitted_share") <= 0.2
    assert (
        1.9
        <= figure("mean_los_vaginal_delivery_days")
        < figure("mean_los_cesarean_delivery_days")
        <= 3.9
    )
    mix = sum(figure(f"admission_mix_{kind}") for kind in ("emergency", "urgent", "elective"))
    assert mix == pytest.approx(1.0)

"""The clinical catalog (conditions.toml) against the epidemiology files it builds on: the same
conditions and specialties, stay figures read from figures.csv, gating that keeps out whoever
rates.csv says the condition never brings to hospital."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.refdata import data_path, load_catalog

EPIDEMIOLOGY = data_path("epidemiology")


def _read(name: str) -> pd.DataFrame:
    with (EPIDEMIOLOGY / name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)


def test_every_epidemiology_condition_is_in_the_catalog_with_its_specialty():
    listed = _read("conditions.csv").set_index("condition")["specialty"].to_dict()
    catalog = {c.name: c.specialty for c in load_catalog().conditions}
    assert catalog == listed
    assert len(catalog) == 32


def test_catalog_stay_figures_are_those_of_figures_csv():
    figures = _read("figures.csv").pivot(index="condition", columns="figure", values="value")
    for c in load_catalog().conditions:
        row = figures.loc[c.name]
        assert c.los_median == row["los_median"], c.name
        assert c.los_mean == row["los_mean"], c.name
        assert c.mortality == row["mortality"], c.name
        assert c.readmission == row["readmit_30d"], c.name
        assert c.followup_share == row["followup_visit_share"], c.name
        assert c.elective_share == row["elective_share"], c.name
        assert 1 - c.elective_share - c.urgent_share == pytest.approx(row["ed_admit_share"])
        ratio = c.observation_share / (1 - c.observation_share)
        assert ratio == pytest.approx(row["observation_ratio"]), c.name
        assert c.los[0] <= c.los_median <= c.los_mean <= c.los[1], c.name


def test_gating_keeps_out_ages_and_sexes_that_never_come_to_hospital():
    """Where a condition has no stays and no ED visits over a whole age band of one sex,
    no episode of it may begin in that band for that sex."""
    rates = _read("rates.csv")
    rates = rates[rates["measure"].isin(["inpatient_per_1000", "ed_per_1000"])]
    bands = rates.groupby(["condition", "sex", "age_low", "age_high"])["value"].sum()
    never = bands[bands == 0].reset_index()
    assert {"Newborn", "COPD", "Pregnancy complications", "Chest pain"} <= set(never["condition"])
    catalog = load_catalog().by_name
    for row in never.itertuples(index=False):
        c = catalog[row.condition]
        sexes = ("Female", "Male") if row.sex == "All" else (row.sex,)
        for sex in sexes:
            wrong_sex = c.sex is not None and c.sex != sex
            too_young = row.age_high < c.min_age
            too_old = c.max_age is not None and row.age_low > c.max_age
            assert wrong_sex or too_young or too_old, (row.condition, sex, row.age_low)


def test_the_new_conditions_gating():
    catalog = load_catalog().by_name
    assert catalog["Injury"].trauma
    assert (catalog["Newborn"].min_age, catalog["Newborn"].max_age) == (0, 0)
    pregnancy = catalog["Pregnancy complications"]
    assert (pregnancy.sex, pregnancy.min_age, pregnancy.max_age) == ("Female", 12, 50)
    assert catalog["Substance use"].min_age == 12
    assert catalog["COPD"].adult_only
    assert not catalog["Sepsis"].same_day_ok

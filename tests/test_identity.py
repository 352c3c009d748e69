"""Identity that fits: given names by birth year and sex, surnames by national frequency,
and drug doses that fit the patient's age."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from reporting.naming import dataset_names
from reporting.validation import validate
from sim.calendar import age_on, date_keys
from sim.geography import load_zip_table
from sim.population import FEMALE, build_patients, draw_residents
from sim.refdata import FirstNames, data_path, load_catalog, load_demography, load_names
from tests.conftest import TODAY
from tests.test_validation import check, corrupt

FIFTIES_NAMES = ["Linda", "Gary", "Deborah", "Larry", "Debra", "Dennis"]
RECENT_NAMES = ["Liam", "Mason", "Aiden", "Jayden", "Olivia", "Harper", "Aria", "Madison"]


@pytest.fixture(scope="module")
def registry():
    """20,000 patients drawn across the country as a region's are (no simulation)."""
    zips = load_zip_table()
    demography = load_demography()
    residents = draw_residents(
        np.random.default_rng(11),
        20_000,
        zips,
        zips.population / zips.population.sum(),
        TODAY,
        demography,
    )
    return build_patients(
        seed=11,
        region="identity",
        region_number=1,
        region_part=None,
        residents=residents,
        zips=zips,
        payer=np.full(len(residents), 2),
        insurer=np.zeros(len(residents), dtype=np.int64),
        demography=demography,
        names=load_names(),
    )


def share_named(registry, names, born_from, born_to) -> float:
    year = registry.birth.astype("datetime64[Y]").astype(np.int64) + 1970
    cohort = (year >= born_from) & (year <= born_to)
    assert cohort.sum() > 1000
    return float(np.isin(registry.given_name[cohort], names).mean())


def test_given_names_follow_the_birth_year(registry):
    old_in_old = share_named(registry, FIFTIES_NAMES, 1945, 1955)
    old_in_young = share_named(registry, FIFTIES_NAMES, 2015, 2020)
    young_in_young = share_named(registry, RECENT_NAMES, 2015, 2020)
    young_in_old = share_named(registry, RECENT_NAMES, 1945, 1955)
    assert old_in_old > 0.04
    assert old_in_young < old_in_old / 20
    assert young_in_young > 0.02
    assert young_in_old < young_in_young / 20


def test_given_names_follow_sex(registry):
    female = registry.gender == FEMALE
    assert not np.isin(registry.given_name[female], ["Gary", "Larry", "Liam", "Noah"]).any()
    assert not np.isin(registry.given_name[~female], ["Linda", "Debra", "Olivia", "Ava"]).any()


def test_surnames_spread_like_the_census(registry):
    last = pd.Series(registry.last_name[:10_000])
    shares = last.value_counts(normalize=True)
    assert last.nunique() > 3000
    assert shares.index[0] == "Smith"
    assert 0.006 < shares.iloc[0] < 0.013  # Smith: 0.83% of the 2010 census


def test_the_name_files_parse_with_positive_counts():
    first = pd.read_csv(data_path("first_names.csv"), comment="#", keep_default_na=False)
    last = pd.read_csv(data_path("last_names.csv"), comment="#", keep_default_na=False)
    assert (first["births"] > 0).all() and (last["count"] > 0).all()
    assert set(first["gender"]) == {"Male", "Female"}
    assert not first.duplicated(["birth_year_from", "gender", "first_name"]).any()
    assert first["birth_year_from"].min() == 1880
    assert len(last) > 10_000 and not last["last_name"].duplicated().any()
    assert not (first["first_name"].str.strip() == "").any()
    assert not (last["last_name"].str.strip() == "").any()
    names = load_names()
    assert np.isclose(names.last.probabilities.sum(), 1.0)


def test_doctors_are_named_like_people_born_1950_to_1998():
    names = load_names()
    male = dict(zip(names.first_male.labels, names.first_male.probabilities))
    female = dict(zip(names.first_female.labels, names.first_female.probabilities))
    assert male["Michael"] > 50 * male.get("Liam", 0.0)
    assert female["Jennifer"] > 50 * female.get("Harper", 0.0)


def test_a_doctors_name_taken_by_an_earlier_region_gets_middle_initials():
    """Collisions are rare with 43,000 surnames, so the initials are tested directly."""
    regions = [
        SimpleNamespace(staff=SimpleNamespace(name_list=lambda names=names: names), hospitals=[])
        for names in (["Dr. Ann Lee"], ["Dr. Ann Lee", "Dr. Bo Diaz"], ["Dr. Ann Lee"])
    ]
    named = dataset_names(regions)
    assert [region.doctors for region in named] == [
        ["Dr. Ann Lee"],
        ["Dr. Ann A. Lee", "Dr. Bo Diaz"],
        ["Dr. Ann J. Lee"],
    ]
    assert [region.doctor_offset for region in named] == [0, 1, 3]


def test_first_names_draw_stays_within_the_block_and_sex():
    frame = pd.DataFrame(
        {
            "birth_year_from": [1900, 1900, 1950, 1950, 1950],
            "birth_year_to": [1949, 1949, 1999, 1999, 1999],
            "gender": ["Male", "Female", "Male", "Female", "Female"],
            "first_name": ["Old", "Olda", "New", "Newa", "Newb"],
            "births": [1, 1, 1, 1, 3],
        }
    )
    names = FirstNames.from_frame(frame)
    u = np.array([0.0, np.nextafter(1.0, 0.0), 0.2, 0.3, 0.5, 0.5])
    year = np.array([1800, 1949, 1950, 1960, 2100, 1920])
    female = np.array([False, True, True, True, False, True])
    assert names.draw(u, year, female).tolist() == ["Old", "Olda", "Newa", "Newb", "New", "Olda"]
    with pytest.raises(ValueError, match="follow one another"):
        FirstNames.from_frame(frame.assign(birth_year_to=[1940, 1940, 1999, 1999, 1999]))


def test_date_keys_give_the_age_as_age_on_does():
    rng = np.random.default_rng(5)
    birth = np.datetime64("1930-01-01") + rng.integers(0, 35_000, 5000)
    day = birth + rng.integers(0, 35_000, 5000)
    birth[:3] = np.datetime64("2000-02-29")  # leap-day birthdays, a day before and on 1 March
    day[:3] = np.array(["2001-02-28", "2001-03-01", "2004-02-29"], dtype="datetime64[D]")
    assert ((date_keys(day) - date_keys(birth)) // 10000).tolist() == age_on(birth, day).tolist()


def test_every_age_a_condition_treated_with_medication_can_reach_has_a_dose():
    catalog = load_catalog()
    meds = catalog.medications
    for condition in catalog.conditions:
        if "Medication" in condition.treatments:
            for age in range(condition.min_age, 111):
                rows = meds.rows_for(condition.code, age)
                assert rows, (condition.name, age)
                assert all(meds.conditions[r] == condition.name for r in rows)


def test_children_get_childrens_doses(small_run):
    """Independent of the loader: each drug given is a row of medications.csv for the
    condition whose age range holds the patient's age at the visit."""
    visits = small_run[1].visits
    given = visits[visits["medication"].notna()].astype({"condition": "string"})
    table = pd.read_csv(data_path("medications.csv"), comment="#", dtype=str)
    table["min_age"] = table["min_age"].astype(int)
    table["max_age"] = pd.to_numeric(table["max_age"]).fillna(np.inf)
    keys = ["condition", "medication", "dosage", "frequency"]
    joined = given[[*keys, "age"]].astype({k: str for k in keys}).merge(table, on=keys, how="left")
    assert len(joined) == len(given)
    assert joined["min_age"].notna().all()
    assert ((joined["age"] >= joined["min_age"]) & (joined["age"] <= joined["max_age"])).all()
    children = joined[joined["age"] < 12]
    assert len(children) >= 20
    assert children["dosage"].str.endswith("mg/kg").any()


def test_an_adult_dose_for_a_child_is_caught(small_run):
    tables = small_run[1]
    assert check(tables, "dose_outside_age_range") == 0

    def give_a_toddler_an_adult_dose(frame):
        child = frame.index[(frame["age"] < 12) & frame["medication"].notna()][0]
        frame.loc[child, ["condition", "medication", "dosage", "frequency"]] = [
            "Flu",
            "Oseltamivir",
            "75 mg",
            "Twice daily",
        ]

    broken = corrupt(tables, "visits", give_a_toddler_an_adult_dose)
    assert check(broken, "dose_outside_age_range") == 1
    assert validate(broken, today=TODAY)["ok"] is False

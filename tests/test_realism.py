"""The realism scorecard: each measure on small hand-built tables with a known answer, the
fallbacks for tables without the new columns, slices that add up to the whole, the summary's
section and the report's table."""

from __future__ import annotations

import argparse
import datetime as dt
import html
import re
import types
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from reporting import report
from reporting.app.cli import digest
from reporting.realism import (
    COMPUTATIONS,
    Scope,
    load_targets,
    realism_counts,
    realism_section,
    scorecard,
)
from reporting.recorder import Tables

START, TODAY = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
WINDOW_YEARS = 731 / 365.25


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    return frame


VISIT = {
    "visit_id": 1,
    "patient_id": 1,
    "age": 50,
    "condition": "Flu",
    "treatment": "Medication",
    "doctor_id": 1,
    "date_of_admission": "2023-06-01",
    "date_of_discharge": "2023-06-03",
}


def make_tables(patients: list[dict], visits: list[dict], bills: list[dict] | None = None):
    """Tables from rows that give only what a test is about (the rest defaults)."""
    patients = [
        {"date_of_birth": "1970-01-01", "gender": "Female", "insurance_provider": "Acme"}
        | {"patient_id": i + 1}
        | row
        for i, row in enumerate(patients)
    ]
    visits = [VISIT | {"visit_id": i + 1} | row for i, row in enumerate(visits)]
    if bills is None:
        bills = [{} for _ in visits]
    bills = [
        {
            "visit_id": visit["visit_id"],
            "patient_id": visit["patient_id"],
            "total_charge": 1000,
            "patient_responsibility_amount": 100,
        }
        | row
        for visit, row in zip(visits, bills)
    ]
    patient_frame = _dates(pd.DataFrame(patients), "date_of_birth", "date_of_death")
    patient_frame["insurance_provider"] = patient_frame["insurance_provider"].astype("string")
    columns = list(dict.fromkeys(key for row in [VISIT, *visits] for key in row))
    visit_frame = pd.DataFrame(visits, columns=columns)
    visit_frame = _dates(visit_frame, "date_of_admission", "date_of_discharge")
    for column in ("condition", "treatment"):
        visit_frame[column] = visit_frame[column].astype("category")
    patient_frame["gender"] = patient_frame["gender"].astype("category")
    bill_columns = ["visit_id", "patient_id", "total_charge", "patient_responsibility_amount"]
    bill_columns += [key for key in (bills[0] if bills else {}) if key not in bill_columns]
    return Tables(patient_frame, visit_frame, pd.DataFrame(bills, columns=bill_columns))


def scores(tables, **options) -> dict[str, dict]:
    options = {"start": START, "today": TODAY} | options
    return {row["id"]: row for row in scorecard(tables, **options)}


def value(tables, target: str, **options):
    return scores(tables, **options)[target]["value"]


def population(person_years: float = 100.0, **fields) -> dict:
    return {"person_years": person_years} | fields


def by_age(**ages: float) -> dict:
    """person_years_by_age with ``a70=10`` meaning 10 person-years at age 70 (women)."""
    years = [0.0] * 101
    for key, amount in ages.items():
        years[int(key[1:])] = amount
    return {"Female": years, "Male": [0.0] * 101}


# ----------------------------------------------------------------------------- the data file


def test_every_target_has_a_band_a_source_and_a_computation():
    targets = load_targets().rows
    # the 23 lines of REALISM.md's table, one row per figure, and figures nobody listed there
    # that a right model should also land near (births paid by Medicaid, uncompensated care,
    # the crude death rate, the share of deaths in hospital, clinic visits at weekends)
    assert len(targets) == 38
    for target in targets:
        assert target.computation in COMPUTATIONS
        assert target.source and target.definition and target.unit and target.measure
        assert target.low is not None or target.high is not None
        if target.low is not None and target.high is not None:
            assert target.low < target.high, target.id
    assert len({t.id for t in targets}) == len(targets)


# ----------------------------------------------------------------------------- stays


def test_length_of_stay_mean_and_long_stays():
    tables = make_tables(
        [{}],
        [
            {"date_of_admission": "2023-03-01", "date_of_discharge": "2023-03-03"},
            {"date_of_admission": "2023-05-01", "date_of_discharge": "2023-05-05"},
            {"date_of_admission": "2023-07-01", "date_of_discharge": "2023-07-31"},
        ],
    )
    rows = scores(tables)
    assert rows["mean_los"]["value"] == 12.0 and rows["mean_los"]["ok"] is False
    assert rows["long_stay_share"]["value"] == pytest.approx(100 / 3, abs=1e-4)


def test_stays_per_1000_from_the_patients_or_the_population():
    tables = make_tables([{}, {}], [{"patient_id": 1}, {"patient_id": 2}, {"patient_id": 2}])
    row = scores(tables)["stays_per_1000"]
    assert row["value"] == pytest.approx(round(3 / (2 * WINDOW_YEARS) * 1000, 4))
    assert "no population section" in row["note"] and "encounter_type" in row["note"]
    assert value(tables, "stays_per_1000", population=population(30.0)) == 100.0


def test_person_days_follow_birthdays_and_deaths():
    tables = make_tables(
        [
            {"date_of_birth": "2000-07-01"},
            {"date_of_birth": "1980-01-01", "gender": "Male", "date_of_death": "2023-03-01"},
            {"date_of_birth": "2024-12-30"},  # born in the window: alive 2 days
        ],
        [],
    )
    counts = realism_counts(tables, START, dt.date(2023, 12, 31))
    assert counts[("person_days", "Female", 22)] == 181  # 1 January - 30 June
    assert counts[("person_days", "Female", 23)] == 184
    assert counts[("person_days", "Male", 43)] == 59  # alive at the end of 1 Jan - 28 Feb
    assert counts[("residents", 2023)] == 2
    counts = realism_counts(tables, START, TODAY)
    assert counts[("person_days", "Female", 0)] == 2
    assert counts[("alive", "Female", 0)] == 1 and counts[("alive", "Male", 44)] == 0


def test_share_with_a_stay_is_the_mean_over_full_years():
    tables = make_tables(
        [{}, {}, {}, {}],
        [
            {"patient_id": 1, "date_of_admission": "2023-02-01", "date_of_discharge": "2023-02-02"},
            {"patient_id": 1, "date_of_admission": "2023-03-01", "date_of_discharge": "2023-03-02"},
            {"patient_id": 1, "date_of_admission": "2024-02-01", "date_of_discharge": "2024-02-02"},
            {"patient_id": 2, "date_of_admission": "2024-03-01", "date_of_discharge": "2024-03-02"},
        ],
    )
    assert value(tables, "share_with_stay") == 37.5  # (1/4 + 2/4) / 2
    residents = population(residents_by_year={"2023": 10, "2024": 20})
    assert value(tables, "share_with_stay", population=residents) == 10.0
    row = scores(tables, start=dt.date(2023, 2, 1))["share_with_stay"]  # 2024 only
    assert row["value"] == 50.0
    row = scores(tables, start=dt.date(2023, 2, 1), today=dt.date(2024, 6, 30))["share_with_stay"]
    assert row["value"] is None and row["ok"] is None and "full calendar year" in row["note"]


def test_stays_at_65_74_against_45_54():
    visits = [{"age": 70}] * 3 + [{"age": 50}] * 2 + [{"age": 60}]
    tables = make_tables([{}], visits)
    ages = population(person_years_by_age=by_age(a70=10.0, a50=20.0))
    assert value(tables, "stays_65_74_over_45_54", population=ages) == 3.0


def test_emergency_visits_need_encounter_types():
    rows = [{"encounter_type": "Emergency"}] * 2 + [
        {"encounter_type": "Inpatient", "admission_type": "Emergency"},
        {"encounter_type": "Observation", "admission_type": "Trauma"},
        {"encounter_type": "Inpatient", "admission_type": "Elective"},
        {"encounter_type": "Outpatient", "admission_type": "Elective"},
    ]
    without = make_tables([{}], [{}])
    row = scores(without)["ed_visits_per_1000"]
    assert row["value"] is None and row["ok"] is None
    assert row["note"] == "not measurable: no visits.encounter_type"
    tables = make_tables([{}], rows)
    assert value(tables, "ed_visits_per_1000", population=population(4.0)) == 1000.0
    assert value(tables, "stays_per_1000", population=population(4.0)) == 500.0  # 2 inpatient


def test_in_hospital_mortality():
    dispositions = ["Home", "Expired", "Home health", "Skilled nursing facility"]
    tables = make_tables([{}], [{"discharge_disposition": d} for d in dispositions])
    assert value(tables, "in_hospital_mortality") == 25.0
    row = scores(make_tables([{}], [{}]))["in_hospital_mortality"]
    assert row["value"] is None and "discharge_disposition" in row["note"]


# ----------------------------------------------------------------------------- readmissions


def readmission_visits(**first: str) -> list[dict]:
    """Stays of one patient: A (heart disease) readmitted 10 days later as B (pneumonia), C
    58 days after B, discharged too close to --today to be an index stay."""
    return [
        {
            "condition": "Heart disease",
            "date_of_admission": "2024-01-01",
            "date_of_discharge": "2024-01-10",
        }
        | first,
        {
            "condition": "Pneumonia",
            "date_of_admission": "2024-01-20",
            "date_of_discharge": "2024-01-22",
        },
        {"date_of_admission": "2024-03-20", "date_of_discharge": "2024-03-25"},
    ]


def test_readmissions_within_30_days():
    options = {"today": dt.date(2024, 4, 10)}
    rows = scores(make_tables([{}], readmission_visits()), **options)
    assert rows["readmission_30d"]["value"] == 50.0  # A readmitted, B not, C too recent
    assert rows["readmission_30d_heart_disease"]["value"] == 100.0
    assert rows["readmission_30d_pneumonia"]["value"] == 0.0
    assert "every admission counted as unplanned" in rows["readmission_30d"]["note"]
    planned = readmission_visits()
    planned[1]["admission_type"] = "Elective"
    for visit in (planned[0], planned[2]):
        visit["admission_type"] = "Emergency"
    assert value(make_tables([{}], planned), "readmission_30d", **options) == 0.0
    transferred = readmission_visits(discharge_disposition="Transferred to another hospital")
    for visit in transferred[1:]:
        visit["discharge_disposition"] = "Home"
    assert value(make_tables([{}], transferred), "readmission_30d", **options) == 0.0


def test_a_readmission_on_the_discharge_day_counts_and_never_the_stay_itself():
    visits = [
        {"date_of_admission": "2024-01-05", "date_of_discharge": "2024-01-05"},
        {"date_of_admission": "2024-01-05", "date_of_discharge": "2024-01-08"},
        {"patient_id": 2, "date_of_admission": "2024-01-09", "date_of_discharge": "2024-01-09"},
    ]
    tables = make_tables([{}, {}], visits)
    assert value(tables, "readmission_30d") == pytest.approx(100 / 3, abs=1e-4)


# ----------------------------------------------------------------------------- money


def test_charges_and_payers_without_payer_type():
    tables = make_tables(
        [{}, {"insurance_provider": None}],
        [{"patient_id": 1}, {"patient_id": 1}, {"patient_id": 2}],
        [
            {"total_charge": 60000, "patient_responsibility_amount": 3000},
            {"total_charge": 40000, "patient_responsibility_amount": 7000},
            {"total_charge": 20000, "patient_responsibility_amount": 20000},
        ],
    )
    rows = scores(tables)
    assert rows["mean_charge"]["value"] == 40000.0 and rows["mean_charge"]["ok"] is True
    assert rows["insured_charge_share"]["value"] == 10.0
    assert rows["payer_uninsured"]["value"] == pytest.approx(100 / 3, abs=1e-4)
    assert "billing.payer_type" in rows["payer_uninsured"]["note"]
    assert rows["payer_medicare"]["value"] is None
    assert rows["uninsured_share_all"]["value"] == 50.0


def test_payer_mix_from_payer_type():
    payers = ["Medicare", "Medicare", "Medicaid", "Self-pay"]
    tables = make_tables([{}], [{}] * 4, [{"payer_type": p} for p in payers])
    rows = scores(tables)
    assert rows["payer_medicare"]["value"] == 50.0
    assert rows["payer_medicaid"]["value"] == 25.0 and rows["payer_private"]["value"] == 0.0
    assert rows["payer_uninsured"]["value"] == 25.0
    assert rows["insured_charge_share"]["value"] == 10.0  # the self-pay bill left out


def test_births_paid_by_medicaid_and_uncompensated_care():
    visits = [
        {"condition": "Childbirth", "treatment": "Delivery", "gender": "Female", "age": 28},
        {"condition": "Childbirth", "treatment": "Cesarean Section", "age": 31},
        {"condition": "Flu"},
    ]
    bills = [
        {"payer_type": "Medicaid", "total_charge": 10000, "adjustment_amount": 8000,
         "charity_care_amount": 0, "patient_responsibility_amount": 0,
         "payment_status": "Paid"},
        {"payer_type": "Private", "total_charge": 20000, "adjustment_amount": 10000,
         "charity_care_amount": 0, "patient_responsibility_amount": 1000,
         "payment_status": "Late-Unpaid"},
        {"payer_type": "Self-pay", "total_charge": 5000, "adjustment_amount": 3000,
         "charity_care_amount": 1500, "patient_responsibility_amount": 500,
         "payment_status": "Paid"},
    ]  # fmt: skip
    rows = scores(make_tables([{"gender": "Female"}], visits, bills))
    assert rows["medicaid_births"]["value"] == 50.0
    # (charity 1,500 + overdue 1,000) / (35,000 charged - 21,000 adjusted)
    assert rows["uncompensated_care"]["value"] == pytest.approx(2500 / 14000 * 100, abs=1e-3)


def test_uninsured_share_by_age_on_the_last_day():
    tables = make_tables(
        [
            {"date_of_birth": "2010-01-01", "insurance_provider": None},
            {"date_of_birth": "2010-01-01"},
            {"date_of_birth": "1950-01-01"},
            {
                "date_of_birth": "1950-01-01",
                "insurance_provider": None,
                "date_of_death": "2024-01-01",
            },
        ],
        [],
    )
    rows = scores(tables)
    assert rows["uninsured_share_0_18"]["value"] == 50.0
    assert rows["uninsured_share_65_plus"]["value"] == 0.0  # the uninsured one died
    assert rows["uninsured_share_all"]["value"] == pytest.approx(100 / 3, abs=1e-4)


# ----------------------------------------------------------------------------- births


def test_deliveries_by_mode_and_mothers_age():
    def delivery(treatment: str, age: int, days: int) -> dict:
        return {
            "condition": "Childbirth",
            "treatment": treatment,
            "age": age,
            "date_of_admission": "2023-05-01",
            "date_of_discharge": f"2023-05-{1 + days:02d}",
        }

    visits = [
        delivery("Delivery", 19, 2),
        delivery("Cesarean Section", 30, 4),
        delivery("C-Section", 41, 3),
        delivery("Postpartum Checkup", 30, 1),  # a follow-up, not a delivery
        delivery("Delivery", 30, 2) | {"admission_type": "Newborn"},  # the baby's stay
    ]
    visits[0]["admission_type"] = "Emergency"
    tables = make_tables([{}], visits)
    women = population(person_years_by_age=by_age(a30=50.0))
    rows = scores(tables, population=women)
    assert rows["los_vaginal"]["value"] == 2.0 and rows["los_cesarean"]["value"] == 3.5
    assert rows["cesarean_share"]["value"] == pytest.approx(200 / 3, abs=1e-4)
    assert rows["mothers_under_20"]["value"] == pytest.approx(100 / 3, abs=1e-4)
    assert rows["mothers_40_plus"]["value"] == pytest.approx(100 / 3, abs=1e-4)
    assert rows["deliveries_per_1000_women"]["value"] == 60.0


# ----------------------------------------------------------------------------- time


def test_flu_winter_against_summer_per_day():
    flu = [{"date_of_admission": "2023-01-15", "date_of_discharge": "2023-01-16"}] * 9 + [
        {"date_of_admission": "2023-07-15", "date_of_discharge": "2023-07-16"},
        {
            "condition": "Pneumonia",
            "date_of_admission": "2023-07-15",
            "date_of_discharge": "2023-07-16",
        },
    ]
    tables = make_tables([{}], flu)
    # 90 days in January, February and December 2023; 92 in June-August
    ratio = value(tables, "flu_winter_over_summer", today=dt.date(2023, 12, 31))
    assert ratio == pytest.approx(round((9 / 90) / (1 / 92), 4))


def test_flu_without_a_summer_admission_is_a_lower_bound_and_without_any_not_measured():
    winter = {"date_of_admission": "2023-01-15", "date_of_discharge": "2023-01-16"}
    row = scores(make_tables([{}], [winter] * 9), today=dt.date(2023, 12, 31))[
        "flu_winter_over_summer"
    ]
    assert row["value"] == pytest.approx(round((9 / 90) / (1 / 92), 4)) and row["ok"] is True
    assert "lower bound" in row["note"]
    spring = {"date_of_admission": "2023-04-15", "date_of_discharge": "2023-04-16"}
    row = scores(make_tables([{}], [spring]), today=dt.date(2023, 12, 31))["flu_winter_over_summer"]
    assert row["value"] is None and row["ok"] is None


def test_weekend_against_weekday_admissions_per_day():
    days = ["2024-01-06", "2024-01-07", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-03"]
    tables = make_tables([{}], [{"date_of_admission": d, "date_of_discharge": d} for d in days])
    week = {"start": dt.date(2024, 1, 1), "today": dt.date(2024, 1, 7)}  # Monday to Sunday
    assert value(tables, "weekend_over_weekday", **week) == 1.25  # (2 / 2) / (4 / 5)


# ----------------------------------------------------------------------------- prevalence


def test_prevalence_from_visits_and_from_the_conditions_table():
    adults = [{"date_of_birth": "1995-01-01"}] * 4 + [{"date_of_birth": "1950-01-01"}]
    visits = [
        {"patient_id": 1, "condition": "High blood pressure"},
        {"patient_id": 1, "condition": "High blood pressure"},
        {"patient_id": 5, "condition": "Asthma"},
    ]
    tables = make_tables(adults, visits)
    rows = scores(tables)
    assert rows["hypertension_18_39"]["value"] == 25.0
    assert rows["hypertension_60_plus"]["value"] == 0.0
    assert rows["asthma_adults"]["value"] == 20.0
    assert "no conditions table" in rows["hypertension_18_39"]["note"]
    conditions = _dates(
        pd.DataFrame(
            {
                "patient_id": [2, 3, 4, 5],
                "condition": ["High blood pressure"] * 4,
                "diagnosis_date": ["2010-01-01", "2020-01-01", "2025-01-01", "2000-01-01"],
                "resolution_date": [None, "2021-01-01", None, None],
            }
        ),
        "diagnosis_date",
        "resolution_date",
    )
    with_list = types.SimpleNamespace(**dict(tables.items()), conditions=conditions)
    rows = scores(with_list)
    assert rows["hypertension_18_39"]["value"] == 25.0  # patient 2 only
    assert rows["hypertension_60_plus"]["value"] == 100.0
    assert rows["asthma_adults"]["value"] == 0.0 and rows["hypertension_18_39"]["note"] is not None
    ages = population(person_years_by_age=by_age(a27=4 * WINDOW_YEARS, a28=4 * WINDOW_YEARS))
    assert value(with_list, "hypertension_18_39", population=ages) == 12.5  # 1 of 8 residents


# ----------------------------------------------------------------------------- capacity, care


def test_bed_occupancy_from_visits_or_the_census():
    tables = make_tables(
        [{}], [{"date_of_admission": "2023-01-02", "date_of_discharge": "2023-01-05"}]
    )
    window = {"start": dt.date(2023, 1, 1), "today": dt.date(2023, 1, 10)}
    row = scores(tables, rooms=2, **window)["bed_occupancy"]
    assert row["value"] == 15.0 and "no census" in row["note"]  # 3 nights of 20
    assert scores(tables, **window)["bed_occupancy"]["value"] is None
    census = pd.DataFrame(
        {
            "date": pd.to_datetime(["2022-12-31", "2023-01-01", "2023-01-02"]),
            "rooms": [10, 10, 10],
            "occupied_rooms": [10, 7, 6],
        }
    )
    assert scores(tables, census=census, **window)["bed_occupancy"]["value"] == 65.0


def test_doctor_coc_over_outpatient_visits():
    doctors = [(1, 1), (1, 1), (1, 2), (2, 1), (2, 1), (3, 1)]  # (patient, doctor)
    visits = [{"patient_id": p, "doctor_id": d} for p, d in doctors]
    tables = make_tables([{}, {}, {}], visits)
    row = scores(tables)["doctor_coc"]
    assert row["value"] == pytest.approx(round((1 / 3 + 1) / 2, 4))  # patient 3: one visit
    assert "all visits" in row["note"]
    typed = [v | {"encounter_type": "Outpatient"} for v in visits]
    typed[2]["encounter_type"] = "Inpatient"  # patient 1 keeps doctors 1, 1
    assert value(make_tables([{}, {}, {}], typed), "doctor_coc") == 1.0


# ----------------------------------------------------------------------------- a run


def test_slices_of_whole_patients_add_up_to_the_whole(small_run):
    simulation, tables, _ = small_run
    start, today = simulation.scenario.start, simulation.as_of
    first = set(tables.patients.loc[tables.patients["state"] < "MA", "patient_id"])
    halves = [
        Tables(*(frame[frame["patient_id"].isin(first) == keep] for _, frame in tables.items()))
        for keep in (True, False)
    ]
    whole = realism_counts(tables, start, today)
    merged = sum((realism_counts(half, start, today) for half in halves), Counter())
    assert len(whole) > 1000
    assert {k: n for k, n in merged.items() if k[0] != "missing"} == {
        k: n for k, n in whole.items() if k[0] != "missing"
    }
    assert {k for k in merged if k[0] == "missing"} == {k for k in whole if k[0] == "missing"}


def test_the_summary_has_a_row_per_target_with_its_source(small_run):
    simulation, tables, summary = small_run
    rows = summary["realism"]
    assert [row["id"] for row in rows] == [target.id for target in load_targets().rows]
    for row in rows:
        assert row["source"] and row["unit"]
        if row["value"] is None:
            assert row["ok"] is None and row["note"].startswith("not measurable")
        else:
            low, high = row["band"]
            inside = (low is None or row["value"] >= low) and (high is None or row["value"] <= high)
            assert row["ok"] is inside
    # the measures of encounter types are measured; the length of stay lands in its band
    by_id = {row["id"]: row for row in rows}
    assert by_id["ed_visits_per_1000"]["value"] > 0
    assert by_id["in_hospital_mortality"]["value"] > 0
    rooms = int(simulation.hospitals()["rooms"].sum())
    assert (
        scorecard(
            tables,
            start=simulation.scenario.start,
            today=simulation.as_of,
            rooms=rooms,
            unwritten_room_days=summary["capacity"]["unwritten_room_days"],
            population=summary["population"],
        )
        == rows
    )


def test_the_report_and_the_digest_show_the_scorecard(small_run):
    summary = small_run[2]
    section = report._realism(summary)
    rows = re.findall(r"<tr( class=\"\w+\")?><td title=", section)
    assert len(rows) == len(summary["realism"])
    for row in summary["realism"]:
        assert html.escape(row["measure"]) in section
    marks = section.count("\u2713 in band") + section.count("\u2717 out of band")
    assert marks + section.count("not measurable</td>") == len(rows)
    args = argparse.Namespace(
        outdir=Path("out"),
        export_prefix=None,
        format="csv",
        report=False,
        duckdb=None,
        postgres=None,
    )
    lines = list(digest(args, summary, {"patients": 600}, 1.0))
    scored = [row["ok"] for row in summary["realism"] if row["ok"] is not None]
    unmeasured = len(summary["realism"]) - len(scored)
    assert lines[-2] == (
        f"realism: {sum(scored)} of {len(summary['realism'])} targets in band"
        + (f" ({unmeasured} not measurable)" if unmeasured else "")
    )


def test_tables_with_nothing_to_measure_give_notes_not_errors():
    rows = realism_section(Counter(), Scope(START, TODAY))
    assert all(row["value"] is None and row["note"].startswith("not measurable") for row in rows)

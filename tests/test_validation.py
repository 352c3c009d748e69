"""Each rule check catches the fault it is named after (the old generator's bugs among them)."""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd
import pytest

from reporting.validation import validate
from sim.geography import load_zip_table
from sim.refdata import load_catalog
from tests.conftest import TODAY


def check(tables, name: str) -> int:
    result = validate(tables, today=TODAY, catalog=load_catalog(), zips=load_zip_table())
    return result["checks"][name]


def corrupt(tables, table: str, change):
    frame = getattr(tables, table).copy()
    for column in frame.columns:  # plain objects so any value can be written
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("string")
    change(frame)
    return attrs.evolve(tables, **{table: frame})


def first_where(frame, mask):
    return frame.index[mask][0]


def test_clean_tables_pass(small_run):
    _, _tables, summary = small_run
    assert summary["ok"] is True


CASES = {
    "duplicate_visit_ids": (
        "visits",
        lambda f: f.__setitem__(
            "visit_id", f["visit_id"].where(f.index != f.index[1], f["visit_id"].iloc[0])
        ),
    ),
    "visits_with_several_bills": (
        "billing",
        lambda f: f.__setitem__(
            "visit_id", f["visit_id"].where(f.index != f.index[1], f["visit_id"].iloc[0])
        ),
    ),
    "visits_with_unknown_patient": (
        "visits",
        lambda f: f.loc.__setitem__((f.index[0], "patient_id"), 10**9),
    ),
    "prefix_gender_conflicts": (
        "patients",
        lambda f: f.loc.__setitem__(
            (first_where(f, (f["gender"] == "Male") & (f["age"] > 20)), "prefix"), "Ms."
        ),
    ),
    "prefix_on_minors": (
        "patients",
        lambda f: f.loc.__setitem__((first_where(f, f["age"] < 10), "prefix"), "Mrs."),
    ),
    "policy_numbers_not_text": (
        "patients",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["insurance_policy_number"].notna()), "insurance_policy_number"),
            "933036710.0",
        ),
    ),
    "policy_without_provider": (
        "patients",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["insurance_policy_number"].notna()), "insurance_provider"), None
        ),
    ),
    "dates_after_today": (
        "visits",
        lambda f: f.loc.__setitem__((f.index[0], "date_of_discharge"), pd.Timestamp("2025-07-05")),
    ),
    "amounts_do_not_add_up": (
        "billing",
        lambda f: f.loc.__setitem__((f.index[0], "total_charge"), f["total_charge"].iloc[0] + 1),
    ),
    "charges_below_minimum": (
        "billing",
        lambda f: f.loc.__setitem__(
            (
                f.index[0],
                [
                    "total_charge",
                    "adjustment_amount",
                    "charity_care_amount",
                    "insurance_coverage_amount",
                    "patient_responsibility_amount",
                ],
            ),
            [50, 0, 0, 0, 50],
        ),
    ),
    "payment_status_inconsistent": (
        "billing",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payment_status"] == "Paid"), "payment_status"), "Late-Unpaid"
        ),
    ),
    "self_pay_with_coverage": (
        "billing",
        lambda f: f.loc.__setitem__(
            (
                first_where(
                    f, (f["payer_type"] == "Private") & (f["insurance_coverage_amount"] > 0)
                ),
                "payer_type",
            ),
            "Self-pay",
        ),
    ),
    "plan_not_matching_payer": (
        "billing",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payer_type"] == "Self-pay"), "insurance_plan"), "Aetna"
        ),
    ),
    "charity_care_for_insured": (
        "billing",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payer_type"] == "Private"), "charity_care_amount"), 10
        ),
    ),
    "coverage_basis_not_fitting": (
        "coverage",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payer_type"] == "Private"), "coverage_basis"), "Disability"
        ),
    ),
    "out_of_pocket_above_yearly_limit": (
        "billing",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payer_type"] == "Private"), "patient_responsibility_amount"),
            20_000,
        ),
    ),
    "pediatric_gating": (
        "visits",
        lambda f: f.loc.__setitem__((first_where(f, f["age"] < 18), "condition"), "Stroke"),
    ),
    "doctor_names_not_dr": (
        "visits",
        lambda f: f.loc.__setitem__((f.index[0], "doctor"), "Mr. John Doe"),
    ),
    "zip_state_city_disagreement": (
        "patients",
        lambda f: f.loc.__setitem__((f.index[0], "state"), "ZZ"),
    ),
    "zipcodes_not_5_digits": (
        "patients",
        lambda f: f.loc.__setitem__((f.index[0], "zipcode"), "2134"),
    ),
    "medication_fields_inconsistent": (
        "visits",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["treatment"] != "Medication"), "medication"), "Aspirin"
        ),
    ),
    "bills_not_matching_coverage": (
        "billing",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payer_type"] == "Private"), "insurance_plan"), "Another Plan"
        ),
    ),
    "patients_not_matching_last_coverage": (
        "patients",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payer_type"] == "Private"), "insurance_provider"), "Another Plan"
        ),
    ),
    "patients_without_coverage": (
        "coverage",
        lambda f: f.loc.__setitem__((f["patient_id"] == f["patient_id"].iloc[0], "patient_id"), 2),
    ),
    "coverage_with_unknown_patient": (
        "coverage",
        lambda f: f.loc.__setitem__((f.index[0], "patient_id"), 10**7),
    ),
    "coverage_gaps": (
        "coverage",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["patient_id"] == f["patient_id"].shift()), "start_date"),
            f["start_date"][first_where(f, f["patient_id"] == f["patient_id"].shift())]
            + pd.Timedelta(days=1),
        ),
    ),
    "coverage_overlaps": (
        "coverage",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["patient_id"] == f["patient_id"].shift(-1)), "end_date"), pd.NaT
        ),
    ),
    "coverage_ending_before_start": (
        "coverage",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["end_date"].notna()), "end_date"), pd.Timestamp("1950-01-01")
        ),
    ),
    "coverage_plan_not_matching_payer": (
        "coverage",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["payer_type"] == "Self-pay"), "insurance_plan"), "Aetna"
        ),
    ),
    "coverage_before_birth": (
        "coverage",
        lambda f: f.loc.__setitem__((f.index[0], "start_date"), pd.Timestamp("1900-01-01")),
    ),
    "coverage_after_today": (
        "coverage",
        lambda f: f.loc.__setitem__(
            (first_where(f, f["end_date"].isna()), "start_date"), pd.Timestamp("2030-01-01")
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_catches_its_fault(small_run, name):
    table, change = CASES[name]
    tables = small_run[1]
    assert check(tables, name) == 0
    assert check(corrupt(tables, table, change), name) >= 1


def test_overlapping_stays_and_double_booked_rooms_are_caught(small_run):
    tables = small_run[1]
    visits = tables.visits
    in_bed = visits[visits["encounter_type"].isin(["Inpatient", "Observation"])]
    counts = in_bed.groupby("patient_id").size()
    patient = counts[counts >= 2].index[0]
    rows = in_bed.index[in_bed["patient_id"] == patient][:2]

    def overlap(frame):
        frame.loc[rows[1], "date_of_admission"] = frame.loc[rows[0], "date_of_admission"]
        frame.loc[rows[1], "date_of_discharge"] = frame.loc[
            rows[0], "date_of_admission"
        ] + pd.Timedelta(days=3)
        frame.loc[rows[0], "date_of_discharge"] = frame.loc[
            rows[0], "date_of_admission"
        ] + pd.Timedelta(days=3)
        frame.loc[rows[1], ["hospital", "room_number"]] = frame.loc[
            rows[0], ["hospital", "room_number"]
        ].to_numpy()

    broken = corrupt(tables, "visits", overlap)
    assert check(broken, "overlapping_stays") >= 1
    assert check(broken, "double_booked_rooms") >= 1


def test_a_followup_flag_without_a_followup_is_caught(small_run):
    tables = small_run[1]

    def flag_a_last_visit(frame):
        last = frame.sort_values("date_of_admission").groupby(["patient_id", "condition"]).tail(1)
        early = last["date_of_discharge"] < pd.Timestamp(TODAY) - pd.Timedelta(days=365)
        chosen = last.index[(last["follow_up_required"] == "N") & early][0]
        frame.loc[chosen, "follow_up_required"] = "Y"

    assert (
        check(corrupt(tables, "visits", flag_a_last_visit), "followup_required_without_followup")
        >= 1
    )


def test_childbirth_on_a_man_is_caught(small_run):
    tables = small_run[1]

    def man_gives_birth(frame):
        births = frame.index[frame["condition"] == "Childbirth"]
        male = frame.index[(frame["gender"] == "Male") & (frame["age"] >= 18)]
        frame.loc[male[0], ["condition", "treatment"]] = ["Childbirth", "Delivery"]
        assert len(births) >= 0

    assert check(corrupt(tables, "visits", man_gives_birth), "sex_gated_condition_wrong_sex") >= 1


def test_a_deleted_followup_is_caught_even_when_a_later_episode_follows(medium_run):
    """The follow-up flag needs a visit within the follow-up window, not any later visit."""
    from reporting.validation import with_episodes
    from sim.refdata import load_catalog

    tables = medium_run[1]
    visits = with_episodes(tables.visits, tables.patients, load_catalog())
    followups = visits[visits["is_followup"]]
    # a follow-up that ends its episode, of a case that has a later episode
    later = visits["episode"].shift(-1)
    last = followups[
        (later[followups.index] != followups["episode"])
        & visits["has_followup"].eq(False)[followups.index]
    ]
    same_case_later = last[
        (visits["patient_id"].shift(-1)[last.index] == last["patient_id"])
        & (visits["condition"].astype(str).shift(-1)[last.index] == last["condition"].astype(str))
    ]
    early = same_case_later["admission"] < np.datetime64(TODAY) - np.timedelta64(365, "D")
    assert early.sum() > 0
    drop = same_case_later[early]["visit_id"].iloc[:5]
    broken = attrs.evolve(
        tables,
        visits=tables.visits[~tables.visits["visit_id"].isin(drop)],
        billing=tables.billing[~tables.billing["visit_id"].isin(drop)],
    )
    assert check(broken, "followup_required_without_followup") >= 1


@pytest.mark.parametrize("name", ["coverage_after_death", "coverage_open_after_death"])
def test_coverage_past_a_death_is_caught(small_run, name):
    tables = small_run[1]
    dead = tables.patients.loc[tables.patients["date_of_death"].notna()]
    assert len(dead) and check(tables, name) == 0
    patient, death = dead["patient_id"].iloc[0], dead["date_of_death"].iloc[0]
    last = tables.coverage.index[tables.coverage["patient_id"] == patient][-1]
    later = pd.NaT if name == "coverage_open_after_death" else death + pd.Timedelta(days=30)
    broken = corrupt(tables, "coverage", lambda f: f.loc.__setitem__((last, "end_date"), later))
    assert check(broken, name) == 1

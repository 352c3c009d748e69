"""Rules that must hold in every dataset, checked by the validation summary and, for the
most important ones, again by straightforward independent code."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import TODAY, simulate


@pytest.mark.parametrize(
    ("patients", "seed"),
    [
        (150, 1),
        pytest.param(900, 2, marks=pytest.mark.slow),
        pytest.param(2500, 3, marks=pytest.mark.slow),
    ],
)
def test_every_rule_check_is_zero(patients, seed):
    _, _tables, summary = simulate(patients=patients, seed=seed)
    failing = {name: count for name, count in summary["checks"].items() if count}
    assert failing == {}
    assert summary["ok"] is True
    assert summary["distributions"]["rows"]["patients"] == patients


def test_the_summary_has_every_check_of_the_domain(small_run):
    checks = small_run[2]["checks"]
    for name in (
        "duplicate_patient_ids",
        "visits_without_bill",
        "visits_with_several_bills",
        "visits_with_unknown_patient",
        "patient_age_mismatch",
        "visit_age_mismatch",
        "pediatric_gating",
        "sex_gated_condition_wrong_sex",
        "capped_condition_too_many_episodes",
        "capped_condition_episodes_too_close",
        "gated_condition_followup_wrong_treatment",
        "once_per_patient_treatment_repeated",
        "condition_episodes_over_yearly_cap",
        "severe_ed_visits_released",
        "los_outside_condition_bounds",
        "observation_stays_not_one_night",
        "same_day_encounters_with_nights",
        "followups_not_clinic_visits",
        "followups_outside_their_episode",
        "episode_ids_not_matching_visit_type",
        "room_not_matching_encounter",
        "overlapping_stays",
        "double_booked_rooms",
        "followup_required_without_followup",
        "dates_after_today",
        "discharge_before_admission",
        "billing_before_discharge",
        "policy_without_provider",
        "prefix_gender_conflicts",
        "prefix_on_minors",
        "zip_state_city_disagreement",
        "hospitals_with_several_zipcodes",
        "patient_and_hospital_in_different_states",
        "amounts_do_not_add_up",
        "charges_below_minimum",
        "payment_status_inconsistent",
    ):
        assert name in checks


def test_every_visit_has_exactly_one_bill_for_the_same_patient(small_run):
    _, tables, _ = small_run
    merged = tables.visits[["visit_id", "patient_id"]].merge(
        tables.billing[["visit_id", "patient_id"]], on="visit_id", how="outer", indicator=True
    )
    assert (merged["_merge"] == "both").all()
    assert (merged["patient_id_x"] == merged["patient_id_y"]).all()
    assert tables.billing["visit_id"].is_unique


def _intervals_overlap(frame: pd.DataFrame, key: str) -> int:
    """Plain Python: for each key, does any stay begin before an earlier one has ended?"""
    overlaps = 0
    for _, group in frame.groupby(key):
        stays = sorted(zip(group["date_of_admission"], group["date_of_discharge"]))
        latest_end = None
        for start, end in stays:
            if latest_end is not None and start < latest_end:
                overlaps += 1
            latest_end = end if latest_end is None else max(latest_end, end)
    return overlaps


def _rooming_in(tables) -> pd.Series:
    """Birth stays in the room of the mother's stay admitted the same day (no cot was free)."""
    visits = tables.visits
    mothers = tables.patients.set_index("patient_id")["mother_patient_id"]
    where = ["hospital", "room_number", "date_of_admission"]
    mother_stays = set(zip(visits["patient_id"], *(visits[c].astype("string") for c in where)))
    mother = visits["patient_id"].map(mothers)
    return pd.Series(
        [
            kind == "Newborn" and (m, *rest) in mother_stays
            for kind, m, *rest in zip(
                visits["admission_type"], mother, *(visits[c].astype("string") for c in where)
            )
        ],
        index=visits.index,
    )


def test_nobody_is_in_two_stays_and_no_room_holds_two_patients(medium_run):
    _, tables, _ = medium_run
    visits = tables.visits.astype({"hospital": "string", "room_number": "string"})
    assert _intervals_overlap(visits, "patient_id") == 0
    own_room = visits[~_rooming_in(tables).to_numpy()]
    own_room = own_room.assign(room=own_room["hospital"] + "#" + own_room["room_number"])
    assert _intervals_overlap(own_room, "room") == 0


def test_no_date_lies_after_today_and_stays_are_ordered(medium_run):
    _, tables, _ = medium_run
    today = pd.Timestamp(TODAY)
    for frame, columns in (
        (tables.patients, ["date_of_birth"]),
        (tables.visits, ["date_of_admission", "date_of_discharge"]),
        (tables.billing, ["billing_date", "actual_payment_date"]),
    ):
        for column in columns:
            assert (frame[column].dropna() <= today).all(), column
    assert (tables.visits["date_of_discharge"] >= tables.visits["date_of_admission"]).all()


def test_money_adds_up_and_empty_means_null(medium_run):
    _, tables, _ = medium_run
    billing, patients, visits = tables.billing, tables.patients, tables.visits
    assert (
        billing["total_charge"]
        == billing["adjustment_amount"]
        + billing["charity_care_amount"]
        + billing["insurance_coverage_amount"]
        + billing["patient_responsibility_amount"]
    ).all()
    assert (billing["total_charge"] >= 87).all()
    self_pay = billing["payer_type"] == "Self-pay"
    assert (billing.loc[self_pay, "insurance_coverage_amount"] == 0).all()
    assert billing.loc[self_pay, "insurance_plan"].isna().all()
    assert (billing.loc[~self_pay, "charity_care_amount"] == 0).all()
    assert billing.loc[self_pay, "charity_care_amount"].gt(0).any()
    uninsured = patients["insurance_provider"].isna()
    assert (uninsured == (patients["payer_type"] == "Self-pay")).all()
    assert patients.loc[uninsured, "insurance_policy_number"].isna().all()
    assert patients.loc[~uninsured, "insurance_policy_number"].notna().all()
    assert patients.loc[~uninsured, "insurance_policy_number"].is_unique
    drug = visits["treatment"].astype("string") == "Medication"
    assert visits.loc[drug, ["medication", "dosage", "frequency"]].notna().all().all()
    assert visits.loc[~drug, ["medication", "dosage", "frequency"]].isna().all().all()
    paid = billing["payment_status"].isin(["Paid", "Late-Paid"])
    assert billing.loc[paid, "actual_payment_date"].notna().all()
    assert billing.loc[~paid, "actual_payment_date"].isna().all()


def test_every_payment_status_appears(medium_run):
    statuses = set(medium_run[1].billing["payment_status"].astype("string"))
    assert statuses == {"Paid", "Late-Paid", "In-progress", "Late-Unpaid"}


def test_prefixes_match_gender_and_age_and_contacts_are_fictional(medium_run):
    patients = medium_run[1].patients
    prefix = patients["prefix"].astype("string")
    male = patients["gender"] == "Male"
    assert not prefix[male].isin(["Mrs.", "Ms."]).any()
    assert not (prefix[~male] == "Mr.").any()
    assert prefix[patients["age"] < 18].isna().all()
    assert set(prefix.dropna()) == {"Mr.", "Mrs.", "Ms.", "Dr."}
    assert not patients["first_name"].str.match(r"(Mr|Mrs|Ms|Dr)\.").any()
    assert (patients["name"] == patients["first_name"] + " " + patients["last_name"]).all()
    assert patients["phone_number"].str.fullmatch(r"\d{3}-555-01\d{2}").all()
    assert patients["email"].str.fullmatch(r"[a-z0-9.]+@example\.(com|net|org)").all()
    assert patients["zipcode"].str.fullmatch(r"\d{5}").all()


def test_doctors_and_hospitals_are_unique_keys(medium_run):
    visits = medium_run[1].visits
    assert visits["doctor"].astype("string").str.startswith("Dr. ").all()
    per_hospital = visits.groupby("hospital", observed=True)[
        ["hospital_zipcode", "hospital_state"]
    ].nunique()
    assert (per_hospital == 1).all().all()


def test_childbirth_rules(medium_run):
    visits = medium_run[1].visits
    births = visits[visits["condition"] == "Childbirth"]
    assert len(births) > 0
    assert (births["gender"] == "Female").all()
    assert births["age"].between(18, 50).all()
    deliveries = births[births["treatment"].isin(["Delivery", "Cesarean Section"])]
    assert deliveries.groupby("patient_id").size().max() <= 2
    others = births[~births.index.isin(deliveries.index)]
    assert set(others["treatment"].astype("string")) <= {
        "Postpartum Checkup",
        "Monitoring",
        "Lactation Support",
    }


def test_at_most_one_bypass_and_more_conditions_with_age(medium_run):
    _, tables, _ = medium_run
    visits = tables.visits
    bypass = visits[visits["treatment"] == "Bypass Surgery"]
    assert bypass["patient_id"].is_unique
    distinct = visits.groupby("patient_id")["condition"].nunique()
    age = tables.patients.set_index("patient_id")["age"].reindex(distinct.index)
    young, old = distinct[(age >= 18) & (age < 45)].mean(), distinct[age >= 65].mean()
    assert old > 1.3 * young  # multimorbidity rises with age


def test_follow_up_flag_means_a_clinic_visit_of_the_same_episode_or_one_still_to_come(medium_run):
    from sim.processes import FOLLOWUP_LAPSE_DAYS

    visits = medium_run[1].visits.sort_values(
        ["patient_id", "condition", "date_of_admission", "visit_id"]
    )
    booked = visits["follow_up_required"] == "Y"
    next_of_episode = (visits["episode_id"].shift(-1) == visits["episode_id"]) & (
        visits["visit_type"].astype("string").shift(-1) == "Follow-up"
    )
    next_is_clinic = visits["encounter_type"].astype("string").shift(-1) == "Outpatient"
    still_to_come = visits["follow_up_date"] > pd.Timestamp(TODAY) - pd.Timedelta(
        days=FOLLOWUP_LAPSE_DAYS
    )
    assert (next_of_episode & next_is_clinic | still_to_come)[booked].all()
    assert (next_of_episode == booked)[~still_to_come.fillna(False)].all()
    assert still_to_come[booked].any() and (booked & next_of_episode).any() and (~booked).any()


@pytest.mark.slow
def test_every_state_appears_in_a_large_run():
    _, tables, summary = simulate(patients=20000, seed=11)
    assert tables.patients["state"].nunique() == 51
    assert summary["ok"] is True
    in_state = tables.visits.merge(tables.patients[["patient_id", "state"]], on="patient_id")
    assert (in_state["state"] == in_state["hospital_state"]).all()
    per_patient = summary["distributions"]["visits_per_patient"]["mean"]
    assert 5.0 <= per_patient <= 9.0  # ED visits and clinic reviews are rows too
    # patients are older than residents (Medicare), so a little more often insured
    assert 0.88 <= summary["distributions"]["insured_rate"] <= 0.95


def test_nobody_is_treated_before_birth_or_below_a_condition_minimum_age(medium_run):
    from reporting.validation import with_episodes
    from sim.refdata import load_catalog

    _, tables, _ = medium_run
    catalog = load_catalog()
    visits = with_episodes(tables.visits, tables.patients, catalog)
    assert (visits["age"] >= 0).all()
    assert (visits["admission"] >= visits["birth"]).all()
    starts = visits[~visits["is_followup"]]
    minimum = starts["condition"].astype(str).map({c.name: c.min_age for c in catalog.conditions})
    assert (starts["age"] >= minimum).all()
    babies = starts[starts["age"] < 3]["condition"].astype(str)
    assert not babies.isin(["Anxiety", "Depression", "Migraine"]).any()


def test_charges_follow_the_care(medium_run):
    from reporting.validation import with_episodes
    from sim.refdata import load_catalog
    from sim.scenario import DEFAULTS

    _, tables, _ = medium_run
    catalog = load_catalog()
    visits = with_episodes(tables.visits, tables.patients, catalog)
    charged = visits.merge(tables.billing[["visit_id", "total_charge"]], on="visit_id")
    first = charged[~charged["is_followup"]]
    by_setting = first.groupby("encounter_type", observed=True)["total_charge"].mean()
    assert by_setting["Inpatient"] > by_setting["Observation"] > by_setting["Emergency"]
    assert by_setting["Emergency"] > by_setting["Outpatient"]
    stays = first[first["encounter_type"] == "Inpatient"]
    births = stays[stays["condition"] == "Childbirth"].groupby("treatment", observed=True)
    assert (
        births["total_charge"].mean()["Cesarean Section"]
        > births["total_charge"].mean()["Delivery"]
    )
    # within a condition, longer stays cost more (rank correlation of charge and nights)
    common = stays.groupby("condition", observed=True)["total_charge"].transform("size") >= 30
    ranks = stays[common].groupby("condition", observed=True)[["total_charge", "los"]].rank()
    assert ranks["total_charge"].corr(ranks["los"]) > 0.4
    first_charge = charged.groupby("episode")["total_charge"].transform("first")
    # (an episode begun before --start opens with a follow-up: its first charge is not here)
    opened = ~charged.groupby("episode")["is_followup"].transform("first")
    followups = charged[charged["is_followup"] & opened]
    assert len(followups) > 0.9 * charged["is_followup"].sum()
    lower = followups["total_charge"] < first_charge[followups.index]
    at_minimum = followups["total_charge"] == DEFAULTS["minimum_charge"]  # an ED visit's may be
    assert (lower | at_minimum).all()
    assert not followups["treatment"].isin(catalog.once_per_patient).any()


@pytest.mark.slow
def test_a_snapshot_taken_mid_run_validates():
    import datetime as dt

    from reporting.app import Simulation
    from reporting.summary import build_summary
    from sim.scenario import Scenario

    simulation = Simulation(Scenario(patients=800, seed=13, today=TODAY))
    for day in (dt.date(2022, 8, 1), dt.date(2024, 1, 15)):
        simulation.run(until=day)
        tables = simulation.tables()
        summary = build_summary(simulation, tables)
        assert summary["ok"] is True, {k: v for k, v in summary["checks"].items() if v}
        assert summary["run"]["as_of"] == day.isoformat()
        assert (tables.visits["date_of_discharge"] <= pd.Timestamp(day)).all()
        assert (tables.patients["date_of_birth"] <= pd.Timestamp(day)).all()


def test_fewer_stays_end_at_weekends_and_friday_is_the_busiest_discharge_day(medium_run):
    visits = medium_run[1].visits
    stays = visits[visits["encounter_type"] == "Inpatient"]
    weekday = pd.to_datetime(stays["date_of_discharge"]).dt.day_of_week
    per_day = weekday.value_counts().reindex(range(7), fill_value=0)
    assert per_day[[5, 6]].mean() < 0.85 * per_day[:5].mean()
    assert per_day.idxmax() == 4

"""The event log (``--event-log``): ISO dates whatever ``--date-format``, IDs read back as
nullable integers, typed columns per event type that agree with the other tables, a
``detail`` with only what is specific, and the main tables rebuilt from the log alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from reporting.app.cli import main
from reporting.eventlog import tables_from_events
from reporting.readers import read_table, read_tables
from sim.events import SWITCH_REASONS

TODAY = pd.Timestamp("2025-06-30").date()
# Several small hospitals per state, so that some patients are diverted; slash dates, which
# the event log ignores.
ARGS = ["--patients", "1500", "--seed", "8", "--today", TODAY.isoformat(), "--quiet"]
ARGS += ["--rooms-per-hospital", "1", "--date-format", "slash", "--event-log", "--format", "both"]
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
IDS = ("patient_id", "visit_id", "billing_id", "doctor_id", "hospital_id")
TYPED = ("condition", "amount", "reason", "due_date", "previous_doctor_id", "previous_hospital_id")
FILLED = {  # the typed columns (and detail) each event type fills; the others are empty
    "PatientRegistered": {"detail"},
    "CoverageStarted": {"detail"},
    "ConditionDiagnosed": {"condition", "detail"},
    "EpisodeStarted": {"condition"},
    "Admitted": {"condition", "detail"},
    "Discharged": {"detail"},
    "Died": set(),
    "FollowUpScheduled": {"due_date"},
    "FollowUpMissed": set(),
    "ProviderSwitched": {"reason", "previous_doctor_id", "previous_hospital_id"},
    "BillIssued": {"amount", "due_date", "detail"},
    "PaymentMade": {"amount"},
    "Diverted": {"previous_hospital_id"},
    "DoctorAbsent": {"due_date"},
    "DoctorLeft": set(),
    "DoctorJoined": {"previous_doctor_id"},
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("events")
    config = folder / "scenario.toml"
    config.write_text("patients-per-hospital = 15\n", encoding="utf-8")
    folder /= "out"
    assert main([*ARGS, "--config", str(config), "--outdir", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def events(dataset) -> pd.DataFrame:
    return read_table(dataset / "events.csv", "events")


def test_event_dates_are_iso_whatever_the_date_format(dataset):
    raw = pd.read_csv(dataset / "events.csv", dtype=str, keep_default_na=False)
    for column in ("date", "due_date"):
        written = raw[column][raw[column] != ""]
        assert len(written) and written.str.fullmatch(ISO.pattern).all(), column
    visits = pd.read_csv(dataset / "visits.csv", dtype=str)
    assert visits["date_of_admission"].str.fullmatch(r"\d{4}/\d{2}/\d{2}").all()
    package = json.loads((dataset / "datapackage.json").read_text(encoding="utf-8"))
    fields = {r["name"]: r["schema"]["fields"] for r in package["resources"]}["events"]
    assert {f["name"]: f.get("format") for f in fields if f["type"] == "date"} == {
        "date": "default",
        "due_date": "default",
    }
    dates = []
    for text in raw["detail"][raw["detail"] != ""]:
        for key, value in json.loads(text).items():
            if isinstance(value, str) and re.search(r"\d{4}\D\d{1,2}\D\d{1,2}", value):
                dates.append((key, value))
    assert dates and {key for key, _ in dates} == {"date_of_birth", "diagnosis_date"}
    assert all(ISO.fullmatch(value) for _, value in dates)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_ids_read_back_as_nullable_integers(dataset, suffix):
    events = read_table(dataset / f"events{suffix}", "events")
    for column in (*IDS, "amount", "previous_doctor_id", "previous_hospital_id"):
        assert events[column].dtype == "Int64", column
    assert events["doctor_id"].isna().any() and events["doctor_id"].notna().any()
    assert events["due_date"].dtype == "datetime64[s]"


def test_each_event_type_fills_its_own_columns(events):
    kinds = set(events["event_type"].astype(str))
    # every type happens, diversions included; a missed follow-up may not (it needs a death,
    # weeks in hospital or weeks without a free room: tests/test_bad_input.py)
    assert set(FILLED) - {"FollowUpMissed"} <= kinds <= set(FILLED)
    for kind, filled in FILLED.items():
        rows = events[events["event_type"] == kind]
        for column in (*TYPED, "detail"):
            present = rows[column].notna()
            assert present.all() if column in filled else not present.any(), (kind, column)
    switches = events[events["event_type"] == "ProviderSwitched"]
    assert set(switches["reason"].astype(str)) <= set(SWITCH_REASONS)
    changed = (switches["previous_doctor_id"] != switches["doctor_id"]) | (
        switches["previous_hospital_id"] != switches["hospital_id"]
    )
    assert changed.all()
    diverted = events[events["event_type"] == "Diverted"]
    assert (diverted["previous_hospital_id"] != diverted["hospital_id"]).all()
    due = events[events["due_date"].notna()]
    assert (due["due_date"] > due["date"]).all()  # booked, billed or away for later days
    specific = {"condition", "amount", "reason", "due_date", "total_charge", "from_doctor"}
    specific |= {"expected_payment_date", "until_date", "from_hospital", "replaces"}
    for text in events["detail"].dropna():
        assert not specific & set(json.loads(text)), text


def test_the_typed_columns_agree_with_the_tables(dataset, events):
    tables = read_tables(dataset)
    kind = events["event_type"]
    admitted = events[kind == "Admitted"].dropna(subset=["visit_id"])
    visits = tables.visits.set_index("visit_id").loc[admitted["visit_id"].astype(int)]
    assert admitted["condition"].astype(str).tolist() == visits["condition"].astype(str).tolist()

    billing = tables.billing.set_index("billing_id")
    bills = events[kind == "BillIssued"]
    billed = billing.loc[bills["billing_id"].astype(int)]
    assert bills["amount"].tolist() == billed["total_charge"].tolist()
    assert bills["due_date"].tolist() == billed["expected_payment_date"].tolist()
    payments = events[kind == "PaymentMade"]
    paid = billing[billing["actual_payment_date"].notna()]
    assert sorted(payments["billing_id"].astype(int)) == sorted(paid.index)
    assert payments["amount"].sum() == paid["patient_responsibility_amount"].sum()

    # a switch is measured against the patient's previous visit
    ordered = tables.visits.sort_values("visit_id")
    before = ordered.groupby("patient_id")[["doctor_id", "hospital_id"]].shift()
    before.index = ordered["visit_id"]
    switches = events[kind == "ProviderSwitched"].dropna(subset=["visit_id"])
    assert len(switches)
    previous = before.loc[switches["visit_id"].astype(int)]
    assert switches["previous_doctor_id"].tolist() == previous["doctor_id"].astype(int).tolist()
    assert switches["previous_hospital_id"].tolist() == previous["hospital_id"].astype(int).tolist()

    doctors = read_table(dataset / "doctors.csv", "doctors").set_index("doctor_id")
    joined = events[kind == "DoctorJoined"]
    assert len(joined)
    replaced = doctors.loc[joined["doctor_id"].astype(int), "replaces_doctor_id"]
    assert joined["previous_doctor_id"].tolist() == replaced.tolist()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_tables_rebuild_exactly_from_the_event_log(dataset, suffix):
    rebuilt = tables_from_events(read_table(dataset / f"events{suffix}", "events"), TODAY)
    for name, frame in read_tables(dataset).items():
        again = getattr(rebuilt, name)
        assert list(again.columns) == list(frame.columns), name
        for column in frame.columns:
            left = frame[column].astype(str).tolist()
            assert left == again[column].astype(str).tolist(), (name, column)

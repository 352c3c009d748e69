"""The event log as a dataset (``events.csv``), and the tables rebuilt from it alone.

One row per event, in the long format process-mining tools read: ``event_id, day, date,
event_type``, the IDs and names concerned (``patient_id, visit_id, billing_id, doctor_id,
doctor, hospital_id, hospital``), typed columns that several event types share
(``condition, amount, reason, due_date, previous_doctor_id, previous_hospital_id``) and
``detail``, JSON with the facts only one event type has (a registration, an admission's
clinical facts, a bill's split), empty otherwise. Dates are ISO whatever ``--date-format``.
Events are ordered by day, then by kind (registrations, coverage spells, problem-list
diagnoses, staff changes, episodes, diversions, switches, admissions, discharges, deaths
outside hospital, follow-ups, bills, payments), then by region and occurrence.

Open it in pm4py with the patient as the case (or ``visit_id`` for one stay)::

    import pm4py
    from reporting.readers import read_table

    events = read_table("events.csv", "events")  # dates as dates, IDs as Int64
    cases = events.dropna(subset=["patient_id"])  # staff events have no patient
    log = pm4py.format_dataframe(cases, case_id="patient_id", activity_key="event_type",
                                 timestamp_key="date")
    pm4py.discover_dfg(log)
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from reporting.naming import RegionNames
from reporting.ordering import remap
from reporting.recorder import (
    NO_DEATH,
    NO_FOLLOWUP,
    Tables,
    conditions_frame,
    coverage_frame,
    coverage_spells,
    problem_list,
)
from reporting.schema import BILLING_COLUMNS, EVENT_COLUMNS, PATIENT_COLUMNS, VISIT_COLUMNS
from sim.calendar import age_on
from sim.coverage import BASES, DESIGNS, PAYER_TYPES
from sim.events import (
    ADMISSION_TYPES,
    DISCHARGE_DISPOSITIONS,
    ENCOUNTER_TYPES,
    PLANS,
    SWITCH_REASONS,
)
from sim.geography import AREA_NAMES
from sim.population import GENDERS
from sim.refdata import SEVERITIES, load_catalog, load_demography

ORDER = (
    "PatientRegistered", "CoverageStarted", "ConditionDiagnosed", "DoctorLeft", "DoctorJoined",
    "DoctorAbsent", "EpisodeStarted", "Diverted", "ProviderSwitched", "Admitted", "Discharged",
    "Died", "FollowUpScheduled", "FollowUpMissed", "BillIssued", "PaymentMade",
)  # fmt: skip


def _json(records: list[dict]) -> list[str]:
    return [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]


class _EventRows:
    """Collects one region's events of each kind as frames in the region's own numbering
    (patients and visits from ``patient_ids`` / ``visit_ids``, doctors and hospitals as the
    region's codes). The typed columns hold codes until ``finish_events``: conditions and
    reasons as indices into the catalog / ``SWITCH_REASONS``, due dates as days, -1 for
    none; ``previous_*`` are doctor or hospital codes (``globalize_events`` makes them IDs)."""

    def __init__(self, parts, patient_ids, visit_ids) -> None:
        self.parts = parts
        self.patient_ids = patient_ids
        self.visit_ids = visit_ids

    def add(
        self,
        name,
        columns,
        *,
        patient=None,
        visit=None,
        doctor=None,
        hospital=None,
        condition=None,
        amount=None,
        reason=None,
        due_day=None,
        previous_doctor=None,
        previous_hospital=None,
        detail=None,
    ):
        count = len(columns["day"])
        none = np.full(count, -1, dtype=np.int64)

        def codes(values):
            return none if values is None else np.asarray(values, dtype=np.int64)

        self.parts.append(
            pd.DataFrame(
                {
                    "day": np.asarray(columns["day"], dtype=np.int64),
                    "rank": np.int64(ORDER.index(name)),
                    "region": np.int64(0),
                    "seq": np.arange(count, dtype=np.int64),
                    "event_type": name,
                    "patient_id": self.patient_ids[patient] if patient is not None else none,
                    "visit_id": self.visit_ids[visit] if visit is not None else none,
                    "doctor": codes(doctor),
                    "hospital": codes(hospital),
                    "condition": codes(condition),
                    "amount": codes(amount),
                    "reason": codes(reason),
                    "due_day": codes(due_day),
                    "previous_doctor": codes(previous_doctor),
                    "previous_hospital": codes(previous_hospital),
                    "detail": pd.array([None] * count if detail is None else detail, "string"),
                }
            )
        )


def event_log_table(simulation, tables: Tables) -> pd.DataFrame:
    """Every event of the run up to the last day run, with the dataset's IDs and names
    (regions stepped in this process)."""
    start = simulation.scenario.clock_start
    regions = {r.world.key: r for r in simulation.regions}
    frames = []
    for index, keys in enumerate(tables.keys):
        frame = region_events(regions[keys.key], keys, simulation.insurers)
        frames.append(globalize_events(frame, index, None, None, keys.names))
    return finish_events(pd.concat(frames, ignore_index=True), start, first_id=1)


def group_events(regions: list, keys: list, insurers: list[str]) -> pd.DataFrame:
    """The events of regions recorded together (``record_regions``), in their log order,
    with the group's doctor and hospital codes and each region's index in the group."""
    frames = []
    for index, (region, region_keys) in enumerate(zip(regions, keys)):
        frame = region_events(region, region_keys, insurers)
        frame["region"] = np.int64(index)
        for columns, offset in (
            (("doctor", "previous_doctor"), region_keys.names.doctor_offset),
            (("hospital", "previous_hospital"), region_keys.names.hospital_offset),
        ):
            for column in columns:
                codes = frame[column].to_numpy()
                frame[column] = np.where(codes >= 0, codes + offset, -1)
        frames.append(frame)
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values(["day", "rank", "region", "seq"], kind="stable", ignore_index=True)


def region_events(region, keys, insurers: list[str]) -> pd.DataFrame:
    """One region's events with the IDs of ``keys`` and the region's doctor and hospital
    codes (``globalize_events`` gives them the dataset's names)."""
    catalog = load_catalog()
    blood = load_demography().blood_types.labels
    meds = catalog.medications
    parts: list[pd.DataFrame] = []
    log, world = region.log, region.world
    pid, vid = keys.patient_ids, keys.visit_ids
    admitted = log.columns("Admitted")
    doctor_of = np.full(region.next_visit, -1, dtype=np.int64)
    hospital_of = np.full(region.next_visit, -1, dtype=np.int64)
    doctor_of[admitted["visit"]] = admitted["doctor"]
    hospital_of[admitted["visit"]] = admitted["hospital"]

    rows = _EventRows(parts, pid, vid).add

    registry = world.registry
    registered = log.columns("PatientRegistered")
    who = registered["patient"]
    rows(
        "PatientRegistered", registered, patient=who,
        detail=_json(
            [
                {
                    "prefix": registry.prefix[i], "given_name": registry.given_name[i],
                    "last_name": registry.last_name[i],
                    "date_of_birth": str(registry.birth[i]),
                    "gender": GENDERS[registry.gender[i]],
                    "phone_number": registry.phone[i], "email": registry.email[i],
                    "address": registry.address[i],
                    "city": world.zips.city[registry.zip_row[i]],
                    "state": str(world.zips.state[registry.zip_row[i]]),
                    "zipcode": world.zips.zipcode[registry.zip_row[i]],
                    "rurality": AREA_NAMES[world.zips.area[registry.zip_row[i]]],
                    "insurance_policy_number": registry.policy[i],
                    "blood_type": blood[registry.blood_type[i]],
                    "mother_patient_id": int(pid[m]) if m >= 0 else None,
                }
                for i, m in zip(who.tolist(), registry.mother[who].tolist())
            ]
        ),
    )  # fmt: skip
    covered = log.columns("CoverageStarted")
    rows(
        "CoverageStarted", covered, patient=covered["patient"],
        detail=_json(
            [
                {
                    "payer_type": PAYER_TYPES[p], "insurance_plan": insurers[k] if k >= 0 else None,
                    "plan_type": DESIGNS[d], "coverage_basis": BASES[b],
                }
                for p, k, d, b in zip(
                    covered["payer"].tolist(), covered["insurance_plan"].tolist(),
                    covered["design"].tolist(), covered["basis"].tolist(),
                )
            ]
        ),
    )  # fmt: skip
    diagnosed = log.columns("ConditionDiagnosed")
    diagnosis = np.datetime64(region.scenario.clock_start, "D") + diagnosed["diagnosis_day"]
    rows(
        "ConditionDiagnosed", diagnosed, patient=diagnosed["patient"],
        condition=diagnosed["condition"],
        detail=_json([{"diagnosis_date": str(d)} for d in diagnosis.tolist()]),
    )  # fmt: skip
    started = log.columns("EpisodeStarted")
    rows(
        "EpisodeStarted", started, patient=started["patient"], condition=started["condition"]
    )  # fmt: skip
    rows(
        "Admitted", admitted, patient=admitted["patient"], visit=admitted["visit"],
        doctor=admitted["doctor"], hospital=admitted["hospital"], condition=admitted["condition"],
        detail=_json(
            [
                {
                    "severity": SEVERITIES[s],
                    "treatment": catalog.treatments[t],
                    "medication": meds.names[m] if m >= 0 else None,
                    "dosage": meds.dosages[m] if m >= 0 else None,
                    "frequency": meds.frequencies[m] if m >= 0 else None,
                    "test_results": catalog.test_results[r],
                    "room_number": room if room >= 0 else None,
                    "hospital_state": world.hospitals[h].state,
                    "hospital_zipcode": world.hospitals[h].zipcode, "followup": f,
                    "encounter_type": ENCOUNTER_TYPES[e], "admission_type": ADMISSION_TYPES[a],
                }
                for s, t, m, r, room, h, f, e, a in zip(
                    admitted["severity"].tolist(),
                    admitted["treatment"].tolist(), admitted["medication"].tolist(),
                    admitted["test_result"].tolist(), admitted["room"].tolist(),
                    admitted["hospital"].tolist(), admitted["followup"].tolist(),
                    admitted["encounter"].tolist(), admitted["admission_type"].tolist(),
                )
            ]
        ),
    )  # fmt: skip
    discharged = log.columns("Discharged")
    visit = discharged["visit"]
    rows(
        "Discharged", discharged, patient=discharged["patient"], visit=visit,
        doctor=doctor_of[visit], hospital=hospital_of[visit],
        detail=_json(
            [
                {"discharge_disposition": DISCHARGE_DISPOSITIONS[d]}
                for d in discharged["disposition"].tolist()
            ]
        ),
    )  # fmt: skip
    died = log.columns("Died")
    rows("Died", died, patient=died["patient"])
    booked = log.columns("FollowUpScheduled")
    rows(
        "FollowUpScheduled", booked, patient=booked["patient"], visit=booked["visit"],
        due_day=booked["due_day"],
    )  # fmt: skip
    missed = log.columns("FollowUpMissed")
    rows("FollowUpMissed", missed, patient=missed["patient"], visit=missed["visit"])
    issued = log.columns("BillIssued")
    rows(
        "BillIssued", issued, patient=issued["patient"], visit=issued["visit"],
        amount=issued["total"], due_day=issued["due_day"],
        detail=_json(
            [
                {
                    "insurance_coverage_amount": i, "patient_responsibility_amount": p,
                    "payment_plan": PLANS[plan], "payer_type": PAYER_TYPES[payer],
                    "insurance_plan": insurers[k] if k >= 0 else None,
                    "adjustment_amount": a, "charity_care_amount": c,
                }
                for i, p, plan, payer, k, a, c in zip(
                    issued["insurance"].tolist(), issued["patient_share"].tolist(),
                    issued["plan"].tolist(), issued["payer"].tolist(),
                    issued["insurance_plan"].tolist(), issued["adjustment"].tolist(),
                    issued["charity"].tolist(),
                )
            ]
        ),
    )  # fmt: skip
    paid = log.columns("PaymentMade")
    rows(
        "PaymentMade", paid, patient=paid["patient"], visit=paid["visit"], amount=paid["amount"]
    )  # fmt: skip
    switched = log.columns("ProviderSwitched")
    rows(
        "ProviderSwitched", switched, patient=switched["patient"], visit=switched["visit"],
        doctor=switched["to_doctor"], hospital=switched["to_hospital"], reason=switched["reason"],
        previous_doctor=switched["from_doctor"], previous_hospital=switched["from_hospital"],
    )  # fmt: skip
    diverted = log.columns("Diverted")
    rows(
        "Diverted", diverted, patient=diverted["patient"], visit=diverted["visit"],
        hospital=diverted["to_hospital"], previous_hospital=diverted["from_hospital"],
    )  # fmt: skip
    absent = log.columns("DoctorAbsent")
    rows("DoctorAbsent", absent, doctor=absent["doctor"], due_day=absent["until_day"])
    left = log.columns("DoctorLeft")
    rows("DoctorLeft", left, doctor=left["doctor"])
    joined = log.columns("DoctorJoined")
    rows("DoctorJoined", joined, doctor=joined["doctor"], previous_doctor=joined["replaces"])
    return pd.concat(parts, ignore_index=True)


def globalize_events(
    frame: pd.DataFrame,
    region_offset: int,
    patient_ids: np.ndarray | None,
    visit_ids: np.ndarray | None,
    names: RegionNames,
) -> pd.DataFrame:
    """Events of a region (or a task's regions) with the dataset's IDs and names, and the
    regions' positions among all regions. ``patient_ids`` / ``visit_ids`` map the frame's
    IDs (ID - 1) to the dataset's (None: they are the dataset's already); ``names`` are those
    of the frame's doctor and hospital codes."""
    events = frame.copy()
    events["region"] += region_offset
    for column, id_map in (("patient_id", patient_ids), ("visit_id", visit_ids)):
        ids = events[column].to_numpy()
        if id_map is not None:
            events[column] = remap(ids, id_map)
    if patient_ids is not None:  # a newborn's registration names the mother
        born = (events["event_type"] == "PatientRegistered").to_numpy()
        events.loc[born, "detail"] = _json(
            [
                {**fact, "mother_patient_id": _mapped(fact["mother_patient_id"], patient_ids)}
                for fact in map(json.loads, events.loc[born, "detail"])
            ]
        )
    for columns, offset in (
        (("doctor", "previous_doctor"), names.doctor_offset),
        (("hospital", "previous_hospital"), names.hospital_offset),
    ):
        for column in columns:
            codes = events[column].to_numpy()
            ids = pd.array(np.where(codes >= 0, codes + offset + 1, 0), "Int64")
            ids[codes < 0] = pd.NA
            events[f"{column}_id"] = ids
    doctors = np.array([*names.doctors, None], dtype=object)
    hospitals = np.array([*names.hospitals, None], dtype=object)
    events["doctor"] = doctors[events["doctor"].to_numpy()]  # code -1 picks None
    events["hospital"] = hospitals[events["hospital"].to_numpy()]
    return events.drop(columns=["previous_doctor", "previous_hospital"])


def _mapped(patient: int | None, patient_ids: np.ndarray) -> int | None:
    return None if patient is None else int(patient_ids[patient - 1])


def finish_events(events: pd.DataFrame, start: dt.date, first_id: int) -> pd.DataFrame:
    """Globalized events of a stretch of days in the log's order, numbered from
    ``first_id``, with dates and the dataset's column types."""
    events = events.sort_values(["day", "rank", "region", "seq"], kind="stable").reset_index(
        drop=True
    )
    events.insert(0, "event_id", np.arange(first_id, first_id + len(events), dtype=np.int64))
    events["date"] = (np.datetime64(start, "D") + events["day"].to_numpy()).astype("datetime64[s]")
    for column in ("patient_id", "visit_id"):
        events[column] = events[column].where(events[column] >= 0).astype("Int64")
    paying = events["event_type"].isin(["BillIssued", "PaymentMade"])
    events["billing_id"] = events["visit_id"].where(paying)
    conditions = np.array([*(c.name for c in load_catalog().conditions), None], dtype=object)
    reasons = np.array([*SWITCH_REASONS, None], dtype=object)
    events["condition"] = conditions[events["condition"].to_numpy()]  # code -1 picks None
    events["reason"] = reasons[events["reason"].to_numpy()]
    events["amount"] = events["amount"].where(events["amount"] >= 0).astype("Int64")
    due = events["due_day"].to_numpy()
    due_date = (np.datetime64(start, "D") + np.where(due >= 0, due, 0)).astype("datetime64[s]")
    events["due_date"] = np.where(due >= 0, due_date, np.datetime64("NaT", "s"))
    for column in ("event_type", "doctor", "hospital", "condition", "reason", "detail"):
        events[column] = events[column].astype("string")
    return events[list(EVENT_COLUMNS)]


def _episodes(stays: pd.DataFrame, facts: pd.DataFrame) -> np.ndarray:
    """Each encounter's episode: the visit ID of the patient's latest initial encounter for
    the condition (a patient's episodes of one condition never overlap), or for follow-ups
    before the first (an episode begun before --start) the first of them."""
    initial = (facts["followup"] == 0).to_numpy()
    frame = pd.DataFrame(
        {
            "patient": stays["patient_id"].astype(np.int64).to_numpy(),
            "condition": stays["condition"].astype(str).to_numpy(),
            "visit": stays["visit_id"].astype(np.int64).to_numpy(),
            "initial": initial,
        }
    )
    frame = frame.sort_values(["patient", "condition", "visit"], kind="stable")
    group = ["patient", "condition"]
    begins = frame["initial"].to_numpy() | ~frame.duplicated(group, keep="first").to_numpy()
    frame["start"] = np.where(begins, frame["visit"].to_numpy(), np.nan)
    started = frame.groupby(group)["start"].ffill()
    return started.sort_index().to_numpy().astype(np.int64)


def tables_from_events(events: pd.DataFrame, as_of: dt.date) -> Tables:
    """The patients, visits, billing, conditions and coverage tables rebuilt from the event
    log alone."""
    as_of64 = np.datetime64(as_of, "D")
    kind = events["event_type"].astype(str)

    def details(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        chosen = events[kind == name]
        facts = pd.DataFrame([json.loads(d) for d in chosen["detail"]], index=chosen.index)
        return chosen, facts

    people, facts = details("PatientRegistered")
    birth = pd.to_datetime(facts["date_of_birth"]).to_numpy().astype("datetime64[D]")
    ended, outcome = details("Discharged")
    expired = (outcome["discharge_disposition"] == "Expired").to_numpy()
    died = events[kind == "Died"]
    death_of = pd.Series(
        pd.to_datetime(pd.concat([ended["date"][expired], died["date"]])).to_numpy(),
        index=pd.concat([ended["patient_id"][expired], died["patient_id"]])
        .astype(np.int64)
        .to_numpy(),
    )
    death = (
        death_of.reindex(people["patient_id"].astype(np.int64).to_numpy())
        .to_numpy()
        .astype("datetime64[D]")
    )
    age = age_on(birth, np.where(np.isnat(death), as_of64, death))
    prefix = facts["prefix"].where(age >= 18, "")
    patients = pd.DataFrame(
        {
            "patient_id": people["patient_id"].astype(np.int64).to_numpy(),
            "prefix": prefix.where(prefix != "").to_numpy(),
            "first_name": facts["given_name"].to_numpy(),
            "last_name": facts["last_name"].to_numpy(),
            "name": (facts["given_name"] + " " + facts["last_name"]).to_numpy(),
            "date_of_birth": birth.astype("datetime64[s]"),
            "date_of_death": death.astype("datetime64[s]"),
            "age": age,
            **{
                c: facts[c].to_numpy()
                for c in PATIENT_COLUMNS[PATIENT_COLUMNS.index("gender") :]
                if c in facts
            },
        }
    ).sort_values("patient_id", kind="stable")
    origin = _start(events)
    coverage = _coverage(events[kind == "CoverageStarted"], patients, origin)
    last = coverage.groupby("patient_id").tail(1).set_index("patient_id")
    last = last.reindex(patients["patient_id"].to_numpy())
    patients["payer_type"] = last["payer_type"].to_numpy()
    patients["insurance_provider"] = last["insurance_plan"].to_numpy()
    patients["insurance_policy_number"] = patients["insurance_policy_number"].where(
        pd.notna(patients["insurance_provider"]).to_numpy()
    )
    patients["mother_patient_id"] = patients["mother_patient_id"].astype("Int64")

    stays, facts = details("Admitted")
    keep = stays["visit_id"].notna().to_numpy()
    stays, facts = stays[keep], facts[keep]
    kept = ended["visit_id"].notna().to_numpy()
    left = ended[kept].set_index("visit_id")["date"]
    disposition = outcome[kept].set_index(ended["visit_id"][kept])["discharge_disposition"]
    booked = events[(kind == "FollowUpScheduled") & events["visit_id"].notna()]
    missed = set(events.loc[kind == "FollowUpMissed", "visit_id"].dropna().astype(np.int64))
    booked = booked[~booked["visit_id"].astype(np.int64).isin(missed)]
    follow_up = booked.set_index(booked["visit_id"].astype(np.int64))["due_date"]
    by_patient = patients.set_index("patient_id")
    visit_id = stays["visit_id"].astype(np.int64).to_numpy()
    patient_id = stays["patient_id"].astype(np.int64).to_numpy()
    admission = pd.to_datetime(stays["date"]).to_numpy().astype("datetime64[D]")
    visits = pd.DataFrame(
        {
            "visit_id": visit_id,
            "episode_id": _episodes(stays, facts),
            "encounter_type": facts["encounter_type"].to_numpy(),
            "visit_type": np.where(facts["followup"].to_numpy() > 0, "Follow-up", "Initial"),
            "admission_type": facts["admission_type"].to_numpy(),
            "patient_id": patient_id,
            "name": by_patient["name"].reindex(patient_id).to_numpy(),
            "age": age_on(by_patient["date_of_birth"].reindex(patient_id).to_numpy(), admission),
            "gender": by_patient["gender"].reindex(patient_id).to_numpy(),
            "condition": stays["condition"].astype(object).to_numpy(),
            **{
                c: facts[c].to_numpy()
                for c in VISIT_COLUMNS[
                    VISIT_COLUMNS.index("severity") : VISIT_COLUMNS.index("doctor_id")
                ]
            },
            "doctor_id": stays["doctor_id"].astype(np.int64).to_numpy(),
            "doctor": stays["doctor"].to_numpy(),
            "hospital_id": stays["hospital_id"].astype(np.int64).to_numpy(),
            "hospital": stays["hospital"].to_numpy(),
            "hospital_state": facts["hospital_state"].to_numpy(),
            "hospital_zipcode": facts["hospital_zipcode"].to_numpy(),
            "room_number": pd.array(facts["room_number"], dtype="Int64"),
            "date_of_admission": admission.astype("datetime64[s]"),
            "date_of_discharge": pd.to_datetime(left.reindex(visit_id)).to_numpy(),
            "discharge_disposition": disposition.reindex(visit_id).to_numpy(),
            "follow_up_required": np.where(follow_up.reindex(visit_id).notna(), "Y", "N"),
            "follow_up_date": pd.to_datetime(follow_up.reindex(visit_id)).to_numpy(),
        }
    ).sort_values("visit_id", kind="stable")

    bills, facts = details("BillIssued")
    paid = events[kind == "PaymentMade"].set_index("visit_id")["date"]
    visit_id = bills["visit_id"].astype(np.int64).to_numpy()
    due = pd.to_datetime(bills["due_date"]).to_numpy().astype("datetime64[D]")
    paid_on = pd.to_datetime(paid.reindex(visit_id)).to_numpy().astype("datetime64[D]")
    status = np.where(
        ~np.isnat(paid_on),
        np.where(paid_on <= due, "Paid", "Late-Paid"),
        np.where(due < as_of64, "Late-Unpaid", "In-progress"),
    )
    billing = pd.DataFrame(
        {
            "billing_id": visit_id,
            "visit_id": visit_id,
            "patient_id": bills["patient_id"].astype(np.int64).to_numpy(),
            "billing_date": pd.to_datetime(bills["date"]).to_numpy(),
            "insurance_coverage_amount": facts["insurance_coverage_amount"]
            .astype(np.int64)
            .to_numpy(),
            "patient_responsibility_amount": facts["patient_responsibility_amount"]
            .astype(np.int64)
            .to_numpy(),
            "payment_plan": facts["payment_plan"].to_numpy(),
            "expected_payment_date": due.astype("datetime64[s]"),
            "actual_payment_date": paid_on.astype("datetime64[s]"),
            "payment_status": status,
            "total_charge": bills["amount"].astype(np.int64).to_numpy(),
            "payer_type": facts["payer_type"].to_numpy(),
            "insurance_plan": facts["insurance_plan"].to_numpy(),
            "adjustment_amount": facts["adjustment_amount"].astype(np.int64).to_numpy(),
            "charity_care_amount": facts["charity_care_amount"].astype(np.int64).to_numpy(),
        }
    ).sort_values("billing_id", kind="stable")
    return Tables(
        as_of=as_of,
        conditions=_conditions(events[kind == "ConditionDiagnosed"], visits, patients, origin),
        coverage=coverage,
        patients=patients[list(PATIENT_COLUMNS)].reset_index(drop=True),
        visits=visits[list(VISIT_COLUMNS)].reset_index(drop=True),
        billing=billing[list(BILLING_COLUMNS)].reset_index(drop=True),
    )


def _start(events: pd.DataFrame) -> np.datetime64:
    """The run's ``--start``: any event's date less its simulation day (the epoch when empty)."""
    if events.empty:
        return np.datetime64(0, "D")
    first = events.iloc[0]
    return np.datetime64(pd.Timestamp(first["date"]).date(), "D") - int(first["day"])


def days_from(dates, start: np.datetime64) -> np.ndarray:
    """Days from ``start`` of dates (a column or array of datetimes)."""
    return (np.asarray(dates, dtype="datetime64[D]") - start).astype(np.int64)


def _coverage(started: pd.DataFrame, patients: pd.DataFrame, start: np.datetime64) -> pd.DataFrame:
    """The coverage table from the ``CoverageStarted`` events and the rebuilt patients' dates
    of death (``reporting.recorder.coverage_spells``, days counted from ``start``)."""
    facts = pd.DataFrame([json.loads(d) for d in started["detail"]], index=started.index)
    plans = sorted(set(facts["insurance_plan"].dropna()))
    code = {name: i for i, name in enumerate(plans)}
    death = patients["date_of_death"].to_numpy().astype("datetime64[D]")
    death_day = np.where(np.isnat(death), NO_DEATH, days_from(death, start))
    rows = coverage_spells(
        {
            "patient_id": started["patient_id"].to_numpy(dtype=np.int64),
            "start": days_from(started["date"].to_numpy(), start),
            "payer": facts["payer_type"].map(PAYER_TYPES.index),
            "insurance_plan": facts["insurance_plan"].map(code).fillna(-1),
            "design": facts["plan_type"].map(DESIGNS.index),
            "basis": facts["coverage_basis"].map(BASES.index),
        },
        death_day,  # the patients are in ID order, 1..N
        days_from(patients["date_of_birth"], start),
    )
    return coverage_frame(rows, start, plans)


def _conditions(
    diagnosed: pd.DataFrame, visits: pd.DataFrame, patients: pd.DataFrame, start: np.datetime64
) -> pd.DataFrame:
    """The problem list from the ``ConditionDiagnosed`` events and the rebuilt visits and
    patients (``reporting.recorder.problem_list``, days counted from ``start``)."""
    catalog = load_catalog()
    code = {c.name: c.code for c in catalog.conditions}

    def days(dates) -> np.ndarray:
        return days_from(dates, start)

    diagnosis = [json.loads(d)["diagnosis_date"] for d in diagnosed["detail"]]
    due = visits["follow_up_date"].to_numpy()
    death = patients["date_of_death"].to_numpy()
    rows = problem_list(
        {
            "patient_id": diagnosed["patient_id"].astype(np.int64).to_numpy(),
            "condition": diagnosed["condition"].astype(str).map(code).to_numpy(dtype=np.int64),
            "diagnosis": days(np.array(diagnosis, dtype="datetime64[D]")),
        },
        {
            "patient_id": visits["patient_id"].to_numpy(dtype=np.int64),
            "condition": visits["condition"].astype(str).map(code).to_numpy(dtype=np.int64),
            "episode_id": visits["episode_id"].to_numpy(dtype=np.int64),
            "admission": days(visits["date_of_admission"].to_numpy()),
            "discharge": days(visits["date_of_discharge"].to_numpy()),
            "follow_up_due": np.where(pd.isna(due), NO_FOLLOWUP, days(due.astype("datetime64[D]"))),
        },
        patients["patient_id"].to_numpy(dtype=np.int64),
        np.where(pd.isna(death), NO_DEATH, days(death.astype("datetime64[D]"))),
        days(patients["date_of_birth"].to_numpy()),
    )
    return conditions_frame(rows, catalog, start)

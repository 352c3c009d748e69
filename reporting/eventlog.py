"""The event log as a dataset (``events.csv``), and the tables rebuilt from it alone.

One row per event, in the long format process-mining tools read: ``event_id, day, date,
event_type, patient_id, visit_id, billing_id, doctor_id, doctor, hospital_id, hospital,
detail`` (detail is JSON with
the event's own facts). Events are ordered by day, then by kind (registrations, staff changes,
episodes, diversions, switches, admissions, discharges, follow-ups, bills, payments), then by
region and occurrence.

Open it in pm4py with the patient as the case (or ``visit_id`` for one stay)::

    import pandas as pd, pm4py
    events = pd.read_csv("events.csv", parse_dates=["date"])
    log = pm4py.format_dataframe(events, case_id="patient_id", activity_key="event_type",
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
from reporting.recorder import Tables
from reporting.schema import BILLING_COLUMNS, EVENT_COLUMNS, PATIENT_COLUMNS, VISIT_COLUMNS
from sim.calendar import age_on
from sim.events import PLANS, SWITCH_REASONS
from sim.population import GENDERS
from sim.refdata import SEVERITIES, load_catalog, load_demography

ORDER = (
    "PatientRegistered", "DoctorLeft", "DoctorJoined", "DoctorAbsent", "EpisodeStarted",
    "Diverted", "ProviderSwitched", "Admitted", "Discharged", "FollowUpScheduled", "BillIssued",
    "PaymentMade",
)  # fmt: skip


def _json(records: list[dict]) -> list[str]:
    return [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]


def _date(start: dt.date, day: int) -> str:
    return (start + dt.timedelta(days=int(day))).isoformat()


class _EventRows:
    """Collects one region's events of each kind as frames in the region's own numbering
    (patients and visits from ``patient_ids`` / ``visit_ids``, doctors and hospitals as the
    region's codes); ``referenced`` codes name a doctor or hospital inside the detail."""

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
        detail,
        referenced_doctor=None,
        referenced_hospital=None,
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
                    "detail": detail,
                    "referenced_doctor": codes(referenced_doctor),
                    "referenced_hospital": codes(referenced_hospital),
                }
            )
        )


def event_log_table(simulation, tables: Tables) -> pd.DataFrame:
    """Every event of the run up to the last day run, with the dataset's IDs and names
    (regions stepped in this process)."""
    start = simulation.scenario.start
    regions = {r.world.key: r for r in simulation.regions}
    frames = []
    for index, keys in enumerate(tables.keys):
        frame = region_events(regions[keys.key], keys, start, simulation.insurers)
        frames.append(globalize_events(frame, index, None, None, keys.names))
    return finish_events(pd.concat(frames, ignore_index=True), start, first_id=1)


def group_events(regions: list, keys: list, start: dt.date, insurers: list[str]) -> pd.DataFrame:
    """The events of regions recorded together (``record_regions``), in their log order,
    with the group's doctor and hospital codes and each region's index in the group."""
    frames = []
    for index, (region, region_keys) in enumerate(zip(regions, keys)):
        frame = region_events(region, region_keys, start, insurers)
        frame["region"] = np.int64(index)
        for columns, offset in (
            (("doctor", "referenced_doctor"), region_keys.names.doctor_offset),
            (("hospital", "referenced_hospital"), region_keys.names.hospital_offset),
        ):
            for column in columns:
                codes = frame[column].to_numpy()
                frame[column] = np.where(codes >= 0, codes + offset, -1)
        frames.append(frame)
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values(["day", "rank", "region", "seq"], kind="stable", ignore_index=True)


def region_events(region, keys, start: dt.date, insurers: list[str]) -> pd.DataFrame:
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
    insurer = registry.insurer[who]
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
                    "insurance_provider": insurers[k] if k >= 0 else None,
                    "insurance_policy_number": registry.policy[i],
                    "blood_type": blood[registry.blood_type[i]],
                }
                for i, k in zip(who.tolist(), insurer.tolist())
            ]
        ),
    )  # fmt: skip
    started = log.columns("EpisodeStarted")
    rows(
        "EpisodeStarted", started, patient=started["patient"],
        detail=_json(
            [{"condition": catalog.conditions[c].name} for c in started["condition"].tolist()]
        ),
    )  # fmt: skip
    rows(
        "Admitted", admitted, patient=admitted["patient"], visit=admitted["visit"],
        doctor=admitted["doctor"], hospital=admitted["hospital"],
        detail=_json(
            [
                {
                    "condition": catalog.conditions[c].name, "severity": SEVERITIES[s],
                    "treatment": catalog.treatments[t],
                    "medication": meds.names[m] if m >= 0 else None,
                    "dosage": meds.dosages[m] if m >= 0 else None,
                    "frequency": meds.frequencies[m] if m >= 0 else None,
                    "test_results": catalog.test_results[r], "room_number": room,
                    "hospital_state": world.hospitals[h].state,
                    "hospital_zipcode": world.hospitals[h].zipcode, "followup": f,
                }
                for c, s, t, m, r, room, h, f in zip(
                    admitted["condition"].tolist(), admitted["severity"].tolist(),
                    admitted["treatment"].tolist(), admitted["medication"].tolist(),
                    admitted["test_result"].tolist(), admitted["room"].tolist(),
                    admitted["hospital"].tolist(), admitted["followup"].tolist(),
                )
            ]
        ),
    )  # fmt: skip
    discharged = log.columns("Discharged")
    visit = discharged["visit"]
    rows(
        "Discharged", discharged, patient=discharged["patient"], visit=visit,
        doctor=doctor_of[visit], hospital=hospital_of[visit], detail="{}",
    )  # fmt: skip
    booked = log.columns("FollowUpScheduled")
    rows(
        "FollowUpScheduled", booked, patient=booked["patient"], visit=booked["visit"],
        detail=_json([{"due_date": _date(start, d)} for d in booked["due_day"].tolist()]),
    )  # fmt: skip
    issued = log.columns("BillIssued")
    rows(
        "BillIssued", issued, patient=issued["patient"], visit=issued["visit"],
        detail=_json(
            [
                {
                    "total_charge": t, "insurance_coverage_amount": i,
                    "patient_responsibility_amount": p, "payment_plan": PLANS[plan],
                    "expected_payment_date": _date(start, due),
                }
                for t, i, p, plan, due in zip(
                    issued["total"].tolist(), issued["insurance"].tolist(),
                    issued["patient_share"].tolist(), issued["plan"].tolist(),
                    issued["due_day"].tolist(),
                )
            ]
        ),
    )  # fmt: skip
    paid = log.columns("PaymentMade")
    rows(
        "PaymentMade", paid, patient=paid["patient"], visit=paid["visit"],
        detail=_json([{"amount": a} for a in paid["amount"].tolist()]),
    )  # fmt: skip
    switched = log.columns("ProviderSwitched")
    rows(
        "ProviderSwitched", switched, patient=switched["patient"], visit=switched["visit"],
        doctor=switched["to_doctor"], hospital=switched["to_hospital"],
        detail=_json([{"reason": SWITCH_REASONS[r]} for r in switched["reason"].tolist()]),
        referenced_doctor=switched["from_doctor"],
        referenced_hospital=switched["from_hospital"],
    )  # fmt: skip
    diverted = log.columns("Diverted")
    rows(
        "Diverted", diverted, patient=diverted["patient"], visit=diverted["visit"],
        hospital=diverted["to_hospital"], detail="{}",
        referenced_hospital=diverted["from_hospital"],
    )  # fmt: skip
    absent = log.columns("DoctorAbsent")
    rows(
        "DoctorAbsent", absent, doctor=absent["doctor"],
        detail=_json([{"until_date": _date(start, d)} for d in absent["until_day"].tolist()]),
    )  # fmt: skip
    left = log.columns("DoctorLeft")
    rows("DoctorLeft", left, doctor=left["doctor"], detail="{}")
    joined = log.columns("DoctorJoined")
    rows(
        "DoctorJoined", joined, doctor=joined["doctor"], detail="{}",
        referenced_doctor=joined["replaces"],
    )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


REFERENCES = {  # the detail keys that name a doctor or hospital, per event type
    "ProviderSwitched": ("from_doctor", "from_hospital"),
    "Diverted": (None, "from_hospital"),
    "DoctorJoined": ("replaces", None),
}


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
    for column, offset in (("doctor", names.doctor_offset), ("hospital", names.hospital_offset)):
        codes = events[column].to_numpy()
        events[f"{column}_id"] = pd.array(np.where(codes >= 0, codes + offset + 1, 0), "Int64")
        events.loc[codes < 0, f"{column}_id"] = pd.NA
    doctor_names, hospital_names = names.doctors, names.hospitals
    doctors = np.array([*doctor_names, None], dtype=object)
    hospitals = np.array([*hospital_names, None], dtype=object)
    events["doctor"] = doctors[events["doctor"].to_numpy()]  # code -1 picks None
    events["hospital"] = hospitals[events["hospital"].to_numpy()]
    detail = events["detail"].to_numpy(dtype=object).copy()
    kind = events["event_type"].to_numpy(dtype=object)
    for name, (doctor_key, hospital_key) in REFERENCES.items():
        rows = np.flatnonzero(kind == name)
        doctor = events["referenced_doctor"].to_numpy()[rows]
        hospital = events["referenced_hospital"].to_numpy()[rows]
        for row, d, h in zip(rows.tolist(), doctor.tolist(), hospital.tolist()):
            named = {}
            if doctor_key:
                named[doctor_key] = doctors[d]
            if hospital_key:
                named[hospital_key] = hospitals[h]
            rest = json.loads(detail[row])
            detail[row] = _json([named | rest])[0]
    events["detail"] = detail
    return events.drop(columns=["referenced_doctor", "referenced_hospital"])


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
    for column in ("event_type", "doctor", "hospital", "detail"):
        events[column] = events[column].astype("string")
    return events[list(EVENT_COLUMNS)]


def tables_from_events(events: pd.DataFrame, as_of: dt.date) -> Tables:
    """The patients, visits and billing tables rebuilt from the event log alone."""
    as_of64 = np.datetime64(as_of, "D")
    kind = events["event_type"].astype(str)

    def details(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        chosen = events[kind == name]
        facts = pd.DataFrame([json.loads(d) for d in chosen["detail"]], index=chosen.index)
        return chosen, facts

    people, facts = details("PatientRegistered")
    birth = pd.to_datetime(facts["date_of_birth"]).to_numpy().astype("datetime64[D]")
    age = age_on(birth, np.full(len(birth), as_of64))
    prefix = facts["prefix"].where(age >= 18, "")
    patients = pd.DataFrame(
        {
            "patient_id": people["patient_id"].astype(np.int64).to_numpy(),
            "prefix": prefix.where(prefix != "").to_numpy(),
            "first_name": facts["given_name"].to_numpy(),
            "last_name": facts["last_name"].to_numpy(),
            "name": (facts["given_name"] + " " + facts["last_name"]).to_numpy(),
            "date_of_birth": birth.astype("datetime64[s]"),
            "age": age,
            **{c: facts[c].to_numpy() for c in PATIENT_COLUMNS[PATIENT_COLUMNS.index("gender") :]},
        }
    ).sort_values("patient_id", kind="stable")

    stays, facts = details("Admitted")
    keep = stays["visit_id"].notna().to_numpy()
    stays, facts = stays[keep], facts[keep]
    left = events[kind == "Discharged"].dropna(subset=["visit_id"]).set_index("visit_id")["date"]
    booked = set(events.loc[kind == "FollowUpScheduled", "visit_id"].dropna().astype(np.int64))
    by_patient = patients.set_index("patient_id")
    visit_id = stays["visit_id"].astype(np.int64).to_numpy()
    patient_id = stays["patient_id"].astype(np.int64).to_numpy()
    admission = pd.to_datetime(stays["date"]).to_numpy().astype("datetime64[D]")
    visits = pd.DataFrame(
        {
            "visit_id": visit_id,
            "patient_id": patient_id,
            "name": by_patient["name"].reindex(patient_id).to_numpy(),
            "age": age_on(by_patient["date_of_birth"].reindex(patient_id).to_numpy(), admission),
            "gender": by_patient["gender"].reindex(patient_id).to_numpy(),
            **{c: facts[c].to_numpy() for c in VISIT_COLUMNS[5:12]},
            "doctor_id": stays["doctor_id"].astype(np.int64).to_numpy(),
            "doctor": stays["doctor"].to_numpy(),
            "hospital_id": stays["hospital_id"].astype(np.int64).to_numpy(),
            "hospital": stays["hospital"].to_numpy(),
            "hospital_state": facts["hospital_state"].to_numpy(),
            "hospital_zipcode": facts["hospital_zipcode"].to_numpy(),
            "room_number": facts["room_number"].astype(np.int64).to_numpy(),
            "date_of_admission": admission.astype("datetime64[s]"),
            "date_of_discharge": pd.to_datetime(left.reindex(visit_id)).to_numpy(),
            "follow_up_required": np.where([v in booked for v in visit_id], "Y", "N"),
        }
    ).sort_values("visit_id", kind="stable")

    bills, facts = details("BillIssued")
    paid = events[kind == "PaymentMade"].set_index("visit_id")["date"]
    visit_id = bills["visit_id"].astype(np.int64).to_numpy()
    due = pd.to_datetime(facts["expected_payment_date"]).to_numpy().astype("datetime64[D]")
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
            "total_charge": facts["total_charge"].astype(np.int64).to_numpy(),
        }
    ).sort_values("billing_id", kind="stable")
    return Tables(
        as_of=as_of,
        patients=patients[list(PATIENT_COLUMNS)].reset_index(drop=True),
        visits=visits[list(VISIT_COLUMNS)].reset_index(drop=True),
        billing=billing[list(BILLING_COLUMNS)].reset_index(drop=True),
    )

"""The recorder: the only bridge from the event log to the tables.

Patients come from ``PatientRegistered`` (with the registry's demographics), visits from
``Admitted`` + ``Discharged`` + ``BillIssued`` (stays still open, or not billed yet, at the
last day run are not visits yet),
``follow_up_required`` from ``FollowUpScheduled``, billing from ``BillIssued`` and
``PaymentMade``; the payment status is read off those events as of the last day run.

IDs are assigned after all regions ran, in region-key order and then in each region's own
event order, so they do not depend on how or where regions were run.
"""

from __future__ import annotations

from collections import Counter

import attrs
import numpy as np
import pandas as pd

from reporting.schema import BILLING_COLUMNS, PATIENT_COLUMNS, PAYMENT_STATUSES, VISIT_COLUMNS
from sim.calendar import age_on, to_datetime64
from sim.events import PLANS
from sim.population import GENDERS
from sim.refdata import SEVERITIES, load_catalog, load_demography

PAID, LATE_PAID, IN_PROGRESS, LATE_UNPAID = range(4)


@attrs.frozen
class RegionKeys:
    """How one region's local numbers map to the dataset's IDs and names."""

    key: str
    patient_ids: np.ndarray  # local patient -> patient_id (-1: not in the tables)
    visit_ids: np.ndarray  # local visit -> visit_id (= billing_id; -1: not in the tables)
    doctor_names: list[str]
    hospital_names: list[str]


@attrs.frozen
class Tables:
    """The three linked tables of a run (and, when made by the recorder, the keys that tie
    them back to the event log)."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    billing: pd.DataFrame
    keys: list[RegionKeys] = attrs.field(factory=list, eq=False, repr=False)

    def items(self):
        return (("patients", self.patients), ("visits", self.visits), ("billing", self.billing))


def unique_labels(labels_by_region: list[list[str]], regions: list[str]) -> list[list[str]]:
    """Make names unique across regions: a name already used by an earlier region gets the
    region in parentheses (regions are visited in key order, so the result is stable)."""
    seen: set[str] = set()
    result = []
    for labels, region in zip(labels_by_region, regions):
        fixed = []
        for label in labels:
            candidate = label if label not in seen else f"{label} ({region})"
            suffix = 2
            while candidate in seen:
                candidate = f"{label} ({region} {suffix})"
                suffix += 1
            seen.add(candidate)
            fixed.append(candidate)
        result.append(fixed)
    return result


def _categorical(codes: np.ndarray, labels) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(labels))


def record(simulation) -> Tables:
    """Flatten every region's event log into the patients, visits and billing tables."""
    scenario = simulation.scenario
    catalog = load_catalog()
    blood_labels = load_demography().blood_types.labels
    regions = sorted(simulation.regions, key=lambda r: r.world.key)
    keys = [r.world.key for r in regions]
    doctor_names = unique_labels([[d.name for d in r.world.doctors] for r in regions], keys)
    hospital_names = unique_labels([[h.name for h in r.world.hospitals] for r in regions], keys)
    start = to_datetime64(scenario.start)
    last_day = simulation.day

    patients, visits, bills = [], [], []
    patient_offset = visit_offset = 0
    keys: list[RegionKeys] = []
    all_doctors: list[str] = []
    all_hospitals: list[str] = []
    hospital_states: list[str] = []
    hospital_zipcodes: list[str] = []
    for region, doctors, hospitals in zip(regions, doctor_names, hospital_names):
        world, log = region.world, region.log
        registry, zips = world.registry, world.zips
        registered = log.columns("PatientRegistered")["patient"]
        patient_ids = np.full(len(registry), -1, dtype=np.int64)
        patient_ids[registered] = patient_offset + 1 + np.arange(len(registered))
        patient_offset += len(registered)
        rows = registry.zip_row[registered]
        insurer = registry.insurer[registered]
        patients.append(
            {
                "patient_id": patient_ids[registered],
                "prefix": registry.prefix[registered],
                "given_name": registry.given_name[registered],
                "last_name": registry.last_name[registered],
                "date_of_birth": registry.birth[registered],
                "gender": registry.gender[registered],
                "phone_number": registry.phone[registered],
                "email": registry.email[registered],
                "address": registry.address[registered],
                "city": zips.city[rows],
                "state": zips.state[rows],
                "zipcode": zips.zipcode[rows],
                "insurer": insurer,
                "insurance_policy_number": registry.policy[registered],
                "blood_type": registry.blood_type[registered],
            }
        )

        admitted = log.columns("Admitted")
        discharged = log.columns("Discharged")
        discharge_day = np.full(region.next_visit, -1, dtype=np.int64)
        discharge_day[discharged["visit"]] = discharged["day"]
        billed = np.zeros(region.next_visit, dtype=bool)
        billed[log.columns("BillIssued")["visit"]] = True
        # A visit is in the tables once it has ended and been billed; at --today every ended
        # visit is billed, earlier (when stepping the clock) a bill may still be pending.
        done = (discharge_day[admitted["visit"]] >= 0) & billed[admitted["visit"]]
        visit = admitted["visit"][done]
        visit_ids = np.full(region.next_visit, -1, dtype=np.int64)
        visit_ids[visit] = visit_offset + 1 + np.arange(len(visit))
        visit_offset += len(visit)
        followup_booked = np.zeros(region.next_visit, dtype=bool)
        followup_booked[log.columns("FollowUpScheduled")["visit"]] = True
        visits.append(
            {
                "visit_id": visit_ids[visit],
                "patient_id": patient_ids[admitted["patient"][done]],
                "condition": admitted["condition"][done],
                "severity": admitted["severity"][done],
                "treatment": admitted["treatment"][done],
                "medication": admitted["medication"][done],
                "test_results": admitted["test_result"][done],
                "doctor": len(all_doctors) + admitted["doctor"][done],
                "hospital": len(all_hospitals) + admitted["hospital"][done],
                "room_number": admitted["room"][done],
                "admission": admitted["day"][done],
                "discharge": discharge_day[visit],
                "follow_up_required": followup_booked[visit],
            }
        )

        keys.append(RegionKeys(world.key, patient_ids, visit_ids, doctors, hospitals))
        all_doctors += doctors
        all_hospitals += hospitals
        hospital_states += [h.state for h in world.hospitals]
        hospital_zipcodes += [h.zipcode for h in world.hospitals]

        issued = log.columns("BillIssued")
        paid = log.columns("PaymentMade")
        paid_day = np.full(region.next_visit, -1, dtype=np.int64)
        paid_day[paid["visit"]] = paid["day"]
        billed = visit_ids[issued["visit"]] >= 0
        bill_visit = issued["visit"][billed]
        bills.append(
            {
                "visit_id": visit_ids[bill_visit],
                "patient_id": patient_ids[issued["patient"][billed]],
                "billing_day": issued["day"][billed],
                "insurance_coverage_amount": issued["insurance"][billed],
                "patient_responsibility_amount": issued["patient_share"][billed],
                "payment_plan": issued["plan"][billed],
                "due_day": issued["due_day"][billed],
                "paid_day": paid_day[bill_visit],
                "total_charge": issued["total"][billed],
            }
        )

    patients_frame = _patients_frame(patients, simulation.insurers, blood_labels, simulation.as_of)
    return Tables(
        patients=patients_frame,
        visits=_visits_frame(
            visits,
            catalog,
            start,
            patients_frame,
            all_doctors,
            all_hospitals,
            hospital_states,
            hospital_zipcodes,
        ),
        billing=_billing_frame(bills, start, last_day),
        keys=keys,
    )


def _join(parts: list[dict], name: str) -> np.ndarray:
    arrays = [part[name] for part in parts]
    return np.concatenate(arrays) if arrays else np.array([])


def _dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]")


def _patients_frame(parts: list[dict], insurers: list[str], blood_labels, today) -> pd.DataFrame:
    prefix = _join(parts, "prefix")
    given = _join(parts, "given_name")
    last = _join(parts, "last_name")
    birth = _join(parts, "date_of_birth").astype("datetime64[D]")
    age = age_on(birth, np.full(len(birth), to_datetime64(today)))
    prefix = np.where(age >= 18, prefix, "")  # a courtesy prefix is for adults, as of that day
    insurer = _join(parts, "insurer").astype(np.int64)
    provider = np.array([*insurers, None], dtype=object)[
        np.where(insurer < 0, len(insurers), insurer)
    ]
    frame = pd.DataFrame(
        {
            "patient_id": _join(parts, "patient_id").astype(np.int64),
            "first_name": [f"{p} {g}" if p else g for p, g in zip(prefix.tolist(), given.tolist())],
            "last_name": last,
            "name": [f"{g} {s}" for g, s in zip(given.tolist(), last.tolist())],
            "date_of_birth": _dates(birth),
            "age": age,
            "gender": _categorical(_join(parts, "gender"), GENDERS),
            "phone_number": _join(parts, "phone_number"),
            "email": _join(parts, "email"),
            "address": _join(parts, "address"),
            "city": _join(parts, "city"),
            "state": _join(parts, "state"),
            "zipcode": _join(parts, "zipcode"),
            "insurance_provider": provider,
            "insurance_policy_number": _join(parts, "insurance_policy_number"),
            "blood_type": _categorical(_join(parts, "blood_type"), blood_labels),
        }
    )
    for column in [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c])]:
        frame[column] = frame[column].astype("string")
    return frame[list(PATIENT_COLUMNS)]


def _visits_frame(
    parts: list[dict],
    catalog,
    start: np.datetime64,
    patients: pd.DataFrame,
    doctors: list[str],
    hospitals: list[str],
    hospital_states: list[str],
    hospital_zipcodes: list[str],
) -> pd.DataFrame:
    patient_id = _join(parts, "patient_id").astype(np.int64)
    who = np.searchsorted(patients["patient_id"].to_numpy(), patient_id)
    birth = patients["date_of_birth"].to_numpy().astype("datetime64[D]")[who]
    medication = _join(parts, "medication").astype(np.int64)
    has_drug = medication >= 0
    meds = catalog.medications

    def drug_column(values: tuple[str, ...]) -> pd.Series:
        table = np.array([*values, None], dtype=object)
        return pd.Series(table[np.where(has_drug, medication, len(values))], dtype="string")

    hospital = _join(parts, "hospital").astype(np.int64)
    admission = _join(parts, "admission").astype(np.int64)
    discharge = _join(parts, "discharge").astype(np.int64)
    frame = pd.DataFrame(
        {
            "visit_id": _join(parts, "visit_id").astype(np.int64),
            "patient_id": patient_id,
            "name": patients["name"].array.take(who),
            "age": age_on(birth, start + admission),
            "gender": pd.Categorical.from_codes(
                patients["gender"].cat.codes.to_numpy()[who], categories=list(GENDERS)
            ),
            "condition": _categorical(
                _join(parts, "condition"), [c.name for c in catalog.conditions]
            ),
            "severity": _categorical(_join(parts, "severity"), SEVERITIES),
            "treatment": _categorical(_join(parts, "treatment"), catalog.treatments),
            "medication": drug_column(meds.names),
            "dosage": drug_column(meds.dosages),
            "frequency": drug_column(meds.frequencies),
            "test_results": _categorical(_join(parts, "test_results"), catalog.test_results),
            "doctor": _categorical(_join(parts, "doctor"), doctors),
            "hospital": _categorical(hospital, hospitals),
            "hospital_state": pd.Series(
                np.array(hospital_states, dtype=object)[hospital], dtype="string"
            ),
            "hospital_zipcode": pd.Series(
                np.array(hospital_zipcodes, dtype=object)[hospital], dtype="string"
            ),
            "room_number": _join(parts, "room_number").astype(np.int64),
            "date_of_admission": _dates(start + admission),
            "date_of_discharge": _dates(start + discharge),
            "follow_up_required": _categorical(
                _join(parts, "follow_up_required").astype(np.int64), ("N", "Y")
            ),
        }
    )
    return frame[list(VISIT_COLUMNS)]


def _billing_frame(parts: list[dict], start: np.datetime64, last_day: int) -> pd.DataFrame:
    visit_id = _join(parts, "visit_id").astype(np.int64)
    order = np.argsort(visit_id, kind="stable")
    due = _join(parts, "due_day").astype(np.int64)[order]
    paid = _join(parts, "paid_day").astype(np.int64)[order]
    status = np.where(
        paid >= 0,
        np.where(paid <= due, PAID, LATE_PAID),
        np.where(due < last_day, LATE_UNPAID, IN_PROGRESS),
    )
    paid_date = np.where(paid >= 0, start + paid, np.datetime64("NaT"))
    frame = pd.DataFrame(
        {
            "billing_id": visit_id[order],
            "visit_id": visit_id[order],
            "patient_id": _join(parts, "patient_id").astype(np.int64)[order],
            "billing_date": _dates(start + _join(parts, "billing_day").astype(np.int64)[order]),
            "insurance_coverage_amount": _join(parts, "insurance_coverage_amount").astype(np.int64)[
                order
            ],
            "patient_responsibility_amount": _join(parts, "patient_responsibility_amount").astype(
                np.int64
            )[order],
            "payment_plan": _categorical(_join(parts, "payment_plan")[order], PLANS),
            "expected_payment_date": _dates(start + due),
            "actual_payment_date": _dates(paid_date),
            "payment_status": _categorical(status, PAYMENT_STATUSES),
            "total_charge": _join(parts, "total_charge").astype(np.int64)[order],
        }
    )
    return frame[list(BILLING_COLUMNS)]


def switch_reasons(simulation) -> dict[str, int]:
    """How many ProviderSwitched events each reason produced."""
    from sim.events import SWITCH_REASONS

    counts: Counter = Counter()
    for region in simulation.regions:
        for code in region.log.columns("ProviderSwitched")["reason"].tolist():
            counts[SWITCH_REASONS[code]] += 1
    return {reason: counts.get(reason, 0) for reason in SWITCH_REASONS}

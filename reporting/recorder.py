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

import datetime as dt

import attrs
import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

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
    return [_unique(labels, region, seen) for labels, region in zip(labels_by_region, regions)]


def _unique(labels: list[str], region: str, seen: set[str]) -> list[str]:
    fixed = []
    for label in labels:
        candidate = label if label not in seen else f"{label} ({region})"
        suffix = 2
        while candidate in seen:
            candidate = f"{label} ({region} {suffix})"
            suffix += 1
        seen.add(candidate)
        fixed.append(candidate)
    return fixed


def _categorical(codes: np.ndarray, labels) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(labels))


def _region_columns(region) -> tuple[dict, dict, dict, np.ndarray, np.ndarray]:
    """One region's rows as columns numbered from 1 within the region (doctors and hospitals
    as the region's codes), and its maps from local patients and visits to those numbers."""
    world, log = region.world, region.log
    registry, zips = world.registry, world.zips
    registered = log.columns("PatientRegistered")["patient"]
    patient_ids = np.full(len(registry), -1, dtype=np.int64)
    patient_ids[registered] = 1 + np.arange(len(registered))
    rows = registry.zip_row[registered]
    patients = {
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
        "insurer": registry.insurer[registered],
        "insurance_policy_number": registry.policy[registered],
        "blood_type": registry.blood_type[registered],
    }

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
    visit_ids[visit] = 1 + np.arange(len(visit))
    followup_booked = np.zeros(region.next_visit, dtype=bool)
    followup_booked[log.columns("FollowUpScheduled")["visit"]] = True
    visits = {
        "visit_id": visit_ids[visit],
        "patient_id": patient_ids[admitted["patient"][done]],
        "condition": admitted["condition"][done],
        "severity": admitted["severity"][done],
        "treatment": admitted["treatment"][done],
        "medication": admitted["medication"][done],
        "test_results": admitted["test_result"][done],
        "doctor": admitted["doctor"][done],
        "hospital": admitted["hospital"][done],
        "room_number": admitted["room"][done],
        "admission": admitted["day"][done],
        "discharge": discharge_day[visit],
        "follow_up_required": followup_booked[visit],
    }

    issued = log.columns("BillIssued")
    paid = log.columns("PaymentMade")
    paid_day = np.full(region.next_visit, -1, dtype=np.int64)
    paid_day[paid["visit"]] = paid["day"]
    in_tables = visit_ids[issued["visit"]] >= 0
    bill_visit = issued["visit"][in_tables]
    bills = {
        "visit_id": visit_ids[bill_visit],
        "patient_id": patient_ids[issued["patient"][in_tables]],
        "billing_day": issued["day"][in_tables],
        "insurance_coverage_amount": issued["insurance"][in_tables],
        "patient_responsibility_amount": issued["patient_share"][in_tables],
        "payment_plan": issued["plan"][in_tables],
        "due_day": issued["due_day"][in_tables],
        "paid_day": paid_day[bill_visit],
        "total_charge": issued["total"][in_tables],
    }

    return patients, visits, bills, patient_ids, visit_ids


def concatenate(parts: list[Tables]) -> Tables:
    """Regions' globalized tables as one set of tables (doctor and hospital categories in
    region order)."""
    if not parts:
        return Tables(
            *(
                pd.DataFrame(columns=list(c))
                for c in (PATIENT_COLUMNS, VISIT_COLUMNS, BILLING_COLUMNS)
            )
        )
    frames = {}
    for name in ("patients", "visits", "billing"):
        frames[name] = pd.concat([getattr(p, name) for p in parts], ignore_index=True)
    for column in ("doctor", "hospital"):
        frames["visits"][column] = union_categoricals([p.visits[column] for p in parts])
    return Tables(**frames, keys=[key for p in parts for key in p.keys])


def record(simulation) -> Tables:
    """Flatten every region's event log into the patients, visits and billing tables."""
    regions = sorted(simulation.regions, key=lambda r: r.world.key)
    return record_regions(regions, simulation.scenario, simulation.insurers, simulation.day)


def record_regions(regions: list, scenario, insurers: list[str], last_day: int) -> Tables:
    """The tables of ``regions`` (in key order) numbered together from 1, with names made
    unique across them; ``keys`` holds one entry per region."""
    catalog = load_catalog()
    blood_labels = load_demography().blood_types.labels
    start = to_datetime64(scenario.start)
    as_of = scenario.start + dt.timedelta(days=last_day)
    columns = [_region_columns(region) for region in regions]
    numbering = Numbering()
    all_doctors: list[str] = []
    all_hospitals: list[str] = []
    keys = []
    for region, (patients, visits, bills, patient_ids, visit_ids) in zip(regions, columns):
        numbers = numbering.region(
            region.world.key,
            [d.name for d in region.world.doctors],
            [h.name for h in region.world.hospitals],
            len(patients["patient_id"]),
            len(visits["visit_id"]),
        )
        patient_offset, visit_offset = numbers.patient_offset, numbers.visit_offset
        doctor_offset, hospital_offset = len(all_doctors), len(all_hospitals)
        for part, shifts in (
            (patients, {"patient_id": patient_offset}),
            (
                visits,
                {
                    "visit_id": visit_offset,
                    "patient_id": patient_offset,
                    "doctor": doctor_offset,
                    "hospital": hospital_offset,
                },
            ),
            (bills, {"visit_id": visit_offset, "patient_id": patient_offset}),
        ):
            for column, shift in shifts.items():
                part[column] = part[column] + shift
        keys.append(
            RegionKeys(
                region.world.key,
                np.where(patient_ids >= 0, patient_ids + patient_offset, -1),
                np.where(visit_ids >= 0, visit_ids + visit_offset, -1),
                numbers.doctors,
                numbers.hospitals,
            )
        )
        all_doctors += numbers.doctors
        all_hospitals += numbers.hospitals

    def joined(which: int) -> dict:
        parts = [c[which] for c in columns]
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    patients_frame = _patients_frame(joined(0), insurers, blood_labels, as_of)
    every_hospital = [h for r in regions for h in r.world.hospitals]
    return Tables(
        patients=patients_frame,
        visits=_visits_frame(
            joined(1),
            catalog,
            start,
            patients_frame,
            all_doctors,
            all_hospitals,
            [h.state for h in every_hospital],
            [h.zipcode for h in every_hospital],
        ),
        billing=_billing_frame(joined(2), start, last_day),
        keys=keys,
    )


@attrs.frozen
class RegionNumbers:
    """Where a region's IDs start, its position among regions, and what its doctors and
    hospitals are called in the dataset."""

    index: int
    patient_offset: int
    visit_offset: int
    doctors: list[str]
    hospitals: list[str]


class Numbering:
    """The dataset's IDs and names, handed out to regions one at a time in key order: a
    region's IDs follow the rows of the regions before it, and a doctor or hospital name
    already used by an earlier region gets the region in parentheses (``unique_labels``)."""

    def __init__(self) -> None:
        self.regions = self.patients = self.visits = 0
        self._doctors: set[str] = set()
        self._hospitals: set[str] = set()

    def region(
        self, key: str, doctors: list[str], hospitals: list[str], patients: int, visits: int
    ) -> RegionNumbers:
        """The next region's numbers; it has ``patients`` and ``visits`` rows."""
        numbers = RegionNumbers(
            index=self.regions,
            patient_offset=self.patients,
            visit_offset=self.visits,
            doctors=_unique(doctors, key, self._doctors),
            hospitals=_unique(hospitals, key, self._hospitals),
        )
        self.regions += 1
        self.patients += patients
        self.visits += visits
        return numbers


def _is_text(column: pd.Series) -> bool:
    """Text that is not a category: made the nullable ``string`` type everywhere, whether
    pandas inferred ``object`` or ``str`` (which depends on the values, e.g. all missing)."""
    dtype = column.dtype
    return not isinstance(dtype, pd.CategoricalDtype) and (
        pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
    )


def _column(part: dict, name: str) -> np.ndarray:
    return np.asarray(part[name])


def _dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]")


def _patients_frame(part: dict, insurers: list[str], blood_labels, today) -> pd.DataFrame:
    prefix = _column(part, "prefix")
    given = _column(part, "given_name")
    last = _column(part, "last_name")
    birth = _column(part, "date_of_birth").astype("datetime64[D]")
    age = age_on(birth, np.full(len(birth), to_datetime64(today)))
    prefix = np.where(age >= 18, prefix, "")  # a courtesy prefix is for adults, as of that day
    insurer = _column(part, "insurer").astype(np.int64)
    provider = np.array([*insurers, None], dtype=object)[
        np.where(insurer < 0, len(insurers), insurer)
    ]
    frame = pd.DataFrame(
        {
            "patient_id": _column(part, "patient_id").astype(np.int64),
            "first_name": [f"{p} {g}" if p else g for p, g in zip(prefix.tolist(), given.tolist())],
            "last_name": last,
            "name": [f"{g} {s}" for g, s in zip(given.tolist(), last.tolist())],
            "date_of_birth": _dates(birth),
            "age": age,
            "gender": _categorical(_column(part, "gender"), GENDERS),
            "phone_number": _column(part, "phone_number"),
            "email": _column(part, "email"),
            "address": _column(part, "address"),
            "city": _column(part, "city"),
            "state": _column(part, "state"),
            "zipcode": _column(part, "zipcode"),
            "insurance_provider": provider,
            "insurance_policy_number": _column(part, "insurance_policy_number"),
            "blood_type": _categorical(_column(part, "blood_type"), blood_labels),
        }
    )
    for column in [c for c in frame.columns if _is_text(frame[c])]:
        frame[column] = frame[column].astype("string")
    return frame[list(PATIENT_COLUMNS)]


def _visits_frame(
    part: dict,
    catalog,
    start: np.datetime64,
    patients: pd.DataFrame,
    doctors: list[str],
    hospitals: list[str],
    hospital_states: list[str],
    hospital_zipcodes: list[str],
) -> pd.DataFrame:
    patient_id = _column(part, "patient_id").astype(np.int64)
    who = np.searchsorted(patients["patient_id"].to_numpy(), patient_id)
    birth = patients["date_of_birth"].to_numpy().astype("datetime64[D]")[who]
    medication = _column(part, "medication").astype(np.int64)
    has_drug = medication >= 0
    meds = catalog.medications

    def drug_column(values: tuple[str, ...]) -> pd.Series:
        table = np.array([*values, None], dtype=object)
        return pd.Series(table[np.where(has_drug, medication, len(values))], dtype="string")

    hospital = _column(part, "hospital").astype(np.int64)
    admission = _column(part, "admission").astype(np.int64)
    discharge = _column(part, "discharge").astype(np.int64)
    frame = pd.DataFrame(
        {
            "visit_id": _column(part, "visit_id").astype(np.int64),
            "patient_id": patient_id,
            "name": patients["name"].array.take(who),
            "age": age_on(birth, start + admission),
            "gender": pd.Categorical.from_codes(
                patients["gender"].cat.codes.to_numpy()[who], categories=list(GENDERS)
            ),
            "condition": _categorical(
                _column(part, "condition"), [c.name for c in catalog.conditions]
            ),
            "severity": _categorical(_column(part, "severity"), SEVERITIES),
            "treatment": _categorical(_column(part, "treatment"), catalog.treatments),
            "medication": drug_column(meds.names),
            "dosage": drug_column(meds.dosages),
            "frequency": drug_column(meds.frequencies),
            "test_results": _categorical(_column(part, "test_results"), catalog.test_results),
            "doctor": _categorical(_column(part, "doctor"), doctors),
            "hospital": _categorical(hospital, hospitals),
            "hospital_state": pd.Series(
                np.array(hospital_states, dtype=object)[hospital], dtype="string"
            ),
            "hospital_zipcode": pd.Series(
                np.array(hospital_zipcodes, dtype=object)[hospital], dtype="string"
            ),
            "room_number": _column(part, "room_number").astype(np.int64),
            "date_of_admission": _dates(start + admission),
            "date_of_discharge": _dates(start + discharge),
            "follow_up_required": _categorical(
                _column(part, "follow_up_required").astype(np.int64), ("N", "Y")
            ),
        }
    )
    return frame[list(VISIT_COLUMNS)]


def _billing_frame(part: dict, start: np.datetime64, last_day: int) -> pd.DataFrame:
    visit_id = _column(part, "visit_id").astype(np.int64)
    order = np.argsort(visit_id, kind="stable")
    due = _column(part, "due_day").astype(np.int64)[order]
    paid = _column(part, "paid_day").astype(np.int64)[order]
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
            "patient_id": _column(part, "patient_id").astype(np.int64)[order],
            "billing_date": _dates(start + _column(part, "billing_day").astype(np.int64)[order]),
            "insurance_coverage_amount": _column(part, "insurance_coverage_amount").astype(
                np.int64
            )[order],
            "patient_responsibility_amount": _column(part, "patient_responsibility_amount").astype(
                np.int64
            )[order],
            "payment_plan": _categorical(_column(part, "payment_plan")[order], PLANS),
            "expected_payment_date": _dates(start + due),
            "actual_payment_date": _dates(paid_date),
            "payment_status": _categorical(status, PAYMENT_STATUSES),
            "total_charge": _column(part, "total_charge").astype(np.int64)[order],
        }
    )
    return frame[list(BILLING_COLUMNS)]

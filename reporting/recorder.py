"""The recorder: the only bridge from the event log to the tables.

Patients come from ``PatientRegistered`` (with the registry's demographics), visits from
``Admitted`` + ``Discharged`` + ``BillIssued`` (stays still open, or not billed yet, at the
last day run are not visits yet),
``follow_up_required`` from ``FollowUpScheduled``, billing from ``BillIssued`` and
``PaymentMade``; the payment status is read off those events as of the last day run. The
problem list (conditions) holds the chronic conditions of ``ConditionDiagnosed`` and one row
per episode of any other condition among the visits (``problem_list``). The coverage
(enrollment) table has a row per ``CoverageStarted`` spell, ended by the next or by death.

Rows are numbered in a meaningful order (``reporting.ordering``): visits by admission day,
patients by their first visit's day, ties by region key and then the region's own event order,
so the IDs do not depend on how or where regions were run. Doctors and hospitals get the
dataset's IDs and names (``reporting.naming``).
"""

from __future__ import annotations

import datetime as dt
import functools

import attrs
import numpy as np
import pandas as pd

from reporting.naming import RegionNames, dataset_names
from reporting.ordering import NO_VISIT_DAY, RowKeys, ids_in_order, remap
from reporting.schema import (
    BILLING_COLUMNS,
    CONDITION_COLUMNS,
    COVERAGE_COLUMNS,
    PATIENT_COLUMNS,
    PAYMENT_STATUSES,
    PROBLEM_STATUSES,
    VISIT_COLUMNS,
    VISIT_TYPES,
)
from sim.calendar import age_on, to_datetime64
from sim.coverage import BASES, DESIGNS, PAYER_TYPES
from sim.epidemiology import load_rate_tables
from sim.events import ADMISSION_TYPES, DISCHARGE_DISPOSITIONS, ENCOUNTER_TYPES, PLANS
from sim.facts import RegionFacts, region_facts
from sim.geography import AREA_NAMES
from sim.population import GENDERS
from sim.refdata import SEVERITIES, load_catalog, load_demography

PAID, LATE_PAID, IN_PROGRESS, LATE_UNPAID = range(4)
NO_FOLLOWUP = -1  # follow_up_due of a visit without a booked follow-up
NO_DEATH = -1  # death_day of a patient alive at the end
NONE = -1  # no resolution day, no episode (problem-list columns)
EXPIRED = DISCHARGE_DISPOSITIONS.index("Expired")


@attrs.frozen
class RegionKeys:
    """How one region's local numbers map to the dataset's IDs and names."""

    key: str
    patient_ids: np.ndarray  # local patient -> patient_id (-1: not in the tables)
    visit_ids: np.ndarray  # local visit -> visit_id (= billing_id; -1: not in the tables)
    names: RegionNames  # the region's doctors and hospitals as in these tables


@attrs.frozen
class Tables:
    """The linked tables of a run as of a day (``as_of``: the run's ``--today``, or the
    last day run when stepping; None when unknown): patients, visits, billing and, when at
    hand, the problem list (``conditions``) and the coverage spells (``coverage``); when made
    by the recorder, the keys that tie them back to the event log."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    billing: pd.DataFrame
    conditions: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    as_of: dt.date | None = attrs.field(default=None, eq=False)
    keys: list[RegionKeys] = attrs.field(factory=list, eq=False, repr=False)
    patient_keys: RowKeys | None = attrs.field(default=None, eq=False, repr=False)
    visit_keys: RowKeys | None = attrs.field(default=None, eq=False, repr=False)

    def items(self):
        """(name, frame) of each table at hand."""
        tables = (("patients", self.patients), ("visits", self.visits), ("billing", self.billing))
        optional = (("conditions", self.conditions), ("coverage", self.coverage))
        return tables + tuple((name, frame) for name, frame in optional if frame is not None)


def _categorical(codes: np.ndarray, labels) -> pd.Categorical:
    return pd.Categorical.from_codes(
        np.asarray(codes, dtype=np.int64), dtype=_category_type(tuple(labels))
    )


@functools.lru_cache(maxsize=64)
def _category_type(labels: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical type of these labels, made once: pandas checks the labels each time."""
    return pd.CategoricalDtype(list(labels))


def _region_columns(region) -> tuple[dict, dict, dict, dict, np.ndarray, np.ndarray]:
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
        "rurality": zips.area[rows],
        "payer_type": registry.payer[registered],
        "insurer": registry.insurer[registered],
        "insurance_policy_number": registry.policy[registered],
        "blood_type": registry.blood_type[registered],
        "mother_patient_id": remap(registry.mother[registered] + 1, patient_ids),
    }

    admitted = log.columns("Admitted")
    discharged = log.columns("Discharged")
    died = discharged["disposition"] == EXPIRED
    death_day = np.full(len(registry), NO_DEATH, dtype=np.int64)
    death_day[discharged["patient"][died]] = discharged["day"][died]
    elsewhere = log.columns("Died")
    death_day[elsewhere["patient"]] = elsewhere["day"]
    patients["death_day"] = death_day[registered]
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
    booked = log.columns("FollowUpScheduled")
    followup_due = np.full(region.next_visit, NO_FOLLOWUP, dtype=np.int64)
    followup_due[booked["visit"]] = booked["due_day"]
    followup_due[log.columns("FollowUpMissed")["visit"]] = NO_FOLLOWUP
    disposition = np.zeros(region.next_visit, dtype=np.int64)
    disposition[discharged["visit"]] = discharged["disposition"]
    # An episode is known by its first visit in the tables (numbered like the visits): its
    # initial encounter, or the first follow-up written of an episode begun in the burn-in.
    # Admissions are logged in visit order, so an episode's first row is its first visit.
    first_visit = np.full(region.next_episode, -1, dtype=np.int64)
    episodes, first_row = np.unique(admitted["episode"], return_index=True)
    first_visit[episodes] = admitted["visit"][first_row]
    visits = {
        "visit_id": visit_ids[visit],
        "episode_id": visit_ids[first_visit[admitted["episode"][done]]],
        "patient_id": patient_ids[admitted["patient"][done]],
        "encounter_type": admitted["encounter"][done],
        "followup": admitted["followup"][done],
        "admission_type": admitted["admission_type"][done],
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
        "discharge_disposition": disposition[visit],
        "follow_up_due": followup_due[visit],
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
        "payer_type": issued["payer"][in_tables],
        "insurance_plan": issued["insurance_plan"][in_tables],
        "adjustment_amount": issued["adjustment"][in_tables],
        "charity_care_amount": issued["charity"][in_tables],
    }

    # a baby whose mother waited for a room is born later than registered: nothing before birth
    birth_day = (
        np.asarray(registry.birth[registered], dtype="datetime64[D]")
        - to_datetime64(region.scenario.clock_start)
    ).astype(np.int64)
    diagnosed = log.columns("ConditionDiagnosed")
    problems = problem_list(
        {
            "patient_id": patient_ids[diagnosed["patient"]],
            "condition": diagnosed["condition"],
            "diagnosis": diagnosed["diagnosis_day"],
        },
        visits,
        patients["patient_id"],
        patients["death_day"],
        birth_day,
    )
    started = log.columns("CoverageStarted")
    spells = coverage_spells(
        {
            "patient_id": patient_ids[started["patient"]],
            "start": started["day"],
            "payer": started["payer"],
            "insurance_plan": started["insurance_plan"],
            "design": started["design"],
            "basis": started["basis"],
        },
        patients["death_day"],
        birth_day,
    )
    # the patient's coverage is the last spell logged: on the last day run, or at death
    last = np.searchsorted(spells["patient_id"], patients["patient_id"], side="right") - 1
    patients["payer_type"] = spells["payer"][last]
    patients["insurer"] = spells["insurance_plan"][last]
    patients["insurance_policy_number"] = np.where(
        patients["insurer"] >= 0, patients["insurance_policy_number"], None
    )
    return patients, visits, bills, problems, spells, patient_ids, visit_ids


def coverage_spells(started: dict, death_day: np.ndarray, birth_day: np.ndarray) -> dict:
    """The coverage table's rows (days and codes) from the ``CoverageStarted`` events
    (``patient_id`` numbered from 1 as the patients' rows, ``start`` day, ``payer``,
    ``insurance_plan``, ``design``, ``basis``), in order of patient and start: a spell ends the day
    before the patient's next one, or on the day of death (``death_day`` of each patient
    ID - 1; ``NO_DEATH`` for the living), else ``NONE`` (ongoing). No spell starts before the
    patient's birth (``birth_day``: a baby born later than registered, its mother having
    waited for a room); a spell that ended before it is left out."""
    rows = {name: np.asarray(values, dtype=np.int64) for name, values in started.items()}
    order = np.lexsort((rows["start"], rows["patient_id"]))
    rows = {name: values[order] for name, values in rows.items()}
    patient = rows["patient_id"]
    death = np.asarray(death_day, dtype=np.int64)[patient - 1]
    end = np.where(death != NO_DEATH, death, NONE)
    same = np.flatnonzero(patient[1:] == patient[:-1])
    end[same] = rows["start"][same + 1] - 1
    rows["end"] = end
    rows["start"] = np.maximum(rows["start"], np.asarray(birth_day, dtype=np.int64)[patient - 1])
    lived = (end == NONE) | (end >= rows["start"])
    return {name: values[lived] for name, values in rows.items()}


def problem_list(
    chronic: dict,
    visits: dict,
    patient_id: np.ndarray,
    death_day: np.ndarray,
    birth_day: np.ndarray,
) -> dict:
    """The problem list's rows (days and codes; ``NONE`` for no resolution or episode) from
    the chronic diagnoses (``patient_id``, ``condition`` code, ``diagnosis`` day) and the
    visits' columns (as ``_region_columns`` makes them), in ``problem_order``. A chronic row
    counts its condition's visits; an episode of any other condition is diagnosed on its
    initial encounter and resolved on its last visit's discharge when no follow-up is still
    booked, else on the patient's death (``death_day`` of each ``patient_id``, ascending;
    ``NO_DEATH`` for the living). A chronic diagnosis is never before birth (``birth_day``)."""
    catalog = load_catalog()
    width = len(catalog.conditions)
    condition = np.asarray(visits["condition"], dtype=np.int64)
    visit_patient = np.asarray(visits["patient_id"], dtype=np.int64)
    chronic_patient = np.asarray(chronic["patient_id"], dtype=np.int64)
    chronic_condition = np.asarray(chronic["condition"], dtype=np.int64)
    pairs, counts = np.unique(visit_patient * width + condition, return_counts=True)
    wanted = chronic_patient * width + chronic_condition
    at = np.searchsorted(pairs, wanted)
    found = at < len(pairs)
    found[found] = pairs[at[found]] == wanted[found]
    chronic_visits = np.zeros(len(wanted), dtype=np.int64)
    chronic_visits[found] = counts[at[found]]

    # visits of other conditions, by episode and admission: each episode's first and last
    episodic = np.flatnonzero(~load_rate_tables(catalog).chronic[condition])
    episode = np.asarray(visits["episode_id"], dtype=np.int64)[episodic]
    admission = np.asarray(visits["admission"], dtype=np.int64)[episodic]
    order = np.lexsort((admission, episode))
    episodic, episode = episodic[order], episode[order]
    starts = np.flatnonzero(np.r_[True, episode[1:] != episode[:-1]]) if len(episode) else order
    ends = np.r_[starts[1:], len(episode)] if len(episode) else starts
    first, last = episodic[starts], episodic[ends - 1]
    patient = visit_patient[first]
    due = np.asarray(visits["follow_up_due"], dtype=np.int64)[last]
    resolution = np.where(due == NO_FOLLOWUP, np.asarray(visits["discharge"])[last], NONE)
    who = np.searchsorted(np.asarray(patient_id, dtype=np.int64), patient)
    death = np.asarray(death_day, dtype=np.int64)[who]
    resolution = np.where((resolution == NONE) & (death != NO_DEATH), death, resolution)

    rows = {
        "patient_id": np.concatenate([chronic_patient, patient]),
        "condition": np.concatenate([chronic_condition, condition[first]]),
        "diagnosis": np.concatenate(
            [
                np.maximum(
                    np.asarray(chronic["diagnosis"], dtype=np.int64),
                    np.asarray(birth_day, dtype=np.int64)[
                        np.searchsorted(np.asarray(patient_id, dtype=np.int64), chronic_patient)
                    ],
                ),
                np.asarray(visits["admission"])[first],
            ]
        ),
        "resolution": np.concatenate([np.full(len(wanted), NONE), resolution]).astype(np.int64),
        "episode_id": np.concatenate([np.full(len(wanted), NONE), episode[starts]]),
        "n_visits": np.concatenate([chronic_visits, ends - starts]),
    }
    order = problem_order(rows)
    return {name: values[order] for name, values in rows.items()}


def problem_order(rows: dict) -> np.ndarray:
    """The problem list's order: patient, diagnosis day, condition code, episode."""
    return np.lexsort(
        (rows["episode_id"], rows["condition"], rows["diagnosis"], rows["patient_id"])
    )


def record(simulation) -> Tables:
    """Flatten every region's event log into the patients, visits and billing tables."""
    regions = sorted(simulation.regions, key=lambda r: r.world.key)
    return record_regions(regions, simulation.scenario, simulation.insurers, simulation.day)


def record_regions(
    regions: list,
    scenario,
    insurers: list[str],
    last_day: int,
    facts: list[RegionFacts] | None = None,
) -> Tables:
    """The tables of ``regions`` (in key order) numbered together from 1 in the dataset's
    order (``reporting.ordering``), with the dataset's doctor and hospital names and IDs as if
    these regions were the whole dataset; ``keys`` holds one entry per region. ``facts``:
    the regions' ``region_facts`` on ``last_day`` when the caller has them already."""
    catalog = load_catalog()
    blood_labels = load_demography().blood_types.labels
    start = to_datetime64(scenario.clock_start)  # of simulation day 0
    as_of = scenario.clock_start + dt.timedelta(days=last_day)
    if facts is None:  # read first, while the extracts are kept
        facts = [region_facts(region, last_day) for region in regions]
    columns = []
    for region in regions:
        columns.append(_region_columns(region))
        region.log.release_extracts()  # while the group's other regions are read: memory
    names = dataset_names(facts)

    def joined(which: int, name: str) -> np.ndarray:
        return np.concatenate([c[which][name] for c in columns])

    def region_of(which: int) -> np.ndarray:
        sizes = [len(c[which]["patient_id"]) for c in columns]
        return np.repeat(np.arange(len(columns), dtype=np.int16), sizes)

    visit_day = joined(1, "admission").astype(np.int32)
    visit_region = region_of(1)
    visit_ids = ids_in_order(visit_day, visit_region)
    patient_day = np.concatenate([_first_visit_days(p, v) for p, v, *_ in columns])
    patient_region = region_of(0)
    patient_ids = ids_in_order(patient_day, patient_region)

    keys = []
    patient_start = visit_start = 0
    for region, region_names, (patients, visits, bills, problems, spells, *local) in zip(
        regions, names, columns
    ):
        patient_map = patient_ids[patient_start : patient_start + len(patients["patient_id"])]
        visit_map = visit_ids[visit_start : visit_start + len(visits["visit_id"])]
        patient_start += len(patients["patient_id"])
        visit_start += len(visits["visit_id"])
        for part in (patients, visits, bills):  # the region's ID k becomes map[k - 1]
            part["patient_id"] = patient_map[part["patient_id"] - 1]
            if "visit_id" in part:
                part["visit_id"] = visit_map[part["visit_id"] - 1]
        patients["mother_patient_id"] = remap(patients["mother_patient_id"], patient_map)
        visits["episode_id"] = visit_map[visits["episode_id"] - 1]
        problems["patient_id"] = patient_map[problems["patient_id"] - 1]
        problems["episode_id"] = remap(problems["episode_id"], visit_map)
        spells["patient_id"] = patient_map[spells["patient_id"] - 1]
        visits["doctor"] = visits["doctor"] + region_names.doctor_offset
        visits["hospital"] = visits["hospital"] + region_names.hospital_offset
        keys.append(
            RegionKeys(
                region.world.key,
                remap(local[0], patient_map),
                remap(local[1], visit_map),
                region_names,
            )
        )

    def in_order(which: int, order: np.ndarray | None = None) -> dict:
        return {
            name: joined(which, name) if order is None else joined(which, name)[order]
            for name in columns[0][which]
        }

    patient_order = np.argsort(patient_ids, kind="stable")
    visit_order = np.argsort(visit_ids, kind="stable")
    patients_frame = _patients_frame(
        in_order(0, patient_order), insurers, blood_labels, as_of, start
    )
    every_hospital = [h for r in regions for h in r.world.hospitals]
    return Tables(
        as_of=as_of,
        patients=patients_frame,
        visits=_visits_frame(
            in_order(1, visit_order),
            catalog,
            start,
            patients_frame,
            [name for n in names for name in n.doctors],
            [name for n in names for name in n.hospitals],
            [h.state for h in every_hospital],
            [h.zipcode for h in every_hospital],
        ),
        billing=_billing_frame(in_order(2), start, last_day, insurers),
        conditions=conditions_frame(in_order(3), catalog, start),
        coverage=coverage_frame(in_order(4), start, insurers),
        keys=keys,
        patient_keys=RowKeys(patient_day[patient_order], patient_region[patient_order]),
        visit_keys=RowKeys(visit_day[visit_order], visit_region[visit_order]),
    )


def conditions_frame(part: dict, catalog, start: np.datetime64) -> pd.DataFrame:
    """The problem list from ``problem_list`` rows of the dataset's IDs (in any order): put
    in ``problem_order`` and numbered from 1."""
    part = {name: np.asarray(values) for name, values in part.items()}
    part = {name: values[problem_order(part)] for name, values in part.items()}
    condition = part["condition"].astype(np.int64)
    resolution = part["resolution"].astype(np.int64)
    episode = part["episode_id"].astype(np.int64)
    chronic = load_rate_tables(catalog).chronic
    categories = list(catalog.categories)
    category = [categories.index(c.category) for c in catalog.conditions]
    frame = pd.DataFrame(
        {
            "condition_id": np.arange(1, len(condition) + 1, dtype=np.int64),
            "patient_id": part["patient_id"].astype(np.int64),
            "condition": _categorical(condition, [c.name for c in catalog.conditions]),
            "category": _categorical(np.asarray(category, dtype=np.int64)[condition], categories),
            "chronic": _categorical(chronic[condition].astype(np.int64), ("N", "Y")),
            "diagnosis_date": _dates(start + part["diagnosis"].astype(np.int64)),
            "resolution_date": _dates(
                np.where(resolution != NONE, start + resolution, np.datetime64("NaT"))
            ),
            "status": _categorical((resolution != NONE).astype(np.int64), PROBLEM_STATUSES),
            "episode_id": pd.array(np.where(episode != NONE, episode, 0), dtype="Int64"),
            "n_visits": part["n_visits"].astype(np.int64),
        }
    )
    frame.loc[episode == NONE, "episode_id"] = pd.NA
    return frame[list(CONDITION_COLUMNS)]


def coverage_frame(part: dict, start: np.datetime64, insurers: list[str]) -> pd.DataFrame:
    """The coverage table from ``coverage_spells`` rows of the dataset's IDs (in any order):
    put in order of patient and start and numbered from 1."""
    part = {name: np.asarray(values, dtype=np.int64) for name, values in part.items()}
    order = np.lexsort((part["start"], part["patient_id"]))
    part = {name: values[order] for name, values in part.items()}
    end = part["end"]
    frame = pd.DataFrame(
        {
            "coverage_id": np.arange(1, len(end) + 1, dtype=np.int64),
            "patient_id": part["patient_id"],
            "payer_type": _categorical(part["payer"], PAYER_TYPES),
            "insurance_plan": pd.array(_plan_names(part["insurance_plan"], insurers), "string"),
            "plan_type": _categorical(part["design"], DESIGNS),
            "coverage_basis": _categorical(part["basis"], BASES),
            "start_date": _dates(start + part["start"]),
            "end_date": _dates(np.where(end != NONE, start + end, np.datetime64("NaT"))),
        }
    )
    return frame[list(COVERAGE_COLUMNS)]


def _first_visit_days(patients: dict, visits: dict) -> np.ndarray:
    """Each patient's first admission day among the written visits (``NO_VISIT_DAY``: none),
    patients and visits in a region's own numbering."""
    first = np.full(len(patients["patient_id"]), NO_VISIT_DAY, dtype=np.int32)
    np.minimum.at(first, visits["patient_id"] - 1, visits["admission"].astype(np.int32))
    return first


def _is_text(column: pd.Series) -> bool:
    """Text that is not a category: made the nullable ``string`` type everywhere, whether
    pandas inferred ``object`` or ``str`` (which depends on the values, e.g. all missing)."""
    dtype = column.dtype
    return not isinstance(dtype, pd.CategoricalDtype) and (
        pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
    )


def _column(part: dict, name: str) -> np.ndarray:
    return np.asarray(part[name])


def _nullable_ids(ids: np.ndarray) -> pd.arrays.IntegerArray:
    """IDs as nullable integers, -1 standing for none."""
    ids = ids.astype(np.int64)
    values = pd.array(ids, "Int64")
    values[ids <= 0] = pd.NA
    return values


def _dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[s]")


def _patients_frame(
    part: dict, insurers: list[str], blood_labels, today, start: np.datetime64
) -> pd.DataFrame:
    prefix = _column(part, "prefix")
    given = _column(part, "given_name")
    last = _column(part, "last_name")
    birth = _column(part, "date_of_birth").astype("datetime64[D]")
    death_day = _column(part, "death_day").astype(np.int64)
    died = death_day != NO_DEATH
    death = np.where(died, start + death_day, np.datetime64("NaT"))
    age = age_on(birth, np.where(died, death, to_datetime64(today)))
    prefix = np.where(age >= 18, prefix, "")  # a courtesy prefix is for adults, as of that day
    provider = _plan_names(_column(part, "insurer"), insurers)
    frame = pd.DataFrame(
        {
            "patient_id": _column(part, "patient_id").astype(np.int64),
            "prefix": pd.Series(np.where(prefix != "", prefix, None), dtype="string"),
            "first_name": given,
            "last_name": last,
            "name": [f"{g} {s}" for g, s in zip(given.tolist(), last.tolist())],
            "date_of_birth": _dates(birth),
            "date_of_death": _dates(death),
            "age": age,
            "gender": _categorical(_column(part, "gender"), GENDERS),
            "phone_number": _column(part, "phone_number"),
            "email": _column(part, "email"),
            "address": _column(part, "address"),
            "city": _column(part, "city"),
            "state": _column(part, "state"),
            "zipcode": _column(part, "zipcode"),
            "rurality": _categorical(_column(part, "rurality"), AREA_NAMES),
            "payer_type": _categorical(_column(part, "payer_type"), PAYER_TYPES),
            "insurance_provider": provider,
            "insurance_policy_number": _column(part, "insurance_policy_number"),
            "blood_type": _categorical(_column(part, "blood_type"), blood_labels),
            "mother_patient_id": _nullable_ids(_column(part, "mother_patient_id")),
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
    room = _column(part, "room_number").astype(np.int64)
    due = _column(part, "follow_up_due").astype(np.int64)
    admission = _column(part, "admission").astype(np.int64)
    discharge = _column(part, "discharge").astype(np.int64)
    frame = pd.DataFrame(
        {
            "visit_id": _column(part, "visit_id").astype(np.int64),
            "episode_id": _column(part, "episode_id").astype(np.int64),
            "encounter_type": _categorical(_column(part, "encounter_type"), ENCOUNTER_TYPES),
            "visit_type": _categorical(
                (_column(part, "followup") > 0).astype(np.int64), VISIT_TYPES
            ),
            "admission_type": _categorical(_column(part, "admission_type"), ADMISSION_TYPES),
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
            "doctor_id": _column(part, "doctor").astype(np.int64) + 1,
            "doctor": _categorical(_column(part, "doctor"), doctors),
            "hospital_id": hospital + 1,
            "hospital": _categorical(hospital, hospitals),
            "hospital_state": pd.Series(
                np.array(hospital_states, dtype=object)[hospital], dtype="string"
            ),
            "hospital_zipcode": pd.Series(
                np.array(hospital_zipcodes, dtype=object)[hospital], dtype="string"
            ),
            "room_number": pd.Series(pd.array(room, dtype="Int64")).mask(room < 0),
            "date_of_admission": _dates(start + admission),
            "date_of_discharge": _dates(start + discharge),
            "discharge_disposition": _categorical(
                _column(part, "discharge_disposition"), DISCHARGE_DISPOSITIONS
            ),
            "follow_up_required": _categorical((due != NO_FOLLOWUP).astype(np.int64), ("N", "Y")),
            "follow_up_date": _dates(
                np.where(due != NO_FOLLOWUP, start + due, np.datetime64("NaT"))
            ),
        }
    )
    return frame[list(VISIT_COLUMNS)]


def _plan_names(plan: np.ndarray, insurers: list[str]) -> np.ndarray:
    """Plan names of plan indices (None for -1, self-pay)."""
    plan = np.asarray(plan, dtype=np.int64)
    return np.array([*insurers, None], dtype=object)[np.where(plan < 0, len(insurers), plan)]


def _billing_frame(
    part: dict, start: np.datetime64, last_day: int, insurers: list[str]
) -> pd.DataFrame:
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
            "payer_type": _categorical(_column(part, "payer_type")[order], PAYER_TYPES),
            "insurance_plan": pd.array(
                _plan_names(_column(part, "insurance_plan")[order], insurers), dtype="string"
            ),
            "adjustment_amount": _column(part, "adjustment_amount").astype(np.int64)[order],
            "charity_care_amount": _column(part, "charity_care_amount").astype(np.int64)[order],
        }
    )
    return frame[list(BILLING_COLUMNS)]

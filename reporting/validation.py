"""The validation summary: rule checks (counts that must be 0) and distributions.

Everything is computed from the three tables alone, never from the simulation's own
bookkeeping, so the same checks run on a dataset read back from its CSV files.

Episodes are read off the tables: for one patient and condition in admission order, a visit
that follows a visit marked ``follow_up_required = Y`` within the category's follow-up window
is that episode's follow-up; any other visit begins a new episode.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas.api.extensions import take

from reporting.continuity import ALL, OUTPATIENT, continuity_table
from reporting.recorder import Tables
from sim.calendar import age_on
from sim.geography import AREA_NAMES, ZipTable, load_zip_table
from sim.placement import state_neighbors
from sim.processes import FOLLOWUP_LAPSE_DAYS
from sim.refdata import MEDICATION, Catalog, load_catalog
from sim.revenue import money_limits
from sim.scenario import DEFAULTS

PREFIX_GENDER = {"Mr.": "Male", "Mrs.": "Female", "Ms.": "Female"}
PREFIXES = ("Mr.", "Mrs.", "Ms.", "Dr.")
PREFIXED_NAME = r"(?s)^(" + "|".join(re.escape(p) for p in PREFIXES) + r") (.*)$"
RESERVED_EMAIL = r"@example\.(?:com|net|org)$"
FICTIONAL_PHONE = r"^\d{3}-555-01\d{2}$"
# by payment_status's code: paid on time or late, unpaid past or within its due date
PAYMENT_STATUSES = np.array(["Paid", "Late-Paid", "Late-Unpaid", "In-progress"], dtype=object)


def validate(
    tables: Tables,
    *,
    today: dt.date | None = None,
    catalog: Catalog | None = None,
    zips: ZipTable | None = None,
    **options,
) -> dict:
    """Rule checks and distributions of a dataset; ``checks`` must all be 0 for ``ok``.

    ``today`` defaults to the tables' ``as_of`` (``read_tables`` takes it from the folder's
    summary), ``catalog`` to the bundled conditions, ``zips`` to the embedded nationwide ZIP
    data (give ``load_zip_pool(path)[0]`` for a run made with ``--zip-pool-file``); other
    ``options`` are those of ``validation_part``. The whole dataset is one part.
    """
    today = today if today is not None else tables.as_of
    if today is None:
        raise ValueError("validate: give today= (the tables do not say which day they are as of)")
    return merge_validation(
        [
            validation_part(
                tables,
                today=today,
                catalog=catalog if catalog is not None else load_catalog(),
                zips=zips if zips is not None else load_zip_table(),
                **options,
            )
        ]
    )


def validation_part(
    tables: Tables,
    *,
    today: dt.date,
    catalog: Catalog,
    zips: ZipTable,
    nationwide: bool = True,
    bill_delay_days: int = DEFAULTS["bill_delay_days"][1],
    minimum_charge: int = DEFAULTS["minimum_charge"],
    plan_days: dict[str, int] | None = None,
    followups_may_be_pending: bool = True,
    episodes: pd.DataFrame | None = None,
    continuity: pd.DataFrame | None = None,
) -> dict:
    """The checks and counts of one slice of a dataset that holds whole patients (a region),
    to be combined by ``merge_validation``: counts add up, and what spans slices (ID ranges,
    policy numbers, sets of states and ZIPs) is kept in a form that merges exactly.

    With ``followups_may_be_pending`` (the default), a visit marked ``follow_up_required``
    whose follow-up could still be under way on ``today`` (discharged within the follow-up
    window) is not counted as missing its follow-up. ``episodes`` is ``with_episodes`` of
    the visits when the caller already has it, ``continuity`` the slice's continuity table
    (made from its visits when not given).
    """
    plan_days = plan_days or {
        "Full": DEFAULTS["full_plan_days"],
        "Incremental": DEFAULTS["incremental_plan_days"],
    }
    patients, visits, billing = tables.patients, tables.visits, tables.billing
    today64 = np.datetime64(today, "D")
    visits = episodes if episodes is not None else with_episodes(visits, patients, catalog)
    checks: dict[str, int] = {}
    checks |= _identity_checks(patients, visits, billing)
    checks |= _person_checks(patients, visits, today64, zips)
    checks |= _clinical_checks(visits, catalog, today64 if followups_may_be_pending else None)
    checks |= _dose_checks(visits, catalog)
    checks |= _timeline_checks(patients, visits, billing, today64, bill_delay_days)
    checks |= _billing_checks(patients, visits, billing, today64, minimum_charge, plan_days)
    checks |= _place_checks(patients, visits, zips, nationwide)
    if tables.conditions is not None:
        checks |= _problem_list_checks(patients, visits, tables.conditions)
    if tables.coverage is not None:
        checks |= _coverage_checks(
            patients, visits, billing, tables.coverage, today64, tables.conditions
        )
    checks |= _newborn_checks(
        patients, visits, catalog, today64 if followups_may_be_pending else None
    )
    if continuity is None:
        continuity = continuity_table(tables.visits)
    checks |= _continuity_checks(visits, continuity)
    policies = patients["insurance_policy_number"].dropna().astype(str).to_numpy(dtype=object)
    return {
        "checks": {name: int(value) for name, value in checks.items()},
        "ids": {
            "patient": _distinct(patients["patient_id"]),
            "visit": _distinct(visits["visit_id"]),
            "billing": _distinct(billing["billing_id"]),
        },
        "policy_hashes": _unique(pd.util.hash_array(policies)),
        "counts": distribution_counts(patients, visits, billing, catalog),
    }


def merge_validation(
    parts: list[dict], id_maps: list[tuple[np.ndarray, np.ndarray]] | None = None
) -> dict:
    """The validation of a whole dataset from its slices' parts, in dataset order.

    ``id_maps`` (patient, visit) give, for parts computed on a task's own numbering, the
    dataset's ID of each of the part's IDs (indexed by ID - 1). A part keeps its distinct IDs
    (its own checks count duplicates within it); IDs that several parts share are counted as
    duplicates. Policy numbers are compared by 64-bit hash across parts.
    """
    checks: Counter = Counter()
    for part in parts:
        checks.update(part["checks"])
    if len(parts) > 1:
        for kind, column in (("patient", 0), ("visit", 1), ("billing", 1)):
            joined = np.concatenate(
                [
                    part["ids"][kind] if id_maps is None else id_maps[index][column][ids - 1]
                    for index, part in enumerate(parts)
                    for ids in [part["ids"][kind]]
                ]
            )
            checks[f"duplicate_{kind}_ids"] += len(joined) - len(_unique(joined))
    hashes = [part["policy_hashes"] for part in parts]
    if len(hashes) > 1:
        joined = np.concatenate(hashes)
        checks["duplicate_policy_numbers"] += len(joined) - len(_unique(joined))
    ordered = {name: int(checks[name]) for name in parts[0]["checks"]} if parts else {}
    return {
        "checks": ordered,
        "violations": int(sum(ordered.values())),
        "distributions": distributions_from([part["counts"] for part in parts]),
        "ok": all(value == 0 for value in ordered.values()),
    }


def _distinct(ids: pd.Series) -> np.ndarray:
    return _unique(ids.to_numpy(dtype=np.int64))


def _repeated(values: np.ndarray) -> int:
    """How many distinct values occur more than once (NaN never repeats), by a sort."""
    ordered = np.sort(values)
    same = ordered[1:] == ordered[:-1]
    return int((same & ~np.append(False, same[:-1])).sum())


def _unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of integers, by a sort: numpy's hash table (numpy >= 2.3) takes
    50 times longer on runs of consecutive IDs."""
    ordered = np.sort(values)
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


# ----------------------------------------------------------------------------- helpers


def _days(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype="datetime64[D]")


def with_episodes(visits: pd.DataFrame, patients: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Visits sorted by patient, condition and admission, with episode information and the
    patient's birth date, name and gender alongside.

    ``is_followup`` comes from ``visit_type``; ``has_followup`` says that the episode's next
    encounter is in the tables.
    """
    admission = _days(visits["date_of_admission"])
    discharge = _days(visits["date_of_discharge"])
    keys = (visits["patient_id"], visits["condition"], admission, visits["visit_id"])
    order = np.lexsort([_sort_key(key) for key in reversed(keys)])
    frame = visits.take(order)
    episode = frame["episode_id"].to_numpy()
    is_followup = _text(frame["visit_type"]) == "Follow-up"
    has_followup = np.zeros(len(frame), dtype=bool)
    has_followup[:-1] = is_followup[1:] & (episode[1:] == episode[:-1])
    patient = _rows_of(patients["patient_id"], frame["patient_id"])
    added = {
        "admission": admission[order],
        "discharge": discharge[order],
        "los": (discharge - admission).astype(np.int64)[order],
        "is_followup": is_followup,
        "episode": episode,
        "has_followup": has_followup,
        "birth": take(_days(patients["date_of_birth"]), patient, allow_fill=True),
        # the patients' own arrays taken: no text read into Python objects and back
        **{
            f"patient_{column}": patients[column].array.take(patient, allow_fill=True)
            for column in ("name", "gender", "state")
        },
    }
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)


def _sort_key(values) -> np.ndarray:
    """What ``DataFrame.sort_values`` sorts a column by: the values of a numpy column
    without missing values (NaT sorts last in both), else the codes of its categories
    (the categorical's own order, or sorted values), missing last."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, np.dtype):
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuM":
        return values
    codes = pd.Categorical(values, ordered=True).codes
    return np.where(codes == -1, len(codes), codes)


def _text(values) -> np.ndarray:
    """Text values as a numpy object array with None for missing (safe to compare)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        labels = np.append(values.array.categories.to_numpy(dtype=object), None)
        return labels[values.array.codes]  # code -1 (missing) picks None
    if isinstance(values, np.ndarray) and values.dtype == object:
        return np.where(pd.isna(values), None, values)
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
        return values.to_numpy(dtype=object, na_value=None)
    series = pd.Series(values, dtype="string")
    return series.to_numpy(dtype=object, na_value=None)


def _by_key(keys, values, wanted) -> np.ndarray:
    """The value at the first row of each key, for each wanted key (missing where absent).

    Duplicate keys are tolerated: they are what some checks look for.
    """
    return take(np.asarray(values), _rows_of(keys, wanted), allow_fill=True)


def _rows_of(keys, wanted) -> np.ndarray:
    """The first row of each wanted key among ``keys`` (-1 where absent)."""
    index = pd.Index(np.asarray(keys))
    if index.is_unique:
        return index.get_indexer(np.asarray(wanted))
    first = np.flatnonzero(~index.duplicated())
    return np.append(first, -1)[index[first].get_indexer(np.asarray(wanted))]


def _zip_rows(zips: ZipTable) -> Callable[[pd.Series], np.ndarray]:
    """A function giving the row in ``zips`` of each ZIP of a series (the first row of a ZIP
    listed twice; -1 where absent or missing). Faster than ``_by_key`` on the whole table."""
    codes = zips.zipcode.tolist()
    first = dict(zip(reversed(codes), range(len(codes) - 1, -1, -1)))

    def rows(wanted: pd.Series) -> np.ndarray:
        found, distinct = pd.factorize(wanted)  # -1 where missing
        return np.array([*(first.get(z, -1) for z in distinct.tolist()), -1])[found]

    return rows


def _five_digits(zipcodes: pd.Series) -> np.ndarray:
    """Whether each ZIP code is five digits (False where missing)."""
    return zipcodes.str.fullmatch(r"\d{5}").fillna(False).to_numpy(dtype=bool)


def _at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values`` at ``rows`` as objects, NaN at row -1 (as ``_by_key`` gives)."""
    return np.append(values, np.nan)[rows]


def _lookup(values: pd.Series, mapping: dict, default) -> np.ndarray:
    """``mapping[value]`` for each value, ``default`` for values not in the mapping."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        table = np.array([*(mapping.get(c, default) for c in values.cat.categories), default])
        return table[values.cat.codes.to_numpy()]
    codes = pd.Index(list(mapping)).get_indexer(_text(values))  # -1: not in the mapping
    return np.array([*mapping.values(), default])[codes]


def _overlaps(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> int:
    """Intervals that begin before an earlier interval of the same group has ended."""
    order = np.lexsort((end, start, group))
    g, s, e = group[order], start[order].astype(np.int64), end[order].astype(np.int64)
    if len(g) < 2:
        return 0
    same = g[1:] == g[:-1]
    return int((same & (s[1:] < _running_max(~same, e)[:-1])).sum())


def _running_max(starts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The running maximum of int64 ``values`` within each run of rows, a run beginning
    after each row where ``starts`` (one shorter than ``values``) is True: one
    ``maximum.accumulate`` over values lifted by run, so a run never sees an earlier one's."""
    run = np.concatenate([[0], np.cumsum(starts)])
    lowest = np.iinfo(np.int64).min  # NaT as an integer: an ordinary value, below all others
    real = values != lowest
    low = values[real].min(initial=0)
    span = values[real].max(initial=0) - low + 2
    lifted = np.where(real, values - low + 1, 0) + run * span
    running = np.maximum.accumulate(lifted) - run * span
    return np.where(running == 0, lowest, running - 1 + low)


# ----------------------------------------------------------------------------- checks


def _identity_checks(patients: pd.DataFrame, visits: pd.DataFrame, billing: pd.DataFrame) -> dict:
    bill_patient = _by_key(
        visits["visit_id"], visits["patient_id"].to_numpy(float), billing["visit_id"]
    )
    ids = (patients["patient_id"], visits["visit_id"], billing["billing_id"])
    return {
        "duplicate_patient_ids": patients["patient_id"].duplicated().sum(),
        "duplicate_visit_ids": visits["visit_id"].duplicated().sum(),
        "duplicate_billing_ids": billing["billing_id"].duplicated().sum(),
        "ids_below_one": sum((column < 1).sum() for column in ids),
        "visits_without_bill": (~visits["visit_id"].isin(billing["visit_id"])).sum(),
        "visits_with_several_bills": _repeated(
            billing["visit_id"].to_numpy(dtype=np.float64, na_value=np.nan)
        ),
        "bills_without_visit": (~billing["visit_id"].isin(visits["visit_id"])).sum(),
        "visits_with_unknown_patient": (~visits["patient_id"].isin(patients["patient_id"])).sum(),
        "bills_with_wrong_patient": (
            pd.isna(bill_patient) | (bill_patient != billing["patient_id"].to_numpy())
        ).sum(),
    }


def _person_checks(
    patients: pd.DataFrame, visits: pd.DataFrame, today64: np.datetime64, zips: ZipTable
) -> dict:
    birth = _days(patients["date_of_birth"])
    given = patients["first_name"].astype("string")
    prefix = patients["prefix"].astype("string")
    gender = patients["gender"].astype("string")
    expected_gender = _lookup(prefix, PREFIX_GENDER, None)
    policy = patients["insurance_policy_number"].astype("string")
    provider = patients["insurance_provider"].astype("string")
    insured_policies = policy.dropna()
    visit_age = visits["age"].to_numpy()
    death = _days(patients["date_of_death"])
    dead = ~np.isnat(death)
    visit_death = _by_key(patients["patient_id"], death, visits["patient_id"])
    expired = (_text(visits["discharge_disposition"]) == "Expired") & (
        _text(visits["encounter_type"]) == "Inpatient"
    )
    return {
        "patient_age_mismatch": (
            patients["age"].to_numpy() != age_on(birth, np.where(dead, death, today64))
        ).sum(),
        "encounters_after_death": (
            ~np.isnat(visit_death) & (visits["discharge"].to_numpy() > visit_death)
        ).sum(),
        "death_before_birth_or_after_today": (dead & ((death < birth) | (death > today64))).sum(),
        "expired_stays_not_on_date_of_death": (
            expired & (visits["discharge"].to_numpy() != visit_death)
        ).sum(),
        "visit_age_mismatch": (
            visit_age != age_on(visits["birth"].to_numpy(), visits["admission"].to_numpy())
        ).sum(),
        "visit_name_or_gender_mismatch": (
            (_text(visits["name"]) != _text(visits["patient_name"]))
            | (_text(visits["gender"]) != _text(visits["patient_gender"]))
        ).sum(),
        "name_not_first_and_last": (
            patients["name"].astype("string")
            != given + " " + patients["last_name"].astype("string")
        ).sum(),
        "prefix_gender_conflicts": (
            pd.notna(expected_gender)
            & gender.notna().to_numpy()
            & (expected_gender != _text(gender))
        ).sum(),
        "prefix_on_minors": (prefix.notna() & (patients["age"] < 18)).sum(),
        "unknown_prefixes": (prefix.notna() & ~prefix.isin(PREFIXES)).sum(),
        "first_names_with_prefix": given.str.match(PREFIXED_NAME).fillna(False).sum(),
        "policy_without_provider": (policy.notna() & provider.isna()).sum(),
        "provider_without_policy": (provider.notna() & policy.isna()).sum(),
        "duplicate_policy_numbers": insured_policies.duplicated().sum(),
        "policy_numbers_not_text": insured_policies.str.fullmatch(r"\d+\.\d*|\d+[eE]\d+").sum(),
        "phone_numbers_not_fictional": (
            ~patients["phone_number"].astype("string").str.fullmatch(FICTIONAL_PHONE).fillna(False)
        ).sum(),
        "emails_not_reserved_domain": (
            ~patients["email"].astype("string").str.contains(RESERVED_EMAIL).fillna(False)
        ).sum(),
    }


def _newborn_checks(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    catalog: Catalog,
    pending_after: np.datetime64 | None,
) -> dict:
    """Each newborn linked to a mother: a patient who is a woman of the delivery's ages on
    the date of birth, whose delivery (an initial Childbirth visit) is admitted that day at
    the hospital of the newborn's birth stay (admission type Newborn), itself on the date
    of birth. A delivery admitted less than its longest stay before ``pending_after`` may
    still be under way (not a visit yet)."""
    names = (
        "mothers_unknown",
        "mothers_not_women_of_delivery_age",
        "birth_stays_not_on_date_of_birth",
        "birth_stays_without_mother_delivery",
    )
    if "mother_patient_id" not in patients.columns:
        return dict.fromkeys(names, 0)
    delivery = catalog.by_name.get("Childbirth")
    linked = patients["mother_patient_id"].notna().to_numpy()
    mother = patients.loc[linked, "mother_patient_id"].astype(np.int64).to_numpy()
    ids = patients["patient_id"].to_numpy()
    children = ids[linked]
    known = np.isin(mother, ids)
    births = _days(patients["date_of_birth"])
    birth = births[linked]
    mother_birth = _by_key(ids, births, mother)
    age = np.where(known, age_on(np.where(known, mother_birth, birth), birth), -1)
    low, high = (delivery.min_age, delivery.max_age) if delivery else (18, 50)
    longest = delivery.los[1] if delivery else 0
    wrong_mother = known & (
        (_by_key(ids, _text(patients["gender"]), mother) != "Female") | (age < low) | (age > high)
    )
    patient = visits["patient_id"].to_numpy()
    admission = visits["admission"].to_numpy()
    hospital = _text(visits["hospital"])
    stays = np.flatnonzero(
        (_text(visits["admission_type"]) == "Newborn") & np.isin(patient, children)
    )
    stay_mother = _by_key(children, mother, patient[stays])
    stay_birth = _by_key(children, birth, patient[stays])
    # (patient, admission day, hospital) of each delivery; NaT days match each other
    day = admission.astype(np.int64)
    deliveries = np.flatnonzero(
        (visits["condition"] == "Childbirth").to_numpy() & ~visits["is_followup"].to_numpy()
    )
    found = set(zip(patient[deliveries].tolist(), day[deliveries].tolist(), hospital[deliveries]))
    wanted = zip(stay_mother.astype(np.int64).tolist(), day[stays].tolist(), hospital[stays])
    delivered = np.array([key in found for key in wanted], dtype=bool)
    pending = np.zeros(len(stays), dtype=bool)
    if pending_after is not None:
        pending = admission[stays] > pending_after - np.timedelta64(longest, "D")
    return {
        "mothers_unknown": (~known).sum(),
        "mothers_not_women_of_delivery_age": wrong_mother.sum(),
        "birth_stays_not_on_date_of_birth": (admission[stays] != stay_birth).sum(),
        "birth_stays_without_mother_delivery": (~delivered & ~pending).sum(),
    }


def _clinical_checks(
    visits: pd.DataFrame, catalog: Catalog, pending_after: np.datetime64 | None
) -> dict:
    by_name = catalog.by_name
    condition = visits["condition"]
    followup = visits["is_followup"].to_numpy()
    age = visits["age"].to_numpy()
    adult_only = _lookup(condition, {n: c.adult_only for n, c in by_name.items()}, False)
    treatment = _text(visits["treatment"])
    patient = visits["patient_id"].to_numpy()
    admission = visits["admission"].to_numpy()
    checks = {
        "pediatric_gating": (adult_only & (age < 18)).sum(),
        "visits_before_birth": (admission < visits["birth"].to_numpy()).sum(),
        "unknown_conditions": (~condition.isin(by_name)).sum(),
    }

    sex_wrong = age_wrong = below_min_age = first_treatment_wrong = followup_treatment_wrong = 0
    too_many = too_close = over_yearly_cap = 0
    gender = _text(visits["patient_gender"])
    codes, names = pd.factorize(condition)
    code_of = {name: code for code, name in enumerate(_text(pd.Series(names)))}
    for c in catalog.conditions:
        if c.name not in code_of:
            continue
        rows = codes == code_of[c.name]
        if c.sex is not None:
            sex_wrong += (gender[rows] != c.sex).sum()
        starts = rows & ~followup
        below_min_age += (age[starts] < c.min_age).sum()
        if c.max_age is not None:
            age_wrong += (age[starts] > c.max_age).sum()
        if not c.first_visit_monitoring:
            first_treatment_wrong += (~np.isin(treatment[starts], c.treatments)).sum()
        if c.followup_treatments:
            followup_treatment_wrong += (
                ~np.isin(treatment[rows & followup], c.followup_treatments)
            ).sum()
        firsts = np.flatnonzero(starts)
        if c.max_episodes_per_patient is not None:
            per_patient = np.unique(patient[firsts], return_counts=True)[1]
            too_many += (per_patient > c.max_episodes_per_patient).sum()
        if c.min_days_between_episodes is not None:
            ordered = firsts[np.lexsort((admission[firsts], patient[firsts]))]
            gap = np.diff(admission[ordered]).astype("timedelta64[D]").astype(np.int64)
            same = patient[ordered][1:] == patient[ordered][:-1]
            too_close += (same & (gap < c.min_days_between_episodes)).sum()
        if c.max_episodes_per_year is not None:
            dated = firsts[~np.isnat(admission[firsts])]
            year = admission[dated].astype("datetime64[Y]").astype(np.int64)
            per_year = np.unique(np.stack([patient[dated], year]), axis=1, return_counts=True)[1]
            over_yearly_cap += (per_year > c.max_episodes_per_year).sum()
    checks |= {
        "sex_gated_condition_wrong_sex": sex_wrong,
        "episode_above_condition_max_age": age_wrong,
        "episode_below_condition_min_age": below_min_age,
        "gated_condition_first_visit_wrong_treatment": first_treatment_wrong,
        "gated_condition_followup_wrong_treatment": followup_treatment_wrong,
        "capped_condition_too_many_episodes": too_many,
        "capped_condition_episodes_too_close": too_close,
        "condition_episodes_over_yearly_cap": over_yearly_cap,
    }

    once = np.isin(treatment, list(catalog.once_per_patient))
    given = Counter(zip(patient[once].tolist(), treatment[once].tolist()))
    los = visits["los"].to_numpy()
    lo = _lookup(condition, {n: c.los[0] for n, c in by_name.items()}, np.nan)
    hi = _lookup(condition, {n: c.los[1] for n, c in by_name.items()}, np.nan)
    encounter = _text(visits["encounter_type"])
    inpatient = encounter == "Inpatient"
    same_day = np.isin(encounter, ["Emergency", "Outpatient"])
    severity = _text(visits["severity"])
    is_medication = treatment == MEDICATION
    drug_given = np.stack(
        [visits[c].notna().to_numpy() for c in ("medication", "dosage", "frequency")], axis=1
    )
    monitoring_wrong = (
        ~followup & (treatment == "Monitoring") & np.isin(severity, ["Moderate", "Severe"])
    )
    disposition = _text(visits["discharge_disposition"])
    booked = _text(visits["follow_up_required"]) == "Y"
    due = _days(visits["follow_up_date"])
    episode = visits["episode"].to_numpy()
    own_episode = episode == visits["visit_id"].to_numpy()
    named = _text(condition)
    episode_start = _by_key(visits["visit_id"], admission, visits["episode"])
    episode_condition = _by_key(visits["visit_id"], named, visits["episode"])
    # rows are sorted by patient, condition and admission: an episode begun before --start
    # (its initial encounter is not in the tables) is the first of its condition's rows
    first_of_condition = np.ones(len(visits), dtype=bool)
    first_of_condition[1:] = (patient[1:] != patient[:-1]) | (named[1:] != named[:-1])
    # the booked date of the visit before each follow-up of the same episode
    due_before = np.full(len(visits), np.datetime64("NaT"), dtype="datetime64[D]")
    due_before[1:] = np.where(
        followup[1:] & (episode[1:] == episode[:-1]), due[:-1], np.datetime64("NaT")
    )
    checks |= {
        "once_per_patient_treatment_repeated": sum(n > 1 for n in given.values()),
        "once_per_patient_treatment_on_followup": (followup & once).sum(),
        "severe_ed_visits_released": ((severity == "Severe") & (encounter == "Emergency")).sum(),
        "los_outside_condition_bounds": (inpatient & ((los < lo) | (los > hi))).sum(),
        "observation_stays_not_one_night": ((encounter == "Observation") & (los != 1)).sum(),
        "same_day_encounters_with_nights": (same_day & (los != 0)).sum(),
        "followups_not_clinic_visits": (followup & (encounter != "Outpatient")).sum(),
        "episode_ids_not_matching_visit_type": (
            (~followup & ~own_episode) | (followup & own_episode & ~first_of_condition)
        ).sum(),
        "followups_outside_their_episode": (
            (followup & ~own_episode & (episode_start >= admission)) | (episode_condition != named)
        ).sum(),
        "followups_before_booked_day": (
            followup & ~np.isnat(due_before) & (admission < due_before)
        ).sum(),
        "disposition_not_home_after_non_inpatient": (~inpatient & (disposition != "Home")).sum(),
        "followup_after_transfer_or_leaving": (
            booked
            & np.isin(
                disposition, ["Transferred to another hospital", "Left against medical advice"]
            )
        ).sum(),
        "medication_fields_inconsistent": (drug_given != is_medication[:, None]).any(axis=1).sum(),
        "monitoring_on_moderate_or_severe_first_visit": monitoring_wrong.sum(),
        "followup_required_without_followup": (
            booked & ~visits["has_followup"].to_numpy() & ~_may_still_come(due, pending_after)
        ).sum(),
    }
    return checks


def _problem_list_checks(
    patients: pd.DataFrame, visits: pd.DataFrame, conditions: pd.DataFrame
) -> dict:
    """The problem list against the visits and the patients: every visit's condition is on
    it, diagnosed by the admission (an episode's visits within its own row's dates), and
    nothing diagnosed or resolved before birth or after death."""
    diagnosis = _days(conditions["diagnosis_date"])
    resolution = _days(conditions["resolution_date"])
    resolved = ~np.isnat(resolution)
    chronic = _text(conditions["chronic"]) == "Y"
    patient = conditions["patient_id"].to_numpy(dtype=np.int64)
    death = _by_key(patients["patient_id"], _days(patients["date_of_death"]), patient)
    birth = _by_key(patients["patient_id"], _days(patients["date_of_birth"]), patient)
    named = _text(conditions["condition"])
    first = _first_diagnosis(
        patient, named, diagnosis, visits["patient_id"].to_numpy(np.int64), visits["condition"]
    )
    admission, discharge = visits["admission"].to_numpy(), visits["discharge"].to_numpy()
    episodes = conditions["episode_id"].notna().to_numpy()
    episode_ids = conditions["episode_id"].to_numpy(dtype=np.float64, na_value=np.nan)[episodes]
    episode = visits["episode_id"].to_numpy(dtype=np.float64)
    own_start = _by_key(episode_ids, diagnosis[episodes], episode)
    own_end = _by_key(episode_ids, resolution[episodes], episode)
    own_patient = _by_key(episode_ids, patient[episodes], episode)
    of_episode = np.isin(episode, episode_ids)
    pairs = list(zip(patient[chronic].tolist(), named[chronic]))
    return {
        "visits_not_on_the_problem_list": (np.isnat(first) | (first > admission)).sum(),
        "visits_outside_their_episode_row": (
            of_episode
            & (
                (own_patient != visits["patient_id"].to_numpy())
                | (own_start > admission)
                | (~np.isnat(own_end) & (own_end < discharge))
            )
        ).sum(),
        "problems_with_unknown_patient": (
            ~conditions["patient_id"].isin(patients["patient_id"])
        ).sum(),
        "problems_resolved_before_diagnosis": (resolved & (resolution < diagnosis)).sum(),
        "chronic_problems_resolved": (chronic & resolved).sum(),
        "chronic_problems_listed_twice": len(pairs) - len(set(pairs)),
        "problems_diagnosed_before_birth": (diagnosis < birth).sum(),
        "problems_diagnosed_after_death": (~np.isnat(death) & (diagnosis > death)).sum(),
        "problems_resolved_after_death": (~np.isnat(death) & resolved & (resolution > death)).sum(),
    }


def _first_diagnosis(
    patient: np.ndarray,
    condition: np.ndarray,
    diagnosis: np.ndarray,
    wanted_patient: np.ndarray,
    wanted_condition: pd.Series,
) -> np.ndarray:
    """The earliest diagnosis date of each wanted patient's condition on the problem list (NaT
    when not listed, or listed without a date)."""
    wanted = _text(wanted_condition)
    named = pd.factorize(np.concatenate([condition, wanted]))[0]  # -1: no condition
    who = pd.factorize(np.concatenate([patient, wanted_patient]))[0]
    key = who * (named.max(initial=0) + 2) + named
    listed = np.flatnonzero(named[: len(patient)] >= 0)
    listed = listed[np.argsort(diagnosis[listed], kind="stable")]  # NaT last
    first = _by_key(key[listed], diagnosis[listed], key[len(patient) :])
    return np.where(named[len(patient) :] >= 0, first, np.datetime64("NaT"))


def _coverage_checks(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    billing: pd.DataFrame,
    coverage: pd.DataFrame,
    today: np.datetime64,
    conditions: pd.DataFrame | None = None,
) -> dict:
    """The coverage spells against themselves, the patients and the bills: each patient's rows
    follow each other without gap or overlap, within life and the window; the patient's
    payer and plan are the last row's; each bill's are those of the row holding the visit's
    admission date."""
    coverage = coverage.sort_values(["patient_id", "start_date"], kind="stable")
    patient = coverage["patient_id"].to_numpy(dtype=np.int64)
    start, end = _days(coverage["start_date"]), _days(coverage["end_date"])
    payer, plan = _text(coverage["payer_type"]), _text(coverage["insurance_plan"])
    birth = _by_key(patients["patient_id"], _days(patients["date_of_birth"]), patient)
    death = _by_key(patients["patient_id"], _days(patients["date_of_death"]), patient)
    died = ~np.isnat(death)
    follows = patient[1:] == patient[:-1]
    expected = end[:-1] + np.timedelta64(1, "D")
    last = np.r_[~follows, True]
    mine = _by_key(patient[last], np.arange(len(patient))[last], patients["patient_id"])
    has = ~np.isnan(mine)
    mine = np.where(has, mine, 0).astype(np.int64)
    differs = (
        (_text(patients["payer_type"]) != payer[mine])
        | (_text(patients["insurance_provider"]) != plan[mine])
        if len(patient)
        else np.zeros(len(patients), dtype=bool)
    )
    bill_day = _service_days(visits, billing).astype("datetime64[D]")
    spell = _spell_holding(patient, start, billing["patient_id"].to_numpy(np.int64), bill_day)
    # the spell's payer, plan and end (None and NaT where no spell holds the bill's day)
    spell_payer, spell_plan = np.append(payer, None)[spell], np.append(plan, None)[spell]
    until = np.append(end, np.datetime64("NaT"))[spell]
    return {
        "coverage_with_unknown_patient": (
            ~coverage["patient_id"].isin(patients["patient_id"])
        ).sum(),
        "patients_without_coverage": (~has).sum(),
        "patients_not_matching_last_coverage": (has & differs).sum(),
        "coverage_ending_before_start": (end < start).sum(),
        "coverage_gaps": (follows & ~np.isnat(expected) & (start[1:] > expected)).sum(),
        "coverage_overlaps": (follows & (np.isnat(expected) | (start[1:] < expected))).sum(),
        "coverage_plan_not_matching_payer": ((payer == "Self-pay") == pd.notna(plan)).sum(),
        "coverage_before_birth": (start < birth).sum(),
        "coverage_after_today": (start > today).sum(),
        "coverage_after_death": (died & ((start > death) | (end > death))).sum(),
        "coverage_open_after_death": (died & last & np.isnat(end)).sum(),
        "coverage_basis_not_fitting": _basis_not_fitting(
            coverage, visits, birth, start, conditions
        ),
        "bills_not_matching_coverage": (
            np.isnat(bill_day)  # a bill without its visit
            | pd.isna(spell_payer)
            | (~np.isnat(until) & (until < bill_day))
            | (_text(billing["payer_type"]) != spell_payer)
            | (_text(billing["insurance_plan"]) != spell_plan)
        ).sum(),
    }


def _spell_holding(
    patient: np.ndarray, start: np.ndarray, wanted: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """For each wanted patient and day, the row of that patient's last spell begun by then
    (rows sorted by patient and start day), or -1 (none, or the day is NaT)."""
    dated = np.flatnonzero(~np.isnat(start))
    known = ~np.isnat(day)
    begun = start[dated].astype(np.int64)
    days = np.concatenate([begun, day[known].astype(np.int64)])
    origin = days.min(initial=0)
    span = days.max(initial=0) - origin + 1
    sought = np.where(known, day.astype(np.int64), origin) - origin
    codes = np.unique(np.concatenate([patient[dated], wanted]), return_inverse=True)[1]
    spell_code, wanted_code = codes[: len(dated)], codes[len(dated) :]
    found = np.searchsorted(
        spell_code * span + begun - origin, wanted_code * span + sought, "right"
    )
    held = known & (found > 0)
    held[held] &= spell_code[found[held] - 1] == wanted_code[held]
    return np.where(held, np.append(dated, -1)[found - 1], -1)


def _continuity_checks(visits: pd.DataFrame, continuity: pd.DataFrame) -> dict:
    """A continuity row's N is the patient's number of visits in its setting."""
    outpatient = _text(visits["encounter_type"]) == OUTPATIENT
    per_setting = {
        ALL: visits["patient_id"].value_counts(),
        OUTPATIENT: visits.loc[outpatient, "patient_id"].value_counts(),
    }
    setting = _text(continuity["setting"])
    wrong = 0
    for name, counts in per_setting.items():
        rows = continuity[setting == name]
        expected = counts.reindex(rows["patient_id"].to_numpy(), fill_value=0).to_numpy()
        wrong += int((rows["n_visits"].to_numpy() != expected).sum())
    return {"continuity_visits_not_the_patients": wrong}


def _dose_checks(visits: pd.DataFrame, catalog: Catalog) -> dict:
    """Each drug's dose is one that medications.csv lists for the condition at the patient's
    age on the visit (a child never gets an adult-only dose)."""
    meds = catalog.medications
    given = visits["medication"].notna().to_numpy()
    listed = zip(meds.conditions, meds.names, meds.dosages, meds.frequencies)
    row_of = {dose: row for row, dose in enumerate(listed)}  # the loader refuses duplicates
    codes, labels = [], []
    for column in ("condition", "medication", "dosage", "frequency"):
        code, values = pd.factorize(visits[column])  # -1: missing, labelled None
        codes.append(code[given] + 1)
        labels.append(np.append(None, np.asarray(values, dtype=object)))
    # each distinct (condition, drug, dose, frequency) looked up once
    combined = np.ravel_multi_index(codes, [len(values) for values in labels])
    dose, distinct = pd.factorize(combined)
    parts = np.unravel_index(np.asarray(distinct), [len(values) for values in labels])
    doses = zip(*(values[part].tolist() for values, part in zip(labels, parts)))
    row = np.array([row_of.get(key, -1) for key in doses], dtype=np.int64)[dose]
    lowest = np.append(np.array(meds.min_age, dtype=float), np.inf)[row]  # unlisted: never fits
    highest = np.array([np.inf if a is None else a for a in meds.max_age] + [-np.inf])[row]
    age = visits["age"].to_numpy()[given]
    return {"dose_outside_age_range": ((age < lowest) | (age > highest)).sum()}


def _may_still_come(due: np.ndarray, as_of: np.datetime64 | None) -> np.ndarray:
    """Follow-ups that may not have taken place by ``as_of``: booked for a later day, or
    recently enough that the patient may still be in another stay and the follow-up not yet
    given up as missed."""
    if as_of is None:
        return np.zeros(len(due), dtype=bool)
    return due > as_of - np.timedelta64(FOLLOWUP_LAPSE_DAYS, "D")


def _timeline_checks(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    billing: pd.DataFrame,
    today64: np.datetime64,
    max_delay: int,
) -> dict:
    admission, discharge = visits["admission"].to_numpy(), visits["discharge"].to_numpy()
    bill_day = _days(billing["billing_date"])
    paid_day = _days(billing["actual_payment_date"])
    visit_discharge = _by_key(visits["visit_id"], discharge, billing["visit_id"])
    delay = (bill_day - visit_discharge).astype("timedelta64[D]").astype(np.float64)
    after_today = (
        (_days(patients["date_of_birth"]) > today64).sum()
        + (admission > today64).sum()
        + (discharge > today64).sum()
        + (bill_day > today64).sum()
        + (paid_day > today64).sum()
    )
    encounter = _text(visits["encounter_type"])
    room = visits["room_number"].to_numpy(dtype=np.float64, na_value=np.nan)
    in_bed = np.isin(encounter, ["Inpatient", "Observation"])
    rooms = pd.factorize(visits["hospital"])[0] * (int(np.nanmax(room, initial=0)) + 1) + room
    own_room = in_bed & ~_rooming_in(patients, visits, rooms)
    return {
        "dates_after_today": after_today,
        "discharge_before_admission": (discharge < admission).sum(),
        "billing_before_discharge": (delay < 0).sum(),
        "billing_more_than_5_days_after_discharge": (delay > max_delay).sum(),
        "payment_before_billing": (paid_day < bill_day).sum(),
        "overlapping_stays": _overlaps(visits["patient_id"].to_numpy(), admission, discharge),
        "double_booked_rooms": _overlaps(
            rooms[own_room].astype(np.int64), admission[own_room], discharge[own_room]
        ),
        "room_not_matching_encounter": (in_bed == np.isnan(room)).sum(),
    }


def _rooming_in(patients: pd.DataFrame, visits: pd.DataFrame, rooms: np.ndarray) -> np.ndarray:
    """Birth stays in the room of the mother's delivery, admitted with her and out no later
    (a baby rooming in when no other room was free): they share her room."""
    shared = np.zeros(len(visits), dtype=bool)
    if "mother_patient_id" not in patients.columns:
        return shared
    newborn = (_text(visits["admission_type"]) == "Newborn") & ~np.isnan(rooms)
    linked = patients["mother_patient_id"].notna().to_numpy()
    mother = _by_key(
        patients["patient_id"].to_numpy()[linked],
        patients["mother_patient_id"].to_numpy(float, na_value=np.nan)[linked],
        visits["patient_id"],
    )
    babies = np.flatnonzero(newborn & ~np.isnan(mother))
    patient = visits["patient_id"].to_numpy(np.float64)
    admission = visits["admission"].to_numpy().astype(np.int64)  # NaT matches NaT, as in a join
    discharge = visits["discharge"].to_numpy()
    # the mothers' stays' discharges by (mother, admission, room): a few rows
    ends: dict[tuple, list] = {}
    for row in np.flatnonzero(np.isin(patient, mother[babies])).tolist():
        ends.setdefault((patient[row], admission[row], rooms[row]), []).append(discharge[row])
    for row in babies.tolist():
        held = ends.get((mother[row], admission[row], rooms[row]), ())
        shared[row] = any(discharge[row] <= end for end in held)
    return shared


def payment_status(billing: pd.DataFrame, today64: np.datetime64) -> np.ndarray:
    """The status each bill should have, from its dates as of ``today``."""
    paid = _days(billing["actual_payment_date"])
    due = _days(billing["expected_payment_date"])
    has_paid = ~np.isnat(paid)
    status = np.where(has_paid, np.where(paid <= due, 0, 1), np.where(due < today64, 2, 3))
    return PAYMENT_STATUSES[status]


def _billing_checks(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    billing: pd.DataFrame,
    today64: np.datetime64,
    minimum_charge: int,
    plan_days: dict[str, int],
) -> dict:
    total = billing["total_charge"].to_numpy()
    insurance = billing["insurance_coverage_amount"].to_numpy()
    share = billing["patient_responsibility_amount"].to_numpy()
    adjustment = billing["adjustment_amount"].to_numpy()
    charity = billing["charity_care_amount"].to_numpy()
    payer = _text(billing["payer_type"])
    self_pay = payer == "Self-pay"
    days = _lookup(billing["payment_plan"], plan_days, np.nan).astype(float)
    term = (
        (_days(billing["expected_payment_date"]) - _days(billing["billing_date"]))
        .astype("timedelta64[D]")
        .astype(float)
    )
    return {
        "amounts_do_not_add_up": (total != adjustment + charity + insurance + share).sum(),
        "negative_amounts": (
            (insurance < 0) | (share < 0) | (adjustment < 0) | (charity < 0)
        ).sum(),
        "charges_below_minimum": (total < minimum_charge).sum(),
        "self_pay_with_coverage": (self_pay & (insurance > 0)).sum(),
        "plan_not_matching_payer": (self_pay != billing["insurance_plan"].isna().to_numpy()).sum(),
        "charity_care_for_insured": (~self_pay & (charity > 0)).sum(),
        "out_of_pocket_above_yearly_limit": _above_out_of_pocket_limit(visits, billing),
        "expected_date_not_matching_plan": (np.isnan(days) | (term != days)).sum(),
        "payment_status_inconsistent": (
            payment_status(billing, today64) != _text(billing["payment_status"])
        ).sum(),
    }


def _service_days(visits: pd.DataFrame, billing: pd.DataFrame) -> np.ndarray:
    """Each bill's day of service (its visit's admission day)."""
    return _by_key(visits["visit_id"], visits["admission"].to_numpy(), billing["visit_id"])


def _basis_not_fitting(
    coverage: pd.DataFrame,
    visits: pd.DataFrame,
    birth: np.ndarray,
    start: np.ndarray,
    conditions: pd.DataFrame | None = None,
) -> int:
    """Coverage rows (sorted by patient and start) whose basis does not fit: Medicare by age
    before 65, by disability outside 19-64, by end-stage renal disease without kidney failure
    before the spell (an encounter for it, or its diagnosis on the problem list: a stay may
    wait long for a room), or on any other basis; private coverage not by a plan; self-pay
    with one; a child's basis from 19."""
    basis, payer = _text(coverage["coverage_basis"]), _text(coverage["payer_type"])
    age = age_on(birth.astype("datetime64[D]"), start.astype("datetime64[D]"))
    kidney = _text(visits["condition"]) == "Kidney failure"
    who = [visits["patient_id"].to_numpy()[kidney]]
    when = [visits["admission"].to_numpy()[kidney].astype("datetime64[D]")]
    if conditions is not None:
        listed = _text(conditions["condition"]) == "Kidney failure"
        who.append(conditions["patient_id"].to_numpy()[listed])
        when.append(_days(conditions["diagnosis_date"])[listed])
    who, when = np.concatenate(who), np.concatenate(when)
    dated = ~np.isnat(when)
    order = np.lexsort((when[dated], who[dated]))  # a patient's first row: the earliest
    first = _by_key(who[dated][order], when[dated][order], coverage["patient_id"])
    medicare_bases = ("Age 65 and over", "Disability", "End-stage renal disease")
    return int(
        (
            ((basis == "Age 65 and over") & (age < 65))
            | ((basis == "Disability") & ((age < 19) | (age >= 65)))
            | ((basis == "End-stage renal disease") & (np.isnat(first) | (first > start)))
            | ((payer == "Medicare") & ~np.isin(basis, medicare_bases))
            | ((payer == "Private") != (basis == "Employer or individual plan"))
            | ((payer == "Self-pay") != (basis == "None"))
            | ((basis == "Child") & (age >= 19))
        ).sum()
    )


def _above_out_of_pocket_limit(visits: pd.DataFrame, billing: pd.DataFrame) -> int:
    """Patient-years whose private (or Medicare Advantage) plan bills add up to more than the
    year's out-of-pocket limit (ACA maximum; the average Medicare Advantage limit)."""
    limits = money_limits()
    payer = _text(billing["payer_type"])
    plan, plans = pd.factorize(billing["insurance_plan"].astype("string"))  # -1: no plan
    ends = pd.Series(plans, dtype="string").str.endswith("Medicare Advantage")
    advantage = np.append(ends.to_numpy(dtype=bool), False)[plan]
    kind = np.select([payer == "Private", advantage], [1, 2], 0)  # 0: no yearly limit
    served = _service_days(visits, billing).astype("datetime64[D]")
    year = served.astype("datetime64[Y]").astype(np.int64) + 1970
    capped = kind > 0
    patient = pd.factorize(billing["patient_id"].to_numpy()[capped])[0]
    year_code, years = pd.factorize(year[capped])
    # one integer per (patient, year, kind); the sums add each group's bills in row order
    key = (patient * len(years) + year_code) * 3 + kind[capped]
    group, keys = pd.factorize(key)
    owed = billing["patient_responsibility_amount"].to_numpy()[capped]
    sums = np.bincount(group, weights=owed, minlength=len(keys))
    top = max(limits.aca_by_year.values())
    aca = [limits.aca_by_year.get(y, top) for y in years[keys // 3 % len(years)].tolist()]
    limit = np.where(keys % 3 == 1, aca, limits.medicare_advantage)
    return int((sums > limit).sum())


def _place_checks(
    patients: pd.DataFrame, visits: pd.DataFrame, zips: ZipTable, nationwide: bool
) -> dict:
    patient_zip = patients["zipcode"].astype("string")
    row_of = _zip_rows(zips)
    patient_row = row_of(patient_zip)
    known_state = _at(zips.state.astype(object), patient_row)
    known_city = _at(zips.city.astype(object), patient_row)
    known_area = _at(np.array(AREA_NAMES, dtype=object)[zips.area], patient_row)
    disagree = (
        pd.isna(known_state)
        | (_text(known_state) != _text(patients["state"]))
        | (_text(known_city) != _text(patients["city"]))
    )
    hospital_zip = visits["hospital_zipcode"].astype("string")
    hospital_state = _at(zips.state.astype(object), row_of(hospital_zip))
    hospital = pd.factorize(visits["hospital"])[0] + 1  # 0: missing
    zip_code, zip_codes = pd.factorize(hospital_zip)
    pairs = _unique(hospital * (len(zip_codes) + 1) + zip_code + 1)  # distinct (hospital, ZIP)
    zips_per_hospital = np.bincount(pairs // (len(zip_codes) + 1))
    doctor_codes, doctors = pd.factorize(visits["doctor"])
    wrong_doctor = (
        ~pd.Series(_text(pd.Series(doctors))).str.match(r"Dr\. ").fillna(False).to_numpy()
    )
    checks = {
        "zipcodes_not_5_digits": (~_five_digits(patient_zip)).sum()
        + (~np.append(_five_digits(pd.Series(zip_codes)), False)[zip_code]).sum(),
        "zip_state_city_disagreement": disagree.sum(),
        "rurality_not_of_the_zip": (_text(known_area) != _text(patients["rurality"])).sum(),
        "hospital_state_not_its_zip_state": (
            _text(hospital_state) != _text(visits["hospital_state"])
        ).sum(),
        "hospitals_with_several_zipcodes": (zips_per_hospital > 1).sum(),
        "doctor_names_not_dr": wrong_doctor[doctor_codes].sum() if len(doctors) else 0,
    }
    if nationwide:
        checks["patient_and_hospital_in_different_states"] = (
            _text(visits["patient_state"]) != _text(visits["hospital_state"])
        ).sum()
    return checks


# ----------------------------------------------------------------------------- distributions


def _share(numerator, denominator) -> float | None:
    return None if denominator == 0 else round(float(numerator) / float(denominator), 4)


def distribution_counts(
    patients: pd.DataFrame, visits: pd.DataFrame, billing: pd.DataFrame, catalog: Catalog
) -> dict:
    """The counts behind ``distributions`` for one slice of whole patients (they add up
    across slices; ``distributions_from`` turns them into the figures)."""
    seen, visit_counts = np.unique(visits["patient_id"].to_numpy(), return_counts=True)
    row = pd.Index(seen).get_indexer(patients["patient_id"].to_numpy())
    per_patient = np.append(visit_counts, 0)[row]  # 0 for a patient without visits
    counts, patients_with = np.unique(per_patient, return_counts=True)
    same_day = visits["los"].to_numpy() == 0
    at_minor_rate = {
        c.name: c.same_day_ok and catalog.categories[c.category].uses_minor_same_day_rate
        for c in catalog.conditions
    }
    # first visits whose same-day chance starts from --minor-same-day-rate (minor and chronic)
    minor_rate_cases = _lookup(visits["condition"], at_minor_rate, False).astype(bool)
    minor_rate_cases &= ~visits["is_followup"].to_numpy()
    hospital = pd.factorize(visits["hospital"])[0]
    known = hospital >= 0
    visits_at = np.bincount(hospital[known])
    same_day_at = np.bincount(hospital[known], weights=same_day[known], minlength=len(visits_at))
    insured = patients["insurance_provider"].notna()
    bill_insured = _text(billing["payer_type"]) != "Self-pay"  # on the day of service
    late_unpaid = _text(billing["payment_status"]) == "Late-Unpaid"
    return {
        "rows": Counter(patients=len(patients), visits=len(visits), billing=len(billing)),
        "visits_per_patient": Counter(dict(zip(counts.tolist(), patients_with.tolist()))),
        "states": set(_text(patients["state"])) - {None},
        "zipcodes": set(_text(patients["zipcode"])) - {None},
        "hospitals": int(visits["hospital"].nunique()),
        "hospital_states": set(_text(visits["hospital_state"])) - {None},
        "doctors": int(visits["doctor"].nunique()),
        "same_day_rate_by_hospital": (same_day_at / visits_at)[visits_at >= 20].tolist(),
        "tallies": Counter(
            insured=int(insured.sum()),
            same_day=int(same_day.sum()),
            minor_rate_cases=int(minor_rate_cases.sum()),
            minor_rate_same_day=int((same_day & minor_rate_cases).sum()),
            insured_bills=int(bill_insured.sum()),
            insured_late_unpaid=int((late_unpaid & bill_insured).sum()),
            uninsured_late_unpaid=int((late_unpaid & ~bill_insured).sum()),
            **_followup_counts(visits, billing),
        ),
        "severity": _tally(visits["severity"]),
        "conditions": _tally(visits["condition"]),
        "payment_status": _tally(billing["payment_status"]),
        "payment_plan": _tally(billing["payment_plan"]),
        "patients_per_state": _tally(patients["state"]),
    }


def distributions_from(parts: list[dict]) -> dict:
    """The figures a reader compares with expectations (not pass/fail), from the counts of
    one or more slices."""
    total: dict = {}
    for name in ("rows", "visits_per_patient", "tallies", "severity", "conditions"):
        total[name] = sum((part[name] for part in parts), Counter())
    for name in ("payment_status", "payment_plan", "patients_per_state"):
        total[name] = sum((part[name] for part in parts), Counter())
    for name in ("states", "zipcodes", "hospital_states"):
        total[name] = set().union(*(part[name] for part in parts))
    by_hospital = pd.Series(
        [rate for part in parts for rate in part["same_day_rate_by_hospital"]], dtype=float
    )
    rows, tally, per_patient = total["rows"], total["tallies"], total["visits_per_patient"]
    counts = np.array(sorted(per_patient), dtype=np.int64)
    patients_by_count = np.array([per_patient[c] for c in counts.tolist()], dtype=np.int64)
    followups = tally["followups"]
    return {
        "rows": {name: int(rows[name]) for name in ("patients", "visits", "billing")},
        "visits_per_patient": {
            "mean": round(float(rows["visits"] / rows["patients"]), 3)
            if rows["patients"]
            else None,
            "median": _histogram_median(counts, patients_by_count),
            "max": int(counts.max()) if len(counts) else None,
            "patients_without_visits": int(per_patient.get(0, 0)),
        },
        "states": len(total["states"]),
        "distinct_patient_zipcodes": len(total["zipcodes"]),
        "hospitals": sum(part["hospitals"] for part in parts),
        "doctors": sum(part["doctors"] for part in parts),
        "insured_rate": _share(tally["insured"], rows["patients"]),
        "same_day_rate": {
            "overall": _share(tally["same_day"], rows["visits"]),
            "minor_and_chronic_first_visits": _share(
                tally["minor_rate_same_day"], tally["minor_rate_cases"]
            ),
            "by_hospital_min": _rounded(by_hospital.min()),
            "by_hospital_median": _rounded(by_hospital.median()),
            "by_hospital_max": _rounded(by_hospital.max()),
        },
        "severity": _sorted_counts(total["severity"]),
        "conditions": _sorted_counts(total["conditions"]),
        "followups": {
            "followup_visits": followups,
            "share_of_visits": _share(followups, rows["visits"]),
            "followups_charged_more_than_previous_visit": _share(
                tally["followups_charged_more"], followups
            ),
            "followups_charged_below_first_visit": _share(
                tally["followups_charged_below_first"], followups
            ),
        },
        "payment_status": _sorted_counts(total["payment_status"]),
        "payment_plan": _sorted_counts(total["payment_plan"]),
        "late_unpaid_rate": {
            "insured": _share(tally["insured_late_unpaid"], tally["insured_bills"]),
            "uninsured": _share(
                tally["uninsured_late_unpaid"], rows["billing"] - tally["insured_bills"]
            ),
        },
        "geography": _geography(
            total["patients_per_state"],
            sum(part["hospitals"] for part in parts),
            total["hospital_states"],
        ),
    }


def _histogram_median(values: np.ndarray, counts: np.ndarray) -> float | None:
    """The median of data given as distinct sorted ``values`` and how often each occurs."""
    n = int(counts.sum())
    if n == 0:
        return None
    cumulative = np.cumsum(counts)
    lower = values[np.searchsorted(cumulative, (n - 1) // 2 + 1)]
    upper = values[np.searchsorted(cumulative, n // 2 + 1)]
    return float((lower + upper) / 2)


def _rounded(value) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)


def _tally(column: pd.Series) -> Counter:
    """How often each value of a text column occurs (missing values are not counted)."""
    codes, values = pd.factorize(column)
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    return Counter(dict(zip(map(str, values.tolist()), counts.tolist())))


def _sorted_counts(counts: Counter) -> dict[str, int]:
    return {key: int(counts[key]) for key in sorted(counts) if counts[key]}


def _followup_counts(visits: pd.DataFrame, billing: pd.DataFrame) -> dict[str, int]:
    charge = _by_key(
        billing["visit_id"], billing["total_charge"].to_numpy(float), visits["visit_id"]
    )
    followup = visits["is_followup"].to_numpy()
    episode = visits["episode"].to_numpy()
    # the episode's visit before (none for the first follow-up of an episode begun before
    # --start, whose row follows another episode's)
    previous = np.full(len(charge), np.nan)
    same = np.flatnonzero(episode[1:] == episode[:-1])
    previous[same + 1] = charge[same]
    # the episode's first charge (its first row with a bill)
    billed = np.flatnonzero(~np.isnan(charge))
    episodes, first_row = np.unique(episode[billed], return_index=True)
    first = _by_key(episodes, charge[billed[first_row]], episode)
    return {
        "followups": int(followup.sum()),
        "followups_charged_more": int((followup & (charge > previous)).sum()),
        "followups_charged_below_first": int((followup & (charge < first)).sum()),
    }


def _geography(per_state: Counter, hospitals: int, hospital_states: set) -> dict:
    """Patients per state and, with a single hospital, how local its patients are."""
    figures: dict = {"patients_per_state": _sorted_counts(per_state)}
    if hospitals == 1 and len(hospital_states) == 1:
        (home,) = hospital_states
        neighbors = state_neighbors().get(home, frozenset())
        patients = sum(per_state.values())
        outside = patients - per_state.get(home, 0)
        figures["local_share"] = _share(patients - outside, patients)
        figures["out_of_state_from_neighboring_states"] = _share(
            sum(per_state.get(state, 0) for state in neighbors), outside
        )
    return figures

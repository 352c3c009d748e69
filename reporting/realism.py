"""The realism scorecard: a dataset measured beside published US figures (REALISM.md).

The targets (measure, band, unit, published source, definition in words and the parameters of
the computation) are the rows of ``reporting/data/realism_targets.toml``; this module only
computes them, one small function per kind of measure (``COMPUTATIONS``). It works in two
steps, so that a run cut into regions is scored exactly like the whole dataset:

- ``realism_counts`` counts, in a slice of whole patients (a region's tables, or a whole
  dataset), what the measures need: integers keyed by tuples such as ``("stays", age)``,
  which add up across slices;
- ``realism_section`` turns the summed counts into one row per target (``id, measure, value,
  band, unit, ok, source, note``), given the run's window, the summary's ``population``
  section when there is one, and the hospitals' rooms.

``scorecard`` does both for tables at hand (for example read back with
``reporting.readers.read_tables``). A measure whose columns the tables lack is not measurable
(value and ok None, a note naming the column); a fallback (no ``encounter_type``: every visit
is an inpatient stay; no population section: the patients are the population) is named in the
row's note.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from importlib import resources

import attrs
import numpy as np
import pandas as pd

from reporting.continuity import indices_by_patient
from reporting.recorder import Tables

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SEXES = ("Female", "Male")
TOP_AGE = 100  # ages are counted by single year, 100 standing for 100 and over
DAYS_PER_YEAR = 365.25
INPATIENT = "Inpatient"
OBSERVATION = "Observation"
EMERGENCY = "Emergency"
OUTPATIENT = "Outpatient"
BED_HOLDING = (INPATIENT, OBSERVATION)
ED_ADMISSION_TYPES = ("Emergency", "Trauma")
PLANNED_ADMISSION_TYPE = "Elective"
NEWBORN_ADMISSION_TYPE = "Newborn"
EXPIRED = "Expired"
TRANSFERRED = "Transferred to another hospital"
# The payer of a bill when billing has no payer_type: the patient's insurance status.
PATIENT_INSURED, PATIENT_UNINSURED = "(insured patient)", "(uninsured patient)"

ENCOUNTER_TYPE = "visits.encounter_type"
ADMISSION_TYPE = "visits.admission_type"
DISPOSITION = "visits.discharge_disposition"
PAYER_TYPE = "billing.payer_type"
CONDITIONS = "conditions table"
VISIT_COLUMNS = (
    "visit_id",
    "patient_id",
    "age",
    "condition",
    "treatment",
    "doctor_id",
    "date_of_admission",
    "date_of_discharge",
    "encounter_type",
    "admission_type",
    "discharge_disposition",
)


# ----------------------------------------------------------------------------- targets


@attrs.frozen
class Target:
    """One row of ``realism_targets.toml``: what is measured, the band and its source."""

    id: str
    computation: str
    measure: str
    low: float | None
    high: float | None
    unit: str
    source: str
    definition: str
    params: dict = attrs.field(eq=False)

    def holds(self, value: float) -> bool:
        """Whether ``value`` is inside the band (both ends included)."""
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@attrs.frozen
class Targets:
    """The scorecard's targets in file order, and what makes a delivery."""

    rows: tuple[Target, ...]
    delivery_condition: str
    cesarean_treatments: tuple[str, ...]
    followup_treatments: tuple[str, ...]

    def param_values(self, computation: str, name: str) -> set:
        """The values a parameter takes over the targets of one computation."""
        return {t.params[name] for t in self.rows if t.computation == computation}


TARGET_FIELDS = ("id", "computation", "measure", "low", "high", "unit", "source", "definition")


@functools.cache
def load_targets() -> Targets:
    """The targets of ``reporting/data/realism_targets.toml`` (checked: unique ids, known
    computations, every field there)."""
    path = resources.files("reporting") / "data" / "realism_targets.toml"
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    rows = []
    for entry in raw["targets"]:
        missing = [f for f in TARGET_FIELDS if f not in entry and f not in ("low", "high")]
        if missing:
            raise ValueError(f"realism target {entry.get('id')!r}: missing {missing}")
        if entry["computation"] not in COMPUTATIONS:
            raise ValueError(f"realism target {entry['id']!r}: unknown computation")
        params = {k: v for k, v in entry.items() if k not in TARGET_FIELDS}
        rows.append(Target(**{f: entry.get(f) for f in TARGET_FIELDS}, params=params))
    ids = [t.id for t in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("realism targets: duplicate ids")
    deliveries = raw["deliveries"]
    return Targets(
        rows=tuple(rows),
        delivery_condition=deliveries["condition"],
        cesarean_treatments=tuple(deliveries["cesarean_treatments"]),
        followup_treatments=tuple(deliveries["followup_treatments"]),
    )


# ----------------------------------------------------------------------------- counting


def _days(values: pd.Series) -> np.ndarray:
    """Dates as whole days since 1970-01-01 (NaT as a very negative number)."""
    return values.to_numpy().astype("datetime64[D]").astype(np.int64)


def _day(date: dt.date) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _anniversary(birth: tuple[np.ndarray, ...], age: np.ndarray) -> np.ndarray:
    """The day each person born on ``birth`` (``_ymd``) turns ``age`` (29 February births on
    1 March in common years)."""
    year, month, day = birth
    months = (year + age - 1970) * 12 + month - 1
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + day - 1


def _age_on(birth: tuple[np.ndarray, ...], day: np.ndarray) -> np.ndarray:
    """Whole years from ``birth`` (``_ymd``) to ``day`` (a birthday on ``day`` counts)."""
    years = _ymd(day)[0] - birth[0]
    return years - (_anniversary(birth, years) > day)


def _tally(name: str, *keys, weights=None) -> Counter:
    """Counts (or sums of integer ``weights``) per combination of ``keys`` (arrays or
    Series of one length), keyed ``(name, *key)`` with plain Python values."""
    factorized = [pd.factorize(key, use_na_sentinel=False) for key in keys]
    shape = tuple(max(len(uniques), 1) for _, uniques in factorized)
    combined = np.ravel_multi_index([np.asarray(codes) for codes, _ in factorized], shape)
    present, inverse = _groups(combined, int(np.prod(shape)))
    if weights is None:
        sums = np.bincount(inverse, minlength=len(present))
    else:  # float sums of integers are exact below 2**53
        sums = np.bincount(inverse, np.asarray(weights, dtype=np.float64), len(present))
    parts = [
        np.asarray(uniques, dtype=object)[codes].tolist()
        for (_, uniques), codes in zip(factorized, np.unravel_index(present, shape))
    ]
    return Counter(
        {(name, *key): int(total) for key, total in zip(zip(*parts), sums.tolist()) if total}
    )


def _groups(combined: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(combined, return_inverse=True)`` of codes below ``size``: by a bincount
    when there are few possible codes (numpy's unique hashes or sorts every row)."""
    if size > 4 * len(combined) + 1024:
        return np.unique(combined, return_inverse=True)
    seen = np.bincount(combined, minlength=size) > 0
    return np.flatnonzero(seen), (np.cumsum(seen) - 1)[combined]


class _Slice:
    """A slice of whole patients' tables over the window, with what the counters share."""

    def __init__(
        self,
        tables: Tables,
        census: pd.DataFrame | None,
        start: dt.date,
        today: dt.date,
        targets: Targets,
    ) -> None:
        self.tables, self.census, self.targets = tables, census, targets
        self.start_date, self.today_date = start, today
        self.start, self.today = start, today = _day(start), _day(today)
        # only the columns read here: filtering rows copies every column
        self.all_visits = tables.visits[[c for c in VISIT_COLUMNS if c in tables.visits.columns]]
        admitted = _days(self.all_visits["date_of_admission"])
        self.visits = self.all_visits[(admitted >= start) & (admitted <= today)]
        self._encounters: dict[tuple[str, ...], pd.DataFrame] = {}
        self.stays = self.encounters(INPATIENT)
        patients = tables.patients
        self.birth = _days(patients["date_of_birth"])
        # the first and last day of the window each patient is alive at the end of
        # (last < first: never)
        self.first = np.maximum(self.birth, start)
        self.last = np.full(len(patients), today, dtype=np.int64)
        if self.has("patients", "date_of_death"):
            died = patients["date_of_death"].notna().to_numpy()
            self.last[died] = np.minimum(today, _days(patients["date_of_death"])[died] - 1)
        self.born = _ymd(self.birth)
        self.age_today = np.minimum(_age_on(self.born, np.full(len(patients), today)), TOP_AGE)
        self.bills = self._bills()

    def _bills(self) -> pd.DataFrame:
        """The bills' amounts and payers: payer_type, or the patient's insurance status when
        billing has none."""
        billing = self.tables.billing
        if self.has("billing", "payer_type"):
            payer = billing["payer_type"].array
        else:
            patients = self.tables.patients
            row = pd.Index(patients["patient_id"]).get_indexer(billing["patient_id"])
            insured = patients["insurance_provider"].notna().to_numpy()[row]
            payer = pd.Categorical.from_codes(
                insured.astype(np.int8), [PATIENT_UNINSURED, PATIENT_INSURED]
            )
        zero = np.zeros(len(billing), dtype=np.int64)
        columns = {
            name: billing[name].to_numpy() if self.has("billing", name) else zero
            for name in ("adjustment_amount", "charity_care_amount")
        }
        overdue = np.zeros(len(billing), dtype=bool)
        if self.has("billing", "payment_status"):
            overdue = (billing["payment_status"] == "Late-Unpaid").to_numpy(bool)
        return pd.DataFrame(
            {
                "visit_id": billing["visit_id"].to_numpy(),
                "payer": payer,
                "charge": billing["total_charge"].to_numpy(),
                "owed": billing["patient_responsibility_amount"].to_numpy(),
                "adjustment": columns["adjustment_amount"],
                "charity": columns["charity_care_amount"],
                "overdue": np.where(overdue, billing["patient_responsibility_amount"], 0),
            }
        )

    def has(self, table: str, column: str) -> bool:
        """Whether a table has a column."""
        return column in getattr(self.tables, table).columns

    def encounters(self, *types: str) -> pd.DataFrame:
        """Visits of the window of these encounter types; every visit when the tables do
        not record encounter types and ``types`` include Inpatient."""
        if not self.has("visits", "encounter_type"):
            return self.visits if INPATIENT in types else self.visits.iloc[:0]
        if types not in self._encounters:
            chosen = self.visits["encounter_type"].isin(types).to_numpy()
            self._encounters[types] = self.visits[chosen]
        return self._encounters[types]


def _missing_columns(s: _Slice) -> Counter:
    wanted = {
        ENCOUNTER_TYPE: s.has("visits", "encounter_type"),
        ADMISSION_TYPE: s.has("visits", "admission_type"),
        DISPOSITION: s.has("visits", "discharge_disposition"),
        PAYER_TYPE: s.has("billing", "payer_type"),
        CONDITIONS: getattr(s.tables, "conditions", None) is not None,
    }
    return Counter({("missing", name): 1 for name, present in wanted.items() if not present})


def _population(s: _Slice) -> Counter:
    """The patients as a population: person-days by sex and age, residents per calendar
    year, and who is alive on the last day by sex and age (with the uninsured among them)."""
    patients = s.tables.patients
    sex = patients["gender"].array
    first, last = s.first, s.last
    counts = Counter()
    age = _age_on(s.born, first)
    birthday = _anniversary(s.born, age)
    remaining = last >= first
    while remaining.any():
        following = _anniversary(s.born, age + 1)
        begin, end = np.maximum(first, birthday), np.minimum(last, following - 1)
        keep = remaining & (end >= begin)
        days = (end - begin + 1)[keep]
        counts += _tally("person_days", sex[keep], np.minimum(age[keep], TOP_AGE), weights=days)
        age, birthday = age + 1, following
        remaining &= birthday <= last
    for year in range(s.start_date.year, s.today_date.year + 1):
        begin = max(_day(dt.date(year, 1, 1)), s.start)
        end = min(_day(dt.date(year, 12, 31)), s.today)
        counts[("residents", year)] = int(
            ((first <= end) & (last >= begin) & (last >= first)).sum()
        )
    alive = s.last == s.today
    counts += _tally("alive", sex[alive], s.age_today[alive])
    uninsured = alive & patients["insurance_provider"].isna().to_numpy()
    counts += _tally("uninsured", s.age_today[uninsured])
    return counts


def _deaths(s: _Slice) -> Counter:
    """Patients who died in the window: in hospital (an inpatient stay discharged ``Expired``
    that day) or elsewhere."""
    if not s.has("patients", "date_of_death"):
        return Counter()
    patients = s.tables.patients
    death = _days(patients["date_of_death"].dropna())
    who = patients["patient_id"].to_numpy()[patients["date_of_death"].notna().to_numpy()]
    keep = (death >= s.start) & (death <= s.today)
    died = pd.Series(death[keep], index=who[keep])
    in_hospital = np.zeros(len(died), dtype=bool)
    if s.has("visits", "discharge_disposition"):
        visits = s.tables.visits
        expired = (visits["discharge_disposition"] == EXPIRED).to_numpy()
        known = pd.Series(
            _days(visits["date_of_discharge"])[expired],
            index=visits["patient_id"].to_numpy()[expired],
        )
        in_hospital = (known.reindex(died.index).to_numpy() == died.to_numpy()).astype(bool)
    place = np.where(in_hospital, "in_hospital", "elsewhere")
    return _tally("deaths", place)


def _prevalence(s: _Slice) -> Counter:
    """Patients alive on the last day who have each condition then, by sex and age: from the
    conditions table (diagnosed by then, not resolved), else from visits admitted by then."""
    patients = s.tables.patients
    conditions = getattr(s.tables, "conditions", None)
    if conditions is not None:
        held = (_days(conditions["diagnosis_date"]) <= s.today) & ~(
            conditions["resolution_date"].notna().to_numpy()
            & (_days(conditions["resolution_date"]) <= s.today)
        )
        held = conditions[["patient_id", "condition"]][held]
    else:
        visits = s.all_visits
        held = visits[["patient_id", "condition"]][_days(visits["date_of_admission"]) <= s.today]
    held = held.drop_duplicates()
    row = pd.Index(patients["patient_id"]).get_indexer(held["patient_id"])
    alive = s.last[row] == s.today
    row = row[alive]
    return _tally(
        "prevalent",
        held["condition"].array[alive],
        patients["gender"].array[row],
        s.age_today[row],
    )


def _stays(s: _Slice) -> Counter:
    """Inpatient stays by age, length of stay, disposition, weekday, condition and month,
    patients with a stay per year, and the stays' payers and charges."""
    stays = s.stays
    admitted, discharged = _days(stays["date_of_admission"]), _days(stays["date_of_discharge"])
    year, month, _ = _ymd(admitted)
    counts = _tally("stays", np.minimum(stays["age"].to_numpy(), TOP_AGE))
    counts += _tally("los", discharged - admitted)
    counts += _tally("stays_by_weekday", (admitted + 3) % 7)  # 1970-01-01 was a Thursday
    counts += _tally("stays_by_month", stays["condition"].array, month)
    if s.has("visits", "discharge_disposition"):
        counts += _tally("disposition", stays["discharge_disposition"].array)
    years = pd.DataFrame({"patient": stays["patient_id"].to_numpy(), "year": year})
    counts += _tally("patients_with_stay", years.drop_duplicates()["year"].to_numpy())
    row = pd.Index(s.bills["visit_id"]).get_indexer(stays["visit_id"])
    billed = s.bills.iloc[row[row >= 0]]
    counts += _tally("stays_payer", billed["payer"].array)
    counts[("stay_charges",)] = int(billed["charge"].sum())
    counts[("stay_bills",)] = len(billed)
    return counts


def _bills(s: _Slice) -> Counter:
    """Charges and patient responsibility of all bills, by payer."""
    bills = s.bills
    payer = bills["payer"].array
    return (
        _tally("charges", payer, weights=bills["charge"])
        + _tally("responsibility", payer, weights=bills["owed"])
        + Counter(
            {
                ("expected",): int((bills["charge"] - bills["adjustment"]).sum()),
                ("uncompensated",): int((bills["charity"] + bills["overdue"]).sum()),
            }
        )
    )


def _deliveries(s: _Slice) -> Counter:
    """Deliveries by mode and the mother's age, and their lengths of stay."""
    targets, stays = s.targets, s.stays
    childbirth = (stays["condition"] == targets.delivery_condition).to_numpy()
    followup = stays["treatment"].isin(targets.followup_treatments).to_numpy()
    delivery = childbirth & ~followup
    if s.has("visits", "admission_type"):
        delivery &= (stays["admission_type"] != NEWBORN_ADMISSION_TYPE).to_numpy()
    stays = stays[delivery]
    mode = np.where(
        stays["treatment"].isin(targets.cesarean_treatments).to_numpy(), "cesarean", "vaginal"
    )
    los = _days(stays["date_of_discharge"]) - _days(stays["date_of_admission"])
    row = pd.Index(s.bills["visit_id"]).get_indexer(stays["visit_id"])
    payer = s.bills["payer"].array.take(row, allow_fill=True)
    return (
        _tally("deliveries", mode, stays["age"].to_numpy())
        + _tally("delivery_los", mode, weights=los)
        + _tally("delivery_payer", payer)
    )


def _readmissions(s: _Slice) -> Counter:
    """Index stays and those readmitted (unplanned, any hospital) within each number of
    days the targets ask for, by the index stay's condition."""
    stays = s.stays.sort_values(["patient_id", "date_of_admission", "visit_id"], kind="stable")
    patient = stays["patient_id"].to_numpy()
    admitted, discharged = _days(stays["date_of_admission"]), _days(stays["date_of_discharge"])
    unplanned = np.ones(len(stays), dtype=bool)
    if s.has("visits", "admission_type"):
        unplanned = (stays["admission_type"] != PLANNED_ADMISSION_TYPE).to_numpy()
    index = np.ones(len(stays), dtype=bool)
    if s.has("visits", "discharge_disposition"):
        index = ~stays["discharge_disposition"].isin([EXPIRED, TRANSFERRED]).to_numpy()
    # Each stay's next unplanned admission: the first one of the same patient admitted on or
    # after its discharge day and sorted after it. Both keys grow along the sorted stays.
    candidates = np.flatnonzero(unplanned)
    origin = int(admitted.min(initial=0))
    span = int(discharged.max(initial=0)) - origin + 2
    key = patient * span + (admitted - origin)
    nearest = np.maximum(
        np.searchsorted(key[candidates], patient * span + (discharged - origin), "left"),
        np.searchsorted(candidates, np.arange(len(stays)), "right"),
    )
    gap = np.full(len(stays), np.iinfo(np.int64).max)
    found = np.flatnonzero(nearest < len(candidates))
    following = candidates[nearest[found]]
    same = patient[following] == patient[found]
    gap[found[same]] = admitted[following[same]] - discharged[found[same]]
    condition = stays["condition"].array
    counts = Counter()
    for days in s.targets.param_values("readmission_30d", "days"):
        eligible = index & (discharged + days <= s.today)
        readmitted = eligible & (gap <= days)
        counts += _tally("index_stays", np.full(eligible.sum(), days), condition[eligible])
        counts += _tally("readmissions", np.full(readmitted.sum(), days), condition[readmitted])
    return counts


def _emergency(s: _Slice) -> Counter:
    """ED visits: treat-and-release ones and bed-holding encounters admitted through the ED."""
    if not s.has("visits", "encounter_type"):
        return Counter()
    count = len(s.encounters(EMERGENCY))
    if s.has("visits", "admission_type"):
        beds = s.encounters(*BED_HOLDING)
        count += int(beds["admission_type"].isin(ED_ADMISSION_TYPES).sum())
    return Counter({("ed_visits",): count})


def _clinic(s: _Slice) -> Counter:
    """Clinic visits (outpatient encounters) by weekday."""
    if not s.has("visits", "encounter_type"):
        return Counter()
    admitted = _days(s.encounters(OUTPATIENT)["date_of_admission"])
    return _tally("clinic_by_weekday", (admitted + 3) % 7)  # 1970-01-01 was a Thursday


def _occupancy(s: _Slice) -> Counter:
    """Occupied room-nights in the window: from the census when given, else from the nights
    of bed-holding visits (admission to the day before discharge)."""
    if s.census is not None:
        day = _days(s.census["date"])
        census = s.census[(day >= s.start) & (day <= s.today)]
        return Counter(
            {
                ("census_occupied",): int(census["occupied_rooms"].sum()),
                ("census_rooms",): int(census["rooms"].sum()),
            }
        )
    visits = s.all_visits
    if s.has("visits", "encounter_type"):
        visits = visits[visits["encounter_type"].isin(BED_HOLDING).to_numpy()]
    first = np.maximum(_days(visits["date_of_admission"]), s.start)
    last = np.minimum(_days(visits["date_of_discharge"]) - 1, s.today)
    return Counter({("occupied_room_days",): int(np.maximum(last - first + 1, 0).sum())})


def _continuity(s: _Slice) -> Counter:
    """Each patient's doctor-level COC over outpatient visits (all visits without encounter
    types), for patients with enough of them."""
    visits = s.encounters(OUTPATIENT) if s.has("visits", "encounter_type") else s.visits
    patient = visits["patient_id"].to_numpy()
    # as continuity_table orders a patient's visits: by admission, ties by visit id
    admission = visits["date_of_admission"].to_numpy()  # NaT last, as sort_values puts it
    order = np.lexsort((visits["visit_id"].to_numpy(), admission, patient))
    counts = Counter()
    for least in s.targets.param_values("doctor_coc", "min_visits"):
        indices = indices_by_patient(patient[order], visits["doctor_id"].to_numpy()[order], least)
        counts += _tally("coc", np.full(len(indices), least), indices["coc"].to_numpy())
    return counts


COUNTERS: tuple[Callable[[_Slice], Counter], ...] = (
    _missing_columns,
    _population,
    _deaths,
    _prevalence,
    _stays,
    _bills,
    _deliveries,
    _readmissions,
    _emergency,
    _clinic,
    _occupancy,
    _continuity,
)


def realism_counts(
    tables: Tables,
    start: dt.date,
    today: dt.date,
    census: pd.DataFrame | None = None,
) -> Counter:
    """What the scorecard needs from the tables of a slice of whole patients, over the
    window ``[start, today]``: counts that add up across slices (``census``: the slice's
    census table, when written)."""
    s = _Slice(tables, census, start, today, load_targets())
    counts = Counter()
    for counter in COUNTERS:
        counts.update(counter(s))
    return counts


# ----------------------------------------------------------------------------- the rows


@attrs.frozen
class Scope:
    """What the scorecard knows of the whole run besides the counts: the window, the
    summary's ``population`` section (None without one), the hospitals' rooms (summed;
    None when unknown) and the room-days of their unwritten load in the window (the
    summary's ``capacity`` section), which bed occupancy needs when there is no census."""

    start: dt.date
    today: dt.date
    population: dict | None = None
    rooms: int | None = None
    unwritten_room_days: int = 0


@attrs.frozen
class Result:
    """A measure's value (None: not measurable) and notes on how it was measured."""

    value: float | None
    notes: tuple[str, ...] = ()


POPULATION_NOTE = "no population section: the patients are the population"
# What a count means when a column is missing: (the column, the fallback), named in the row.
FALLBACKS: dict[str, tuple[tuple[str, str], ...]] = {
    name: ((ENCOUNTER_TYPE, "every visit counted as an inpatient stay"),)
    for name in (
        "stays",
        "los",
        "stays_by_weekday",
        "stays_by_month",
        "patients_with_stay",
        "stay_charges",
        "stay_bills",
        "deliveries",
        "delivery_los",
    )
}
FALLBACKS["stays_payer"] = (
    *FALLBACKS["stays"],
    (PAYER_TYPE, "the payer is the patient's insurance status"),
)
FALLBACKS["charges"] = ((PAYER_TYPE, "the payer is the patient's insurance status"),)
FALLBACKS["index_stays"] = (
    *FALLBACKS["stays"],
    (DISPOSITION, "every stay counted as discharged home alive"),
    (ADMISSION_TYPE, "every admission counted as unplanned"),
)
FALLBACKS["ed_visits"] = ((ADMISSION_TYPE, "ED visits admitted to a bed are not counted"),)
FALLBACKS["prevalent"] = ((CONDITIONS, "a condition is held from its first visit"),)
FALLBACKS["coc"] = ((ENCOUNTER_TYPE, "all visits, not only outpatient ones"),)


class _Run:
    """The summed counts and the scope, as the computations read them; the fallbacks a
    computation relied on are collected in ``notes``."""

    def __init__(self, counts: dict[str, list[tuple[tuple, int]]], scope: Scope) -> None:
        self.counts, self.scope = counts, scope
        self.notes: list[str] = []
        self.days = np.arange(_day(scope.start), _day(scope.today) + 1)

    def missing(self, column: str) -> bool:
        """Whether the tables lack a column (or the conditions table)."""
        return any(key == (column,) for key, _ in self.counts.get("missing", ()))

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def values(self, name: str, where: Callable[..., bool] | None = None) -> Counter:
        """The counts called ``name`` whose other key parts satisfy ``where``, by the last
        key part."""
        for column, fallback in FALLBACKS.get(name, ()):
            if self.missing(column):
                self._note(f"no {column}: {fallback}")
        values = Counter()
        for key, count in self.counts.get(name, ()):
            if where is None or where(*key):
                values[key[-1] if key else None] += count
        return values

    def total(self, name: str, where: Callable[..., bool] | None = None) -> int:
        """The sum of the counts called ``name`` whose other key parts satisfy ``where``."""
        return sum(self.values(name, where).values())

    def _population(self, field: str):
        population = self.scope.population
        if population is not None and field in population:
            return population[field]
        self._note(
            POPULATION_NOTE
            if population is None
            else f"no population.{field}: the patients are the population"
        )
        return None

    def person_years(self, ages: range | None = None, sexes: tuple[str, ...] = SEXES) -> float:
        """Person-years lived in the window (at some ages, by some sexes)."""
        if ages is None and sexes == SEXES:
            total = self._population("person_years")
            if total is not None:
                return float(total)
        else:
            by_age = self._population("person_years_by_age")
            if by_age is not None:
                ages = ages if ages is not None else range(TOP_AGE + 1)
                return float(sum(by_age[sex][age] for sex in sexes for age in ages))
        days = self.total(
            "person_days", lambda sex, age: sex in sexes and (ages is None or age in ages)
        )
        return days / DAYS_PER_YEAR

    def deaths(self) -> dict[str, int]:
        """Deaths in the window: ``total``, ``in_hospital`` and ``elsewhere``."""
        deaths = self._population("deaths")
        if isinstance(deaths, dict):
            return deaths
        counted = self.values("deaths")
        return {
            "total": sum(counted.values()),
            "in_hospital": counted["in_hospital"],
            "elsewhere": counted["elsewhere"],
        }

    def residents_in(self, year: int) -> int:
        """Residents alive at some time in ``year`` within the window."""
        by_year = self._population("residents_by_year")
        if by_year is not None:
            return int(by_year.get(str(year), 0))
        return self.total("residents", lambda y: y == year)

    def residents_on_last_day(self, ages: range) -> float:
        """Residents of these ages alive on the last day; with a population section, its
        mean residents of those ages over the window."""
        if self.scope.population is not None and "person_years_by_age" in self.scope.population:
            self._note("residents of those ages: the population's mean over the window")
            return self.person_years(ages) / (len(self.days) / DAYS_PER_YEAR)
        self._note(
            POPULATION_NOTE
            if self.scope.population is None
            else "no population.person_years_by_age: the patients are the population"
        )
        return self.total("alive", lambda sex, age: age in ages)

    def days_where(self, keep: Callable[[np.ndarray], np.ndarray]) -> int:
        """Days of the window whose day number passes ``keep``."""
        return int(keep(self.days).sum())


COMPUTATIONS: dict[str, Callable[[_Run, Target], Result]] = {}


def computation(name: str):
    """Register a function computing targets of ``realism_targets.toml`` under ``name``."""

    def register(function: Callable[[_Run, Target], Result]):
        COMPUTATIONS[name] = function
        return function

    return register


def _ages(target: Target, key: str = "ages") -> range:
    low, high = target.params[key]
    return range(low, min(high, TOP_AGE) + 1)


def _ratio(numerator: float, denominator: float, what: str, scale: float = 1.0) -> Result:
    if denominator == 0:
        return Result(None, (f"not measurable: no {what}",))
    return Result(scale * numerator / denominator)


def _not_measurable(column: str) -> Result:
    return Result(None, (f"not measurable: no {column}",))


def _month(days: np.ndarray) -> np.ndarray:
    return _ymd(days)[1]


def _weekend(days: np.ndarray) -> np.ndarray:
    return (days + 3) % 7 >= 5  # 1970-01-01 was a Thursday; Monday is 0


@computation("uninsured_share")
def _uninsured_share(run: _Run, target: Target) -> Result:
    ages = _ages(target)
    uninsured = run.total("uninsured", lambda age: age in ages)
    alive = run.total("alive", lambda sex, age: age in ages)
    return _ratio(uninsured, alive, "patients of those ages alive on the last day", 100)


@computation("payer_share")
def _payer_share(run: _Run, target: Target) -> Result:
    if run.missing(PAYER_TYPE):
        if not target.params.get("uninsured"):
            return _not_measurable(PAYER_TYPE)
        payers = {PATIENT_UNINSURED}
    else:
        payers = set(target.params["payers"])
    stays = run.total("stays_payer")
    return _ratio(run.total("stays_payer", lambda p: p in payers), stays, "billed stays", 100)


@computation("stays_per_1000")
def _stays_per_1000(run: _Run, target: Target) -> Result:
    return _ratio(run.total("stays"), run.person_years(), "person-years", 1000)


@computation("share_with_stay")
def _share_with_stay(run: _Run, target: Target) -> Result:
    scope = run.scope
    years = [
        year
        for year in range(scope.start.year, scope.today.year + 1)
        if dt.date(year, 1, 1) >= scope.start and dt.date(year, 12, 31) <= scope.today
    ]
    shares = [
        run.total("patients_with_stay", lambda y, year=year: y == year) / residents
        for year in years
        if (residents := run.residents_in(year))
    ]
    if not shares:
        return Result(None, ("not measurable: no full calendar year with residents",))
    return Result(100 * sum(shares) / len(shares))


@computation("ed_visits_per_1000")
def _ed_visits_per_1000(run: _Run, target: Target) -> Result:
    if run.missing(ENCOUNTER_TYPE):
        return _not_measurable(ENCOUNTER_TYPE)
    return _ratio(run.total("ed_visits"), run.person_years(), "person-years", 1000)


@computation("stays_rate_ratio")
def _stays_rate_ratio(run: _Run, target: Target) -> Result:
    rates = []
    for key in ("ages", "reference_ages"):
        ages = _ages(target, key)
        rate = _ratio(run.total("stays", lambda age, a=ages: age in a), run.person_years(ages), "")
        if rate.value is None:
            return Result(None, (f"not measurable: no person-years at ages {ages[0]}-{ages[-1]}",))
        rates.append(rate.value)
    return _ratio(rates[0], rates[1], "stays at the reference ages")


@computation("mean_los")
def _mean_los(run: _Run, target: Target) -> Result:
    los = run.values("los")
    return _ratio(sum(d * n for d, n in los.items()), sum(los.values()), "inpatient stays")


@computation("long_stay_share")
def _long_stay_share(run: _Run, target: Target) -> Result:
    los = run.values("los")
    long = sum(n for d, n in los.items() if d >= target.params["min_days"])
    return _ratio(long, sum(los.values()), "inpatient stays", 100)


@computation("delivery_los")
def _delivery_los(run: _Run, target: Target) -> Result:
    mode = target.params["mode"]
    deliveries = run.total("deliveries", lambda m, age: m == mode)
    days = run.total("delivery_los", lambda m: m == mode)
    return _ratio(days, deliveries, f"{mode} deliveries")


@computation("in_hospital_mortality")
def _in_hospital_mortality(run: _Run, target: Target) -> Result:
    if run.missing(DISPOSITION):
        return _not_measurable(DISPOSITION)
    expired = run.total("disposition", lambda d: d == EXPIRED)
    return _ratio(expired, run.total("disposition"), "inpatient stays", 100)


@computation("crude_death_rate")
def _crude_death_rate(run: _Run, target: Target) -> Result:
    return _ratio(run.deaths()["total"], run.person_years(), "person-years", 1000)


@computation("deaths_in_hospital_share")
def _deaths_in_hospital_share(run: _Run, target: Target) -> Result:
    deaths = run.deaths()
    return _ratio(deaths["in_hospital"], deaths["total"], "deaths", 100)


@computation("readmission_30d")
def _readmission(run: _Run, target: Target) -> Result:
    days, condition = target.params["days"], target.params.get("condition")

    def keep(window: int, index_condition: str) -> bool:
        return window == days and condition in (None, index_condition)

    index = run.total("index_stays", keep)
    return _ratio(run.total("readmissions", keep), index, "index stays", 100)


@computation("mean_charge")
def _mean_charge(run: _Run, target: Target) -> Result:
    return _ratio(run.total("stay_charges"), run.total("stay_bills"), "billed inpatient stays")


@computation("insured_charge_share")
def _insured_charge_share(run: _Run, target: Target) -> Result:
    uninsured = {*target.params["uninsured_payers"], PATIENT_UNINSURED}
    charges = run.total("charges", lambda p: p not in uninsured)
    owed = run.total("responsibility", lambda p: p not in uninsured)
    return _ratio(owed, charges, "charges to insured patients", 100)


@computation("delivery_payer_share")
def _delivery_payer_share(run: _Run, target: Target) -> Result:
    if run.missing(PAYER_TYPE):
        return _not_measurable(PAYER_TYPE)
    payers = set(target.params["payers"])
    paid = run.total("delivery_payer", lambda p: p in payers)
    return _ratio(paid, run.total("delivery_payer"), "billed deliveries", 100)


@computation("uncompensated_share")
def _uncompensated_share(run: _Run, target: Target) -> Result:
    return _ratio(run.total("uncompensated"), run.total("expected"), "expected payments", 100)


@computation("bed_occupancy")
def _bed_occupancy(run: _Run, target: Target) -> Result:
    rooms = run.total("census_rooms")
    if rooms:
        return _ratio(run.total("census_occupied"), rooms, "rooms", 100)
    if not run.scope.rooms:
        return Result(None, ("not measurable: no census and no hospitals' rooms",))
    occupied = run.total("occupied_room_days") + run.scope.unwritten_room_days
    result = _ratio(occupied, run.scope.rooms * len(run.days), "rooms", 100)
    return Result(
        result.value, ("from the visits' nights and the unwritten load's room-days (no census)",)
    )


@computation("deliveries_per_1000_women")
def _deliveries_per_1000_women(run: _Run, target: Target) -> Result:
    women = run.person_years(_ages(target), ("Female",))
    return _ratio(run.total("deliveries"), women, "women's person-years", 1000)


@computation("cesarean_share")
def _cesarean_share(run: _Run, target: Target) -> Result:
    cesarean = run.total("deliveries", lambda mode, age: mode == "cesarean")
    return _ratio(cesarean, run.total("deliveries"), "deliveries", 100)


@computation("mothers_share")
def _mothers_share(run: _Run, target: Target) -> Result:
    ages = _ages(target)
    mothers = run.total("deliveries", lambda mode, age: age in ages)
    return _ratio(mothers, run.total("deliveries"), "deliveries", 100)


@computation("seasonal_ratio")
def _seasonal_ratio(run: _Run, target: Target) -> Result:
    condition = target.params["condition"]

    def admissions_and_days(months: list[int]) -> tuple[int, int]:
        admissions = run.total("stays_by_month", lambda c, m: c == condition and m in months)
        return admissions, run.days_where(lambda d: np.isin(_month(d), months))

    peak, peak_days = admissions_and_days(target.params["months"])
    low, low_days = admissions_and_days(target.params["reference_months"])
    if not (peak_days and low_days and (low or peak)):
        return Result(
            None, (f"not measurable: no {condition} admissions or no days in the windows",)
        )
    if not low:  # none in the reference months: the ratio is at least this
        note = f"a lower bound: no {condition} admissions in the reference months, one counted"
        return Result((peak / peak_days) / (1 / low_days), (note,))
    return Result((peak / peak_days) / (low / low_days))


@computation("weekend_ratio")
def _weekend_ratio(run: _Run, target: Target) -> Result:
    weekend = run.total("stays_by_weekday", lambda day: day >= 5)
    weekday = run.total("stays_by_weekday", lambda day: day < 5)
    weekend_days = run.days_where(_weekend)
    weekday_days = len(run.days) - weekend_days
    if not (weekend_days and weekday_days and weekday):
        return Result(None, ("not measurable: no weekday admissions or no weekend in the window",))
    return Result((weekend / weekend_days) / (weekday / weekday_days))


@computation("clinic_weekend_share")
def _clinic_weekend_share(run: _Run, target: Target) -> Result:
    weekend = run.total("clinic_by_weekday", lambda day: day >= 5)
    return _ratio(weekend, run.total("clinic_by_weekday"), "clinic visits", 100)


@computation("prevalence")
def _prevalence_share(run: _Run, target: Target) -> Result:
    condition, ages = target.params["condition"], _ages(target)
    held = run.total("prevalent", lambda c, sex, age: c == condition and age in ages)
    return _ratio(held, run.residents_on_last_day(ages), "residents of those ages", 100)


@computation("doctor_coc")
def _doctor_coc(run: _Run, target: Target) -> Result:
    least = target.params["min_visits"]
    values = run.values("coc", lambda visits, coc: visits == least)
    exact = sum((Fraction(value) * count for value, count in values.items()), Fraction(0))
    return _ratio(exact, sum(values.values()), f"patients with {least} visits or more")


def realism_section(counts: Counter, scope: Scope) -> list[dict]:
    """One row per target: ``id``, ``measure``, ``value`` (rounded; None when not
    measurable), ``band`` ([low, high], None for an open end), ``unit``, ``ok`` (None when not
    measurable), ``source`` and ``note`` (how it was measured when a fallback was used, or
    why it could not be; None otherwise)."""
    by_name: dict[str, list[tuple[tuple, int]]] = {}
    for key, count in counts.items():
        by_name.setdefault(key[0], []).append((key[1:], count))
    rows = []
    for target in load_targets().rows:
        run = _Run(by_name, scope)
        result = COMPUTATIONS[target.computation](run, target)
        value = None if result.value is None else round(float(result.value), 4)
        notes = [*result.notes, *(n for n in run.notes if n not in result.notes)]
        rows.append(
            {
                "id": target.id,
                "measure": target.measure,
                "value": value,
                "band": [target.low, target.high],
                "unit": target.unit,
                "ok": None if value is None else target.holds(value),
                "source": target.source,
                "note": "; ".join(notes) or None,
            }
        )
    return rows


def scorecard(
    tables: Tables,
    *,
    start: dt.date,
    today: dt.date,
    population: dict | None = None,
    rooms: int | None = None,
    unwritten_room_days: int = 0,
    census: pd.DataFrame | None = None,
) -> list[dict]:
    """The rows of ``realism_section`` for a whole dataset at hand, over ``[start, today]``
    (the summary's ``run`` section gives both), with the summary's ``population`` section,
    the hospitals' rooms (``hospitals["rooms"].sum()``), the unwritten load's room-days (the
    summary's ``capacity`` section) and the census when there are."""
    return realism_section(
        realism_counts(tables, start, today, census),
        Scope(start, today, population, rooms, unwritten_room_days),
    )

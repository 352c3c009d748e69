"""The event log: typed, append-only, columnar.

Each event type has a fixed list of integer fields (codes for text such as conditions or
reasons). The simulation appends a tuple per event; rows are packed into int64 column
blocks every simulated month, so a long run holds arrays, not millions of Python objects.
Bills and payments are the exception: they feed nothing back into the timeline, so the
billing office (``sim.accounts``) writes them all at once, whole, after the clock stops (with
the admissions' orders, ``sim.orders``): just before the log is next read, so that a clock
stepped many times between two reads derives them once.

The log holds the whole timeline, burn-in included (``all_columns``); what it shows the tables
(``columns``) is the extract from the first day written on: the events of that day and later,
without those of a visit admitted before it (a stay open at ``--start``, its bill and payment)
and without a change of provider at a patient's first visit written (the provider before it is
not in the tables), and with what was in force on the first day (registrations, chronic
diagnoses, the coverage spell then current) moved to it.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import attrs
import numpy as np

SWITCH_REASONS = (
    "no_room",
    "doctor_absent",
    "doctor_left",
    "patient_choice",
    "new_specialty",
    "back_to_usual_doctor",
    "readmitted_elsewhere",
    "on_shift",
)
PLANS = ("Full", "Incremental")
# What an encounter is: an emergency-department visit treated and released the same day, a stay
# in a bed (inpatient, or observation for about a night), or a clinic visit.
ENCOUNTER_TYPES = ("Emergency", "Inpatient", "Observation", "Outpatient")
BED_HOLDING = frozenset({1, 2})  # codes of the encounter types that take a room
# How the encounter began (UB-04 "type of admission or visit").
ADMISSION_TYPES = ("Emergency", "Urgent", "Elective", "Newborn", "Trauma")
# Where the patient went afterwards (UB-04 "patient discharge status", in words).
DISCHARGE_DISPOSITIONS = (
    "Home",
    "Home health",
    "Skilled nursing facility",
    "Transferred to another hospital",
    "Left against medical advice",
    "Expired",
)


@attrs.frozen
class EventType:
    """The name and the fields of one kind of event. ``day`` is always the first field."""

    name: str
    fields: tuple[str, ...]
    description: str


EVENT_TYPES = {
    event.name: event
    for event in (
        EventType(
            "PatientRegistered", ("day", "patient"), "a patient joins the region's population"
        ),
        EventType(
            "ConditionDiagnosed",
            ("day", "patient", "condition", "diagnosis_day"),
            "a chronic condition goes on the patient's problem list: on the day it is diagnosed, "
            "or at registration for one diagnosed before --start (diagnosis_day < 0)",
        ),
        EventType(
            "CoverageStarted",
            ("day", "patient", "payer", "insurance_plan", "design", "basis"),
            "a coverage spell begins: the one in force at registration, then each change of "
            "payer, plan or cost-sharing design (payer: sim.coverage.PAYER_TYPES; "
            "insurance_plan: index into PlanCatalog.names, -1 when self-pay; design: "
            "sim.coverage.DESIGNS)",
        ),
        EventType(
            "EpisodeStarted",
            ("day", "patient", "episode", "condition"),
            "a patient falls ill with a condition",
        ),
        EventType(
            "Admitted",
            (
                "day",
                "patient",
                "visit",
                "episode",
                "condition",
                "followup",
                "doctor",
                "hospital",
                "room",
                "severity",
                "treatment",
                "medication",
                "test_result",
                "encounter",
                "admission_type",
            ),
            "an encounter begins under a doctor: an ED or clinic visit, or a stay in a room "
            "(room -1 without one; followup: its number in the episode)",
        ),
        EventType(
            "Discharged",
            ("day", "patient", "visit", "disposition"),
            "an encounter ends (a stay's room is free again) and the patient goes on to the "
            "disposition",
        ),
        EventType(
            "Died",
            ("day", "patient"),
            "a patient dies outside hospital (a death in hospital is a discharge with "
            "disposition Expired)",
        ),
        EventType(
            "FollowUpScheduled",
            ("day", "patient", "visit", "due_day"),
            "a clinic follow-up of the same episode is booked at the visit's discharge for "
            "due_day (it takes place then, or when the patient leaves another stay)",
        ),
        EventType(
            "FollowUpMissed",
            ("day", "patient", "visit"),
            "the follow-up booked at the visit's discharge is given up: the patient was still "
            "in hospital, or waiting for a bed, a month after its day, or died before it",
        ),
        EventType(
            "ProviderSwitched",
            (
                "day",
                "patient",
                "visit",
                "from_doctor",
                "from_hospital",
                "to_doctor",
                "to_hospital",
                "reason",
            ),
            "a visit is with another doctor or hospital than the patient's last visit",
        ),
        EventType(
            "BillIssued",
            (
                "day",
                "patient",
                "visit",
                "total",
                "insurance",
                "patient_share",
                "plan",
                "due_day",
                "payer",
                "insurance_plan",
                "adjustment",
                "charity",
            ),
            "the hospital bills a visit",
        ),
        EventType(
            "PaymentMade", ("day", "patient", "visit", "amount"), "the patient settles a bill"
        ),
        EventType(
            "Diverted",
            ("day", "patient", "visit", "from_hospital", "to_hospital"),
            "no room was free at the hospital chosen: the patient is admitted elsewhere",
        ),
        EventType(
            "DoctorAbsent", ("day", "doctor", "until_day"), "a doctor goes on leave until a day"
        ),
        EventType("DoctorLeft", ("day", "doctor"), "a doctor leaves for good"),
        EventType(
            "DoctorJoined",
            ("day", "doctor", "replaces"),
            "a new doctor takes a departed one's place",
        ),
    )
}


class EventColumns:
    """Storage for the events of one type.

    ``add`` is the pending list's own ``append`` (the cheapest call Python has); ``pack``
    moves pending rows into an int64 block and is called regularly by the simulation. The
    columns read are views of one read-only block, made again only when events were added.
    """

    __slots__ = ("_blocks", "_columns", "_pending", "_version", "add", "block_rows", "event_type")

    def __init__(self, event_type: EventType, block_rows: int = 1 << 14) -> None:
        self.event_type = event_type
        self.block_rows = block_rows
        self._pending: list[tuple[int, ...]] = []
        self._blocks: list[np.ndarray] = []
        self._columns: dict[str, np.ndarray] | None = None  # of the blocks, once read
        self._version = 0  # counts the changes of the blocks (see ``stamp``)
        self.add = self._pending.append

    def pack(self, minimum: int = 1) -> None:
        """Move pending rows (when there are at least ``minimum``) into a column block."""
        rows = len(self._pending)
        if rows >= max(minimum, 1):
            width = len(self.event_type.fields)
            # one pass over the flattened rows: a third faster than np.array of the tuples
            flat = chain.from_iterable(self._pending)
            block = np.fromiter(flat, dtype=np.int64, count=rows * width).reshape(rows, width)
            if next(flat, None) is not None:  # a short row raised already; a long one here
                raise ValueError(f"{self.event_type.name}: a row has more than {width} fields")
            self._blocks.append(block)
            self._pending.clear()
            self._changed()

    def replace(self, columns: dict[str, np.ndarray]) -> None:
        """Hold exactly these events (one array per field) instead of those held so far."""
        self._pending.clear()
        self._blocks = [
            np.column_stack([columns[name] for name in self.event_type.fields]).astype(np.int64)
        ]
        self._changed()

    def _changed(self) -> None:
        self._columns = None
        self._version += 1

    def stamp(self) -> tuple[int, int]:
        """Differs whenever the events held differ (an event added, packed or replaced)."""
        return self._version, len(self._pending)

    def __len__(self) -> int:
        return sum(len(b) for b in self._blocks) + len(self._pending)

    def columns(self) -> dict[str, np.ndarray]:
        """All events of this type so far, as one read-only array per field."""
        self.pack()
        if self._columns is None:
            width = len(self.event_type.fields)
            if len(self._blocks) != 1:  # the blocks become one: read again, not joined again
                table = (
                    np.concatenate(self._blocks)
                    if self._blocks
                    else np.empty((0, width), dtype=np.int64)
                )
                self._blocks = [table]
            table = self._blocks[0]
            table.flags.writeable = False  # shared by every reader
            self._columns = {name: table[:, i] for i, name in enumerate(self.event_type.fields)}
        return dict(self._columns)


# Events that say what holds from their day on: in the extract, those of the burn-in are shown
# on its first day.
STATE_EVENTS = ("PatientRegistered", "ConditionDiagnosed", "CoverageStarted")


class EventLog:
    """The append-only log of a region: one ``EventColumns`` per event type. Days before
    ``first_day`` are the burn-in: simulated, not written (see the module)."""

    def __init__(self, first_day: int = 0) -> None:
        self.first_day = first_day
        self._derive: Callable[[], None] | None = None  # see derive_when_read
        self._burn_in_visits = (0, 0)  # (admissions logged, those before first_day) when read
        self._extracts: dict[str, tuple[tuple, dict[str, np.ndarray]]] = {}  # name -> stamp, rows
        self.by_type = {name: EventColumns(event_type) for name, event_type in EVENT_TYPES.items()}
        self.registered = self.by_type["PatientRegistered"].add
        self.condition_diagnosed = self.by_type["ConditionDiagnosed"].add
        self.coverage_started = self.by_type["CoverageStarted"].add
        self.episode_started = self.by_type["EpisodeStarted"].add
        self.admitted = self.by_type["Admitted"].add
        self.discharged = self.by_type["Discharged"].add
        self.died = self.by_type["Died"].add
        self.followup_scheduled = self.by_type["FollowUpScheduled"].add
        self.followup_missed = self.by_type["FollowUpMissed"].add
        self.provider_switched = self.by_type["ProviderSwitched"].add
        self.diverted = self.by_type["Diverted"].add
        self.doctor_absent = self.by_type["DoctorAbsent"].add
        self.doctor_left = self.by_type["DoctorLeft"].add
        self.doctor_joined = self.by_type["DoctorJoined"].add

    def pack(self) -> None:
        """Pack the event types whose pending rows fill a block (keeps memory columnar)."""
        for store in self.by_type.values():
            store.pack(store.block_rows)

    def rewrite(self, name: str, columns: dict[str, np.ndarray]) -> None:
        """Replace every event of one type (bills and payments: see the module)."""
        self.by_type[name].replace(columns)

    def derive_when_read(self, derive: Callable[[], None]) -> None:
        """Have ``derive`` write the derived events (orders, bills, payments: see the module)
        just before the log is next read, instead of a derivation still pending."""
        self._derive = derive

    def all_columns(self, name: str) -> dict[str, np.ndarray]:
        """Every event of one type as columns, burn-in included."""
        if self._derive is not None:
            derive, self._derive = self._derive, None
            derive()
        return self.by_type[name].columns()

    def columns(self, name: str) -> dict[str, np.ndarray]:
        """The written events of one type as read-only columns: the extract (see the module),
        made again only when the events it is made of changed."""
        rows = self.all_columns(name)
        if not self.first_day:
            return rows
        cached = self._extracts.get(name)
        if cached is None or cached[0] != self._extract_stamp(name):
            rows = self._extract(name, rows)
            for values in rows.values():
                values.flags.writeable = False
            cached = self._extracts[name] = (self._extract_stamp(name), rows)
        return dict(cached[1])

    def release_extracts(self) -> None:
        """Forget the extracts kept for readers (their memory); a later read makes them again."""
        self._extracts.clear()

    def _extract_stamp(self, name: str) -> tuple:
        # an extract is made of its own events and, for the visits' first written, admissions
        return self.by_type[name].stamp(), self.by_type["Admitted"].stamp()

    def _extract(self, name: str, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        first = self.first_day
        day = rows["day"]
        if "visit" in rows:
            keep = rows["visit"] >= self._first_written_visit()
            if name == "ProviderSwitched":
                keep &= rows["visit"] > self._first_visits_written(rows["patient"])
        elif name == "CoverageStarted":
            # the spell in force on the first day is the patient's last begun by then
            upto = np.flatnonzero(day <= first)
            _, last_from_end = np.unique(rows["patient"][upto][::-1], return_index=True)
            keep = day > first
            keep[upto[len(upto) - 1 - last_from_end]] = True
        elif name in STATE_EVENTS:
            keep = np.ones(len(day), dtype=bool)
        else:
            keep = day >= first
        rows = {field: values[keep] for field, values in rows.items()}
        if name in STATE_EVENTS:
            rows["day"] = np.maximum(rows["day"], first)
        return rows

    def _first_written_visit(self) -> int:
        # visits are numbered as they are admitted, so those of the burn-in come first; the
        # count is read again only when admissions were logged since (not once per table)
        logged = len(self.by_type["Admitted"])
        if self._burn_in_visits[0] != logged:
            admitted = self.all_columns("Admitted")
            early = int(np.count_nonzero(admitted["day"] < self.first_day))
            self._burn_in_visits = (logged, early)
        return self._burn_in_visits[1]

    def _first_visits_written(self, patients: np.ndarray) -> np.ndarray:
        """Each of ``patients``' first visit written (-1 for none)."""
        admitted = self.columns("Admitted")
        size = int(max(patients.max(initial=-1), admitted["patient"].max(initial=-1))) + 1
        first = np.full(size, -1, dtype=np.int64)
        who, row = np.unique(admitted["patient"], return_index=True)  # rows in visit order
        first[who] = admitted["visit"][row]
        return first[patients]

    def counts(self) -> dict[str, int]:
        """How many events of each type the extract holds."""
        return {name: len(self.columns(name)["day"]) for name in self.by_type}

"""The event log: typed, append-only, columnar.

Each event type has a fixed list of integer fields (codes for text such as conditions or
reasons). The simulation appends a tuple per event; rows are packed into int64 column
blocks as they accumulate, so a long run holds arrays, not millions of Python objects.
"""

from __future__ import annotations

import attrs
import numpy as np

SWITCH_REASONS = ("no_room", "patient_choice", "continuity")
PLANS = ("Full", "Incremental")


@attrs.frozen
class EventType:
    """The name and the fields of one kind of event. ``day`` is always the first field."""

    name: str
    fields: tuple[str, ...]
    description: str


EVENT_TYPES = {
    event.name: event
    for event in (
        EventType("PatientRegistered", ("day", "patient"), "a patient joins the region's population"),
        EventType(
            "EpisodeStarted",
            ("day", "patient", "episode", "condition"),
            "a patient falls ill with a condition",
        ),
        EventType(
            "Admitted",
            (
                "day", "patient", "visit", "episode", "condition", "followup", "doctor", "hospital",
                "room", "severity", "treatment", "medication", "test_result",
            ),
            "a stay begins in a room of a hospital, under a doctor (followup = its number in the episode)",
        ),
        EventType("Discharged", ("day", "patient", "visit"), "a stay ends and its room is free again"),
        EventType(
            "FollowUpScheduled",
            ("day", "patient", "visit", "due_day"),
            "at discharge, a return visit of the same episode is booked",
        ),
        EventType(
            "ProviderSwitched",
            ("day", "patient", "visit", "from_doctor", "from_hospital", "to_doctor", "to_hospital", "reason"),
            "a visit is with another doctor or hospital than the patient's last visit",
        ),
        EventType(
            "BillIssued",
            ("day", "patient", "visit", "total", "insurance", "patient_share", "plan", "due_day"),
            "the hospital bills a visit",
        ),
        EventType("PaymentMade", ("day", "patient", "visit", "amount"), "the patient settles a bill"),
    )
}


class EventColumns:
    """Storage for the events of one type."""

    __slots__ = ("_blocks", "_pending", "block_rows", "event_type")

    def __init__(self, event_type: EventType, block_rows: int = 1 << 15) -> None:
        self.event_type = event_type
        self.block_rows = block_rows
        self._pending: list[tuple[int, ...]] = []
        self._blocks: list[np.ndarray] = []

    def add(self, row: tuple[int, ...]) -> None:
        """Append one event (a tuple in the order of the type's fields)."""
        self._pending.append(row)
        if len(self._pending) >= self.block_rows:
            self._pack()

    def _pack(self) -> None:
        if self._pending:
            width = len(self.event_type.fields)
            self._blocks.append(np.array(self._pending, dtype=np.int64).reshape(-1, width))
            self._pending = []

    def __len__(self) -> int:
        return sum(len(b) for b in self._blocks) + len(self._pending)

    def columns(self) -> dict[str, np.ndarray]:
        """All events of this type so far, as one array per field."""
        self._pack()
        width = len(self.event_type.fields)
        table = np.concatenate(self._blocks) if self._blocks else np.empty((0, width), dtype=np.int64)
        return {name: table[:, i] for i, name in enumerate(self.event_type.fields)}


class EventLog:
    """The append-only log of a region: one ``EventColumns`` per event type."""

    def __init__(self) -> None:
        self.by_type = {name: EventColumns(event_type) for name, event_type in EVENT_TYPES.items()}
        self.registered = self.by_type["PatientRegistered"].add
        self.episode_started = self.by_type["EpisodeStarted"].add
        self.admitted = self.by_type["Admitted"].add
        self.discharged = self.by_type["Discharged"].add
        self.followup_scheduled = self.by_type["FollowUpScheduled"].add
        self.provider_switched = self.by_type["ProviderSwitched"].add
        self.bill_issued = self.by_type["BillIssued"].add
        self.payment_made = self.by_type["PaymentMade"].add

    def columns(self, name: str) -> dict[str, np.ndarray]:
        """The events of one type as columns."""
        return self.by_type[name].columns()

    def counts(self) -> dict[str, int]:
        return {name: len(store) for name, store in self.by_type.items()}

"""Hospitals: a place with a profile, the people it serves, and beds that hold one patient at a
time (its rooms)."""

from __future__ import annotations

import math
from collections import deque

import attrs
import simpy

ROOMS_PER_FLOOR = 40
# A same-day habit of +0.1 (a hospital's or doctor's) multiplies the odds of going home from
# the ED by e^0.4, about 1.5.
SAME_DAY_LOG_ODDS_PER_UNIT = 4.0


def room_numbers(count: int) -> list[int]:
    """Room numbers as a hospital would print them: 101..140 on floor 1, 201.. on floor 2."""
    return [100 * (1 + i // ROOMS_PER_FLOOR) + i % ROOMS_PER_FLOOR + 1 for i in range(count)]


class RoomPool:
    """The rooms of one hospital as a SimPy resource that hands out room numbers.

    ``capacity`` is the hospital's beds; ``background`` of them are held by its unwritten load
    (people it serves who are not in the dataset, ``sim.hospital_load``), which holds no room
    number. ``acquire`` gives a free room at once, or ``None`` when every bed is taken;
    ``request`` returns a SimPy event that succeeds with a room number when one is released
    (first come, first served). A released room goes to the longest waiting request before it
    becomes free again.
    """

    __slots__ = ("_env", "_free", "_waiting", "background", "capacity", "peak")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self._env = env
        self.capacity = capacity
        self._free: deque[int] = deque(room_numbers(capacity))
        self._waiting: deque[simpy.Event] = deque()
        self.background = 0
        self.peak = 0  # the most beds occupied at once so far (the unwritten load's included)

    def acquire(self) -> int | None:
        """A free room number, taken now, or ``None`` when every bed is occupied."""
        occupied = self.capacity - len(self._free) + self.background
        if occupied >= self.capacity:
            return None
        room = self._free.popleft()
        if occupied + 1 > self.peak:
            self.peak = occupied + 1
        return room

    def request(self) -> simpy.Event:
        """An event that succeeds with a room number as soon as one is released."""
        event = self._env.event()
        self._waiting.append(event)
        return event

    def withdraw(self, event: simpy.Event) -> None:
        """Withdraw a ``request`` that has not succeeded (the patient gave up waiting)."""
        self._waiting.remove(event)

    def release(self, room: int) -> None:
        """Give a room back: to the first waiting request, else to the free rooms."""
        if self._waiting:
            self._waiting.popleft().succeed(room)
        else:
            self._free.append(room)

    def hold_background(self, beds: int) -> int:
        """Let the unwritten load hold ``beds`` beds, or as many as are free once the waiting
        requests have had theirs (they came first), then serve those requests; returns the
        beds held."""
        free = len(self._free)
        if not self._waiting:
            self.background = beds if beds <= free else free
            return self.background
        free = max(free - len(self._waiting), 0)
        self.background = beds if beds <= free else free
        self.serve_waiting()
        return self.background

    def serve_waiting(self) -> int:
        """Give free beds (the unwritten load's discharges free some) to waiting requests;
        returns how many were served."""
        served = 0
        while self._waiting:
            room = self.acquire()
            if room is None:
                break
            self._waiting.popleft().succeed(room)
            served += 1
        return served

    @property
    def waiting(self) -> int:
        """Requests waiting for a room."""
        return len(self._waiting)

    @property
    def occupied(self) -> int:
        """Rooms held by the dataset's stays."""
        return self.capacity - len(self._free)


@attrs.define(slots=True, eq=False)
class Hospital:
    """A hospital of a region, with its profile and its rooms."""

    index: int
    name: str
    zipcode: str
    city: str
    state: str
    lat: float
    lon: float
    same_day_bias: float
    late_payment_multiplier: float
    charge_multiplier: float
    rooms: RoomPool
    population: float  # the people it serves (the dataset's patients are a sample of them)
    area: int  # its ZIP's OMB area (sim.geography: metropolitan, micropolitan, noncore)
    sample_residents: float = 0.0  # of ``population``, the dataset's residents
    teaching: bool = False  # a major teaching hospital
    other_names: tuple[str, ...] = ()  # names to use instead when another region has ``name``
    doctors: list[int] = attrs.field(factory=list)  # working here now (departed ones leave)
    staff: dict[str, list[int]] = attrs.field(factory=dict)  # the same, by specialty
    admissions: int = 0
    discharges: int = 0
    diversions: int = 0  # patients sent elsewhere because every room here was taken

    @property
    def unwritten_people(self) -> float:
        """The people it serves who are not in the dataset (its unwritten load's source)."""
        return max(self.population - self.sample_residents, 0.0)

    def hire(self, doctor: int, specialty: str) -> None:
        self.doctors.append(doctor)
        self.staff.setdefault(specialty, []).append(doctor)

    def release_doctor(self, doctor: int, specialty: str) -> None:
        self.doctors.remove(doctor)
        self.staff[specialty].remove(doctor)

    def same_day_probability(self, base: float, doctor_style: float) -> float:
        """Chance that an ED patient goes home the same day here: the case's base chance moved
        on the log-odds scale by the hospital's and the doctor's habits (which are centred on
        0, so the base chance holds on average)."""
        if base <= 0.0 or base >= 1.0:
            return min(max(base, 0.0), 1.0)
        shift = (self.same_day_bias + doctor_style) * SAME_DAY_LOG_ODDS_PER_UNIT
        return 1.0 / (1.0 + (1.0 - base) / base * math.exp(-shift))

"""What a run's summary and ``Simulation.state()`` need from a region, without its event log.

A region run as a task in a worker sends back only these facts (and writes its rows to part
files); a region living in this process gives the same facts on demand. Either way the
statistics are computed by the functions here, so they do not depend on where regions ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import attrs
import numpy as np

from sim.calendar import to_datetime64
from sim.catchment import Population, person_years
from sim.epidemiology import DELIVERY_CONDITION
from sim.events import DISCHARGE_DISPOSITIONS, SWITCH_REASONS
from sim.geography import AREA_NAMES
from sim.illness import NEWBORN_CONDITION
from sim.population import GENDERS
from sim.refdata import load_catalog

EXPIRED = DISCHARGE_DISPOSITIONS.index("Expired")


@attrs.frozen
class HospitalFacts:
    """One hospital's place, rooms and flows as of the last day run."""

    name: str
    other_names: tuple[str, ...]  # what to call it when an earlier region has ``name``
    city: str
    state: str
    zipcode: str
    same_day_bias: float
    late_payment_multiplier: float
    charge_multiplier: float
    rooms: int
    peak_occupied: int
    occupied: int
    waiting: int
    admissions: int
    discharges: int
    diversions: int
    area: int  # its ZIP's OMB area (sim.geography)
    teaching: bool
    people_served: float  # everyone it serves, the dataset's residents among them
    sample_residents: float  # the dataset's residents of them
    sample_room_days: int  # rooms held at the end of days 0..the last day run: dataset's stays
    unwritten_room_days: int  # the same, of the unwritten load
    unwritten_admissions: int  # the unwritten load's stays begun on days 0..the last day run
    unwritten_turned_away: int  # and those that found every bed taken
    unwritten_occupied: int  # beds the unwritten load holds at the end of the last day run

    @property
    def sampling_fraction(self) -> float:
        """The dataset's share of the room-days its rooms were used (0 when unused)."""
        used = self.sample_room_days + self.unwritten_room_days
        return self.sample_room_days / used if used else 0.0


@attrs.frozen
class DoctorFacts:
    """One doctor's place and working life as of the last day run."""

    name: str
    specialty: str
    hospitals: tuple[int, ...]  # the region's hospital indices, the primary one first
    joined_day: int  # 0: on staff when the history starts
    left_day: int  # -1: still on staff
    replaces: int  # the region's index of the departed doctor replaced, -1: none


@attrs.frozen
class Staff:
    """Every doctor who worked in a region, in hiring order, as columns: a large run has
    hundreds of thousands of doctors, whose facts the main process holds until the end.
    Iterating gives each one's ``DoctorFacts``."""

    names: str  # the doctors' names, one per line
    specialties: tuple[str, ...]  # the distinct specialties, in order of first hire
    specialty: np.ndarray  # each doctor's index in ``specialties`` (int16)
    hospitals: np.ndarray  # (doctors, most hospitals) the region's indices, primary first, -1 after
    joined_day: np.ndarray  # int32
    left_day: np.ndarray  # int32
    replaces: np.ndarray  # int32

    @classmethod
    def of(cls, doctors: list) -> Staff:
        """The columns of a region's doctors (``entities.doctor.Doctor``s in hiring order)."""
        names = [d.name for d in doctors]
        if any("\n" in name for name in names):
            raise ValueError("a doctor's name holds a line break")
        specialties = tuple(dict.fromkeys(d.specialty for d in doctors))
        codes = {name: code for code, name in enumerate(specialties)}
        width = max((len(d.hospitals) for d in doctors), default=1)
        hospitals = np.full((len(doctors), width), -1, dtype=np.int16)
        for row, doctor in enumerate(doctors):
            hospitals[row, : len(doctor.hospitals)] = doctor.hospitals
        return cls(
            names="\n".join(names),
            specialties=specialties,
            specialty=np.array([codes[d.specialty] for d in doctors], dtype=np.int16),
            hospitals=hospitals,
            joined_day=np.array([d.joined_day for d in doctors], dtype=np.int32),
            left_day=np.array([d.left_day for d in doctors], dtype=np.int32),
            replaces=np.array([d.replaces for d in doctors], dtype=np.int32),
        )

    def name_list(self) -> list[str]:
        """The doctors' names, in hiring order."""
        return self.names.split("\n") if len(self) else []

    def __len__(self) -> int:
        return len(self.specialty)

    def __iter__(self) -> Iterator[DoctorFacts]:
        for name, specialty, hospitals, joined, left, replaces in zip(
            self.name_list(),
            self.specialty.tolist(),
            self.hospitals.tolist(),
            self.joined_day.tolist(),
            self.left_day.tolist(),
            self.replaces.tolist(),
        ):
            yield DoctorFacts(
                name=name,
                specialty=self.specialties[specialty],
                hospitals=tuple(h for h in hospitals if h >= 0),
                joined_day=joined,
                left_day=left,
                replaces=replaces,
            )


@attrs.frozen
class RegionFacts:
    """One region's places, staff and event counts as of the last day run."""

    key: str
    hospitals: list[HospitalFacts]
    staff: Staff  # every doctor who worked in the region, in hiring order
    doctors: dict[str, int]  # on_duty / absent / departed
    events: dict[str, int]  # events per type
    switch_reasons: dict[str, int]
    declined_episodes: int
    population: Population  # the residents the region's patients were drawn from
    deaths_in_hospital: int  # by the last day run
    deaths_elsewhere: int  # patients' (by the last day run) and other residents'
    # (sex, age 0..100): the person-years the patients' deaths on the timeline add to the
    # population's (negative where a patient died in hospital before the day drawn)
    person_years_change: np.ndarray
    occupied_by_day: np.ndarray  # rooms occupied at the end of days 0..the last day run, all


def region_facts(region, day: int) -> RegionFacts:
    """The facts of a region (a running ``RegionSimulation`` or a finished one) on ``day``."""
    world, log = region.world, region.log
    doctors = {"on_duty": 0, "absent": 0, "departed": 0}
    for doctor in world.doctors:
        if not doctor.active:
            doctors["departed"] += 1
        elif doctor.on_duty(max(day, 0)):
            doctors["on_duty"] += 1
        else:
            doctors["absent"] += 1
    first = region.scenario.first_day
    sample_days, sample_by_day = sample_room_days(log, len(world.hospitals), day, first)
    unwritten = region.load.history[first : max(day, first - 1) + 1]
    unwritten_days = unwritten.sum(axis=0, dtype=np.int64)
    reasons = Counter(SWITCH_REASONS[c] for c in log.columns("ProviderSwitched")["reason"].tolist())
    discharged = log.columns("Discharged")
    dying = discharged["disposition"] == EXPIRED
    expired = np.stack([discharged["patient"][dying], discharged["day"][dying]], axis=1)
    return RegionFacts(
        key=world.key,
        hospitals=[
            HospitalFacts(
                name=h.name,
                other_names=h.other_names,
                city=h.city,
                state=h.state,
                zipcode=h.zipcode,
                same_day_bias=h.same_day_bias,
                late_payment_multiplier=h.late_payment_multiplier,
                charge_multiplier=h.charge_multiplier,
                rooms=h.rooms.capacity,
                peak_occupied=h.rooms.peak,
                occupied=h.rooms.occupied,
                waiting=h.rooms.waiting,
                admissions=h.admissions,
                discharges=h.discharges,
                diversions=h.diversions,
                area=h.area,
                teaching=h.teaching,
                people_served=h.population,
                sample_residents=h.sample_residents,
                sample_room_days=int(sample_days[h.index]),
                unwritten_room_days=int(unwritten_days[h.index]),
                unwritten_admissions=int(region.load.admitted[h.index]),
                unwritten_turned_away=int(region.load.turned_away[h.index]),
                unwritten_occupied=int(unwritten[-1, h.index]) if len(unwritten) else 0,
            )
            for h in world.hospitals
        ],
        staff=Staff.of(world.doctors),
        doctors=doctors,
        events=log.counts(),
        switch_reasons={reason: reasons.get(reason, 0) for reason in SWITCH_REASONS},
        declined_episodes=region.declined_episodes,
        population=world.population,
        deaths_in_hospital=len(expired),
        deaths_elsewhere=len(log.columns("Died")["patient"]) + world.population.other_deaths,
        person_years_change=_person_years_change(region, expired, day),
        occupied_by_day=sample_by_day + unwritten.sum(axis=1, dtype=np.int64),
    )


def own_room(admitted: dict[str, np.ndarray]) -> np.ndarray:
    """Which ``Admitted`` events hold a room of their own: those with a room, except a newborn
    rooming in with its mother (admitted the day she is, in her room, when no cot was free)."""
    in_room = admitted["room"] >= 0
    codes = load_catalog().by_name
    if NEWBORN_CONDITION not in codes:
        return in_room
    newborn = in_room & (admitted["condition"] == codes[NEWBORN_CONDITION].code)
    delivery = in_room & (admitted["condition"] == codes[DELIVERY_CONDITION].code)

    def key(rows: np.ndarray) -> np.ndarray:
        day, hospital, room = (admitted[f][rows] for f in ("day", "hospital", "room"))
        return (day * 100_000 + hospital) * 100_000 + room

    rooming_in = np.zeros_like(in_room)
    rooming_in[newborn] = np.isin(key(newborn), key(delivery))
    return in_room & ~rooming_in


def sample_room_days(
    log, hospitals: int, day: int, first: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The rooms the dataset's stays (burn-in included) held at the end of days
    ``first..day``: summed per hospital, and per day over the hospitals."""
    admitted = log.all_columns("Admitted")
    discharged = log.all_columns("Discharged")
    in_room = own_room(admitted)
    visits = admitted["visit"][in_room]
    end = np.full(int(visits.max()) + 1 if len(visits) else 0, day + 1, dtype=np.int64)
    known = discharged["visit"] < len(end)
    end[discharged["visit"][known]] = np.minimum(discharged["day"][known], day + 1)
    begin, last = admitted["day"][in_room], end[visits]
    nights = np.maximum(last - np.maximum(begin, first), 0)
    per_hospital = np.bincount(admitted["hospital"][in_room], weights=nights, minlength=hospitals)
    days = max(day + 1, 0)
    held = last > begin
    change = (
        np.bincount(begin[held], minlength=days + 1)[: days + 1]
        - np.bincount(last[held], minlength=days + 1)[: days + 1]
    )
    return per_hospital, np.cumsum(change)[first:days]


def _person_years_change(region, expired: np.ndarray, day: int) -> np.ndarray:
    """What the patients' deaths on the timeline (through ``day``) change in the population's
    person-years, which run to the day of death drawn in the catchment: a death in hospital
    ends them earlier, a death outside hospital put off by a stay later (past ``day``: alive
    through it)."""
    registry, scenario = region.world.registry, region.scenario
    start, clock = to_datetime64(scenario.start), to_datetime64(scenario.clock_start)
    end = to_datetime64(scenario.today) + np.timedelta64(1, "D")
    drawn = np.where(np.isnat(registry.death), end, registry.death)
    actual = np.where(drawn <= clock + day, np.minimum(clock + day + 1, end), drawn)
    died = region.log.columns("Died")
    actual[died["patient"]] = clock + died["day"]
    actual[expired[:, 0]] = clock + expired[:, 1]
    moved = np.flatnonzero(actual != drawn)
    birth, gender = registry.birth[moved], registry.gender[moved]
    return person_years(birth, gender, start, actual[moved]) - person_years(
        birth, gender, start, drawn[moved]
    )


def run_statistics(regions: list[RegionFacts]) -> dict:
    """Counts from the simulation itself (not derivable from the exported tables)."""
    events: Counter = Counter()
    for region in regions:
        events.update(region.events)
    hospitals = [h for region in regions for h in region.hospitals]
    return {
        "regions": len(regions),
        "hospitals": len(hospitals),
        "doctors": sum(len(region.staff) for region in regions),
        "rooms": sum(h.rooms for h in hospitals),
        "peak_room_occupancy": max((h.peak_occupied / h.rooms for h in hospitals), default=0.0),
        "stays_open_at_horizon": events.get("Admitted", 0) - events.get("Discharged", 0),
        "episodes_declined_by_caps": sum(region.declined_episodes for region in regions),
        "events": {name: events[name] for name in regions[0].events} if regions else {},
    }


def capacity_section(regions: list[RegionFacts], days: int) -> dict:
    """The hospitals' beds, the people they serve and how full they were over the ``days``
    run (room-days used at the end of each day, over rooms x days), the dataset's part of it,
    and the unwritten load's stays; per hospital (in ``hospital_id`` order) its sampling
    fraction."""
    hospitals = [h for region in regions for h in region.hospitals]
    sample = sum(h.sample_room_days for h in hospitals)
    unwritten = sum(h.unwritten_room_days for h in hospitals)
    fractions = [h.sampling_fraction for h in hospitals]
    rooms = sum(h.rooms for h in hospitals)
    return {
        "hospitals": len(hospitals),
        "rooms": rooms,
        "pooled_occupancy": round((sample + unwritten) / (rooms * days), 6) if days else None,
        "teaching_hospitals": sum(h.teaching for h in hospitals),
        "hospitals_by_rurality": {
            name: sum(h.area == code for h in hospitals) for code, name in enumerate(AREA_NAMES)
        },
        "people_served": round(sum(h.people_served for h in hospitals)),
        "sample_residents": round(sum(h.sample_residents for h in hospitals)),
        "sample_room_days": sample,
        "unwritten_room_days": unwritten,
        "sampling_fraction": round(sample / (sample + unwritten), 6) if sample + unwritten else 0,
        "unwritten_admissions": sum(h.unwritten_admissions for h in hospitals),
        "unwritten_turned_away": sum(h.unwritten_turned_away for h in hospitals),
        "sampling_fraction_by_hospital": [round(f, 6) for f in fractions],
        "occupancy_by_week": occupancy_by_week(regions, rooms, days),
    }


def occupancy_by_week(regions: list[RegionFacts], rooms: int, days: int) -> list[float]:
    """Pooled occupancy (rooms occupied at the end of the day over rooms) averaged over each
    week from the first day run (the last week may be shorter)."""
    if not regions or not rooms or days <= 0:
        return []
    occupied = sum(region.occupied_by_day[:days].astype(np.float64) for region in regions)
    weeks = np.arange(len(occupied)) // 7
    means = np.bincount(weeks, weights=occupied) / np.bincount(weeks) / rooms
    return [round(float(m), 6) for m in means]


def switch_reason_counts(regions: list[RegionFacts]) -> dict[str, int]:
    """How many ProviderSwitched events each reason produced."""
    total: Counter = Counter()
    for region in regions:
        total.update(region.switch_reasons)
    return {reason: total.get(reason, 0) for reason in SWITCH_REASONS}


def population_section(regions: list[RegionFacts], patients: int) -> dict:
    """The catchment population behind the patients: residents (everyone drawn, patients or
    not), person-years lived in the window (in total, by sex and single year of age 0..100,
    100 standing for 100 and over), births, deaths (in hospital, elsewhere), residents per
    calendar year, and rates per 1,000 (``deaths_per_person_year`` is the crude death rate)."""
    residents = sum(region.population.residents for region in regions)
    by_age = sum(region.population.person_years + region.person_years_change for region in regions)
    years = float(by_age.sum()) if regions else 0.0
    births = sum(region.population.births for region in regions)
    in_hospital = sum(region.deaths_in_hospital for region in regions)
    elsewhere = sum(region.deaths_elsewhere for region in regions)
    deaths = in_hospital + elsewhere
    by_year: Counter = Counter()
    for region in regions:
        by_year.update(region.population.residents_by_year)

    def per_1000(count: float, base: float) -> float | None:
        return round(1000.0 * count / base, 3) if base else None

    return {
        "residents": residents,
        "person_years": round(years, 3),
        "patients": patients,
        "births": births,
        "deaths": {"total": deaths, "in_hospital": in_hospital, "elsewhere": elsewhere},
        "per_1000_residents": {
            "patients": per_1000(patients, residents),
            "births_per_person_year": per_1000(births, years),
            "deaths_per_person_year": per_1000(deaths, years),
        },
        "person_years_by_age": {
            sex: [round(float(v), 4) for v in by_age[code]] for code, sex in enumerate(GENDERS)
        }
        if regions
        else {},
        "residents_by_year": {str(year): by_year[year] for year in sorted(by_year)},
    }

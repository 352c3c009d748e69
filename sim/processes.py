"""The SimPy timeline of one region: episodes, stays, follow-ups, bills and payments.

Six kinds of processes run per region (besides registering patients at birth and logging
their coverage spells as they start):

- the *onset* process walks the illness plan and begins each episode on its onset day (at
  once, in the plan's order: an episode becomes a process of its own only when it first
  waits, ``sim.clock.start_now``);
- an *episode* process lives while an episode lasts. Its first encounter is an ED visit
  treated and released, or a stay in a bed (through the ED, urgent, or planned: booked in the
  week ahead by the weekday pattern of planned admissions;
  waiting if the patient is still in another stay, diverting if the hospital has no free room);
  then come the clinic follow-ups the recurrence rules book, one after another, each on a day
  of the week it is due drawn by the weekday pattern of clinic visits (no bed; missed
  when the patient is still in hospital a month after the day);
- the *unwritten load* (``sim/hospital_load.py``) fills each hospital's beds, once a day, with
  the stays of the people it serves who are not in the dataset;
- the *staffing* process plays out doctors' absences, departures and replacements
  (``sim/staffing.py``). Who is seen where is decided by ``sim/care.py``;
- a delivery keeps its day (never booked for a weekday nor rebooked; Urgent on weekends) and
  brings the newborn's birth stay at the same hospital that day (``_newborn_of``; the mother
  diverted, the baby goes with her, waiting for a room there if it must);
- the *deaths* process lets patients die outside hospital on the day the catchment drew
  (``sim/catchment.py``): a patient in a stay that day dies the day after the discharge.
  A patient who died (there or in hospital) has no encounter afterwards: new episodes are
  not begun and pending follow-ups are missed.

Every fact goes to the event log; nothing here writes a table. What feeds nothing back is
derived after the clock stops, when the event log is next read (``run_through``): the
doctors' orders of each admission (``sim.orders``; a delivery's mode, which sets its stay, is
decided here) and the bills and payments (``sim.accounts``).
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections import defaultdict, deque

import numpy as np

from entities import Doctor, Hospital, Patient
from sim.accounts import BillingOffice
from sim.calendar import date_keys, to_datetime64, weekday_of_days, year_of_sim_day
from sim.care import NO_ROOM, CareRouter
from sim.clock import DayStart, start_now
from sim.collector import long_lived_world
from sim.epidemiology import population_figures, weekend_discharge_move
from sim.events import (
    ADMISSION_TYPES,
    DISCHARGE_DISPOSITIONS,
    ENCOUNTER_TYPES,
    EventLog,
)
from sim.hospital_load import UnwrittenLoad
from sim.illness import CLINIC_REVIEW, DIRECT_STAY, ED_ARRIVAL, NEWBORN_CONDITION, log_diagnoses
from sim.orders import NO_MEDICATION, UNORDERED, CareOrders
from sim.refdata import (
    Catalog,
    Condition,
    load_catalog,
    read_csv,
    stay_figures,
    weekday_factors,
)
from sim.rng import UniformPool, normal_quantile, normalised, stream
from sim.scenario import DEFAULTS, Scenario
from sim.staffing import Staffing
from sim.world import RegionWorld

NORMAL, MILD, MODERATE, SEVERE = range(4)
EMERGENCY_VISIT, INPATIENT, OBSERVATION, OUTPATIENT = (
    ENCOUNTER_TYPES.index(e) for e in ("Emergency", "Inpatient", "Observation", "Outpatient")
)
VIA_ED, URGENT, ELECTIVE, NEWBORN, TRAUMA = (
    ADMISSION_TYPES.index(a) for a in ("Emergency", "Urgent", "Elective", "Newborn", "Trauma")
)
HOME = DISCHARGE_DISPOSITIONS.index("Home")
EXPIRED = DISCHARGE_DISPOSITIONS.index("Expired")
READMISSION_WINDOW_DAYS = 30
# Patients who go home (with or without home health) or to a nursing facility keep the
# episode's clinic follow-ups; after a transfer or leaving against advice it ends.
FOLLOWED_UP = frozenset(
    DISCHARGE_DISPOSITIONS.index(d) for d in ("Home", "Home health", "Skilled nursing facility")
)
DELIVERY_CONDITION = "Childbirth"
VAGINAL, CESAREAN = "Delivery", "Cesarean Section"  # the delivery's treatment
# A clinic follow-up the patient cannot attend within this many days of its day (still in
# hospital, or waiting for a bed) is missed.
FOLLOWUP_LAPSE_DAYS = 30
NO_ROOM_HELD = -1
SATURDAY = 5  # numpy weekday numbers: Monday 0 ... Sunday 6
# Planned encounters are booked on a day of a seven-day window drawn by the weekday pattern of
# their kind (demography/weekdays.csv): a window holds each weekday once, so the booked days
# follow the pattern exactly. A planned admission is booked in the week from its onset; a clinic
# follow-up in the week around the day it is due.
BOOKING_WINDOW_DAYS = 7
ELECTIVE_SERIES, CLINIC_SERIES = "elective_admissions", "clinic_visits"
PACK_EVERY_DAYS = 30  # how often the event log moves pending rows into column blocks


class RegionSimulation:
    """The processes of one region, acting on its world and writing its event log."""

    def __init__(
        self, world: RegionWorld, scenario: Scenario, catalog: Catalog | None = None
    ) -> None:
        self.world = world
        self.scenario = scenario
        self.catalog = catalog or load_catalog()
        self.env = world.env
        self.log = EventLog(scenario.first_day)
        self.horizon = scenario.horizon
        self.first_day = scenario.first_day
        self.year_of_day = year_of_sim_day(scenario.clock_start, self.horizon).tolist()
        days = to_datetime64(scenario.clock_start) + np.arange(self.horizon + 1)
        self._day_key = date_keys(days).tolist()  # a patient's exact age on a day: see _exact_age
        self._birth_key = date_keys(world.registry.birth).tolist()
        self.clinical = UniformPool(stream(scenario.seed, world.key, "clinical"))
        self.care = UniformPool(stream(scenario.seed, world.key, "care"))
        self.billing_office = BillingOffice(world, scenario, self.catalog, self.year_of_day)
        self.next_visit = 0
        self.next_episode = 0
        self.declined_episodes = 0
        weekday = weekday_of_days(scenario.clock_start, 0, self.horizon)
        self.weekday_of_day = weekday.tolist()  # 0 = Monday
        self._first_weekday = int(weekday[0])
        self._elective_booking = booking_table(weekday_factors(ELECTIVE_SERIES))
        self._clinic_booking = booking_table(weekday_factors(CLINIC_SERIES))
        self.dispositions = [
            list(np.cumsum(normalised(weights)))
            for weights in (
                scenario.disposition_weights_under_65,
                scenario.disposition_weights_65_plus,
            )
        ]
        factors = scenario.mortality_severity_factor
        # Severity spreads a condition's deaths and lengths of stay over its stays; dividing by
        # the mean factor over the stays' severity mix keeps the condition's national figures.
        mixes = [self._stay_severity_mix(c) for c in self.catalog.conditions]
        self._mortality = [
            c.mortality / max(_mean_factor(factors, mix), 1e-9)
            for c, mix in zip(self.catalog.conditions, mixes)
        ]
        self._elsewhere = population_figures()["readmission_other_hospital_share"]
        self._weekend_move = weekend_discharge_move()
        self._cesarean_share = cesarean_share_by_age()
        self._delivery_shape = delivery_stay_shapes(self.catalog)
        self._newborn = self.catalog.by_name.get(NEWBORN_CONDITION)
        mothers = world.registry.mother
        self._children: dict[int, deque[int]] = defaultdict(deque)  # in birth order
        for child in np.argsort(world.registry.birth, kind="stable").tolist():
            if mothers[child] >= 0:
                self._children[int(mothers[child])].append(child)
        self._unborn = {c for children in self._children.values() for c in children}
        self._severity_weights = [
            self.catalog.categories[c.category].severity for c in self.catalog.conditions
        ]
        # by the number of conditions under treatment, this one included
        self._comorbidity_factor = [
            scenario.comorbidity_severity_factor ** max(active - 1, 0)
            for active in range(len(self.catalog.conditions) + 1)
        ]
        self._los_shape = [
            (
                math.log(c.los_median)
                - math.log(max(_mean_factor(scenario.los_severity_factor, mix), 1e-9)),
                math.sqrt(2.0 * math.log(c.los_mean / c.los_median)),
            )
            for c, mix in zip(self.catalog.conditions, mixes)
        ]
        self._treatment_codes = {name: i for i, name in enumerate(self.catalog.treatments)}
        self.orders = CareOrders(world, scenario, self.catalog, self._day_key, self._birth_key)
        self.router = CareRouter(
            world, self.care, scenario.generalist_specialty, scenario.hospital_choice_weights
        )
        self.staffing = Staffing(
            world, scenario, self.log, stream(scenario.seed, world.key, "staffing")
        )
        self.load = UnwrittenLoad(
            world.hospitals,
            np.array([h.unwritten_people for h in world.hospitals]),
            scenario.clock_start,
            self.horizon,
            stream(scenario.seed, world.key, "unwritten-load"),
            self.first_day,
        )
        self.env.process(self.load.process(self.env))
        self.env.process(self._registrations())
        self.env.process(self._coverage_starts())
        self.env.process(
            log_diagnoses(self.env, self.log.condition_diagnosed, world.patients, world.diagnoses)
        )
        self.env.process(self.staffing.process(self.env))
        self.env.process(self._onsets())
        self.env.process(self._deaths())
        self.env.process(self._pack_log())
        if self.first_day:
            self.env.process(self._open_extract())

    def run_through(self, day: int) -> None:
        """Run the clock on through ``day`` (when it has not yet); the new admissions'
        orders and the accounts up to that day are derived when the log is next read."""
        if day + 1 > self.env.now:
            with long_lived_world():
                self.env.run(until=day + 1)
        self.log.derive_when_read(functools.partial(self._derive_through, day))

    def _derive_through(self, day: int) -> None:
        self.orders.fill(self.log)
        self.billing_office.settle(self.log, day)

    # ----------------------------------------------------------------- processes

    def _open_extract(self):
        """On the first day written, the hospitals' counts start again: the burn-in's
        admissions, discharges, diversions and declined episodes are not the dataset's."""
        yield DayStart(self.env, self.first_day)
        for hospital in self.world.hospitals:
            hospital.admissions = hospital.discharges = hospital.diversions = 0
            hospital.rooms.peak = hospital.rooms.occupied + hospital.rooms.background
        self.declined_episodes = 0

    def _registrations(self):
        """Patients join the population at the start, or at birth when born later."""
        env = self.env
        born = (self.world.registry.birth - to_datetime64(self.scenario.clock_start)).astype(
            np.int64
        )
        day = np.maximum(born, 0)
        for patient in np.argsort(day, kind="stable").tolist():
            if day[patient] > env.now:
                yield env.timeout(int(day[patient]) - env.now)
            self.log.registered((int(day[patient]), patient))

    def _coverage_starts(self):
        """Each coverage spell is logged on its first day (a patient's first spell on the
        registration day), unless the patient died before that day. The process wakes before
        any other event of its day, so a spell that begins on the day of a death is logged."""
        env = self.env
        coverage = self.world.coverage
        patient_of = np.repeat(np.arange(len(coverage.offsets) - 1), np.diff(coverage.offsets))
        order = np.argsort(coverage.start, kind="stable")
        for day, patient, payer, plan, design, basis in zip(
            coverage.start[order].tolist(),
            patient_of[order].tolist(),
            coverage.payer[order].tolist(),
            coverage.plan[order].tolist(),
            coverage.design[order].tolist(),
            coverage.basis[order].tolist(),
        ):
            if day > env.now:
                yield DayStart(env, day - int(env.now))
            if not self.world.patients[patient].dead:
                self.log.coverage_started((day, patient, payer, plan, design, basis))

    def _deaths(self):
        """Patients die outside hospital on their day (none after the horizon)."""
        env = self.env
        death = self.world.registry.death
        day = (death - to_datetime64(self.scenario.clock_start)).astype(np.int64)
        dying = np.flatnonzero(~np.isnat(death) & (day <= self.horizon))
        for patient in dying[np.argsort(day[dying], kind="stable")].tolist():
            if day[patient] > env.now:
                yield env.timeout(int(day[patient]) - env.now)
            env.process(self._die(self.world.patients[patient]))

    def _die(self, patient: Patient):
        """A death outside hospital: today, or the day after the current stay ends (the
        patient is held meanwhile, so that no encounter starts before the death). A baby not
        yet born (its mother waited for rooms) lives."""
        env = self.env
        if patient.index in self._unborn:
            return
        if patient.in_stay:
            yield patient.wait_until_free(env, first=True)
            if not patient.dead:
                yield env.timeout(1)
        else:
            patient.in_stay = True
        if not patient.dead:  # not already dead in the stay
            patient.dead = True
            self.log.died((int(env.now), patient.index))
        patient.leave()  # waiting encounters see the death and are given up

    def _onsets(self):
        """Each onset day, the day's new episodes begin, in the plan's order. They start at
        once (``start_now``), after the wake-up for the next onset day is set: events come in
        the order separate processes would give them."""
        plan = self.world.plan
        env = self.env
        days = plan.day.tolist()
        onsets = list(
            zip(
                plan.patient.tolist(),
                plan.condition.tolist(),
                plan.kind.tolist(),
                plan.release.tolist(),
            )
        )
        patients, conditions = self.world.patients, self.catalog.conditions
        first, count = 0, len(days)
        on_first_moment = bool(count) and days[0] <= env.now
        if count and not on_first_moment:
            yield env.timeout(days[0] - env.now)
        while first < count:
            day = days[first]
            last = bisect_right(days, day, first)
            next_onsets = env.timeout(days[last] - day) if last < count else None
            if on_first_moment:  # the processes begun with this one take their first step
                on_first_moment = False
                yield DayStart(env, 0)
            for patient, condition, kind, release in onsets[first:last]:
                start_now(
                    env,
                    self._episode(patients[patient], conditions[condition], kind, release),
                )
            first = last
            if next_onsets is not None:
                yield next_onsets

    def _episode(
        self,
        patient: Patient,
        condition: Condition,
        kind: int,
        release: float = 0.0,
        readmission: bool = False,
        at: tuple[Hospital, int, int | None] | None = None,
    ):
        """One episode: its first encounter (an ED visit that may end in an admission, a
        planned or urgent stay, a clinic review of a chronic condition; an unplanned stay for
        a readmission), then the clinic follow-ups booked one after another. A newborn's
        birth stay is ``at`` the hospital and in the room the mother's delivery took for it
        (or in her own room, then for at most her stay)."""
        env = self.env
        day = int(env.now)
        if patient.dead or patient.index in self._unborn:
            return
        if self._exact_age(patient, day) < condition.min_age:  # born later than drawn
            self.declined_episodes += 1
            return
        birth = condition.name == DELIVERY_CONDITION and not readmission
        # a delivery was drawn within the caps (sim.catchment) and a baby's birth stay has begun
        # (_newborn_of): neither is declined
        if (
            not birth
            and at is None
            and not patient.accepts_episode(condition, day, self.year_of_day[day])
        ):
            self.declined_episodes += 1
            return
        patient.expect_episode(condition)  # the caps count it from its first encounter
        episode = self.next_episode
        self.next_episode += 1
        self.log.episode_started((day, patient.index, episode, condition.code))
        rules = self.catalog.categories[condition.category]
        admission_type = self._admission_route(condition, kind, readmission)
        planned = admission_type == ELECTIVE and kind == DIRECT_STAY and not birth
        if planned:  # booked for a day of the week ahead
            booked = self._booked_day(day, self._elective_booking, self.clinical.one())
            if booked > day:
                yield env.timeout(booked - day)
        followup = 0
        severity = NORMAL
        doctor = hospital = None
        delivery = (None, 0)  # a delivery's mode (its treatment) and length of stay
        booking = None  # a follow-up's (booking visit, last day it may take place)
        while True:
            if at is not None and not followup:
                pass  # a birth stay: _newborn_of took the baby's stay when it was born
            elif patient.in_stay:  # in another stay: this encounter waits for its end
                free = patient.wait_until_free(env)
                if booking is None:
                    yield free
                else:
                    yield free | env.timeout(max(booking[1] - int(env.now), 0))
                    if not free.triggered:  # still in hospital: the follow-up is missed
                        patient.stop_waiting(free)
                        self.log.followup_missed((int(env.now), patient.index, booking[0]))
                        patient.end_episode(condition)
                        return
            else:
                patient.in_stay = True
            if patient.dead:  # died meanwhile (in the stay this encounter waited for)
                if booking is not None:
                    self.log.followup_missed((int(env.now), patient.index, booking[0]))
                patient.leave()
                patient.end_episode(condition)
                return
            day = int(env.now)
            choice = self.router.choose(
                patient, condition, day, bool(followup) or kind == CLINIC_REVIEW, readmission
            )
            if readmission and not followup and self.clinical.one() < self._elsewhere:
                choice = self.router.elsewhere(patient, condition, day, choice)
            doctor, hospital, reason = choice.doctor, choice.hospital, choice.reason
            if at is not None and not followup and hospital is not at[0]:
                hospital = at[0]
                doctor = self.router.doctor_at(hospital, condition.specialty, day) or doctor
            if followup:
                encounter, los = OUTPATIENT, 0
                severity = max(severity - 1, NORMAL)
            elif kind == CLINIC_REVIEW:
                encounter, los = OUTPATIENT, 0
                severity = min(self._severity(patient, condition, day), MILD)
            else:
                encounter = self._first_encounter(
                    condition, admission_type, release, doctor, hospital, readmission
                )
                severity = self._severity(patient, condition, day, encounter == EMERGENCY_VISIT)
                if condition.name == DELIVERY_CONDITION:
                    delivery = self._delivery(patient, severity)
                    encounter, los = INPATIENT, delivery[1]
                elif encounter == INPATIENT:
                    los = self._days_in_bed(
                        *self._los_shape[condition.code], condition.los, severity
                    )
                    los = self._weekday_discharge(day, los, condition.los[1])
                else:
                    los = 0 if encounter == EMERGENCY_VISIT else 1
                if encounter != EMERGENCY_VISIT:  # admitted: the inpatient doctor takes over
                    doctor = self.router.attending(patient, condition, day, hospital, doctor)
                    choice = choice._replace(doctor=doctor)
            room = cot = NO_ROOM_HELD  # cot: the room a delivery takes for the baby
            diverted_from = None
            rooming_in = at is not None and not followup and at[2] is not None
            if at is not None and not followup:
                encounter, room = INPATIENT, at[1]
                if rooming_in:  # in the mother's room: out with her at the latest
                    los = min(los, at[2])
            elif encounter in (INPATIENT, OBSERVATION):
                room = hospital.rooms.acquire()
                if room is None:
                    doctor, hospital, room = self.router.divert(patient, choice, day)
                    if hospital is not choice.hospital:
                        diverted_from, reason = choice.hospital, NO_ROOM
                while room is None and planned:  # full: rebooked for the next weekday
                    yield env.timeout(self._days_to_weekday(int(env.now) + 1) + 1)
                    room = hospital.rooms.acquire()
                if (
                    room is None
                    and birth
                    and not followup
                    and self.load.make_way(hospital.index, day)
                ):  # labour does not wait: a bed held by the unwritten load is made free
                    room = hospital.rooms.acquire()
                if room is None:  # every hospital of the state is full: wait for a room
                    room = yield hospital.rooms.request()
                if birth and not followup:  # a room for the baby, else it rooms in with her
                    cot = hospital.rooms.acquire()
            day = int(env.now)
            max_age = condition.max_age
            if (
                not followup
                and not birth
                and max_age is not None
                and self._exact_age(patient, day) > max_age
            ):
                # waited for a room past the condition's age range: the episode is given up
                if room != NO_ROOM_HELD:
                    hospital.rooms.release(room)
                patient.leave()
                patient.end_episode(condition)
                self.declined_episodes += 1
                return
            if birth and not followup and self._days_to_weekday(day):
                admission_type = URGENT  # a delivery keeps its day: planned ones are weekdays
            visit = self.next_visit
            self.next_visit += 1
            written = day >= self.first_day
            if not followup:
                patient.begin_episode(condition, day, self.year_of_day[day])
            if diverted_from is not None:
                diverted_from.diversions += 1
                self.log.diverted((day, patient.index, visit, diverted_from.index, hospital.index))
            if (doctor.index, hospital.index) != (
                patient.last_doctor,
                patient.last_hospital,
            ) and patient.last_doctor >= 0:
                self.log.provider_switched(
                    (
                        day,
                        patient.index,
                        visit,
                        patient.last_doctor,
                        patient.last_hospital,
                        doctor.index,
                        hospital.index,
                        reason,
                    )
                )
            patient.remember(doctor.index, hospital.index, choice.usual_key, choice.new_usual)
            # the orders are drawn when the clock stops (sim.orders); a delivery's mode is known
            decided = delivery[0] if not followup else None
            treatment = UNORDERED if decided is None else self._treatment_codes[decided]
            if room != NO_ROOM_HELD and not rooming_in:  # a baby in her room is not one
                hospital.admissions += 1
            self.log.admitted(
                (
                    day,
                    patient.index,
                    visit,
                    episode,
                    condition.code,
                    followup,
                    doctor.index,
                    hospital.index,
                    room,
                    severity,
                    treatment,
                    NO_MEDICATION,
                    UNORDERED,
                    encounter,
                    admission_type if not followup else ELECTIVE,
                )
            )
            if birth and not followup:
                self._newborn_of(patient, hospital, cot, room, los)
            if los:
                yield env.timeout(los)
            day = int(env.now)
            if room != NO_ROOM_HELD and not rooming_in:
                hospital.rooms.release(room)
                hospital.discharges += 1
            patient.leave()
            disposition = self._disposition(patient, condition, encounter, severity, day)
            if disposition == EXPIRED and not written:
                # a stay not written ends alive: every patient lives to see --start (the
                # catchment draws residents alive on it), and no death can go unrecorded
                disposition = HOME
            self.log.discharged((day, patient.index, visit, disposition))
            if disposition == EXPIRED:
                patient.dead = True
            if disposition not in FOLLOWED_UP:
                patient.end_episode(condition)
                return
            if kind == CLINIC_REVIEW and not followup:  # a review: the next one is planned
                patient.end_episode(condition)
                return
            if (
                encounter == INPATIENT
                and condition.name != DELIVERY_CONDITION  # not another delivery
                and self.clinical.one() < condition.readmission
            ):
                # back within the month, unplanned; no clinic follow-up comes first
                patient.end_episode(condition)
                gap = 1 + int((READMISSION_WINDOW_DAYS - 1) * self.clinical.one() ** 2)
                env.process(self._readmission(patient, condition, gap))
                return
            due = self._followup_day(condition, rules, followup, day)
            if due is None:
                patient.end_episode(condition)
                return
            self.log.followup_scheduled((day, patient.index, visit, due))
            if due > self.horizon:  # booked beyond --today: it is not simulated
                patient.end_episode(condition)
                return
            booking = (visit, due + FOLLOWUP_LAPSE_DAYS)
            yield env.timeout(due - day)
            followup += 1

    def _newborn_of(
        self, mother: Patient, hospital: Hospital, cot: int | None, room: int, los: int
    ) -> None:
        """The baby a delivery brings: born today (later than drawn when the mother waited
        for a room; registered on the day drawn) and in its birth stay at the same hospital:
        in ``cot``, or in the mother's ``room`` for at most her ``los`` when no other room
        was free."""
        children = self._children.get(mother.index)
        day = int(self.env.now)
        # no baby of hers due by today: this delivery's baby is not a patient (born in the
        # burn-in, with no encounter after it); a baby is born on its day, or later
        if not children or self.world.patients[children[0]].birth_day > day:
            if cot is not None:
                hospital.rooms.release(cot)
            return
        index = children.popleft()
        child = self.world.patients[index]
        self._unborn.discard(index)
        registry = self.world.registry
        registry.birth[index] = to_datetime64(self.scenario.clock_start) + day
        child.birth_day = day
        self._birth_key[index] = int(date_keys(registry.birth[index : index + 1])[0])
        # in its birth stay from now: an encounter of the baby's that starts later today, before
        # the birth stay's process runs, waits for the stay's end instead of taking the day
        child.in_stay = True
        place = (hospital, room, los) if cot is None else (hospital, cot, None)
        self.env.process(self._episode(child, self._newborn, DIRECT_STAY, at=place))

    def _readmission(self, patient: Patient, condition: Condition, gap: int):
        yield self.env.timeout(gap)
        yield from self._episode(patient, condition, DIRECT_STAY, readmission=True)

    def _pack_log(self):
        """Every month, the event log's pending rows go into column blocks."""
        while True:
            yield self.env.timeout(PACK_EVERY_DAYS)
            self.log.pack()

    # ----------------------------------------------------------------- decisions

    def _admission_route(self, condition: Condition, kind: int, readmission: bool) -> int:
        """How a new episode reaches the hospital: through the emergency department (Trauma
        for injuries), or for a direct stay planned (Elective) or urgent in the condition's
        proportions (a readmission is never planned); a clinic review is Elective."""
        if kind == ED_ARRIVAL:
            return TRAUMA if condition.trauma else VIA_ED
        if kind == CLINIC_REVIEW:
            return ELECTIVE
        if condition.name == NEWBORN_CONDITION:
            return NEWBORN
        direct = condition.elective_share + condition.urgent_share
        elective = 0.0 if readmission or direct <= 0 else condition.elective_share / direct
        return ELECTIVE if self.clinical.one() < elective else URGENT

    def _exact_age(self, patient: Patient, day: int) -> int:
        """Whole years on ``day``, birthday-exact (as the tables compute it)."""
        return (self._day_key[day] - self._birth_key[patient.index]) // 10000

    def _stay_severity_mix(self, condition: Condition) -> list[float]:
        """The severity mix of a typical stay of the condition: its category's weights with
        the older patients' shift for the national share of stays at 65 and over."""
        weights = self.catalog.categories[condition.category].severity
        older = list(weights)
        older[MODERATE] *= self.scenario.older_severity_factor
        older[SEVERE] *= self.scenario.older_severity_factor
        share = population_figures()["share_of_stays_65_plus"]
        return [
            (1 - share) * w / sum(weights) + share * o / sum(older) for w, o in zip(weights, older)
        ]

    def _days_to_weekday(self, day: int) -> int:
        """Days from ``day`` to the first Monday-to-Friday day (0 on a weekday)."""
        weekday = self.weekday_of_day[min(day, self.horizon)]
        return 7 - weekday if weekday >= SATURDAY else 0

    def _severity(
        self, patient: Patient, condition: Condition, day: int, released: bool = False
    ) -> int:
        """Severity of a first encounter on ``day``: the category's weights, the odds of
        Moderate and Severe raised at 65 and over and for each other condition under
        treatment; a patient sent home from the ED is never Severe."""
        normal, mild, moderate, severe = self._severity_weights[condition.code]
        if released:
            severe = 0.0
        factor = self._comorbidity_factor[len(patient.active_conditions)]
        if patient.age_at(day) >= 65:
            factor *= self.scenario.older_severity_factor
        moderate *= factor
        severe *= factor
        r = self.clinical.one() * (normal + mild + moderate + severe)
        r -= normal
        if r < 0:
            return NORMAL
        r -= mild
        if r < 0:
            return MILD
        r -= moderate
        return MODERATE if r < 0 else SEVERE

    def _first_encounter(
        self,
        condition: Condition,
        admission_type: int,
        release: float,
        doctor: Doctor,
        hospital: Hospital,
        readmission: bool,
    ) -> int:
        """The type of an episode's first encounter.

        At the ED the patient goes home the same day at the national release share of their
        age and condition, scaled by the category's same-day rate (its default reproduces the
        national share) and shifted by the hospital's and doctor's habits. An unplanned stay
        other than a readmission is an observation stay (one night) at the condition's
        observation share.
        """
        scenario = self.scenario
        u = self.clinical.take(2)
        if admission_type in (VIA_ED, TRAUMA) and release > 0:
            rules = self.catalog.categories[condition.category]
            scale = (
                scenario.minor_same_day_rate / DEFAULTS["minor_same_day_rate"]
                if rules.uses_minor_same_day_rate
                else scenario.other_same_day_rate / DEFAULTS["other_same_day_rate"]
            )
            chance = hospital.same_day_probability(min(release * scale, 1.0), doctor.style)
            if u[0] < chance:
                return EMERGENCY_VISIT
        if admission_type != ELECTIVE and not readmission and u[1] < condition.observation_share:
            return OBSERVATION
        return INPATIENT

    def _days_in_bed(self, mu: float, sigma: float, bounds: tuple[int, int], severity: int) -> int:
        """Days of an inpatient stay: log-normal (``mu``, ``sigma``), stretched by severity,
        within ``bounds``."""
        mu += math.log(max(self.scenario.los_severity_factor[severity], 1e-3))
        days = round(math.exp(mu + sigma * normal_quantile(self.clinical.one())))
        return min(max(days, bounds[0]), bounds[1])

    def _weekday_discharge(self, day: int, los: int, longest: int) -> int:
        """Fewer discharges at weekends (weekend staffing): a stay due to end on a Saturday
        or Sunday ends, at that day's chance, on the Friday before instead (the stay lasting
        at least a night), else on the Monday after (within ``longest`` days)."""
        weekday = self.weekday_of_day[min(day + los, self.horizon)]
        if self._weekend_move[weekday] == 0.0 or self.clinical.one() >= self._weekend_move[weekday]:
            return los
        to_friday = weekday - (SATURDAY - 1)
        if los - to_friday >= 1:
            return los - to_friday
        return min(los + 7 - weekday, longest)

    def _delivery(self, patient: Patient, severity: int) -> tuple[str, int]:
        """A delivery's mode (cesarean at the share of the mother's age, NCHS) and its length
        of stay (log-normal around the mode's mean, stretched by severity)."""
        age = min(self._exact_age(patient, int(self.env.now)), len(self._cesarean_share) - 1)
        cesarean = self.clinical.one() < self._cesarean_share[age]
        return (CESAREAN if cesarean else VAGINAL), self._days_in_bed(
            *self._delivery_shape[cesarean], severity
        )

    def _disposition(
        self, patient: Patient, condition: Condition, encounter: int, severity: int, day: int
    ) -> int:
        """Where the patient goes after the encounter: home, except after an inpatient stay,
        which may end in death (the condition's rate, by severity) or, by age, in home
        health, a nursing facility, another hospital, or leaving against advice."""
        if encounter != INPATIENT:
            return HOME
        u = self.clinical.take(2)
        death = self._mortality[condition.code] * self.scenario.mortality_severity_factor[severity]
        if u[0] < death:
            return EXPIRED
        table = self.dispositions[patient.age_at(day) >= 65]
        return min(bisect_right(table, u[1]), len(table) - 1)

    def _followup_day(self, condition: Condition, rules, followup: int, day: int) -> int | None:
        """The due day of the episode's next clinic visit, or None when the episode ends: the
        first is booked at the condition's follow-up share, later ones by the category's
        recurrence rules."""
        u = self.clinical.take(3)
        chance = condition.followup_share if followup == 0 else rules.followup_probability
        if followup >= rules.max_followups or u[0] >= chance:
            return None
        lo, hi = rules.followup_gap_days
        due = day + lo + int(u[1] * (hi - lo + 1))
        first = max(due - BOOKING_WINDOW_DAYS // 2, day + 1)  # the week around it, after today
        return self._booked_day(first, self._clinic_booking, u[2])

    def _booked_day(self, first: int, booking: list[list[float]], u: float) -> int:
        """The day of the seven from ``first`` that a booking lands on, drawn with ``u`` by
        the weekday pattern ``booking`` (``booking_table``)."""
        return first + booked_offset(booking, (self._first_weekday + first) % 7, u)


def booking_table(factors: tuple[float, ...]) -> list[list[float]]:
    """For each weekday a booking window may start on (0 = Monday), the cumulative weights of
    its seven days by the weekday ``factors``."""
    return [
        list(np.cumsum([factors[(start + k) % 7] for k in range(BOOKING_WINDOW_DAYS)]))
        for start in range(7)
    ]


def booked_offset(booking: list[list[float]], weekday: int, u: float) -> int:
    """Days from the first day of a booking window (a ``weekday``) to the day booked, drawn
    with the uniform ``u`` by the window's cumulative weights (``booking_table``)."""
    cumulative = booking[weekday]
    return min(bisect_right(cumulative, u * cumulative[-1]), BOOKING_WINDOW_DAYS - 1)


@functools.lru_cache(maxsize=1)
def cesarean_share_by_age() -> tuple[float, ...]:
    """The share of deliveries by cesarean at each maternal age 0..100 (NCHS)."""
    share = [0.0] * 101
    for row in read_csv("demography/cesarean.csv").itertuples(index=False):
        for age in range(int(row.age_low), min(int(row.age_high), 100) + 1):
            share[age] = float(row.cesarean_share)
    return tuple(share)


def delivery_stay_shapes(catalog: Catalog) -> dict[bool, tuple[float, float, tuple[int, int]]]:
    """Log-normal (mu, sigma) and bounds of a delivery stay by mode (True: cesarean): each
    mode's mean (HCUP) with the delivery stays' ratio of median to mean."""
    condition = catalog.by_name.get(DELIVERY_CONDITION)
    if condition is None:
        return {}
    figures = stay_figures()[DELIVERY_CONDITION]
    ratio = condition.los_median / condition.los_mean
    shapes = {}
    for cesarean, name in ((False, "los_mean_vaginal"), (True, "los_mean_cesarean")):
        mean = figures[name]
        shapes[cesarean] = (
            math.log(mean * ratio),
            math.sqrt(-2.0 * math.log(ratio)),
            condition.los,
        )
    return shapes


def _mean_factor(factors: tuple[float, ...], weights: tuple[float, ...]) -> float:
    """The mean of per-severity factors over a severity mix."""
    return sum(f * w for f, w in zip(factors, weights)) / sum(weights)

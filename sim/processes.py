"""The SimPy timeline of one region: episodes, stays, follow-ups, bills and payments.

Four kinds of processes run per region (besides registering patients at birth):

- the *onset* process walks the illness plan and starts an episode process on each onset day;
- an *episode* process lives while an episode lasts: it admits the patient (waiting if the
  patient is still in another stay, diverting if the hospital has no free room), keeps them
  for the length of stay, discharges them, and books the follow-up the recurrence rules ask for;
- the *billing office* wakes once a day to issue the bills and record the payments due that
  day (one long-lived process instead of a timer per bill);
- the *staffing* process plays out doctors' absences, departures and replacements
  (``sim/staffing.py``). Who is seen where is decided by ``sim/care.py``.

Every fact goes to the event log; nothing here writes a table.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict

import numpy as np

from entities import Doctor, Hospital, Patient
from sim.calendar import date_keys, to_datetime64, year_of_sim_day
from sim.care import NO_ROOM, CareRouter
from sim.events import PLANS, EventLog
from sim.refdata import MEDICATION, MONITORING, Catalog, Condition, load_catalog
from sim.rng import UniformPool, stream
from sim.scenario import Scenario
from sim.staffing import Staffing
from sim.world import RegionWorld

NORMAL, MILD, MODERATE, SEVERE = range(4)
FULL, INCREMENTAL = (PLANS.index(p) for p in ("Full", "Incremental"))
NO_MEDICATION = -1
# A follow-up is booked only if it can end before the horizon even when the patient is
# still in another stay on the due day (the longest stay is 14 days by default).
FOLLOWUP_SLACK_DAYS = 3
MAX_FOLLOWUP_STAY = 2  # days: a follow-up stays one or two days
# How long a follow-up may wait (for the patient's other stay to end, for a room) beyond
# the longest stay. A follow-up must be admitted within the category's longest gap + the
# longest stay + this many days of the discharge before it (the window in which the tables
# recognise it as a follow-up: reporting.validation.followup_window_days), else it lapses.
FOLLOWUP_WAIT_DAYS = 14
PACK_EVERY_DAYS = 30  # how often the event log moves pending rows into column blocks


def followup_window_days(catalog: Catalog) -> dict[str, int]:
    """Per category, the most days from a discharge to its follow-up's admission."""
    longest_stay = max(c.los[1] for c in catalog.conditions)
    return {
        name: rules.followup_gap_days[1] + longest_stay + FOLLOWUP_WAIT_DAYS
        for name, rules in catalog.categories.items()
    }


def severity_of_stay(los: int) -> int:
    """Severity tier from the length of stay: >=7 Severe, >=4 Moderate, >=1 Mild, 0 Normal."""
    if los >= 7:
        return SEVERE
    if los >= 4:
        return MODERATE
    if los >= 1:
        return MILD
    return NORMAL


class EpisodeCharges:
    """What an episode has been charged so far (follow-ups are priced from it)."""

    __slots__ = ("first", "followup_base", "previous")

    def __init__(self) -> None:
        self.first = self.previous = 0
        self.followup_base = 0.0


class RegionSimulation:
    """The processes of one region, acting on its world and writing its event log."""

    def __init__(
        self, world: RegionWorld, scenario: Scenario, catalog: Catalog | None = None
    ) -> None:
        self.world = world
        self.scenario = scenario
        self.catalog = catalog or load_catalog()
        self.env = world.env
        self.log = EventLog()
        self.horizon = scenario.horizon
        self.year_of_day = year_of_sim_day(scenario.start, self.horizon).tolist()
        days = to_datetime64(scenario.start) + np.arange(self.horizon + 1)
        self._day_key = date_keys(days).tolist()  # a patient's age on a day: see _assess
        self._birth_key = date_keys(world.registry.birth).tolist()
        self.clinical = UniformPool(stream(scenario.seed, world.key, "clinical"))
        self.care = UniformPool(stream(scenario.seed, world.key, "care"))
        self.billing = UniformPool(stream(scenario.seed, world.key, "billing"))
        self.bills_due: dict[int, list[tuple]] = defaultdict(list)
        self.payments_due: dict[int, list[tuple]] = defaultdict(list)
        self.next_visit = 0
        self.next_episode = 0
        self.declined_episodes = 0
        self.lapsed_followups = 0  # follow-ups given up: no room within their window
        self.followup_window = followup_window_days(self.catalog)
        self.max_stay = max(c.los[1] for c in self.catalog.conditions)
        self._treatment_codes = {name: i for i, name in enumerate(self.catalog.treatments)}
        self._options = [self._treatment_options(c) for c in self.catalog.conditions]
        self._treatment_table: dict[tuple, tuple[tuple[str, ...], list[float]]] = {}
        self._test_cumulative = [list(np.cumsum(row)) for row in self.catalog.test_result_weights]
        self.router = CareRouter(
            world, self.care, scenario.generalist_specialty, scenario.hospital_choice_weights
        )
        self.staffing = Staffing(
            world, scenario, self.log, stream(scenario.seed, world.key, "staffing")
        )
        self.env.process(self._registrations())
        self.env.process(self.staffing.process(self.env))
        self.env.process(self._onsets())
        self.env.process(self._billing_office())

    # ----------------------------------------------------------------- processes

    def _registrations(self):
        """Patients join the population at the start, or at birth when born later."""
        env = self.env
        born = (self.world.registry.birth - to_datetime64(self.scenario.start)).astype(np.int64)
        day = np.maximum(born, 0)
        for patient in np.argsort(day, kind="stable").tolist():
            if day[patient] > env.now:
                yield env.timeout(int(day[patient]) - env.now)
            self.log.registered((int(day[patient]), patient))

    def _onsets(self):
        plan = self.world.plan
        days = plan.day.tolist()
        patients = plan.patient.tolist()
        conditions = plan.condition.tolist()
        env = self.env
        for day, patient, condition in zip(days, patients, conditions):
            if day > env.now:
                yield env.timeout(day - env.now)
            env.process(
                self._episode(self.world.patients[patient], self.catalog.conditions[condition])
            )

    def _episode(self, patient: Patient, condition: Condition):
        env = self.env
        day = int(env.now)
        if not patient.accepts_episode(condition, day, self.year_of_day[day]):
            self.declined_episodes += 1
            return
        patient.expect_episode(condition)  # the caps count it from its first admission
        episode = self.next_episode
        self.next_episode += 1
        self.log.episode_started((day, patient.index, episode, condition.code))
        rules = self.catalog.categories[condition.category]
        charges = EpisodeCharges()
        followup = 0
        doctor = hospital = None
        booked = None  # a follow-up's (previous visit, due day, latest admission day)
        while True:
            deadline = None if booked is None else booked[2]
            if patient.in_stay:
                free = patient.wait_until_free(env)
                if deadline is None:
                    yield free
                else:
                    yield free | env.timeout(max(deadline - int(env.now), 0))
                    if not free.triggered:  # still in another stay: the follow-up lapses
                        patient.stop_waiting(free)
                        patient.end_episode(condition)
                        self.lapsed_followups += 1
                        return
            else:
                patient.in_stay = True
            day = int(env.now)
            choice = self.router.choose(
                patient, condition, day, doctor if followup else None, hospital
            )
            doctor, hospital, reason = choice.doctor, choice.hospital, choice.reason
            room = hospital.rooms.acquire()
            diverted_from = None
            if room is None:
                doctor, hospital, room = self.router.divert(patient, choice, day)
                if hospital is not choice.hospital:
                    diverted_from, reason = choice.hospital, NO_ROOM
            if room is None:
                request = hospital.rooms.request()
                if deadline is None:
                    room = yield request
                else:
                    yield request | env.timeout(max(deadline - int(env.now), 0))
                    if not request.triggered:  # no room in time: the follow-up lapses
                        hospital.rooms.withdraw(request)
                        patient.leave()
                        patient.end_episode(condition)
                        self.lapsed_followups += 1
                        return
                    room = request.value
            day = int(env.now)
            visit = self.next_visit
            self.next_visit += 1
            if booked is None:
                patient.begin_episode(condition, day, self.year_of_day[day])
            else:  # the follow-up takes place: the previous visit's flag says so
                self.log.followup_scheduled((day, patient.index, booked[0], booked[1]))
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
            patient.remember(doctor.index, hospital.index, condition.specialty, choice.new_usual)
            los, severity, treatment, medication, test = self._assess(
                patient, condition, followup, doctor, hospital
            )
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
                    medication,
                    test,
                )
            )
            if los:
                yield env.timeout(los)
            day = int(env.now)
            hospital.rooms.release(room)
            hospital.discharges += 1
            patient.leave()
            self.log.discharged((day, patient.index, visit))
            self._bill(patient, condition, visit, day, los, followup, charges, hospital)
            due = self._followup_day(rules, followup, day)
            if due is None:
                patient.end_episode(condition)
                return
            # Waiting (for another stay of the patient to end, for a room) may not push the
            # follow-up out of its window, nor past the last day it can end by --today.
            booked = (visit, due, min(day + self.followup_window[condition.category],
                                      self.horizon - MAX_FOLLOWUP_STAY))  # fmt: skip
            yield env.timeout(due - day)
            followup += 1

    def _billing_office(self):
        env = self.env
        while True:
            today = int(env.now)
            for bill in self.bills_due.pop(today, ()):
                self._issue_bill(*bill)
            for payment in self.payments_due.pop(today, ()):
                self.log.payment_made(payment)
            if today % PACK_EVERY_DAYS == 0:
                self.log.pack()
            yield env.timeout(1)

    # ----------------------------------------------------------------- decisions

    def _treatment_options(
        self, condition: Condition
    ) -> tuple[tuple[str, ...], tuple[float, ...], tuple[str, ...], tuple[float, ...]]:
        first = (*condition.treatments, MONITORING)
        if condition.followup_treatments:
            later, later_weights = (
                condition.followup_treatments,
                condition.followup_treatment_weights,
            )
        else:
            later, later_weights = first, self.scenario.followup_treatment_weights
        return (
            first,
            _normalised(self.scenario.first_visit_treatment_weights),
            later,
            _normalised(later_weights),
        )

    def _assess(
        self,
        patient: Patient,
        condition: Condition,
        followup: int,
        doctor: Doctor,
        hospital: Hospital,
    ) -> tuple[int, int, int, int, int]:
        """Length of stay, severity, treatment, medication and test result of a visit."""
        scenario = self.scenario
        u = self.clinical.take(6)
        lo, hi = condition.los
        if followup:
            los = 1 if u[0] < scenario.followup_one_day_share else 2
            los = min(los, max(1, hi))
        else:
            los = 0
            if condition.same_day_ok:
                rules = self.catalog.categories[condition.category]
                base = (
                    scenario.minor_same_day_rate
                    if rules.uses_minor_same_day_rate
                    else scenario.other_same_day_rate
                )
                chance = hospital.same_day_probability(
                    base, doctor.style, scenario.max_same_day_rate
                )
                same_day = u[0] < chance
            else:
                same_day = False
            if not same_day:
                low = max(lo, 1)
                los = low + int(u[1] * (hi - low + 1))
        if condition.is_minor:
            if followup:
                severity = NORMAL
            else:
                severity = MODERATE if u[2] < scenario.minor_first_visit_moderate_share else MILD
        else:
            severity = severity_of_stay(los)

        options, cumulative = self._treatments_for(
            doctor, condition, followup > 0, severity >= MODERATE
        )
        name = options[min(bisect_right(cumulative, u[3]), len(options) - 1)]
        if name in self.catalog.once_per_patient:
            name = patient.receive_once(name, condition.treatments)
        medication = NO_MEDICATION
        if name == MEDICATION:
            age = (self._day_key[int(self.env.now)] - self._birth_key[patient.index]) // 10000
            rows = self.catalog.medications.rows_for(condition.code, age)
            medication = rows[int(u[4] * len(rows))]
        tests = self._test_cumulative[severity]
        test = min(bisect_right(tests, u[5]), len(tests) - 1)
        return los, severity, self._treatment_codes[name], medication, test

    def _treatments_for(
        self, doctor: Doctor, condition: Condition, followup: bool, moderate_or_worse: bool
    ) -> tuple[tuple[str, ...], list[float]]:
        """The treatment options of a case and their cumulative weights for this doctor."""
        key = (doctor.index, condition.code, followup, moderate_or_worse)
        cached = self._treatment_table.get(key)
        if cached is None:
            first_options, first_weights, later_options, later_weights = self._options[
                condition.code
            ]
            options, weights = (
                (later_options, later_weights) if followup else (first_options, first_weights)
            )
            if not followup and (moderate_or_worse or not condition.first_visit_monitoring):
                # Monitoring alone is for Normal/Mild cases of conditions that allow it
                weights = (weights[0] + weights[2], weights[1], 0.0)
            if followup:  # a once-in-a-lifetime procedure (a bypass) belongs to a first visit
                weights = _move_weight(options, weights, self.catalog.once_per_patient)
            weights = doctor.treatment_weights(options, weights)
            cached = self._treatment_table[key] = (options, list(np.cumsum(weights)))
        return cached

    def _followup_day(self, rules, followup: int, day: int) -> int | None:
        """The due day of the next visit of the episode, or None when the episode ends."""
        u = self.clinical.take(2)
        if followup >= rules.max_followups or u[0] >= rules.followup_probability:
            return None
        lo, hi = rules.followup_gap_days
        due = day + lo + int(u[1] * (hi - lo + 1))
        if due + 2 + self.max_stay + FOLLOWUP_SLACK_DAYS > self.horizon:
            return None
        return due

    # ----------------------------------------------------------------- billing

    def _bill(
        self,
        patient: Patient,
        condition: Condition,
        visit: int,
        day: int,
        los: int,
        followup: int,
        charges: EpisodeCharges,
        hospital: Hospital,
    ) -> None:
        """Price a finished stay and book its bill.

        A first visit costs its category's range, higher for longer stays, times the
        hospital's multiplier. A follow-up costs a fixed fraction of the first visit (drawn once
        per episode), except for an occasional small bump over the previous visit, which never
        reaches the first visit's charge.
        """
        scenario = self.scenario
        rules = self.catalog.categories[condition.category]
        u = self.billing.take(6)
        if followup:
            if not charges.followup_base:
                lo, hi = rules.followup_charge_factor
                charges.followup_base = charges.first * (lo + u[5] * (hi - lo))
            charge = charges.followup_base
            if u[0] < scenario.followup_bump_probability:
                # over the previous follow-up (the first follow-up: over its own base)
                lo, hi = scenario.followup_bump
                reference = charges.previous if followup > 1 else charges.followup_base
                charge = min(reference * (1.0 + lo + u[1] * (hi - lo)), charges.first - 1)
        else:
            lo, hi = rules.charge
            los_lo, los_hi = condition.los
            position = (los - los_lo) / (los_hi - los_lo) if los_hi > los_lo else 0.5
            position = min(max(position, 0.0), 1.0)  # a same-day stay prices as the shortest
            charge = (lo + (hi - lo) * (0.5 * u[1] + 0.5 * position)) * hospital.charge_multiplier
        total = max(round(charge), scenario.minimum_charge)
        if not followup:
            charges.first = total
        charges.previous = total
        if patient.insured:
            lo, hi = (
                scenario.insurance_low_share
                if u[2] < scenario.insurance_low_share_probability
                else scenario.insurance_high_share
            )
            insurance = round(total * (lo + u[3] * (hi - lo)))
        else:
            insurance = 0
        delay_lo, delay_hi = scenario.bill_delay_days
        bill_day = min(day + delay_lo + int(u[4] * (delay_hi - delay_lo + 1)), self.horizon)
        bill = (patient, condition, hospital, visit, total, insurance)
        if bill_day == day:
            self._issue_bill(*bill)
        else:
            self.bills_due[bill_day].append(bill)

    def _issue_bill(
        self,
        patient: Patient,
        condition: Condition,
        hospital: Hospital,
        visit: int,
        total: int,
        insurance: int,
    ) -> None:
        """Issue a bill today: plan, due date, and the patient's payment (booked for its day)."""
        scenario = self.scenario
        day = int(self.env.now)
        u = self.billing.take(3)
        if total >= scenario.incremental_charge_high:
            incremental = scenario.incremental_probability_high
        elif total >= scenario.incremental_charge_mid:
            incremental = scenario.incremental_probability_mid
        else:
            incremental = scenario.incremental_probability_low
        if not patient.insured:
            incremental += scenario.uninsured_incremental_bonus
        incremental = min(incremental, scenario.max_incremental_probability)
        plan = INCREMENTAL if u[0] < incremental else FULL
        due = day + (
            scenario.incremental_plan_days if plan == INCREMENTAL else scenario.full_plan_days
        )
        share = total - insurance
        self.log.bill_issued((day, patient.index, visit, total, insurance, share, plan, due))

        on_time = (
            scenario.on_time_probability_insured
            if patient.insured
            else scenario.on_time_probability_uninsured
        )
        late = condition.late_base
        factor = (
            scenario.unpaid_factor_insured if patient.insured else scenario.unpaid_factor_uninsured
        )
        low, high = scenario.unpaid_probability_clip
        unpaid = min(max(late * hospital.late_payment_multiplier * factor, low), high)
        total_weight = on_time + late + unpaid
        r = u[1] * total_weight
        if r < on_time:
            lo, hi = scenario.on_time_days_early
            pay_day = max(day, due - lo - int(u[2] * (hi - lo + 1)))
        elif r < on_time + late:
            lo, hi = scenario.late_days
            pay_day = due + lo + int(u[2] * (hi - lo + 1))
        else:
            return
        if pay_day <= self.horizon:
            self.payments_due[pay_day].append((pay_day, patient.index, visit, share))


def _move_weight(
    options: tuple[str, ...], weights: tuple[float, ...], excluded: frozenset[str]
) -> tuple[float, ...]:
    """The weights with each excluded option's weight given to the first allowed option."""
    moved = list(weights)
    allowed = next(i for i, name in enumerate(options) if name not in excluded)
    for i, name in enumerate(options):
        if name in excluded:
            moved[allowed] += moved[i]
            moved[i] = 0.0
    return tuple(moved)


def _normalised(weights: tuple[float, ...]) -> tuple[float, ...]:
    total = float(sum(weights))
    return tuple(w / total for w in weights)

"""Where a patient is seen: the doctor and hospital of each visit, and why they changed.

The setting decides the kind of doctor (``sim.physicians``). An ED visit goes to an emergency
physician on shift at the hospital (one of the patient's hospitals within reach; a readmission
where the stay was); an admitted patient to a hospitalist (a paediatrician for a child), or to
the condition's specialty when it looks after its own inpatients (surgeons, obstetricians).
A clinic visit (a follow-up, also after a stay, or a chronic review) goes to the patient's usual
primary-care doctor (family or internal medicine, paediatrics under 18) or, when the condition
needs a specialist, to their usual specialist for it. Whether a patient has a usual source of
care depends on age and on being insured that day (NHIS); a patient without one picks a doctor
afresh at each clinic visit, one with one goes back to it at their continuity preference.

A switch of doctor or hospital keeps its reason, by precedence: no free room (``no_room``),
the usual doctor on leave (``doctor_absent``) or gone (``doctor_left``), the patient chose
someone else or has no usual source (``patient_choice``), a kind of doctor not seen before
(``new_specialty``), the ED physician on shift or the inpatient doctor on service
(``on_shift``). A clinic visit back with the usual doctor is ``back_to_usual_doctor``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from entities import Doctor, Hospital, Patient
from sim.coverage import SELF_PAY
from sim.events import SWITCH_REASONS
from sim.physicians import (
    ADULT_AGE,
    ADULT_PRIMARY,
    CHILD_PRIMARY,
    EMERGENCY,
    HOSPITAL,
    PEDIATRICS,
    SPECIALIST,
    load_physicians,
    usual_source_shares,
)
from sim.refdata import Condition
from sim.rng import UniformPool
from sim.world import RegionWorld

NO_ROOM, DOCTOR_ABSENT, DOCTOR_LEFT, PATIENT_CHOICE, NEW_SPECIALTY, BACK_TO_USUAL = range(6)
READMITTED_ELSEWHERE, ON_SHIFT = 6, 7
assert SWITCH_REASONS[BACK_TO_USUAL] == "back_to_usual_doctor"
assert SWITCH_REASONS[READMITTED_ELSEWHERE] == "readmitted_elsewhere"
assert SWITCH_REASONS[ON_SHIFT] == "on_shift"
ADULT_PRIMARY_CARE = "Primary care"  # the usual-doctor key of an adult's primary care


class Choice(NamedTuple):
    """The provider of a visit and why it is not the one the patient would go back to."""

    doctor: Doctor
    hospital: Hospital
    reason: int
    new_usual: bool  # the usual doctor left: the new one takes their place
    usual_key: str | None = None  # a clinic visit of a patient with a usual source: its key


def _chain(*specialties: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(specialties))


class CareRouter:
    """Chooses doctors and hospitals for one region's visits."""

    def __init__(
        self, world: RegionWorld, draws: UniformPool, generalist: str, hospital_choice: tuple
    ) -> None:
        self.doctors = world.doctors
        self.hospitals = world.hospitals
        self.coverage = world.coverage
        self.draws = draws
        physicians = load_physicians()
        self.chains = {
            s: _chain(*physicians.substitutes(s), generalist) for s in physicians.specialties
        }
        self.generalist = generalist
        self.emergency = self._chain_of(physicians.of_kind(EMERGENCY)[0])
        hospitalist = self._chain_of(physicians.of_kind(HOSPITAL)[0])
        self.adult_inpatient = hospitalist
        self.child_inpatient = _chain(PEDIATRICS, *hospitalist)
        self.own_inpatients = physicians.attends - set(physicians.of_kind(HOSPITAL))
        self.clinic_specialists = frozenset(physicians.of_kind(SPECIALIST))
        self.usual_shares = usual_source_shares()
        self._insured = (world.coverage.payer != SELF_PAY).tolist()  # per coverage spell
        # (share if insured, share if uninsured) by age, the first band of each age
        self._usual_by_age: list[tuple[float, float] | None] = [
            next(((i, u) for low, high, i, u in self.usual_shares if low <= age <= high), None)
            for age in range(max((high for _, high, _, _ in self.usual_shares), default=-1) + 1)
        ]
        weights = np.asarray(hospital_choice, dtype=float)
        self.hospital_choice = [
            list(np.cumsum(weights[:n]) / weights[:n].sum()) for n in range(1, len(weights) + 1)
        ]

    def _chain_of(self, specialty: str) -> tuple[str, ...]:
        return self.chains.get(specialty, _chain(specialty, self.generalist))

    def choose(
        self, patient: Patient, condition: Condition, day: int, clinic: bool, readmission: bool
    ) -> Choice:
        """The doctor and hospital for a visit (before looking for a room): a clinic visit's
        usual doctor, else the emergency physician on shift where the patient arrives."""
        if clinic:
            return self._clinic(patient, condition, day)
        if readmission and patient.last_hospital >= 0:
            site = self.hospitals[patient.last_hospital]
        else:
            site = self._pick_hospital(patient)
        doctor = self._on_duty(site, self.emergency, day)
        if doctor is None:
            site, doctor = self._someone_elsewhere(patient, site, self.emergency, day)
        return Choice(doctor, site, ON_SHIFT, False)

    def attending(
        self, patient: Patient, condition: Condition, day: int, hospital: Hospital, current: Doctor
    ) -> Doctor:
        """The doctor who looks after an admitted patient at ``hospital``: the condition's
        specialty when it sees its own inpatients (the patient's usual one for it when they
        work there and are on duty), else a hospitalist (a paediatrician for a child);
        ``current`` when nobody there is on duty."""
        specialty = condition.specialty
        if specialty in self.own_inpatients:
            usual = patient.usual.get(specialty)
            if usual is not None:
                doctor = self.doctors[usual[0]]
                if doctor.works_at(hospital.index) and doctor.on_duty(day):
                    return doctor
            chain = self._chain_of(specialty)
        elif patient.age_at(day) < ADULT_AGE:
            chain = self.child_inpatient
        else:
            chain = self.adult_inpatient
        return self._on_duty(hospital, chain, day) or current

    def elsewhere(self, patient: Patient, condition: Condition, day: int, choice: Choice) -> Choice:
        """The same arrival at another hospital than the one chosen (an ambulance's or the
        patient's choice; reason ``readmitted_elsewhere``): one of the patient's within reach,
        else the nearest other of the region, with the emergency physician on shift there;
        the choice itself when there is no other hospital or nobody on duty."""
        here = choice.hospital
        farther = sorted(
            (h.index for h in self.hospitals if h.index not in patient.hospital_preference),
            key=lambda i: (
                (self.hospitals[i].lat - here.lat) ** 2 + (self.hospitals[i].lon - here.lon) ** 2
            ),
        )
        for index in (*patient.hospital_preference, *farther):
            if index == here.index:
                continue
            site = self.hospitals[index]
            doctor = self._on_duty(site, self.emergency, day)
            if doctor is not None:
                return Choice(doctor, site, READMITTED_ELSEWHERE, False)
        return choice

    def divert(
        self, patient: Patient, choice: Choice, day: int
    ) -> tuple[Doctor, Hospital, int | None]:
        """Another hospital of the state with a free room, the patient's nearest first.

        The doctor comes along when they also work there. With every hospital full, the
        patient waits for a room at the hospital first chosen (room is None).
        """
        full = choice.hospital
        candidates = [h for h in patient.hospital_preference if h != full.index]
        candidates += [
            h.index for h in self.hospitals if h.index != full.index and h.index not in candidates
        ]
        for index in candidates:
            hospital = self.hospitals[index]
            room = hospital.rooms.acquire()
            if room is not None:
                doctor = choice.doctor
                if not doctor.works_at(index):
                    doctor = self.doctor_at(hospital, choice.doctor.specialty, day) or doctor
                return doctor, hospital, room
        return choice.doctor, full, None

    def doctor_at(
        self, hospital: Hospital, specialty: str, day: int, exclude: int = -1
    ) -> Doctor | None:
        """A doctor on duty at ``hospital``: of the specialty, else of its stand-ins
        (staffing/physicians.csv, then the generalist specialty), else anyone (at random
        among those on duty)."""
        return self._on_duty(hospital, self._chain_of(specialty), day, exclude)

    # ------------------------------------------------------------------ clinic visits

    def _clinic(self, patient: Patient, condition: Condition, day: int) -> Choice:
        age = patient.age_at(day)
        specialty = condition.specialty
        if specialty in self.clinic_specialists:
            # a child without the specialist at hand sees a paediatrician, not an internist
            key, wanted = (
                specialty,
                (specialty, *CHILD_PRIMARY) if age < ADULT_AGE else (specialty,),
            )
        elif age < ADULT_AGE:
            key, wanted = PEDIATRICS, CHILD_PRIMARY
        else:
            key, wanted = ADULT_PRIMARY_CARE, ADULT_PRIMARY
        if not self._has_usual_source(patient, age, day):
            site, doctor = self._find(patient, wanted, day)
            return Choice(doctor, site, PATIENT_CHOICE, False)
        usual = patient.usual.get(key)
        if usual is None:
            site, doctor = self._find(patient, wanted, day)
            return Choice(doctor, site, NEW_SPECIALTY, False, key)
        target, site = self.doctors[usual[0]], self.hospitals[usual[1]]
        if self.draws.one() >= patient.continuity_preference:
            site, doctor = self._find(patient, wanted, day, exclude=target.index)
            return Choice(doctor, site, PATIENT_CHOICE, False, key)
        if not target.active:
            doctor = self._on_duty(site, self._wanted_chain(wanted), day)
            if doctor is None:
                site, doctor = self._find(patient, wanted, day)
            return Choice(doctor, site, DOCTOR_LEFT, True, key)
        if not target.on_duty(day):
            doctor = self._on_duty(site, self._wanted_chain(wanted), day, exclude=target.index)
            if doctor is None:
                site, doctor = self._find(patient, wanted, day, exclude=target.index)
            return Choice(doctor, site, DOCTOR_ABSENT, False, key)
        return Choice(target, site, BACK_TO_USUAL, False, key)

    def _has_usual_source(self, patient: Patient, age: int, day: int) -> bool:
        """Whether the patient has a usual source of care on ``day`` (by age and insurance)."""
        shares = self._usual_by_age[age] if 0 <= age < len(self._usual_by_age) else None
        if shares is None:
            return False
        insured = self._insured[self.coverage.spell_on(patient.index, day)]
        return patient.usual_source_draw < (shares[0] if insured else shares[1])

    def _wanted_chain(self, wanted: Sequence[str]) -> tuple[str, ...]:
        return _chain(*wanted, *self._chain_of(wanted[0]))

    def _find(
        self, patient: Patient, wanted: Sequence[str], day: int, exclude: int = -1
    ) -> tuple[Hospital, Doctor]:
        """A doctor of the wanted specialties: at a hospital drawn from the patient's, else at
        the nearest other hospital within reach that has one, else a stand-in at the drawn
        hospital."""
        first = self._pick_hospital(patient)
        for index in (first.index, *patient.hospital_preference):
            hospital = self.hospitals[index]
            doctor = self._pick(hospital, [hospital.staff.get(s, ()) for s in wanted], day, exclude)
            if doctor is not None:
                return hospital, doctor
        chain = self._wanted_chain(wanted)
        doctor = self._on_duty(first, chain, day, exclude)
        if doctor is not None:
            return first, doctor
        return self._someone_elsewhere(patient, first, chain, day)

    # ------------------------------------------------------------------ helpers

    def _on_duty(
        self, hospital: Hospital, chain: Sequence[str], day: int, exclude: int = -1
    ) -> Doctor | None:
        for specialty in chain:
            doctor = self._pick(hospital, [hospital.staff.get(specialty, ())], day, exclude)
            if doctor is not None:
                return doctor
        return self._pick(hospital, [hospital.doctors], day, exclude)

    def _pick(
        self, hospital: Hospital, groups: list[Sequence[int]], day: int, exclude: int
    ) -> Doctor | None:
        """A doctor on duty at random among ``groups`` of doctor indices (or None)."""
        total = sum(len(group) for group in groups)
        if not total:
            return None
        # Most doctors are on duty: one draw usually settles it without scanning the groups.
        k = int(self.draws.one() * total)
        for group in groups:
            if k < len(group):
                first = self.doctors[group[k]]
                if first.index != exclude and first.on_duty(day):
                    return first
                break
            k -= len(group)
        on_duty = [
            d for group in groups for d in group if d != exclude and self.doctors[d].on_duty(day)
        ]
        if on_duty:
            return self.doctors[on_duty[int(self.draws.one() * len(on_duty))]]
        return None

    def _pick_hospital(self, patient: Patient) -> Hospital:
        """One of the patient's hospitals within reach, by the hospital-choice weights
        (nearest first)."""
        choices = patient.hospital_preference
        cumulative = self.hospital_choice[min(len(choices), len(self.hospital_choice)) - 1]
        rank = min(bisect_right(cumulative, self.draws.one()), len(choices) - 1)
        return self.hospitals[choices[rank]]

    def _someone_elsewhere(
        self, patient: Patient, site: Hospital, chain: Sequence[str], day: int
    ) -> tuple[Hospital, Doctor]:
        """Nobody on duty at ``site``: the first hospital of the patient's (then of the region)
        with someone who is."""
        for index in (*patient.hospital_preference, *range(len(self.hospitals))):
            doctor = self._on_duty(self.hospitals[index], chain, day)
            if doctor is not None:
                return self.hospitals[index], doctor
        # every doctor of the region is away: the visit goes ahead with an active one
        for hospital in (site, *self.hospitals):
            active = [d for d in hospital.doctors if self.doctors[d].active]
            if active:
                return hospital, self.doctors[active[0]]
        raise RuntimeError("a region has no active doctor")

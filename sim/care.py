"""Where a patient is seen: the doctor and hospital of each visit, and why they changed.

A follow-up goes back to the episode's doctor at the same hospital; a new episode goes to the
patient's usual doctor for the condition's specialty. When that is not possible the reason is
kept, in this order of precedence: no free room (``no_room``), the doctor is on leave
(``doctor_absent``) or has left (``doctor_left``), the patient chose someone else
(``patient_choice``), the condition needs another specialty (``new_specialty``). A visit back
with the usual doctor after seeing someone else is ``back_to_usual_doctor``.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

import numpy as np

from entities import Doctor, Hospital, Patient
from sim.events import SWITCH_REASONS
from sim.refdata import Condition
from sim.rng import UniformPool
from sim.world import RegionWorld

NO_ROOM, DOCTOR_ABSENT, DOCTOR_LEFT, PATIENT_CHOICE, NEW_SPECIALTY, BACK_TO_USUAL = range(6)
READMITTED_ELSEWHERE = 6
assert SWITCH_REASONS[BACK_TO_USUAL] == "back_to_usual_doctor"
assert SWITCH_REASONS[READMITTED_ELSEWHERE] == "readmitted_elsewhere"


class Choice(NamedTuple):
    """The provider of a visit and why it is not the one the patient would go back to."""

    doctor: Doctor
    hospital: Hospital
    reason: int
    new_usual: bool  # the usual doctor of this specialty left: the new one takes their place


class CareRouter:
    """Chooses doctors and hospitals for one region's visits."""

    def __init__(
        self, world: RegionWorld, draws: UniformPool, generalist: str, hospital_choice: tuple
    ) -> None:
        self.doctors = world.doctors
        self.hospitals = world.hospitals
        self.draws = draws
        self.generalist = generalist
        weights = np.asarray(hospital_choice, dtype=float)
        self.hospital_choice = list(np.cumsum(weights / weights.sum()))

    def choose(
        self,
        patient: Patient,
        condition: Condition,
        day: int,
        episode_doctor: Doctor | None,
        episode_hospital: Hospital | None,
    ) -> Choice:
        """The doctor and hospital for a visit (before looking for a room)."""
        specialty = condition.specialty
        keeps = self.draws.one() < patient.continuity_preference
        if episode_doctor is not None:  # a follow-up
            target, site = episode_doctor, episode_hospital
        elif specialty in patient.usual:
            doctor_index, hospital_index = patient.usual[specialty]
            target, site = self.doctors[doctor_index], self.hospitals[hospital_index]
        else:
            target, site = None, self._hospital_for_new_doctor(patient, keeps)
        new_usual = False
        if target is None:
            reason, doctor = NEW_SPECIALTY, self.doctor_at(site, specialty, day)
        elif not keeps:
            if episode_doctor is None:
                site = self._hospital_for_new_doctor(patient, keeps=False)
            reason = PATIENT_CHOICE
            doctor = self.doctor_at(site, specialty, day, exclude=target.index)
        elif not target.active:
            reason, new_usual = DOCTOR_LEFT, True
            doctor = self.doctor_at(site, specialty, day)
        elif not target.on_duty(day):
            reason, doctor = (
                DOCTOR_ABSENT,
                self.doctor_at(site, specialty, day, exclude=target.index),
            )
        else:
            doctor = target
            reason = NEW_SPECIALTY if specialty != patient.last_specialty else BACK_TO_USUAL
        if doctor is None:  # nobody on duty there: the nearest hospital with someone who is
            site, doctor = self._someone_elsewhere(patient, site, specialty, day)
        return Choice(doctor, site, reason, new_usual)

    def elsewhere(self, patient: Patient, condition: Condition, day: int, choice: Choice) -> Choice:
        """The same visit at another of the patient's nearest hospitals than the one chosen
        (an ambulance's or the patient's choice; reason ``readmitted_elsewhere``), with a
        doctor on duty there; the choice
        itself when there is no other hospital or nobody on duty."""
        for index in patient.hospital_preference:
            if index == choice.hospital.index:
                continue
            site = self.hospitals[index]
            doctor = self.doctor_at(site, condition.specialty, day)
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
        """A doctor on duty at ``hospital``: of the specialty, else a generalist, else anyone
        (at random among those on duty)."""
        for group in (
            hospital.staff.get(specialty, ()),
            hospital.staff.get(self.generalist, ()),
            hospital.doctors,
        ):
            if not group:
                continue
            # Most doctors are on duty: one draw usually settles it without scanning the group.
            first = self.doctors[group[int(self.draws.one() * len(group))]]
            if first.index != exclude and first.on_duty(day):
                return first
            on_duty = [d for d in group if d != exclude and self.doctors[d].on_duty(day)]
            if on_duty:
                return self.doctors[on_duty[int(self.draws.one() * len(on_duty))]]
        return None

    def _hospital_for_new_doctor(self, patient: Patient, keeps: bool) -> Hospital:
        """Where a patient looks for a doctor they have not seen: where they were last
        (if they like continuity), else one of their nearest hospitals."""
        if keeps and patient.last_hospital >= 0:
            return self.hospitals[patient.last_hospital]
        choices = patient.hospital_preference
        rank = min(bisect_right(self.hospital_choice, self.draws.one()), len(choices) - 1)
        return self.hospitals[choices[rank]]

    def _someone_elsewhere(
        self, patient: Patient, site: Hospital, specialty: str, day: int
    ) -> tuple[Hospital, Doctor]:
        order = [*patient.hospital_preference, *range(len(self.hospitals))]
        for index in order:
            doctor = self.doctor_at(self.hospitals[index], specialty, day)
            if doctor is not None:
                return self.hospitals[index], doctor
        # every doctor of the region is away: the visit goes ahead with an active one
        for hospital in (site, *self.hospitals):
            active = [d for d in hospital.doctors if self.doctors[d].active]
            if active:
                return hospital, self.doctors[active[0]]
        raise RuntimeError("a region has no active doctor")

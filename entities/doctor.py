"""Doctors: a specialty, one to three hospitals of one state, a practice style, and a
working life (absences, departure) that the staffing process plays out."""

from __future__ import annotations

import attrs

from entities.treatments import MEDICATION


@attrs.define(slots=True, eq=False)
class Doctor:
    """A doctor of a region."""

    index: int
    name: str
    hospitals: tuple[int, ...]
    specialty: str
    style: float  # same-day discharge bias
    prescribing_bias: float  # shift of the weight given to Medication
    active: bool = True  # False once the doctor has left
    absent_until: int = -1  # first day back from an absence
    replaces: int = -1  # the departed doctor this one took over from
    joined_day: int = 0  # the day the doctor started (0: on staff when the history starts)
    left_day: int = -1  # the day the doctor left for good (-1: still on staff)

    def works_at(self, hospital: int) -> bool:
        return hospital in self.hospitals

    def on_duty(self, day: int) -> bool:
        """Working (not departed, not on leave) on ``day``."""
        return self.active and day >= self.absent_until

    def treatment_weights(
        self, options: tuple[str, ...], weights: tuple[float, ...]
    ) -> tuple[float, ...]:
        """The case's treatment weights after this doctor's prescribing habit."""
        if MEDICATION not in options or self.prescribing_bias == 0.0:
            return weights
        shifted = [
            max(w + self.prescribing_bias, 0.0) if name == MEDICATION else w
            for name, w in zip(options, weights)
        ]
        total = sum(shifted)
        return tuple(w / total for w in shifted)

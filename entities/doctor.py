"""Doctors: affiliated with one to three hospitals of one state, with a practice style."""

from __future__ import annotations

import attrs

from sim.refdata import MEDICATION


@attrs.define(slots=True, eq=False)
class Doctor:
    """A doctor of a region."""

    index: int
    name: str
    hospitals: tuple[int, ...]
    style: float  # same-day discharge bias
    prescribing_bias: float  # shift of the weight given to Medication

    def works_at(self, hospital: int) -> bool:
        return hospital in self.hospitals

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

"""What the doctor ordered at each encounter: the treatment, a medication, the test result.

None of it feeds back into the timeline (a delivery's mode, which sets the stay's length, is
decided on the clock and logged with the admission), so the clock logs each admission with its
orders left open (``UNORDERED``) and, when it stops, they are drawn for all the new admissions
at once and written into their ``Admitted`` events. Each visit draws from its own row of the
region's ``orders`` stream and admissions are taken in visit order, so a run stopped once or
many times writes the same orders.

- **Treatment**: by the case's weights (a first visit's or a follow-up's, over the condition's
  options; Monitoring alone only for a Normal or Mild first visit of a condition that allows
  it), shifted by the doctor's prescribing habit. A once-in-a-lifetime treatment (a bypass)
  belongs to a first visit, and a patient who had it gets the condition's other treatment.
- **Medication**: when the treatment is Medication, one of the condition's drugs whose dose is
  for the patient's age on the day.
- **Test result**: by the encounter's severity.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from sim.events import EventLog
from sim.refdata import MEDICATION, MONITORING, Catalog, Condition
from sim.rng import normalised, stream
from sim.scenario import Scenario
from sim.world import RegionWorld

UNORDERED = -1  # a logged admission's treatment and test result before its orders are drawn
NO_MEDICATION = -1
MODERATE = 2  # severity codes: Normal, Mild, Moderate, Severe
TREATMENT, MEDICATION_DRAW, TEST = range(3)  # the columns of a visit's draws


class CareOrders:
    """Draws the orders of a region's admissions (see the module)."""

    def __init__(
        self,
        world: RegionWorld,
        scenario: Scenario,
        catalog: Catalog,
        day_key: Sequence[int],
        birth_key: list[int],
    ) -> None:
        self.world = world
        self.scenario = scenario
        self.catalog = catalog
        self._day_key = np.asarray(day_key, dtype=np.int64)
        self._birth_key = birth_key  # shared with the clock, which moves a late birth's key
        self._code = {name: i for i, name in enumerate(catalog.treatments)}
        self._once = np.array(sorted(self._code[n] for n in catalog.once_per_patient), dtype=int)
        self._medication = self._code[MEDICATION]
        self._tests = np.cumsum(np.asarray(catalog.test_result_weights, dtype=float), axis=1)
        self._doses, self._dose_count = _dose_table(catalog)
        self._cases: dict[int, tuple[tuple[int, ...], tuple[float, ...]]] = {}  # -> codes, sums
        self._kinds: dict[int, tuple[tuple[str, ...], tuple[int, ...], tuple[float, ...]]] = {}

    def fill(self, log: EventLog) -> None:
        """Draw the orders of the admissions logged since the last stop."""
        admitted = log.all_columns("Admitted")
        todo = np.flatnonzero(admitted["test_result"] == UNORDERED)
        if not len(todo):
            return
        visit = admitted["visit"][todo]
        draws = stream(self.scenario.seed, self.world.key, "orders").random(
            (int(visit.max()) + 1, 3)
        )[visit]
        patient, condition = admitted["patient"][todo], admitted["condition"][todo]
        severity = admitted["severity"][todo]
        treatment = admitted["treatment"][todo]
        open_ = treatment == UNORDERED
        treatment[open_] = self._treatments(
            admitted["doctor"][todo][open_],
            condition[open_],
            admitted["followup"][todo][open_] > 0,
            severity[open_] >= MODERATE,
            draws[open_, TREATMENT],
        )
        done = admitted["test_result"] != UNORDERED
        treatment = self._once_per_patient(
            patient, condition, treatment, admitted["patient"][done], admitted["treatment"][done]
        )
        medication = np.full(len(todo), NO_MEDICATION)
        given = np.flatnonzero(treatment == self._medication)
        if len(given):
            age = (
                self._day_key[admitted["day"][todo][given]]
                - np.asarray(self._birth_key)[patient[given]]
            ) // 10000
            medication[given] = self._doses_for(
                condition[given], age, draws[given, MEDICATION_DRAW]
            )
        tests = self._tests[severity]
        test = np.minimum((tests <= draws[:, TEST, None]).sum(axis=1), tests.shape[1] - 1)
        orders = {"treatment": treatment, "medication": medication, "test_result": test}
        for field, values in orders.items():  # the log's columns are read-only: new ones
            admitted[field] = admitted[field].copy()
            admitted[field][todo] = values
        log.rewrite("Admitted", admitted)

    def _treatments(
        self,
        doctor: np.ndarray,
        condition: np.ndarray,
        followup: np.ndarray,
        moderate_or_worse: np.ndarray,
        u: np.ndarray,
    ) -> np.ndarray:
        """Each case's treatment code, drawn with ``u`` from its doctor's weights."""
        conditions = len(self.catalog.conditions)
        key = ((doctor * conditions + condition) * 2 + followup) * 2 + moderate_or_worse
        cases, case_of = np.unique(key, return_inverse=True)
        tables = [self._case(k) for k in cases.tolist()]
        count = np.array([len(codes) for codes, _ in tables])
        width = int(count.max())
        # padded: a code never drawn, a running weight never reached
        codes = np.array([(*c, *(UNORDERED,) * (width - len(c))) for c, _ in tables])
        sums = np.array([(*s, *(np.inf,) * (width - len(s))) for _, s in tables])
        pick = np.minimum((sums[case_of] <= u[:, None]).sum(axis=1), count[case_of] - 1)
        return codes[case_of, pick]

    def _case(self, key: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """The treatment codes of a case (doctor, condition, follow-up?, Moderate or worse?)
        and their running weights for the doctor."""
        cached = self._cases.get(key)
        if cached is None:
            doctor, kind = divmod(key, 4 * len(self.catalog.conditions))
            options, codes, weights = self._kind(kind)
            weights = self.world.doctors[doctor].treatment_weights(options, weights)
            # the running sum in order, as np.cumsum adds, without an array per case
            cached = self._cases[key] = (codes, tuple(accumulate(weights)))
        return cached

    def _kind(self, key: int) -> tuple[tuple[str, ...], tuple[int, ...], tuple[float, ...]]:
        """A kind of case's (condition * 4 + follow-up? * 2 + Moderate or worse?) treatment
        options, their codes and their weights before the doctor's habit."""
        cached = self._kinds.get(key)
        if cached is None:
            rest, moderate_or_worse = divmod(key, 2)
            code, followup = divmod(rest, 2)
            options, weights = self._weights(
                self.catalog.conditions[code], bool(followup), bool(moderate_or_worse)
            )
            codes = tuple(self._code[name] for name in options)
            cached = self._kinds[key] = (options, codes, weights)
        return cached

    def _weights(
        self, condition: Condition, followup: bool, moderate_or_worse: bool
    ) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """A case's treatment options and their weights before the doctor's habit."""
        scenario = self.scenario
        if not followup:
            options = (*condition.treatments, MONITORING)
            weights = normalised(scenario.first_visit_treatment_weights)
            if moderate_or_worse or not condition.first_visit_monitoring:
                # Monitoring alone is for Normal/Mild cases of conditions that allow it
                weights = (weights[0] + weights[2], weights[1], 0.0)
            return options, weights
        if condition.followup_treatments:
            options = condition.followup_treatments
            weights = normalised(condition.followup_treatment_weights)
        else:
            options = (*condition.treatments, MONITORING)
            weights = normalised(scenario.followup_treatment_weights)
        # a once-in-a-lifetime procedure (a bypass) belongs to a first visit: its weight goes
        # to the first option allowed
        once = self.catalog.once_per_patient
        moved = list(weights)
        allowed = next(i for i, name in enumerate(options) if name not in once)
        for i, name in enumerate(options):
            if name in once:
                moved[allowed] += moved[i]
                moved[i] = 0.0
        return options, tuple(moved)

    def _once_per_patient(
        self,
        patient: np.ndarray,
        condition: np.ndarray,
        treatment: np.ndarray,
        earlier_patient: np.ndarray,
        earlier_treatment: np.ndarray,
    ) -> np.ndarray:
        """The treatments with a once-in-a-lifetime one given again (to a patient who had it
        at an earlier visit, of this stop or an earlier one) replaced by the condition's other
        treatment, Monitoring when it has none."""
        once = np.isin(treatment, self._once)
        if not once.any():
            return treatment
        stride = len(self.catalog.treatments)
        had = np.isin(earlier_treatment, self._once)
        received = earlier_patient[had] * stride + earlier_treatment[had]
        rows = np.flatnonzero(once)  # in visit order
        key = patient[rows] * stride + treatment[rows]
        _, first = np.unique(key, return_index=True)
        again = np.ones(len(rows), dtype=bool)
        again[first] = False
        again |= np.isin(key, received)
        treatment = treatment.copy()
        for row in rows[again]:
            given = self.catalog.treatments[treatment[row]]
            others = [
                name for name in self.catalog.conditions[condition[row]].treatments if name != given
            ]
            treatment[row] = self._code[others[0] if others else MONITORING]
        return treatment

    def _doses_for(self, condition: np.ndarray, age: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A medication row for each (condition, age), drawn with ``u`` among those whose
        dose is for that age."""
        age = np.minimum(age, self._doses.shape[1] - 1)
        count = self._dose_count[condition, age]
        if (count == 0).any():
            raise ValueError("a condition treated with Medication has no dose for an age")
        return self._doses[condition, age, (u * count).astype(np.int64)]


def _dose_table(catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Medication rows by (condition, age; the last age for older) padded into one array,
    and how many each (condition, age) has."""
    by_age = catalog.medications.rows_by_age
    ages = max((len(table) for table in by_age), default=1)
    width = max((len(rows) for table in by_age for rows in table), default=1)
    doses = np.full((len(by_age), ages, width), NO_MEDICATION)
    count = np.zeros((len(by_age), ages), dtype=np.int64)
    for code, table in enumerate(by_age):
        for age in range(ages):
            rows = table[min(age, len(table) - 1)] if table else ()
            doses[code, age, : len(rows)] = rows
            count[code, age] = len(rows)
    return doses, count

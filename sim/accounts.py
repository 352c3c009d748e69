"""The billing office: each finished encounter's bill, and the patient's payment of it.

Bills feed nothing back into care, so the clock does not wait on them: when it stops (at
``--today``, or at each step of a time-stepped run) the office reads the encounters that have
ended so far off the event log, prices and adjudicates them all at once (``sim.revenue``), and
writes the ``BillIssued`` and ``PaymentMade`` events up to that day. A run stopped once or many
times writes the same events: each visit draws from its own row of the region's billing
stream, and the yearly cost-sharing totals run through the claims in the order the encounters
ended (by day, then visit).

- A first encounter is priced from the care it was. An episode's clinic follow-ups are
  established-patient visits priced once per episode (with the first follow-up's treatment
  and hospital), with an occasional small bump over the previous one, and always below the
  first encounter's charge.
- A bill is issued a few days after the discharge (by ``--today`` at the latest), in full or
  on a payment plan, with its due date. Its balance is paid on time, late or never; a bill
  that leaves the patient nothing to pay is settled the day it is issued.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from sim.events import ADMISSION_TYPES, PLANS, EventLog
from sim.refdata import Catalog
from sim.revenue import Claims, RevenueCycle
from sim.rng import stream
from sim.scenario import Scenario
from sim.world import RegionWorld

FULL, INCREMENTAL = (PLANS.index(p) for p in ("Full", "Incremental"))
THROUGH_ED = tuple(ADMISSION_TYPES.index(a) for a in ("Emergency", "Trauma"))
# the uniform draws of each visit's bill, one column each
CHARGE, BUMP, BUMP_SIZE, CHARITY, DELAY, PLAN, UNPAID, LATE, PAY_DAY = range(9)
DRAWS_PER_VISIT = 9
VISIT_FIELDS = (
    "day", "patient", "episode", "condition", "followup", "hospital", "severity", "treatment",
    "encounter", "admission_type",
)  # fmt: skip


class BillingOffice:
    """Bills and payments of one region's encounters (see the module)."""

    def __init__(
        self,
        world: RegionWorld,
        scenario: Scenario,
        catalog: Catalog,
        year_of_day: Sequence[int],
    ) -> None:
        self.scenario = scenario
        self.region = world.key
        self.revenue = RevenueCycle(
            world.coverage,
            year_of_day,
            [c.name for c in catalog.conditions],
            catalog.treatments,
        )
        self.charge_factor = np.array([h.charge_multiplier for h in world.hospitals])
        self.collections = np.array([h.late_payment_multiplier for h in world.hospitals])

    def settle(self, log: EventLog, through: int) -> None:
        """Write the bills issued and the payments made through day ``through`` for the
        encounters that have ended (replacing what an earlier stop wrote)."""
        scenario = self.scenario
        admitted = log.all_columns("Admitted")
        ended = log.all_columns("Discharged")
        order = np.lexsort((ended["visit"], ended["day"]))
        visit, discharge = ended["visit"][order], ended["day"][order]
        row_of_visit = np.empty(int(admitted["visit"].max(initial=-1)) + 1, dtype=np.int64)
        row_of_visit[admitted["visit"]] = np.arange(len(admitted["visit"]))
        at = row_of_visit[visit]
        v = {field: admitted[field][at] for field in VISIT_FIELDS}
        draws = stream(scenario.seed, self.region, "billing").random(
            (len(row_of_visit), DRAWS_PER_VISIT)
        )[visit]
        days = discharge - v["day"]
        factor = self.charge_factor[v["hospital"]]
        total = self._totals(v, days, factor, draws)
        claims = self.revenue.adjudicate(
            v["patient"], v["day"], discharge, total, v["encounter"], days, factor,
            draws[:, CHARITY],
        )  # fmt: skip
        self._write(log, through, v, visit, discharge, total, claims, draws)

    def _totals(
        self, v: dict[str, np.ndarray], days: np.ndarray, factor: np.ndarray, draws: np.ndarray
    ) -> np.ndarray:
        """The total charge of each encounter: first encounters from their care, then each
        episode's follow-ups in turn."""
        scenario = self.scenario
        revenue = self.revenue
        total = np.zeros(len(days), dtype=np.int64)
        first = np.flatnonzero(v["followup"] == 0)
        charge = revenue.first_charges(
            v["condition"][first],
            v["treatment"][first],
            v["encounter"][first],
            v["severity"][first],
            days[first],
            np.isin(v["admission_type"][first], THROUGH_ED),
            factor[first],
            draws[first, CHARGE],
        )
        total[first] = np.maximum(np.round(charge), scenario.minimum_charge)
        episodes = int(v["episode"].max(initial=-1)) + 1
        first_total = np.zeros(episodes, dtype=np.int64)
        first_total[v["episode"][first]] = total[first]
        base = np.zeros(episodes)  # an episode's follow-up charge before any bump
        previous = np.zeros(episodes)  # its last follow-up's total
        lo, hi = scenario.followup_bump
        followups = np.flatnonzero(v["followup"] > 0)
        by_number = followups[np.argsort(v["followup"][followups], kind="stable")]
        numbers = v["followup"][by_number]
        bounds = np.searchsorted(numbers, np.arange(1, numbers.max(initial=0) + 2))
        for number, (start, stop) in enumerate(itertools.pairwise(bounds), start=1):
            rows = by_number[start:stop]
            episode = v["episode"][rows]
            if number == 1:
                base[episode] = revenue.follow_up_charges(
                    v["treatment"][rows], factor[rows], draws[rows, CHARGE]
                )
            charge = base[episode]
            bumped = draws[rows, BUMP] < scenario.followup_bump_probability
            bump = 1.0 + lo + draws[rows, BUMP_SIZE] * (hi - lo)
            charge = np.where(bumped, np.maximum(previous[episode], charge) * bump, charge)
            ceiling = first_total[episode] - 1
            total[rows] = np.maximum(np.minimum(np.round(charge), ceiling), scenario.minimum_charge)
            previous[episode] = total[rows]
        return total

    def _write(
        self,
        log: EventLog,
        through: int,
        v: dict[str, np.ndarray],
        visit: np.ndarray,
        discharge: np.ndarray,
        total: np.ndarray,
        claims: Claims,
        draws: np.ndarray,
    ) -> None:
        """Issue the bills (plan, due day) and book their payments, through ``through``."""
        scenario, revenue = self.scenario, self.revenue
        patient, owed = v["patient"], claims.patient
        lo, hi = scenario.bill_delay_days
        bill_day = np.minimum(
            discharge + lo + (draws[:, DELAY] * (hi - lo + 1)).astype(np.int64),
            scenario.horizon,
        )
        instalments = revenue.chooses_plan(owed, draws[:, PLAN])
        plan = np.where(instalments, INCREMENTAL, FULL)
        due = bill_day + np.where(
            instalments, scenario.incremental_plan_days, scenario.full_plan_days
        )
        unpaid = revenue.never_pays(
            claims, patient, self.collections[v["hospital"]], draws[:, UNPAID]
        )
        late = revenue.pays_late(claims, patient, draws[:, LATE])
        lo, hi = scenario.late_days
        late_day = due + lo + (draws[:, PAY_DAY] * (hi - lo + 1)).astype(np.int64)
        lo, hi = scenario.on_time_days_early
        early = (draws[:, PAY_DAY] * (hi - lo + 1)).astype(np.int64)
        on_time_day = np.maximum(bill_day, due - lo - early)
        pay_day = np.select([owed <= 0, late], [bill_day, late_day], on_time_day)
        issued = bill_day <= through
        issued = np.flatnonzero(issued)[np.lexsort((visit[issued], bill_day[issued]))]
        log.rewrite(
            "BillIssued",
            {
                "day": bill_day[issued],
                "patient": patient[issued],
                "visit": visit[issued],
                "total": total[issued],
                "insurance": claims.insurance[issued],
                "patient_share": owed[issued],
                "plan": plan[issued],
                "due_day": due[issued],
                "payer": claims.payer[issued],
                "insurance_plan": claims.plan[issued],
                "adjustment": claims.adjustment[issued],
                "charity": claims.charity[issued],
            },
        )
        paid = ~unpaid & (pay_day <= min(through, scenario.horizon))
        paid = np.flatnonzero(paid)[np.lexsort((visit[paid], pay_day[paid]))]
        log.rewrite(
            "PaymentMade",
            {
                "day": pay_day[paid],
                "patient": patient[paid],
                "visit": visit[paid],
                "amount": owed[paid],
            },
        )

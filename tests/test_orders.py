"""The orders of encounters (sim.orders): drawn after the clock, as the rules say."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.refdata import MONITORING, load_catalog
from sim.scenario import Scenario
from sim.simulation import Simulation


def test_a_once_in_a_lifetime_treatment_given_again_is_the_conditions_other_one():
    catalog = load_catalog()
    orders = Simulation(Scenario(patients=60, seed=2, today=dt.date(2024, 6, 30))).regions[0].orders
    code = {name: i for i, name in enumerate(catalog.treatments)}
    (once,) = catalog.once_per_patient
    condition = next(c for c in catalog.conditions if once in c.treatments)
    other = next((n for n in condition.treatments if n != once), MONITORING)
    # patients 0, 1, 0, 2, 1 at five visits in order; patient 2 had it at an earlier stop
    patient = np.array([0, 1, 0, 2, 1])
    given = orders._once_per_patient(
        patient,
        np.full(5, condition.code),
        np.array([code[once]] * 4 + [code[MONITORING]]),
        earlier_patient=np.array([2, 3]),
        earlier_treatment=np.array([code[once], code[MONITORING]]),
    )
    names = [catalog.treatments[t] for t in given]
    assert names == [once, once, other, other, MONITORING]


def test_orders_are_drawn_for_every_admission_and_medication_only_with_medication():
    simulation = Simulation(Scenario(patients=300, seed=4, today=dt.date(2024, 6, 30))).run()
    catalog = load_catalog()
    for region in simulation.regions:
        admitted = region.log.all_columns("Admitted")
        assert (admitted["test_result"] >= 0).all() and (admitted["treatment"] >= 0).all()
        with_drug = admitted["medication"] >= 0
        medication = catalog.treatments.index("Medication")
        assert (with_drug == (admitted["treatment"] == medication)).all()


def test_a_clock_stepped_many_times_derives_orders_and_bills_once_when_read(monkeypatch):
    from sim.accounts import BillingOffice

    settled = []
    settle = BillingOffice.settle
    monkeypatch.setattr(
        BillingOffice,
        "settle",
        lambda self, log, day: settled.append(day) or settle(self, log, day),
    )
    simulation = Simulation(Scenario(patients=150, seed=6, today=dt.date(2024, 6, 30)))
    for day in (10, 20, 30, 40):
        simulation.run(until=day)
    assert settled == []  # nothing read yet
    simulation.state()
    last = simulation.scenario.first_day + 40
    assert settled == [last] * len(simulation.regions)  # once per region, through the last day

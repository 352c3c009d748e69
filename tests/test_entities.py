"""The agents' own rules: rooms, patients' caps and waiting, doctors' habits, the scenario."""

from __future__ import annotations

import datetime as dt

import pytest
import simpy

from entities import Doctor, Patient, RoomPool
from entities.hospital import room_numbers
from sim.refdata import load_catalog
from sim.scenario import Scenario, ScenarioError


def test_room_numbers_run_by_floor():
    assert room_numbers(42)[:2] == [101, 102]
    assert room_numbers(42)[39:] == [140, 201, 202]


def test_a_room_holds_one_patient_and_waiters_are_served_in_order():
    env = simpy.Environment()
    pool = RoomPool(env, 1)
    assert pool.acquire() == 101
    assert pool.acquire() is None
    got = []

    def wait(name):
        room = yield pool.request()
        got.append((name, room, env.now))

    env.process(wait("first"))
    env.process(wait("second"))

    def release_later():
        yield env.timeout(3)
        pool.release(101)

    env.process(release_later())
    env.run()
    assert got == [("first", 101, 3)]
    assert pool.occupied == 1


def _patient():
    return Patient(
        index=0,
        birth_day=-10_000,
        hospital_preference=(0,),
        continuity_preference=1.0,
    )


def test_childbirth_caps_and_spacing():
    childbirth = load_catalog().by_name["Childbirth"]
    patient = _patient()
    assert patient.accepts_episode(childbirth, 10, 2024)
    patient.begin_episode(childbirth, 10, 2024)
    patient.end_episode(childbirth)
    assert not patient.accepts_episode(childbirth, 10 + 200, 2024)
    assert patient.accepts_episode(childbirth, 10 + 274, 2025)
    patient.begin_episode(childbirth, 300, 2025)
    patient.end_episode(childbirth)
    assert not patient.accepts_episode(childbirth, 1000, 2027)


def test_flu_yearly_cap_and_no_new_episode_during_one():
    flu = load_catalog().by_name["Flu"]
    patient = _patient()
    for day in (1, 50, 100):
        assert patient.accepts_episode(flu, day, 2024)
        patient.begin_episode(flu, day, 2024)
        assert not patient.accepts_episode(flu, day + 1, 2024)  # still ill
        patient.end_episode(flu)
    assert not patient.accepts_episode(flu, 200, 2024)
    assert patient.accepts_episode(flu, 400, 2025)


def test_a_patient_waits_for_the_end_of_a_stay():
    env = simpy.Environment()
    patient = _patient()
    patient.in_stay = True
    admitted = []

    def second_episode():
        yield patient.wait_until_free(env)
        admitted.append(env.now)

    def first_stay():
        yield env.timeout(4)
        patient.leave()

    env.process(second_episode())
    env.process(first_stay())
    env.run()
    assert admitted == [4] and patient.in_stay  # the stay passed straight to the waiter


def test_prescribing_bias_shifts_the_weight_of_medication():
    options = ("Medication", "Rest & Fluids", "Monitoring")
    keen = Doctor(
        index=0, name="Dr. A B", hospitals=(0,), specialty="X", style=0.0, prescribing_bias=0.1
    )
    shy = Doctor(
        index=1, name="Dr. C D", hospitals=(0,), specialty="X", style=0.0, prescribing_bias=-0.1
    )
    base = (0.7, 0.26, 0.04)
    assert keen.treatment_weights(options, base)[0] > 0.7 > shy.treatment_weights(options, base)[0]
    assert sum(keen.treatment_weights(options, base)) == pytest.approx(1.0)
    assert keen.treatment_weights(("Cast", "Surgery", "Monitoring"), base) == base


@pytest.mark.parametrize(
    "values",
    [
        {"patients": 0},
        {"insured_rate": 1.2},
        {"minor_same_day_rate": -0.1},
        {"today": dt.date(2020, 1, 1), "start": dt.date(2021, 1, 1)},
        {"bill_delay_days": (5, 0)},
        {"date_format": "dmy"},
    ],
)
def test_scenario_refuses_bad_values(values):
    with pytest.raises((ScenarioError, ValueError)):
        Scenario(**values)


def test_scenario_defaults_come_from_the_data_file():
    scenario = Scenario(today=dt.date(2024, 2, 29))
    assert scenario.patients == 1000 and scenario.seed == 42 and scenario.insured_rate is None
    assert scenario.start == dt.date(2021, 2, 28)
    assert scenario.first_day == scenario.burn_in_days == 365  # the clock starts a year before
    assert scenario.clock_start == dt.date(2020, 2, 29)
    assert scenario.horizon == (dt.date(2024, 2, 29) - dt.date(2020, 2, 29)).days

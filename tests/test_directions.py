"""Knobs move the data in the direction they promise (same seed, so common random numbers)."""

from __future__ import annotations

import pytest

from tests.conftest import simulate

pytestmark = pytest.mark.slow  # each direction compares two runs of a few thousand patients


def _figures(**values):
    return simulate(patients=1500, seed=21, **values)[2]["distributions"]


def _released_from_the_ed(minor_same_day_rate: float) -> float:
    """Of the ED arrivals for minor and chronic conditions, the share sent home that day."""
    from sim.refdata import load_catalog

    visits = simulate(patients=1500, seed=21, minor_same_day_rate=minor_same_day_rate)[1].visits
    scaled = [c.name for c in load_catalog().conditions if c.category in ("minor", "chronic")]
    arrivals = (
        visits["condition"].isin(scaled)
        & visits["admission_type"].isin(["Emergency", "Trauma"])
        & (visits["visit_type"] == "Initial")
    )
    return float((visits.loc[arrivals, "encounter_type"] == "Emergency").mean())


def test_a_higher_minor_same_day_rate_sends_more_ed_patients_home_the_same_day():
    assert _released_from_the_ed(0.8) > _released_from_the_ed(0.1) + 0.4


def test_a_lower_insured_rate_gives_fewer_insured_patients_and_more_late_unpaid_bills():
    low = _figures(insured_rate=0.3)
    high = _figures(insured_rate=0.95)
    assert low["insured_rate"] < 0.4 < 0.9 < high["insured_rate"]
    paid = {name: low["payment_status"][name] for name in ("Paid", "Late-Unpaid")}
    assert low["payment_status"]["Late-Unpaid"] / sum(low["payment_status"].values()) > (
        high["payment_status"]["Late-Unpaid"] / sum(high["payment_status"].values())
    ), paid


def test_uninsured_patients_leave_more_bills_unpaid(medium_run):
    rates = medium_run[2]["distributions"]["late_unpaid_rate"]
    assert rates["uninsured"] > rates["insured"]

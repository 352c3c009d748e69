"""Hostile and extreme input (issue 14): accepted settings give valid data, refused ones are
one line on stderr with exit status 2, before any simulation and without a traceback."""

from __future__ import annotations

import pytest

from reporting.validation import followup_window_days as checked_window
from sim.processes import followup_window_days
from sim.refdata import load_catalog
from tests.conftest import simulate


@pytest.mark.parametrize(
    "rooms",
    [
        {"rooms_per_hospital": 1, "patients": 150},
        {"room_scale": 0.2, "patients": 300},
    ],
)
def test_waiting_for_a_room_keeps_every_rule(rooms):
    """Few rooms: stays wait, follow-ups that find no room in their window lapse, and the
    LOS fences, follow-up flags and episode caps all hold."""
    simulation, _, summary = simulate(seed=3, single_hospital=True, **rooms)
    assert {name: n for name, n in summary["checks"].items() if n} == {}
    assert sum(region.lapsed_followups for region in simulation.regions) > 0


def test_the_simulated_followup_window_is_the_one_the_checks_use():
    catalog = load_catalog()
    assert followup_window_days(catalog) == checked_window(catalog)

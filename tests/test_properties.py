"""Property-based: whatever the scenario values, every rule check holds."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import simulate

scenarios = st.fixed_dictionaries(
    {
        "patients": st.integers(1, 250),
        "seed": st.integers(0, 2**32 - 1),
        "today": st.dates(dt.date(2001, 3, 1), dt.date(2030, 12, 31)),
        "history_days": st.integers(0, 4 * 365),
        "minor_same_day_rate": st.floats(0, 1),
        "insured_rate": st.floats(0, 1),
        "continuity_preference": st.floats(0, 1),
        "room_headroom": st.floats(0.05, 2.0),
        "min_rooms": st.integers(1, 4),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios)
def test_rule_checks_hold_for_any_scenario(values):
    history = values.pop("history_days")
    values["start"] = values["today"] - dt.timedelta(days=history)
    _, tables, summary = simulate(**values)
    failing = {name: count for name, count in summary["checks"].items() if count}
    assert failing == {}
    assert len(tables.patients) == values["patients"]
    assert len(tables.visits) == len(tables.billing)

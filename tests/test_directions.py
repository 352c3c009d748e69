"""Knobs move the data in the direction they promise (same seed, so common random numbers)."""

from __future__ import annotations

import pandas as pd
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


@pytest.fixture(scope="module")
def two_states(tmp_path_factory):
    """Two states of towns and countryside (every ZIP of Iowa and Nebraska), with hospitals
    big enough for full rosters (room scale 15, as real-size hospitals have)."""
    from sim.geography import load_zip_table

    zips = load_zip_table()
    rows = [i for state in ("IA", "NE") for i in zips.rows_of_state(state).tolist()]
    path = tmp_path_factory.mktemp("pool") / "pool.csv"
    path.write_text(
        "zipcode,state\n" + "".join(f"{zips.zipcode[i]},{zips.state[i]}\n" for i in rows)
    )
    return simulate(patients=3000, seed=21, zip_pool_file=str(path))


def _outpatient_doctor_coc(tables) -> pd.Series:
    """Each patient's doctor-level COC over their clinic visits (patients with 2 or more)."""
    from reporting.continuity import continuity_table

    clinic = tables.visits[tables.visits["encounter_type"] == "Outpatient"]
    table = continuity_table(clinic, min_visits=2)
    return table[table["level"] == "doctor"].set_index("patient_id")["coc"]


def test_uninsured_patients_have_lower_outpatient_continuity(two_states):
    """Fewer of the uninsured have a usual source of care (NHIS): they see whoever is there."""
    tables = two_states[1]
    coc = _outpatient_doctor_coc(tables)
    payer = tables.patients.set_index("patient_id")["payer_type"].astype(str).reindex(coc.index)
    uninsured = payer == "Self-pay"
    assert uninsured.sum() >= 50
    assert coc[uninsured].mean() < coc[~uninsured].mean() - 0.05


def test_rural_patients_see_fewer_distinct_hospitals(two_states):
    """Hospitals are far apart in rural areas: fewer are within reach."""
    from sim.geography import METROPOLITAN, load_zip_table

    tables = two_states[1]
    zips = load_zip_table()
    area = pd.Series(zips.area, index=zips.zipcode)
    patients = tables.patients.set_index("patient_id")
    rural = pd.Series(area.reindex(patients["zipcode"].astype(str)).to_numpy() != METROPOLITAN,
                      index=patients.index)  # fmt: skip
    visits = tables.visits.groupby("patient_id")["hospital_id"].agg(["size", "nunique"])
    visits = visits[visits["size"] >= 3].join(rural.rename("rural"))
    distinct = visits.groupby("rural")["nunique"].mean()
    assert visits["rural"].sum() >= 100
    assert distinct[True] < distinct[False]

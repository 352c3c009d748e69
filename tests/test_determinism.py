"""Same inputs + seed => byte-identical files; regions do not depend on run order."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from reporting.app import Simulation
from reporting.app.cli import main
from sim.scenario import Scenario
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parents[1]
FILES = ("patients.csv", "visits.csv", "billing.csv", "conditions.csv", "coverage.csv")


def summary_without_invocation(folder) -> dict:
    """The summary minus run.invocation: the command line (here --outdir) is recorded as
    given, so it differs between the runs compared; everything else must be identical."""
    summary = json.loads((folder / "validation_summary.json").read_text())
    del summary["run"]["invocation"]
    return summary


def _run(outdir, *extra):
    return main(
        [
            "--patients",
            "250",
            "--today",
            TODAY.isoformat(),
            "--outdir",
            str(outdir),
            "--quiet",
            *extra,
        ]
    )


def test_two_runs_write_identical_bytes(tmp_path):
    assert _run(tmp_path / "a") == 0
    assert _run(tmp_path / "b") == 0
    for name in FILES:
        assert filecmp.cmp(tmp_path / "a" / name, tmp_path / "b" / name, shallow=False), name
    assert summary_without_invocation(tmp_path / "a") == summary_without_invocation(tmp_path / "b")


@pytest.mark.slow
def test_another_seed_gives_another_dataset(tmp_path):
    _run(tmp_path / "a", "--seed", "1")
    _run(tmp_path / "b", "--seed", "2")
    for name in ("patients.csv", "visits.csv", "billing.csv"):
        assert not filecmp.cmp(tmp_path / "a" / name, tmp_path / "b" / name, shallow=False), name


@pytest.mark.slow
def test_regions_give_the_same_tables_in_any_run_order():
    scenario = Scenario(patients=400, seed=5, today=TODAY)
    forward = Simulation(scenario)
    forward.run()
    backward = Simulation(scenario)
    backward.regions.reverse()
    backward.run()
    for (name, a), (_, b) in zip(forward.tables().items(), backward.tables().items()):
        pd.testing.assert_frame_equal(a, b, obj=name)


def test_stepping_the_clock_equals_one_run():
    scenario = Scenario(patients=300, seed=9, today=TODAY)
    whole = Simulation(scenario).run().tables()
    stepped = Simulation(scenario)
    for day in (0, 100, 101, 555, (scenario.today - scenario.start).days - 1):
        stepped.run(until=day)
    stepped.run()
    for (name, a), (_, b) in zip(whole.items(), stepped.tables().items()):
        pd.testing.assert_frame_equal(a, b, obj=name)


@pytest.mark.slow
def test_a_billing_figure_leaves_the_clinical_timeline_alone():
    """Common random numbers: billing draws come from their own stream."""
    base = Scenario(patients=300, seed=3, today=TODAY)
    a = Simulation(base).run().tables().visits
    b = (
        Simulation(base.evolve(followup_bump_probability=0.5, incremental_plan_days=200))
        .run()
        .tables()
        .visits
    )
    pd.testing.assert_frame_equal(a, b)


# numpy picks its vectorised maths by processor: with AVX-512 its exp and log can differ from
# the C library's in the last bit. A dataset must not depend on which kernels ran.
WIDE_KERNELS = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"


def _has_wide_kernels() -> bool:
    try:  # numpy's own table of what the processor has (not a public name)
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        return False
    return all(__cpu_features__.get(feature) for feature in WIDE_KERNELS.split())


@pytest.mark.slow
@pytest.mark.skipif(not _has_wide_kernels(), reason="no AVX-512 kernels here to turn off")
def test_the_dataset_does_not_depend_on_the_processors_vector_kernels(tmp_path):
    command = [sys.executable, str(ROOT / "run_sim.py"), "--patients", "3000", "--today",
               TODAY.isoformat(), "--quiet", "--workers", "1"]  # fmt: skip
    subprocess.run([*command, "--outdir", str(tmp_path / "wide")], check=True)
    narrow = {**os.environ, "NPY_DISABLE_CPU_FEATURES": WIDE_KERNELS}
    subprocess.run([*command, "--outdir", str(tmp_path / "narrow")], check=True, env=narrow)
    for name in FILES:
        assert filecmp.cmp(tmp_path / "wide" / name, tmp_path / "narrow" / name, shallow=False)

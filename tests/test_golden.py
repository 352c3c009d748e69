"""A small fixed run checked against a checked-in record (tests/golden/run_200.json).

The record holds the validation checks and distributions and a SHA-256 of each CSV file, so
any change to the generated data shows here. Regenerate it only on purpose:
``python tests/golden/regenerate.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from reporting.app.cli import main

GOLDEN = Path(__file__).parent / "golden" / "run_200.json"
ARGS = ["--patients", "200", "--seed", "42", "--today", "2025-06-30", "--quiet"]


def golden_record(folder: Path) -> dict:
    """Run the fixed scenario into ``folder`` and describe what it wrote."""
    assert main([*ARGS, "--outdir", str(folder)]) == 0
    summary = json.loads((folder / "validation_summary.json").read_text())
    return {
        "args": ARGS,
        "checks": summary["checks"],
        "distributions": summary["distributions"],
        "simulation": summary["simulation"],
        "sha256": {
            name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in (
                "patients.csv",
                "visits.csv",
                "billing.csv",
                "conditions.csv",
                "coverage.csv",
            )
        },
    }


def test_fixed_run_matches_the_golden_record(tmp_path):
    expected = json.loads(GOLDEN.read_text())
    actual = golden_record(tmp_path)
    assert actual["checks"] == expected["checks"]
    assert actual["distributions"] == expected["distributions"]
    assert actual["simulation"] == expected["simulation"]
    assert actual["sha256"] == expected["sha256"]

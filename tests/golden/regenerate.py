"""Rewrite tests/golden/run_200.json from the current code. Run only on purpose, when a change
of the generated data is intended, and say why in the commit:

    python tests/golden/regenerate.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.test_golden import GOLDEN, golden_record  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        record = golden_record(Path(folder))
    GOLDEN.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()

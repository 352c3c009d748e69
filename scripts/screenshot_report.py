"""Make docs/images/report.png, the README's picture of report.html.

Runs a 5,000-patient dataset with ``--report`` into a scratch folder and photographs the top of
the page with headless Chromium (Debian: ``apt-get install chromium-headless-shell``):

    python scripts/screenshot_report.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "images" / "report.png"
BROWSERS = ("chromium-headless-shell", "chromium", "google-chrome", "chrome")


def main() -> int:
    browser = next((b for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        print(
            "no headless Chromium found (apt-get install chromium-headless-shell)", file=sys.stderr
        )
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, str(ROOT / "run_sim.py"), "--patients", "5000", "--today",
             "2025-06-30", "--report", "--quiet", "--outdir", scratch],
            check=True,
        )  # fmt: skip
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [browser, "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--window-size=1280,1500", f"--screenshot={TARGET}",
             (Path(scratch) / "report.html").as_uri()],
            check=True, capture_output=True,
        )  # fmt: skip
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

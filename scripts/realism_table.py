"""Print the realism scorecard of a run as a Markdown table (for the README).

python run_sim.py --patients 100000 --outdir /tmp/run100k --quiet
python scripts/realism_table.py /tmp/run100k/validation_summary.json
"""

import argparse
import json
from pathlib import Path


def band(low: float | None, high: float | None) -> str:
    if low is None:
        return f"≤ {high:g}"
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g} to {high:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", type=Path, help="a run's validation_summary.json")
    summary = json.loads(parser.parse_args().summary.read_text(encoding="utf-8"))
    print("| measure | unit | this run | target | in band | source |")
    print("|---|---|---:|---|:---:|---|")
    for row in summary["realism"]:
        value = "n/a" if row["value"] is None else f"{row['value']:,.3g}"
        mark = {True: "yes", False: "no", None: "n/a"}[row["ok"]]
        cells = (row["measure"], row["unit"], value, band(*row["band"]), mark, row["source"])
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

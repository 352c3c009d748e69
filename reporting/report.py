"""A self-contained HTML report of a run: what was run, the validation checks and figures.

The page needs nothing beyond itself: CSS is inline, figures are inline SVG drawn by matplotlib
with text as paths (no fonts), and there are no scripts or links to anything outside the file.
The same tables and summary give a byte-identical page.

matplotlib is an optional dependency (``pip install matplotlib``); it is imported
only when a report is built, so importing this module never needs it.
"""

from __future__ import annotations

import html
import importlib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reporting.continuity import ALL
from reporting.realism import load_targets
from reporting.recorder import Tables
from reporting.schema import PAYMENT_STATUSES
from sim.population import GENDERS
from sim.refdata import AGE_BAND_EDGES, AGE_BANDS, CATEGORIES, load_catalog

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MISSING_MATPLOTLIB = "the report needs matplotlib: pip install matplotlib"

WIDTH = 9.0  # inches; 648 pt of SVG, shown about 900 px wide
STYLE = {
    "svg.hashsalt": "hospital-synth-report",  # stable ids instead of random ones
    "svg.fonttype": "path",  # text drawn as shapes: no fonts needed to view the page
    "text.parse_math": False,  # a "$" in a hospital name is just a dollar sign
    "font.family": "DejaVu Sans",  # shipped with matplotlib, so every machine draws the same
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.8,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "legend.frameon": False,
}
# No Date, Creator (matplotlib's version and web address) or Dublin Core type in the SVG.
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

MALE_COLOR, FEMALE_COLOR = "#4a7fb5", "#d9735b"
BAR_COLOR, ACCENT_COLOR = "#4a7fb5", "#d9735b"
CATEGORY_COLORMAPS = {
    "chronic": "Blues",
    "complex": "Reds",
    "mental": "Purples",
    "acute": "Oranges",
    "minor": "Greens",
}
STATUS_COLORS = {
    "Paid": "#3f8f5a",
    "Late-Paid": "#a9d18e",
    "In-progress": "#9dbbdc",
    "Late-Unpaid": "#c8473d",
}
FAIL_CLASS = ' class="fail"'
LEVEL_COLORS = {"doctor": "#4a7fb5", "hospital": "#e0a040"}
VISITS_CAP = 25  # patients with more visits share the last bar of the histogram
MIN_HOSPITAL_VISITS = 20
MAX_NAMED_HOSPITALS = 60  # more hospitals than this are drawn by rank, without names

FIGURES = (
    (
        "fig-age-pyramid",
        "Age pyramid",
        "Patients by age (as of the run's today) in five-year bands, men to the left and women "
        "to the right.",
    ),
    (
        "fig-conditions-by-age",
        "Condition mix by age band",
        "Share of visits of each condition within each age band (age at admission); hues group "
        "the conditions by category: blue chronic, red complex, purple mental, orange acute, "
        "green minor.",
    ),
    (
        "fig-los-by-condition",
        "Length of stay by condition",
        "Days from admission to discharge per visit: the bar spans the middle half of the stays, "
        "the line the 5th to 95th percentile, with the median and mean marked over the "
        "condition's allowed range in grey.",
    ),
    (
        "fig-visits-per-patient",
        "Visits per patient",
        "How many patients had each number of visits over the whole history.",
    ),
    (
        "fig-charges-by-condition",
        "Charges of inpatient stays by condition",
        "Gross charge per inpatient stay by condition (log scale, middle half and 5th to 95th "
        "percentile, median and mean marked), and the sum charged per condition.",
    ),
    (
        "fig-revenue-by-payer",
        "Revenue by payer and status",
        "Where each dollar of gross charges went, by the payer on the day of service: written "
        "off by contract (or the uninsured discount), forgiven as charity care, paid by the "
        "payer, and the patient's part by payment status as of the run's today; and the "
        "payment status of the bills that left the patient something to pay.",
    ),
    (
        "fig-same-day-by-hospital",
        "Same-day discharges by hospital",
        f"Share of visits discharged on the day of admission at each hospital with at least "
        f"{MIN_HOSPITAL_VISITS} visits, sorted; the dashed line is the rate over all visits.",
    ),
    (
        "fig-continuity",
        "Continuity of care",
        "Distribution of the continuity-of-care (COC) and usual-provider (UPC) indices per "
        "patient, with doctors and with hospitals as providers; 1 means a single provider.",
    ),
    (
        "fig-occupancy",
        "Occupancy over time",
        "Share of the hospitals' rooms occupied at the end of the day (the dataset's stays and "
        "the unwritten load), pooled over hospitals and averaged by week; with the census "
        "(--census) also the part held by the dataset's own stays.",
    ),
    (
        "fig-patients-per-state",
        "Patients per state",
        "Number of patients living in each state, largest first.",
    ),
)

CSS = """
body { margin: 0; background: #f6f6f4; color: #222;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 36px 0 4px; padding-top: 12px; border-top: 1px solid #e2e2e2; }
p { margin: 4px 0 10px; }
.lead { color: #444; }
.note { color: #666; font-style: italic; }
nav { font-size: 14px; margin: 8px 0 0; }
nav a { color: #2f5f8f; margin-right: 14px; white-space: nowrap; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border: 1px solid #dddddd; padding: 3px 10px; text-align: left; }
th { background: #f1f1ee; font-weight: 600; }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
table.facts td:first-child { color: #555; }
.checks { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr));
  gap: 12px; align-items: start; }
.checks table { width: 100%; }
.checks code { font-size: 13px; }
tr.fail td { background: #fbe3e0; color: #8b1d12; font-weight: 600; }
tr.unmeasured td { color: #777777; }
td.pass { color: #1f6b34; font-weight: 600; }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 4px; font-weight: 600; }
.verdict.ok { background: #e3f3e6; color: #1f6b34; }
.verdict.fail { background: #fbe3e0; color: #8b1d12; }
.verdict.skipped { background: #eeeeee; color: #555555; }
figure { margin: 8px 0 0; }
figure svg { display: block; width: 100%; max-width: 900px; height: auto; }
footer { margin-top: 40px; color: #777; font-size: 13px; }
"""


def build_report(
    tables: Tables,
    summary: dict,
    continuity: pd.DataFrame | None = None,
    census: pd.DataFrame | None = None,
) -> str:
    """The report of a run as one self-contained HTML page.

    ``tables`` are the run's patients, visits and billing tables, ``summary`` the dict written
    to ``validation_summary.json`` (``reporting.summary.build_summary``), ``continuity`` the
    per-patient table of ``reporting.continuity.continuity_table`` and ``census`` the census
    table (their figures show a note without them). Raises ``ImportError`` when matplotlib is
    not installed.
    """
    try:
        importlib.import_module("matplotlib")
    except ImportError as error:
        raise ImportError(MISSING_MATPLOTLIB) from error
    drawers = {
        "fig-age-pyramid": lambda: _age_pyramid(tables.patients),
        "fig-conditions-by-age": lambda: _conditions_by_age(tables.visits),
        "fig-los-by-condition": lambda: _los_by_condition(tables.visits),
        "fig-visits-per-patient": lambda: _visits_per_patient(tables.patients, tables.visits),
        "fig-charges-by-condition": lambda: _charges_by_condition(tables.visits, tables.billing),
        "fig-revenue-by-payer": lambda: _revenue_by_payer(tables.billing),
        "fig-same-day-by-hospital": lambda: _same_day_by_hospital(tables.visits),
        "fig-continuity": lambda: _continuity(continuity),
        "fig-occupancy": lambda: _occupancy(census, summary.get("capacity")),
        "fig-patients-per-state": lambda: _patients_per_state(tables.patients),
    }
    sections, entries = [], []  # the page's sections and their (id, title) for the contents
    with _style():
        for key, title, caption in FIGURES:
            figure = drawers[key]()
            if isinstance(figure, str):
                body = f'<p class="note">{html.escape(figure)}</p>'
            else:
                body = f"<figure>{_svg(figure, key, title)}</figure>"
            sections.append(
                f'<section id="{key}">\n<h2>{html.escape(title)}</h2>\n'
                f"<p>{html.escape(caption)}</p>\n{body}\n</section>"
            )
            entries.append((key, title))
            if key == "fig-continuity":  # the group table reads best right after the figure
                sections.append(_continuity_by_group(summary))
                entries.append(BY_GROUP)
    run = summary["run"]
    contents = "".join(f'<a href="#{key}">{html.escape(title)}</a>\n' for key, title in entries)
    page_title = f"hospital-synth report: {run['patients']:,} patients, seed {run['seed']}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(page_title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        "<h1>Synthetic hospital data</h1>\n"
        f'<p class="lead">{html.escape(_description(summary))}</p>\n'
        f"{_facts(tables)}\n"
        f'<nav><a href="#validation">Validation</a>\n<a href="#realism">Realism</a>\n'
        f"{contents}</nav>\n"
        f"{_validation(summary)}\n"
        f"{_realism(summary)}\n"
        + "\n".join(sections)
        + f"\n<footer>Made by hospital-synth {html.escape(str(run['version']))}. "
        "All data are synthetic: no row describes a real person.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def write_report(
    path: str | Path,
    tables: Tables,
    summary: dict,
    continuity: pd.DataFrame | None = None,
    census: pd.DataFrame | None = None,
) -> None:
    """Write the report of ``build_report`` to ``path`` (UTF-8)."""
    Path(path).write_text(build_report(tables, summary, continuity, census), encoding="utf-8")


# ----------------------------------------------------------------------------- page parts


def _description(summary: dict) -> str:
    run, geography = summary["run"], summary["geography"]
    text = (
        f"Seed {run['seed']}, today {run['today']} (history from {run['start']}), "
        f"{run['patients']:,} patients, {geography['mode']} mode"
    )
    if "hospital" in geography:
        hospital = geography["hospital"]
        text += f" ({hospital['name']}, {hospital['zipcode']} {hospital['state']})"
    if run["as_of"] != run["today"]:
        text += f"; tables as of {run['as_of']}"
    return text + "."


def _facts(tables: Tables) -> str:
    patients, visits = tables.patients, tables.visits
    encounters = visits["encounter_type"].astype("string").value_counts()
    rows = [
        ("Patients", f"{len(patients):,}"),
        ("Visits", f"{len(visits):,}"),
        *(
            (f"&nbsp;&nbsp;{kind}", f"{int(encounters.get(kind, 0)):,}")
            for kind in ("Emergency", "Inpatient", "Observation", "Outpatient")
        ),
        ("Bills", f"{len(tables.billing):,}"),
        ("Hospitals with visits", f"{visits['hospital'].nunique():,}"),
        ("Doctors with visits", f"{visits['doctor'].nunique():,}"),
        ("Patients' states", f"{patients['state'].nunique():,}"),
        (
            "Insured patients (on the last day)",
            _percent(patients["insurance_provider"].notna().mean()),
        ),
    ]
    cells = "".join(
        f'<tr><td>{name}</td><td class="count">{value}</td></tr>\n' for name, value in rows
    )
    return f'<table class="facts">\n{cells}</table>'


def _percent(share: float) -> str:
    return "n/a" if pd.isna(share) else f"{share:.1%}"


def _validation(summary: dict) -> str:
    head = '<section id="validation">\n<h2>Validation</h2>\n'
    if "checks" not in summary:
        return (
            f'{head}<p><span class="verdict skipped">Validation was skipped</span></p>\n</section>'
        )
    checks: dict[str, int] = summary["checks"]
    failed = [name for name, count in checks.items() if count]
    if summary["ok"]:
        verdict = f'<span class="verdict ok">OK: all {len(checks)} checks pass</span>'
    else:
        verdict = (
            f'<span class="verdict fail">FAILED: {summary["violations"]:,} violations in '
            f"{len(failed)} of {len(checks)} checks</span>"
        )
    text = "Each check counts rows that break a rule of the data; every count must be 0." + (
        f" Failed: {', '.join(failed)}." if failed else ""
    )
    names = list(checks)
    per_table = max(1, -(-len(names) // 2))  # two tables side by side
    tables = []
    for start in range(0, len(names), per_table):
        rows = "".join(
            f"<tr{FAIL_CLASS if checks[name] else ''}><td><code>{html.escape(name)}</code></td>"
            f'<td class="count">{checks[name]:,}</td></tr>\n'
            for name in names[start : start + per_table]
        )
        tables.append(f"<table>\n<tr><th>check</th><th>count</th></tr>\n{rows}</table>")
    return (
        f"{head}<p>{verdict}</p>\n<p>{html.escape(text)}</p>\n"
        f'<div class="checks">\n' + "\n".join(tables) + "\n</div>\n</section>"
    )


def _quantity(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "USD":
        return f"${value:,.0f}"
    return f"{value:,.{2 if abs(value) < 10 else 1}f}"


def _band(low: float | None, high: float | None, unit: str) -> str:
    if low is None:
        return f"\u2264 {_quantity(high, unit)}"
    if high is None:
        return f"\u2265 {_quantity(low, unit)}"
    return f"{_quantity(low, unit)} \u2013 {_quantity(high, unit)}"


def _realism(summary: dict) -> str:
    """The scorecard: each measure's value beside its band and source, marked in or out."""
    rows: list[dict] = summary["realism"]
    scored = [row for row in rows if row["ok"] is not None]
    passed = sum(row["ok"] for row in scored)
    verdict = f"{passed} of {len(rows)} targets in band"
    if len(scored) < len(rows):
        verdict += f", {len(rows) - len(scored)} not measurable"
    text = (
        "Figures computed from the tables (and the summary's population), each beside a "
        "published US figure: the band it must fall in and its source. Point at a measure for "
        "its definition; a note says how the tables were read when they lacked something."
    )
    definitions = {target.id: target.definition for target in load_targets().rows}
    cells = []
    for row in rows:
        unit = "" if row["unit"] in ("%", "USD") else row["unit"]
        if row["ok"] is None:
            css, mark = ' class="unmeasured"', "<td>not measurable</td>"
        elif row["ok"]:
            css, mark = "", '<td class="pass">\u2713 in band</td>'
        else:
            css, mark = FAIL_CLASS, "<td>\u2717 out of band</td>"
        value = "n/a" if row["value"] is None else _quantity(row["value"], row["unit"])
        definition = html.escape(definitions.get(row["id"], ""), quote=True)
        cells.append(
            f'<tr{css}><td title="{definition}">{html.escape(row["measure"])}</td>'
            f'<td class="count">{value}</td><td>{_band(*row["band"], row["unit"])}</td>'
            f"<td>{html.escape(unit)}</td>{mark}<td>{html.escape(row['source'])}</td>"
            f"<td>{html.escape(row['note'] or '')}</td></tr>\n"
        )
    return (
        '<section id="realism">\n<h2>Realism</h2>\n'
        f'<p><span class="verdict {"ok" if passed == len(scored) else "fail"}">{verdict}'
        f"</span></p>\n<p>{html.escape(text)}</p>\n"
        "<table>\n<tr><th>measure</th><th>value</th><th>band</th><th>unit</th><th>result</th>"
        "<th>source</th><th>note</th></tr>\n" + "".join(cells) + "</table>\n</section>"
    )


BY_GROUP = ("continuity-by-group", "Continuity of care by group")
GROUPINGS = {
    "payer_type": "payer (on the last day)",
    "age_band": "age band (years)",
    "sex": "sex",
    "rurality": "rurality (OMB area of the ZIP)",
}


def _continuity_by_group(summary: dict) -> str:
    """The summary's ``continuity_by_group`` as a table: one block of rows per grouping."""
    key, title = BY_GROUP
    head = f'<section id="{key}">\n<h2>{html.escape(title)}</h2>\n'
    section = summary.get("continuity_by_group")
    if section is None:
        note = "The summary has no continuity_by_group section (made by an older version)."
        return f'{head}<p class="note">{html.escape(note)}</p>\n</section>'
    text = (
        f"Per group of patients: how many had a visit and the mean number of distinct "
        f"hospitals they went to; how many had {section['min_visits']} or more "
        f"{section['setting'].lower()} visits and the mean {section['level']}-level "
        "continuity-of-care (COC) and usual-provider (UPC) indices over those visits "
        "(from continuity.csv); n/a where no patient was measured."
    )
    rows = []
    for grouping, groups in section["groups"].items():
        rows.append(
            f'<tr><th colspan="6">{html.escape(GROUPINGS.get(grouping, grouping))}</th></tr>\n'
        )
        for name, figures in groups.items():
            values = (
                figures["patients"],
                figures["hospitals_per_patient"],
                figures["patients_measured"],
                figures["doctor_coc"],
                figures["doctor_upc"],
            )
            rows.append(
                f"<tr><td>{html.escape(name)}</td>"
                + "".join(_group_cell(v) for v in values)
                + "</tr>\n"
            )
    return (
        f"{head}<p>{html.escape(text)}</p>\n"
        "<table>\n<tr><th>group</th><th>patients with a visit</th><th>hospitals per patient</th>"
        "<th>patients measured</th><th>mean COC</th><th>mean UPC</th></tr>\n"
        + "".join(rows)
        + "</table>\n</section>"
    )


def _group_cell(value: int | float | None) -> str:
    """A count with separators, a mean as in the summary (4 decimals), or n/a."""
    if value is None:
        shown = "n/a"
    elif isinstance(value, float):
        shown = f"{value:.4f}"
    else:
        shown = f"{value:,}"
    return f'<td class="count">{shown}</td>'


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's default style plus the report's, whatever the user's matplotlibrc says."""
    import matplotlib.style

    with matplotlib.style.context(["default", STYLE]):
        yield


def _svg(figure: Figure, key: str, title: str) -> str:
    """The figure as an inline ``<svg>`` element whose ids cannot clash with other figures'."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=SVG_METADATA)
    figure.clear()
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    text = re.sub(r'(\sid="|href="#|url\(#)', lambda match: f"{match.group(1)}{key}-", text)
    label = html.escape(title, quote=True)
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1).rstrip()


def _figure(height: float, **subplots) -> tuple[Figure, Axes | np.ndarray]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    return figure, figure.subplots(**subplots)


# ----------------------------------------------------------------------------- figures


def _age_pyramid(patients: pd.DataFrame) -> Figure | str:
    if patients.empty:
        return "No patients."
    from matplotlib.ticker import FuncFormatter

    top_band = 18  # 90 and older
    band = np.minimum(patients["age"].to_numpy(dtype=np.int64) // 5, top_band)
    gender = pd.Categorical(patients["gender"], categories=GENDERS).codes
    counts = np.bincount(
        band * len(GENDERS) + gender, minlength=(top_band + 1) * len(GENDERS)
    ).reshape(-1, len(GENDERS))
    labels = [f"{age}-{age + 4}" for age in range(0, 5 * top_band, 5)] + [f"{5 * top_band}+"]
    figure, ax = _figure(5.4)
    y = np.arange(len(labels))
    ax.barh(y, -counts[:, 0], height=0.85, color=MALE_COLOR, label=GENDERS[0])
    ax.barh(y, counts[:, 1], height=0.85, color=FEMALE_COLOR, label=GENDERS[1])
    limit = counts.max() * 1.08
    ax.set_xlim(-limit, limit)
    ax.set_yticks(y, labels)
    ax.set_ylabel("age")
    ax.set_xlabel("patients")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{abs(value):,.0f}"))
    ax.axvline(0, color="#888888", linewidth=0.8)
    ax.grid(axis="x")
    ax.legend(loc="upper right", ncols=2)
    return figure


def _condition_order() -> list[tuple[str, str]]:
    """(condition, colour) in category order, shades of one hue per category."""
    from matplotlib import colormaps

    catalog = load_catalog()
    result = []
    for category in CATEGORIES:
        names = [c.name for c in catalog.conditions if c.category == category]
        shades = np.linspace(0.85, 0.4, len(names)) if len(names) > 1 else [0.65]
        cmap = colormaps[CATEGORY_COLORMAPS[category]]
        result += [(name, cmap(shade)) for name, shade in zip(names, shades)]
    return result


def _age_band_labels() -> list[str]:
    edges = (0, *AGE_BAND_EDGES)
    labels = [f"{name} ({low}-{high - 1})" for name, low, high in zip(AGE_BANDS, edges, edges[1:])]
    return [*labels, f"{AGE_BANDS[-1]} ({edges[-1]}+)"]


def _conditions_by_age(visits: pd.DataFrame) -> Figure | str:
    if visits.empty:
        return "No visits."
    order = _condition_order()
    names = [name for name, _ in order]
    band = np.searchsorted(AGE_BAND_EDGES, visits["age"].to_numpy(), side="right")
    condition = pd.Categorical(visits["condition"], categories=names).codes
    counts = np.bincount(
        band * len(names) + condition, minlength=len(AGE_BANDS) * len(names)
    ).reshape(len(AGE_BANDS), len(names))
    totals = counts.sum(axis=1)
    shares = counts / np.maximum(totals, 1)[:, None]
    figure, ax = _figure(5.6)
    x = np.arange(len(AGE_BANDS))
    bottom = np.zeros(len(AGE_BANDS))
    for index, (name, color) in enumerate(order):
        bars = ax.bar(x, shares[:, index], 0.62, bottom=bottom, color=color, label=name)
        text_color = "white" if _dark(color) else "#222222"
        labels = [f"{share:.0%}" if share >= 0.045 else "" for share in shares[:, index]]
        ax.bar_label(bars, labels, label_type="center", fontsize=7.5, color=text_color)
        bottom += shares[:, index]
    band_labels = [f"{label}\n{total:,} visits" for label, total in zip(_age_band_labels(), totals)]
    ax.set_xticks(x, band_labels)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_ylabel("share of visits")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5))
    return figure


def _dark(color: tuple[float, ...]) -> bool:
    red, green, blue = color[:3]
    return 0.299 * red + 0.587 * green + 0.114 * blue < 0.55


def _spread(values: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Per group: 5th, 25th, 50th, 75th, 95th percentile, mean and count (groups with data)."""
    grouped = pd.Series(values.to_numpy(), index=groups).groupby(level=0, observed=True)
    table = grouped.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    table.columns = ["p5", "q1", "median", "q3", "p95"]
    table["mean"] = grouped.mean()
    table["count"] = grouped.size()
    return table


def _draw_spread(ax: Axes, y: np.ndarray, table: pd.DataFrame, color: str) -> None:
    """Horizontal spreads: a 5th-95th percentile line, an interquartile bar, the median."""
    ax.hlines(y, table["p5"], table["p95"], color="#555555", linewidth=1.2, label="5th-95th pct")
    ax.barh(
        y, table["q3"] - table["q1"], left=table["q1"], height=0.5, color=color, label="middle half"
    )
    ax.scatter(
        table["median"],
        y,
        marker="|",
        s=160,
        linewidths=2.2,
        color="#111111",
        zorder=3,
        label="median",
    )


def _los_by_condition(visits: pd.DataFrame) -> Figure | str:
    if visits.empty:
        return "No visits."
    stay = visits["date_of_discharge"] - visits["date_of_admission"]
    table = _spread(stay.dt.days, visits["condition"])
    table = table.sort_values(["median", "mean"], kind="stable")
    fences = load_catalog().by_name
    y = np.arange(len(table))
    figure, ax = _figure(1.2 + 0.3 * len(table))
    low = np.array([fences[name].los[0] for name in table.index])
    high = np.array([fences[name].los[1] for name in table.index])
    ax.barh(y, high - low, left=low, height=0.8, color="#ececec", label="allowed range")
    _draw_spread(ax, y, table, BAR_COLOR)
    ax.scatter(table["mean"], y, marker="D", s=22, color=ACCENT_COLOR, zorder=4, label="mean")
    ax.set_yticks(y, [f"{name} ({count:,})" for name, count in table["count"].items()])
    ax.set_xlabel("length of stay (days); visits in parentheses")
    ax.set_xlim(-0.5, max(high.max(), table["p95"].max()) + 0.5)
    ax.grid(axis="x")
    ax.legend(loc="lower right", ncols=5, bbox_to_anchor=(1, 1.0))
    return figure


def _visits_per_patient(patients: pd.DataFrame, visits: pd.DataFrame) -> Figure | str:
    if patients.empty:
        return "No patients."
    per_patient = (
        visits["patient_id"].value_counts().reindex(patients["patient_id"], fill_value=0).to_numpy()
    )
    counts = np.bincount(np.minimum(per_patient, VISITS_CAP), minlength=VISITS_CAP + 1)
    figure, ax = _figure(3.6)
    x = np.arange(VISITS_CAP + 1)
    ax.bar(x, counts, 0.8, color=BAR_COLOR)
    ax.set_xticks(x, [str(n) for n in x[:-1]] + [f"{VISITS_CAP}+"])
    ax.set_xlim(-0.7, VISITS_CAP + 0.7)
    ax.set_xlabel("visits of a patient")
    ax.set_ylabel("patients")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.grid(axis="y")
    ax.text(
        0.99,
        0.95,
        f"mean {per_patient.mean():.2f}, median {np.median(per_patient):g}, "
        f"most {per_patient.max()}",
        transform=ax.transAxes,
        ha="right",
        va="top",
    )
    return figure


def _charges_by_condition(visits: pd.DataFrame, billing: pd.DataFrame) -> Figure | str:
    stays = visits.loc[
        visits["encounter_type"].astype("string") == "Inpatient", ["visit_id", "condition"]
    ]
    charged = stays.merge(billing[["visit_id", "total_charge"]], on="visit_id")
    if charged.empty:
        return "No inpatient stays."
    condition = charged["condition"].astype("string").to_numpy()
    table = _spread(charged["total_charge"], pd.Series(condition)).sort_values("mean")
    totals = charged["total_charge"].groupby(condition).sum().reindex(table.index)
    y = np.arange(len(table))
    figure, (left, right) = _figure(
        1.4 + 0.32 * len(table), ncols=2, sharey=True, gridspec_kw={"width_ratios": [2.2, 1]}
    )
    _draw_spread(left, y, table, BAR_COLOR)
    left.scatter(table["mean"], y, marker="D", s=22, color=ACCENT_COLOR, zorder=4, label="mean")
    left.set_xscale("log")
    left.xaxis.set_major_formatter("${x:,.0f}")
    left.set_yticks(y, [f"{name} ({count:,})" for name, count in table["count"].items()])
    left.set_xlabel("gross charge per stay (USD, log scale); stays in parentheses")
    left.grid(axis="x")
    left.legend(loc="lower left", ncols=4, bbox_to_anchor=(0, 1.0))
    bars = right.barh(y, totals / 1e6, 0.6, color=ACCENT_COLOR)
    right.bar_label(bars, [_dollars(value) for value in totals], padding=3, fontsize=8)
    right.set_xlim(0, totals.max() / 1e6 * 1.35)
    right.xaxis.set_major_formatter("{x:,.0f}")
    right.set_xlabel("total charged (USD millions)")
    right.grid(axis="x")
    return figure


def _dollars(value: float) -> str:
    """An amount in dollars the short way: $3.25B, $825.9M, $12.3k, $87."""
    for size, suffix, digits in ((1e9, "B", 2), (1e6, "M", 1), (1e3, "k", 1)):
        if value >= size:
            return f"${value / size:,.{digits}f}{suffix}"
    return f"${value:,.0f}"


REVENUE_PARTS = (
    ("adjustment", "contract adjustment / uninsured discount", "#b8c4d0"),
    ("charity", "charity care", "#8fb996"),
    ("payer", "paid by the payer", "#4a7fb5"),
    ("patient paid", "patient: paid", "#2e5d87"),
    ("patient open", "patient: not yet due", "#e3b05b"),
    ("patient unpaid", "patient: overdue, unpaid", "#c2553f"),
)


def _revenue_by_payer(billing: pd.DataFrame) -> Figure | str:
    if billing.empty:
        return "No bills."
    payer = billing["payer_type"].astype("string").to_numpy()
    status = billing["payment_status"].astype("string").to_numpy()
    owed = billing["patient_responsibility_amount"].to_numpy(dtype=float)
    parts = pd.DataFrame(
        {
            "adjustment": billing["adjustment_amount"].to_numpy(dtype=float),
            "charity": billing["charity_care_amount"].to_numpy(dtype=float),
            "payer": billing["insurance_coverage_amount"].to_numpy(dtype=float),
            "patient paid": np.where(np.isin(status, ["Paid", "Late-Paid"]), owed, 0.0),
            "patient open": np.where(status == "In-progress", owed, 0.0),
            "patient unpaid": np.where(status == "Late-Unpaid", owed, 0.0),
        }
    )
    order = [p for p in ("Medicare", "Medicaid", "Private", "Self-pay") if p in set(payer)]
    sums = parts.groupby(payer).sum().reindex(order)
    shares = sums.div(sums.sum(axis=1), axis=0)
    owing = owed > 0
    statuses = (
        pd.crosstab(payer[owing], status[owing], normalize="index")
        .reindex(index=order, columns=list(PAYMENT_STATUSES))
        .fillna(0.0)
    )
    figure, (left, right) = _figure(
        1.2 + 0.6 * len(order), ncols=2, sharey=True, gridspec_kw={"width_ratios": [1.6, 1]}
    )
    y = np.arange(len(order))[::-1]
    start = np.zeros(len(order))
    for key, label, color in REVENUE_PARTS:
        values = shares[key].to_numpy()
        bars = left.barh(y, values, 0.6, left=start, color=color, label=label)
        texts = [f"{v:.0%}" if v >= 0.06 else "" for v in values]
        left.bar_label(bars, texts, label_type="center", fontsize=8, color="#111111")
        start += values
    totals = sums.sum(axis=1)
    left.set_yticks(y, [f"{name}\n{_dollars(total)} charged" for name, total in totals.items()])
    left.set_xlim(0, 1)
    left.xaxis.set_major_formatter("{x:.0%}")
    left.set_xlabel("share of gross charges")
    left.legend(loc="lower left", ncols=2, fontsize=8, bbox_to_anchor=(0, 1.0))
    start = np.zeros(len(order))
    for name in PAYMENT_STATUSES:
        values = statuses[name].to_numpy()
        bars = right.barh(y, values, 0.6, left=start, color=STATUS_COLORS[name], label=name)
        texts = [f"{v:.0%}" if v >= 0.06 else "" for v in values]
        text_color = "white" if name in ("Paid", "Late-Unpaid") else "#222222"
        right.bar_label(bars, texts, label_type="center", fontsize=8, color=text_color)
        start += values
    right.set_xlim(0, 1)
    right.xaxis.set_major_formatter("{x:.0%}")
    right.set_xlabel("bills with a patient balance, by status")
    right.legend(loc="lower left", ncols=2, fontsize=8, bbox_to_anchor=(0, 1.0))
    return figure


def _same_day_by_hospital(visits: pd.DataFrame) -> Figure | str:
    same_day = (visits["date_of_discharge"] == visits["date_of_admission"]).to_numpy()
    frame = pd.DataFrame(
        {"hospital": visits["hospital"], "state": visits["hospital_state"], "same_day": same_day}
    )
    grouped = frame.groupby("hospital", observed=True, sort=True)
    table = pd.DataFrame(
        {
            "visits": grouped.size(),
            "rate": grouped["same_day"].mean(),
            "state": grouped["state"].first(),
        }
    )
    table = table[table["visits"] >= MIN_HOSPITAL_VISITS]
    if table.empty:
        return f"No hospital has {MIN_HOSPITAL_VISITS} visits or more."
    table = table.sort_values("rate", kind="stable")
    overall = same_day.mean()
    labels = [  # names made unique across states already end with their state
        name if name.endswith(f"({state})") else f"{name} ({state})"
        for name, state in zip(table.index, table["state"])
    ]
    position = np.arange(len(table))
    if len(table) <= MAX_NAMED_HOSPITALS:
        figure, ax = _figure(1.0 + 0.2 * len(table))
        ax.barh(position, table["rate"], 0.75, color=BAR_COLOR)
        ax.set_yticks(position, labels, fontsize=8)
        ax.set_ylim(-0.7, len(table) - 0.3)
        ax.axvline(overall, color=ACCENT_COLOR, linestyle="--", linewidth=1.3)
        ax.xaxis.set_major_formatter("{x:.0%}")
        ax.set_xlabel("same-day discharge rate")
        ax.grid(axis="x")
        return figure
    figure, ax = _figure(4.0)
    ax.bar(position, table["rate"], 1.0, color=BAR_COLOR, linewidth=0)
    ax.axhline(overall, color=ACCENT_COLOR, linestyle="--", linewidth=1.3)
    ax.set_xlim(-1, len(table))
    ax.set_xticks([])
    ax.set_xlabel(f"{len(table):,} hospitals, from the lowest rate to the highest")
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_ylabel("same-day discharge rate")
    ax.grid(axis="y")
    ax.set_ylim(0, table["rate"].max() * 1.3)
    # the lowest and the highest hospital named in the empty band above the bars
    for index, corner in ((0, 0.01), (len(table) - 1, 0.99)):
        ax.annotate(
            f"{labels[index]}: {table['rate'].iloc[index]:.0%}",
            (index, table["rate"].iloc[index]),
            xytext=(corner, 0.94),
            textcoords="axes fraction",
            ha="left" if corner < 0.5 else "right",
            va="top",
            fontsize=8.5,
            arrowprops={"arrowstyle": "-", "color": "#777777", "linewidth": 0.8},
        )
    return figure


def _continuity(continuity: pd.DataFrame | None) -> Figure | str:
    if continuity is None:
        return "Continuity indices were not given (reporting.continuity.continuity_table)."
    every = continuity[continuity["setting"] == ALL]
    levels = {level: every[every["level"] == level] for level in ("doctor", "hospital")}
    if all(part.empty for part in levels.values()):
        return "No patient had enough visits to measure continuity."
    # bins [0, 0.1), ..., [0.9, 1) and exactly 1 (a single provider)
    labels = [f"{low / 10:g}\u2013{(low + 1) / 10:g}" for low in range(10)] + ["exactly 1"]
    figure, axes = _figure(6.0, nrows=2)
    x = np.arange(len(labels))
    for ax, index in zip(axes, ("coc", "upc")):
        for offset, (level, part) in zip((-0.2, 0.2), levels.items()):
            values = part[index].dropna().to_numpy()
            bins = np.where(values >= 1, 10, np.minimum(np.floor(values * 10 + 1e-9), 9))
            counts = np.bincount(bins.astype(np.int64), minlength=len(labels))
            share = counts / max(len(values), 1)
            mean = f"mean {values.mean():.2f}" if len(values) else "no patients"
            ax.bar(x + offset, share, 0.4, color=LEVEL_COLORS[level], label=f"{level} ({mean})")
        ax.set_xticks(x, labels)
        ax.set_xlabel(f"{index.upper()} per patient (bins include their lower end)")
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter("{x:.0%}")
        ax.set_ylabel("share of patients")
        ax.grid(axis="y")
        ax.legend(loc="upper left", title=f"{index.upper()}, providers:", alignment="left")
    return figure


def _occupancy(census: pd.DataFrame | None, capacity: dict | None) -> Figure | str:
    """Weekly pooled occupancy from the census, else from the summary's ``capacity`` section
    (without the dataset's part)."""
    if census is None:
        weekly = (capacity or {}).get("occupancy_by_week")
        if not weekly:
            return "Neither the census (--census) nor the summary has the occupancy."
        figure, ax = _figure(3.6)
        ax.plot(np.arange(len(weekly)), weekly, color=BAR_COLOR, linewidth=1.4)
        ax.set_ylim(0, max(1.0, max(weekly) * 1.05))
        ax.yaxis.set_major_formatter("{x:.0%}")
        ax.set_ylabel("rooms occupied (weekly mean)")
        ax.set_xlabel(f"week from the first day; {capacity['hospitals']:,} hospitals pooled")
        ax.grid(axis="y")
        return figure
    if census.empty:
        return "The census has no days."
    day = pd.to_datetime(census["date"])
    week = ((day - day.min()).dt.days // 7).to_numpy()
    grouped = census.assign(week=week, day=day).groupby("week", sort=True)
    rooms = grouped["rooms"].sum()
    starts = grouped["day"].min().to_numpy()
    figure, ax = _figure(3.6)
    total = grouped["occupied_rooms"].sum() / rooms
    ax.plot(starts, total.to_numpy(), color=BAR_COLOR, linewidth=1.4, label="occupied rooms")
    if "sample_occupied_rooms" in census:
        sample = grouped["sample_occupied_rooms"].sum() / rooms
        ax.plot(
            starts,
            sample.to_numpy(),
            color=ACCENT_COLOR,
            linewidth=1.4,
            label="held by the dataset's stays",
        )
    ax.set_ylim(0, max(1.0, float(total.max()) * 1.05))
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.set_ylabel("rooms occupied (weekly mean)")
    ax.set_xlabel(f"week; {census['hospital_id'].nunique():,} hospitals pooled")
    ax.grid(axis="y")
    ax.legend(loc="upper left", ncols=2)
    return figure


def _patients_per_state(patients: pd.DataFrame) -> Figure | str:
    if patients.empty:
        return "No patients."
    counts = (
        patients["state"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
    )
    figure, ax = _figure(3.8)
    x = np.arange(len(counts))
    ax.bar(x, counts.to_numpy(), 0.75, color=BAR_COLOR)
    ax.set_xticks(x, [str(state) for state in counts.index], fontsize=8, rotation=90)
    ax.set_xlim(-0.7, len(counts) - 0.3)
    ax.set_ylabel("patients")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.grid(axis="y")
    return figure

"""The HTML report: every figure drawn, nothing outside the page, byte-identical rebuilds."""

from __future__ import annotations

import importlib
import re
import sys

import pytest

from reporting import report
from reporting.continuity import continuity_table
from reporting.recorder import Tables
from tests.conftest import simulate

pytestmark = pytest.mark.slow  # the report draws a dataset with matplotlib

pytest.importorskip("matplotlib")  # importing reporting.report does not need it, building does

FIGURE_IDS = [key for key, _, _ in report.FIGURES]
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.fixture(scope="module")
def run():
    """400 patients, seed 3: (tables, summary, continuity, census)."""
    simulation, tables, summary = simulate(patients=400, seed=3)
    return tables, summary, continuity_table(tables.visits), simulation.census()


@pytest.fixture(scope="module")
def page(run):
    return report.build_report(*run)


def section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', page, re.DOTALL)
    assert match, f"no section {key}"
    return match.group(1)


def test_every_figure_is_drawn(page):
    assert FIGURE_IDS == [
        "fig-age-pyramid",
        "fig-conditions-by-age",
        "fig-los-by-condition",
        "fig-visits-per-patient",
        "fig-charges-by-condition",
        "fig-revenue-by-payer",
        "fig-same-day-by-hospital",
        "fig-continuity",
        "fig-occupancy",
        "fig-patients-per-state",
    ]
    for key in FIGURE_IDS:
        body = section(page, key)
        assert "<h2>" in body and "<svg" in body, key


def test_page_is_self_contained(page):
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    lowered = page.lower()
    for marker in ("src=", "<link", "url(http", "@import", "<script", "<?xml", "<!doctype svg"):
        assert marker not in lowered, marker
    # the only addresses are XML namespace names, which are never fetched
    assert set(re.findall(r"https?://[^\"'\s)<>]+", page)) <= NAMESPACES
    assert all(target.startswith("#") for target in re.findall(r'href="([^"]*)"', page))


def test_ids_are_unique_across_figures(page):
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    # every reference inside an SVG points at an element of the page
    targets = re.findall(r'href="#([^"]+)"', page) + re.findall(r"url\(#([^)]+)\)", page)
    assert set(targets) <= set(ids)


def test_validation_table_lists_every_check(run, page):
    _, summary, _, _ = run
    table = section(page, "validation")
    for name, count in summary["checks"].items():
        assert f'<code>{name}</code></td><td class="count">{count:,}</td>' in table
    assert "OK: all" in table and 'class="fail"' not in table


def test_failed_checks_are_highlighted(run):
    tables, summary, continuity, _ = run
    failing = summary | {
        "checks": summary["checks"] | {"overlapping_stays": 3},
        "violations": 3,
        "ok": False,
    }
    table = section(report.build_report(tables, failing, continuity), "validation")
    assert "FAILED: 3 violations in 1 of" in table
    assert '<tr class="fail"><td><code>overlapping_stays</code>' in table


def test_skipped_validation_and_no_continuity(run):
    tables, summary, _, _ = run
    skipped = {key: value for key, value in summary.items() if key not in ("checks", "violations")}
    page = report.build_report(tables, skipped | {"ok": None})
    assert "Validation was skipped" in section(page, "validation")
    body = section(page, "fig-continuity")
    assert "<svg" not in body and 'class="note"' in body
    for key in FIGURE_IDS:
        if key != "fig-continuity":  # occupancy comes from the summary without the census
            assert "<svg" in section(page, key), key
    without = report.build_report(tables, skipped | {"ok": None, "capacity": {}})
    body = section(without, "fig-occupancy")
    assert "<svg" not in body and 'class="note"' in body


def test_same_inputs_give_identical_pages(run, page):
    tables, summary, continuity, census = run
    assert report.build_report(tables, summary, continuity, census) == page
    assert report.build_report(tables, summary) == report.build_report(tables, summary)


def test_many_hospitals_are_drawn_by_rank(run, monkeypatch):
    tables, summary, continuity, _ = run
    monkeypatch.setattr(report, "MAX_NAMED_HOSPITALS", 5)
    body = section(report.build_report(tables, summary, continuity), "fig-same-day-by-hospital")
    assert "<svg" in body and "hospitals, from the lowest rate to the highest" in body


def test_empty_tables_give_notes(run):
    tables, summary, continuity, census = run
    empty = Tables(
        patients=tables.patients.iloc[:0],
        visits=tables.visits.iloc[:0],
        billing=tables.billing.iloc[:0],
    )
    page = report.build_report(empty, summary, continuity.iloc[:0], census.iloc[:0])
    for key in FIGURE_IDS:
        body = section(page, key)
        assert "<svg" not in body and 'class="note"' in body, key


def test_write_report(run, tmp_path):
    tables, summary, continuity, census = run
    path = tmp_path / "report.html"
    report.write_report(path, tables, summary, continuity, census)
    assert path.read_text(encoding="utf-8") == report.build_report(*run)


def test_without_matplotlib(run, monkeypatch):
    tables, summary, _, _ = run
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # any import of it now fails
    monkeypatch.delitem(sys.modules, "reporting.report")
    module = importlib.import_module("reporting.report")  # importing needs no matplotlib
    with pytest.raises(ImportError, match=re.escape("pip install matplotlib")):
        module.build_report(tables, summary)


def test_the_command_line_writes_the_report_next_to_the_tables(tmp_path):
    from reporting.app.cli import main

    args = ["--patients", "150", "--today", "2025-06-30", "--outdir", str(tmp_path), "--quiet"]
    assert main([*args, "--report", "--census"]) == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "fig-age-pyramid" in page and "<svg" in page
    assert "<svg" in section(page, "fig-occupancy")


def test_continuity_by_group_shows_the_summarys_numbers(run, page):
    _, summary, _, _ = run
    body = section(page, "continuity-by-group")
    assert '<a href="#continuity-by-group">' in page
    assert page.index('id="fig-continuity"') < page.index('id="continuity-by-group"')
    groups = summary["continuity_by_group"]["groups"]
    assert list(groups) == ["payer_type", "age_band", "sex", "rurality"]
    for grouping in groups.values():
        for name, figures in grouping.items():
            cells = "".join(
                '<td class="count">'
                + (
                    "n/a"
                    if value is None
                    else f"{value:.4f}"
                    if isinstance(value, float)
                    else f"{value:,}"
                )
                + "</td>"
                for value in figures.values()
            )
            assert f"<tr><td>{name}</td>{cells}</tr>" in body, name
    older = {key: value for key, value in summary.items() if key != "continuity_by_group"}
    page = report.build_report(run[0], older, run[2])
    assert 'class="note"' in section(page, "continuity-by-group")


def test_occupancy_draws_the_samples_share_when_the_census_has_it(run, page):
    tables, summary, continuity, census = run
    assert "sample_occupied_rooms" in census
    assert "<svg" in section(page, "fig-occupancy")
    older = census.drop(columns="sample_occupied_rooms")  # a census before the column
    without_sample = report.build_report(tables, summary, continuity, older)
    body = section(without_sample, "fig-occupancy")
    assert "<svg" in body and body != section(page, "fig-occupancy")
    assert page.count("<path") > without_sample.count("<path")

"""The HTML impact report (:func:`rules.reports.impact_html.render_impact_html`).

Each page is drawn from what ``kzmig compare --summary F --changes F`` writes for one of the
example amendments: the stay limit cut from 90 to 60 days over the first half of 2026, the
residence language requirement raised from A1 to B1, and the social contract's refund made pro
rata. The tests read the page as a reader would (its text, its tables, its charts), check that
it is well formed and self-contained, and that untrusted text (person ids, citizenships, version
names, the title) is shown, not run.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import rules
from rules.analysis.aggregate import bucket, bucket_label
from rules.cli.app import app
from rules.reports.impact_html import render_impact_html
from rules.reports.page import number

ROOT = Path(__file__).resolve().parents[1]
PERSONS = ROOT / "examples" / "persons"
AMENDMENTS = ROOT / "examples" / "amendments"
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"
runner = CliRunner()

Compared = tuple[dict[str, Any], list[dict[str, Any]]]


def compare(directory: Path, people: str, amendment: str, *dates: str) -> Compared:
    """The summary and the changed records ``kzmig compare`` writes for an example."""
    summary, changes = directory / "summary.json", directory / "changes.jsonl"
    result = runner.invoke(
        app,
        [
            "compare",
            str(PERSONS / people),
            *dates,
            "--amend",
            str(AMENDMENTS / amendment),
            "--summary",
            str(summary),
            "--changes",
            str(changes),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = changes.read_text(encoding="utf-8").splitlines()
    return json.loads(summary.read_text(encoding="utf-8")), [json.loads(line) for line in lines]


def sixty_days_compared(directory: Path) -> Compared:
    """The 60-day limit over the example population, the first of each month, December 2025 to
    June 2026."""
    return compare(directory, "population-2026.jsonl", "limit-60-days.yaml", "--months", "2025-12..2026-06")


@pytest.fixture(scope="module")
def sixty_days(tmp_path_factory: pytest.TempPathFactory) -> Compared:
    return sixty_days_compared(tmp_path_factory.mktemp("sixty"))


@pytest.fixture(scope="module")
def language_b1(tmp_path_factory: pytest.TempPathFactory) -> Compared:
    return compare(
        tmp_path_factory.mktemp("b1"),
        "applicants-2026.jsonl",
        "residence-language-b1.yaml",
        "--on",
        "2026-06-01",
    )


@pytest.fixture(scope="module")
def pro_rata(tmp_path_factory: pytest.TempPathFactory) -> Compared:
    return compare(
        tmp_path_factory.mktemp("pro-rata"),
        "families-2027.jsonl",
        "social-contract-pro-rata.yaml",
        "--on",
        "2027-07-01",
    )


class Page(HTMLParser):
    """A page read as a browser would show it: its text, the rows of its tables (cells joined
    by `` | ``), and whether every element that opens also closes, in order."""

    VOID = frozenset({"meta", "br", "wbr", "link", "img", "hr", "input", "col", "source"})
    BLOCK = frozenset(
        {"div", "p", "li", "td", "th", "tr", "h1", "h2", "h3", "h4", "br", "section", "caption"}
    )

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.chunks: list[str] = []
        self.rows: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(html)
        self.close()
        if self.open:
            self.problems.append(f"never closed: {self.open}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK:
            self.handle_data(" ")
        if tag in self.VOID:
            return
        self.open.append(tag)
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(spaced("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(" | ".join(self._row))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] in ("style", "title", "desc"):
            return
        self.chunks.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def text(self) -> str:
        return spaced("".join(self.chunks))


def spaced(text: str) -> str:
    """``text`` with its runs of ASCII white space as one space (narrow spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def read(html: str) -> Page:
    page = Page(html)
    assert page.problems == []
    return page


def charts(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


N = "\u202f"  # the narrow space between thousands and before a percent sign


# A stay limit of 60 days instead of 90, on the first of every month ----------------------------


def test_a_60_day_limit_report_names_the_limit_that_differs_and_the_records_it_explains(
    sixty_days: Compared,
) -> None:
    page = read(render_impact_html(*sixty_days))
    assert "parameter | stay.limit_days | 90 | 60 | 2026-01-01 | all 7 dates | 5 on 2026-02-01" in page.rows
    assert "Baseline version | kz " in " ".join(page.rows)


def test_a_60_day_limit_bites_from_december_and_most_in_february(sixty_days: Compared) -> None:
    page = read(render_impact_html(*sixty_days))
    assert f"2025-12-01 | 8 | 2 | 25.0{N}% | 0" in page.rows
    assert f"2026-02-01 | 8 | 5 | 62.5{N}% | 0" in page.rows
    assert "Records change on 7 of 7 dates, first on 2025-12-01; the most on 2026-02-01" in page.text
    compared_and_changed = charts(render_impact_html(*sixty_days))[0]
    bars = [rect.findtext(f"{SVG}title") for rect in compared_and_changed.iter(f"{SVG}rect")]
    assert "2026-02-01, changed: 5" in bars


def test_a_60_day_limit_turns_compliant_stays_into_overstays_with_fines(
    sixty_days: Compared,
) -> None:
    page = read(render_impact_html(*sixty_days))
    assert "the last date with changes" in page.text
    assert "compliant | → | overstay | 2" in page.rows
    assert "none | → | fine | 2" in page.rows
    assert "fine | 0 | 2 | +2" in page.rows  # the distribution of sanctions
    assert "compliant | 5 | 3 | −2" in page.rows  # the distribution of stay statuses
    assert any(
        row.startswith("2026-04-01 | 4 | 4 |") and "stay compliant → overstay: 2" in row for row in page.rows
    )
    assert "stay.compliant | no longer decides | 2" in page.rows
    assert "stay.overstay | newly decides | 2" in page.rows


def test_a_60_day_limit_adds_overstay_days_and_a_fine_in_tenge(sixty_days: Compared) -> None:
    page = read(render_impact_html(*sixty_days))
    assert f"stay.overstay_days | 31 | 76 | +45 | +145.2{N}% | 7" in page.rows
    kzt = f"stay.sanction.values.fine_kzt | 108{N}125 | 216{N}250 | +108{N}125 | +100.0{N}% | 1 → 3"
    assert kzt in page.rows
    assert not any(row.startswith("stay.days_used |") for row in page.rows)  # it did not move


def test_a_60_day_limit_lists_each_person_whose_stay_changed_and_why(sixty_days: Compared) -> None:
    page = read(render_impact_html(*sixty_days))
    row = next(row for row in page.rows if row.startswith("RU-70 | 2026-04-01 |"))
    assert "stay.status compliant → overstay" in row
    assert "stay.overstay_periods — → [2026-03-06..2026-03-15]" in row
    assert "rule sanction.fine_longer newly decides" in row
    assert "parameter stay.limit_days 90 → 60" in row
    assert "24 of 24 changed records on their dates" in page.text


def test_a_truncated_list_of_changed_records_says_how_many_more_exist(sixty_days: Compared) -> None:
    summary, changed = sixty_days
    page = read(render_impact_html(summary, changed[:5]))
    assert "5 of 24 changed records on their dates" in page.text
    assert "19 more changed records on their dates are not listed here" in page.text


# The residence language requirement raised to B1 --------------------------------------------


def test_b1_language_level_refuses_applicants_who_passed_at_a1(language_b1: Compared) -> None:
    page = read(render_impact_html(*language_b1))
    assert "parameter | residence.language_level | A1 | B1 | — | 4" in page.rows
    assert "passed | → | refused | 2" in page.rows
    assert "undetermined | → | refused | 1" in page.rows
    assert "residence.language.level | newly decides | 4" in page.rows
    assert f"On 2026-06-01: 4 of 6 records change (66.7{N}%)." in page.text
    row = next(row for row in page.rows if row.startswith("RA-102 |"))
    assert "residence.gates: residence.language.level met → failed" in row
    assert "residence.certificate_expires 2027-06-01 → —" in row


def test_one_evaluation_date_shows_the_numbers_not_a_chart_of_dates(language_b1: Compared) -> None:
    html = render_impact_html(*language_b1)
    page = read(html)
    assert "Evaluated on one date, 2026-06-01. 6 Compared 4 Changed 2 Unchanged" in page.text
    titles = [chart.findtext(f"{SVG}title") for chart in charts(html)]
    assert "Records compared and changed on each evaluation date" not in titles
    assert "Programme residence: records by status, before and after" in titles


def test_b1_language_level_on_a_population_without_applicants_changes_nobody(tmp_path: Path) -> None:
    summary, changed = compare(
        tmp_path, "population-2026.jsonl", "residence-language-b1.yaml", "--on", "2026-06-01"
    )
    page = read(render_impact_html(summary, changed))
    assert "No record changes on 2026-06-01." in page.text
    assert "different law on this date, but it decides no record differently" in page.text
    assert "parameter | residence.language_level | A1 | B1 | — | 0" in page.rows
    assert "No status changes." in page.text
    assert "No changed record." in page.text


# The social contract's refund made pro rata ---------------------------------------------------


def test_pro_rata_refunds_lower_the_totals_in_tenge_without_changing_statuses(pro_rata: Compared) -> None:
    page = read(render_impact_html(*pro_rata))
    assert (
        f"social_contract.refund_kzt | 15{N}602{N}620 | 10{N}487{N}954 | −5{N}114{N}666 | −32.8{N}% | 3"
        in page.rows
    )
    assert (
        "computed fact | social_contract.refund_kzt changed: formula | in force | in force | — | 5"
        in page.rows
    )
    assert "No status changes." in page.text
    assert f"KD-101 | social_contract.refund_kzt 5{N}721{N}100 → 3{N}145{N}665" in " ".join(page.rows)


# Untrusted text, form, determinism ------------------------------------------------------------


def test_a_hostile_person_id_citizenship_and_title_are_shown_as_text_not_run(language_b1: Compared) -> None:
    summary, changed = copy.deepcopy(language_b1)
    changed[0]["person_id"] = HOSTILE
    summary["amended"] = f"kz {HOSTILE}"
    summary["dates"][0]["by_citizenship"][HOSTILE] = {"compared": 3, "changed": 3}
    summary["dates"][0]["explained_by"][HOSTILE] = 1
    summary["dates"][0]["law"].append({"kind": "parameter", "name": HOSTILE, "before": HOSTILE, "after": 1})
    html = render_impact_html(summary, changed, title=f'"><img src=x onerror=alert(1)>{HOSTILE}')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = read(html)
    assert any(row.startswith(f"{HOSTILE} | residence.status passed → refused") for row in page.rows)
    assert f"parameter | {HOSTILE} | {HOSTILE} | 1 | — | 1" in page.rows
    citizenship = next(
        c for c in charts(html) if c.findtext(f"{SVG}title") == "Records compared and changed by citizenship"
    )
    assert HOSTILE in [text.text for text in citizenship.iter(f"{SVG}text")]


def test_every_chart_is_well_formed_svg_with_a_title_a_description_and_labelled_bars(
    sixty_days: Compared,
) -> None:
    html = render_impact_html(*sixty_days)
    drawn = charts(html)
    # changed and compared by date, two programmes, the spreads of overstay days and of the fine in
    # tenge and in MCI, figures, citizenship
    assert len(drawn) == 9
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for chart in drawn:
        assert chart.get("role") == "img"
        assert chart.findtext(f"{SVG}title") and chart.findtext(f"{SVG}desc")
        labelled_by = (chart.get("aria-labelledby") or "").split()
        assert [
            child.get("id") for child in chart if child.tag in (f"{SVG}title", f"{SVG}desc")
        ] == labelled_by
        bars = list(chart.iter(f"{SVG}rect"))
        values = [text.text for text in chart.iter(f"{SVG}text")]
        for bar in bars:
            if bar.find(f"{SVG}title") is not None:  # a bar, not a swatch of the legend
                assert (bar.findtext(f"{SVG}title") or "").rsplit(": ", 1)[1] in values


def test_the_page_is_self_contained_and_printable_on_a4(sixty_days: Compared) -> None:
    html = render_impact_html(*sixty_days)
    assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html
    assert re.findall(r"https?://[^\"' <]+", html) == ["http://www.w3.org/2000/svg"] * len(charts(html))
    assert "@page { size: A4" in html
    assert html.startswith("<!DOCTYPE html>")


def test_the_same_summary_gives_the_same_bytes(sixty_days: Compared) -> None:
    summary, changed = sixty_days
    assert render_impact_html(summary, changed) == render_impact_html(*copy.deepcopy((summary, changed)))


def test_a_document_that_is_not_an_impact_summary_is_refused(sixty_days: Compared) -> None:
    summary, changed = copy.deepcopy(sixty_days)
    summary["format"] = "kzmig/verdict/1"
    with pytest.raises(ValueError, match="kzmig/impact/1"):
        render_impact_html(summary, changed)


def test_2026_06_01_a_report_grouped_by_regime_draws_each_regime_and_escapes_a_hostile_value() -> None:
    import json as json_module
    import tempfile
    from pathlib import Path as PathType

    from typer.testing import CliRunner

    from rules.cli.app import app
    from rules.reports.impact_html import render_impact_html

    root = PathType(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as folder:
        summary = PathType(folder) / "summary.json"
        result = CliRunner().invoke(
            app,
            ["compare", str(root / "examples/persons/population-2026.jsonl"), "--on", "2026-06-01",
             "--amend", str(root / "examples/amendments/limit-60-days.yaml"),
             "--by", "stay.regime", "--summary", str(summary)],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        document = json_module.loads(summary.read_text())
    document["dates"][0]["by"]["stay.regime"]["<b>x</b>"] = {"compared": 1, "changed": 1}
    page = render_impact_html(document, [])
    assert '<section id="by-stay.regime">' in page and "By stay.regime" in page
    assert "eaeu" in page and "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


# How the amounts spread, before and after -------------------------------------------------------


def _series_bucket(value: int) -> int:
    """The brute-force bucket: the largest of 1, 2, 5, 10, 20, 50, ... not above ``value``."""
    if value == 0:
        return 0
    series = [step * 10**power for power in range(20) for step in (1, 2, 5)]
    lower = max(bound for bound in series if bound <= abs(value))
    return lower if value > 0 else -lower


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_an_amount_falls_in_the_bucket_of_the_1_2_5_series_below_it(value: int) -> None:
    assert bucket(value) == _series_bucket(value)


@pytest.mark.parametrize(
    ("value", "label"),
    [(0, "0"), (1, "1"), (2, "2-4"), (4, "2-4"), (5, "5-9"), (9, "5-9"), (10, "10-19"), (19, "10-19"),
     (20, "20-49"), (49, "20-49"), (50, "50-99"), (43_250, "20,000-49,999"), (-7, "-(5-9)")],
)  # fmt: skip
def test_each_bucket_is_labelled_with_its_first_and_last_amount(value: int, label: str) -> None:
    assert bucket_label(bucket(value)) == label


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Compared:
    return compare(
        tmp_path_factory.mktemp("generated"),
        "generated-2026.jsonl",
        "limit-60-days.yaml",
        "--on",
        "2026-03-20",
    )


def test_2026_03_20_a_60_day_limit_spreads_overstay_days_as_each_record_counts_them(
    generated: Compared,
) -> None:
    """The spread of the summary and the bars of its chart equal the overstay days of each
    verdict, bucketed by brute force."""
    baseline, amended = rules.load_policy(), rules.load_policy(amendments=[AMENDMENTS / "limit-60-days.yaml"])
    before: Counter[int] = Counter()
    after: Counter[int] = Counter()
    for line in (PERSONS / "generated-2026.jsonl").read_text(encoding="utf-8").splitlines():
        person = json.loads(line)
        for policy, counts in ((baseline, before), (amended, after)):
            days = rules.evaluate(person, on=dt.date(2026, 3, 20), policy=policy).stay.overstay_days
            if days is not None:
                counts[_series_bucket(days)] += 1
    summary, changed = generated
    spread = summary["dates"][0]["totals"]["stay.overstay_days"]["spread"]
    assert {row["from"]: row["before"] for row in spread if row["before"]} == dict(before)
    assert {row["from"]: row["after"] for row in spread if row["after"]} == dict(after)
    html = render_impact_html(summary, changed)
    chart = next(svg for svg in charts(html) if "stay.overstay_days" in (svg.findtext(f"{SVG}title") or ""))
    bars = [rect.findtext(f"{SVG}title") for rect in chart.iter(f"{SVG}rect")]
    for row in spread:
        if row["from"] != 0:
            assert f"{row['label']}, before: {row['before']}" in bars
            assert f"{row['label']}, after: {row['after']}" in bars
    zero_before, zero_after = number(before[0]), number(after[0])
    assert f"Records at 0, not drawn: {zero_before} before, {zero_after} after." in html


@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.integers(-(10**9), 10**9),
                st.decimals(-(10**6), 10**6, places=2, allow_nan=False, allow_infinity=False),
                st.booleans(),
                st.floats(-100, 100),
            ),
            st.integers(1, 50),
        ),
        max_size=8,
    )
)
def test_records_alike_counted_at_once_total_as_when_counted_one_by_one(
    amounts: list[tuple[Any, int]],
) -> None:
    from rules.analysis.aggregate import Totals

    one_by_one, at_once = Totals(), Totals()
    for amount, records in amounts:
        for _ in range(records):
            one_by_one.add(amount, amount)
        at_once.add_alike(amount, records)
    assert at_once == one_by_one

"""The HTML pages as a browser lays them out: nothing drawn past the edge of the page.

The other report tests read the pages' text and markup; these load them in headless Chromium,
as a reader opens them, and measure every element's box. A table wider than the column it sits
in (the transitions of a programme beside its chart, with long status names) used to run past
the page's right edge; the pages must instead wrap such a table below its chart.

Skipped where no Chromium is installed (``.ci/run`` installs it where it can).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_impact_report import Compared, compare, sixty_days_compared

from rules.cli.records import read_records
from rules.engine.evaluator import evaluator_for
from rules.reports.impact_html import render_impact_html
from rules.reports.person_report import HEADLESS_FLAGS, person_report

ROOT = Path(__file__).resolve().parents[1]
PERSONS = ROOT / "examples" / "persons"
CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")

#: Run in the page once it is laid out: the elements whose box runs past the right edge of the
#: page's body (its content box), named by tag, class and text, written into the title.
MEASURE = """
<script>
addEventListener("load", () => {
  const body = document.body.getBoundingClientRect();
  const style = getComputedStyle(document.body);
  const right = body.right - parseFloat(style.paddingRight) + 1;
  const over = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > right) {
      const text = (element.textContent || "").trim().slice(0, 40);
      over.push(element.tagName + "." + (element.getAttribute("class") || "") + " " + text);
    }
  }
  document.title = "MEASURED " + JSON.stringify(over);
});
</script>
"""


def chromium_starts() -> bool:
    """Whether the installed Chromium starts and loads a page (a machine may have it installed
    but unable to run: then what needs it is skipped, not failed)."""
    if CHROMIUM is None:
        return False
    with tempfile.TemporaryDirectory(prefix="kzmig-browser-") as folder:
        try:
            done = subprocess.run(
                [CHROMIUM, *HEADLESS_FLAGS, f"--user-data-dir={folder}", "--dump-dom", "about:blank"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0 and "<html" in done.stdout


def overflowing(page: str, width: int = 1280) -> list[str]:
    """The elements of ``page`` drawn past the right edge of its body in a window ``width``
    pixels wide, as Chromium lays it out."""
    assert CHROMIUM is not None
    # The measuring script goes in a copy of the page; the page itself carries no script, and a
    # content security policy, if any, would forbid one.
    measured = re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", page)
    measured = measured.replace("</head>", MEASURE + "</head>", 1)
    with tempfile.TemporaryDirectory(prefix="kzmig-browser-") as folder:
        path = Path(folder) / "page.html"
        path.write_text(measured, encoding="utf-8")
        done = subprocess.run(
            [
                CHROMIUM,
                *HEADLESS_FLAGS,
                f"--user-data-dir={Path(folder) / 'profile'}",
                f"--window-size={width},1000",
                "--dump-dom",
                path.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    found = re.search(r"<title>MEASURED (.*?)</title>", done.stdout, re.S)
    if found is None and done.returncode != 0 and "<html" not in done.stdout:
        # The browser itself did not run (a machine where it is installed but cannot start):
        # the layout cannot be measured here, which is not a fault of the page.
        pytest.skip(f"Chromium did not start (exit {done.returncode}): {done.stderr[-500:]}")
    assert found is not None, f"the page was not measured: {done.stderr[-2000:]}"
    return list(json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")))


@pytest.fixture(scope="module")
def sixty_days(tmp_path_factory: pytest.TempPathFactory) -> Compared:
    return sixty_days_compared(tmp_path_factory.mktemp("sixty"))


#: A desktop window, and a phone's (where a chart beside its tables must shrink).
WIDTHS = (1280, 420)


@pytest.mark.parametrize("width", WIDTHS)
def test_2026_a_60_day_limit_report_draws_nothing_past_the_edge_of_the_page(
    sixty_days: Compared, width: int
) -> None:
    """Its sanction transitions (fine_or_expulsion, none) are too wide to stand beside the chart."""
    summary, changed = sixty_days
    assert overflowing(render_impact_html(summary, changed), width) == []


def test_a_report_of_the_generated_population_draws_nothing_past_the_edge_of_the_page(
    tmp_path: Path,
) -> None:
    summary, changed = compare(tmp_path, "generated-2026.jsonl", "limit-60-days.yaml", "--on", "2026-03-20")
    assert overflowing(render_impact_html(summary, changed)) == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    ("name", "on"),
    [
        ("overstay-B-2.yaml", dt.date(2024, 4, 20)),
        ("residence-RA-1.yaml", dt.date(2026, 6, 1)),
        ("kandas-KD-1.yaml", dt.date(2027, 7, 1)),
    ],
)
def test_a_persons_report_draws_nothing_past_the_edge_of_the_page(name: str, on: dt.date, width: int) -> None:
    record = next(read_records(str(PERSONS / name)))
    assert record.data is not None
    assert overflowing(person_report(evaluator_for(None), record.data, on), width) == []

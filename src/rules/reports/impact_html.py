"""The impact of an amendment as one self-contained HTML page (``kzmig compare --report``).

A legal analyst testing a what-if amendment reads it on screen or prints it on A4. The page
is drawn from the summary (``Impact.to_json()``, format ``kzmig/impact/1``) and the first
changed records (the lines of ``--changes``); nothing is evaluated again, only sums, shares
and differences of the figures given are worked out. In order:

1. the header: the baseline and amended versions, the dates, the records and the errors, and
   a few sentences of key findings;
2. *When it bites*: for several dates, a chart and a table of the records compared and
   changed on each date; for one date, the numbers;
3. *The law that differs*: each difference (kind, name, before, after, the day it begins) with
   the number of changed records it may explain;
4. *Status transitions*: for each programme, the distribution of statuses before and after
   (a table and a grouped bar chart) and the transitions that changed; for several dates, the
   last date with changes in full and a compact table date by date;
5. *Amounts*: the totals before and after of the amounts that moved, with the difference, and
   the figures that changed in the most records;
6. *Rules deciding differently*;
7. *By citizenship*: records compared and changed (the 20 with the most changes);
8. *The changed records*: person, date, the figures before and after, and why.

Sections 4 to 7 are about one date, the *focus date*: the last date with changes (or the last
date, if nothing changed). The page has no scripts and loads nothing: the style is inline and
the charts are inline SVG drawn here, each with a title and a description, axis labels, and
the value written on every bar (the series differ in lightness and by legend, not by colour
alone). Every text taken from the input (person ids, names of rules and parameters, version
names, the title) is escaped. The same input gives the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rules.reports.impact_text import MOST_GROUPS, shown_value
from rules.reports.page import BASE_CSS as _CSS
from rules.reports.page import BRICK as _BRICK
from rules.reports.page import FONT as _FONT
from rules.reports.page import GRID as _GRID
from rules.reports.page import INK as _INK
from rules.reports.page import LIGHT_FILL as _LIGHT_FILL
from rules.reports.page import LIGHT_STROKE as _LIGHT_STROKE
from rules.reports.page import MINUS as _MINUS
from rules.reports.page import MUTED as _MUTED
from rules.reports.page import NAVY as _NAVY
from rules.reports.page import coordinate as _f
from rules.reports.page import dotted_name as _name
from rules.reports.page import escaped as _e
from rules.reports.page import number as _number
from rules.reports.page import table as _table
from rules.reports.page import text_width as _text_width

__all__ = ["render_impact_html"]

FORMAT = "kzmig/impact/1"

#: The citizenships drawn in the chart, by records changed.
_TOP_CITIZENSHIPS = MOST_GROUPS  # the summary lists as many
#: The figures drawn in the chart of the figures that changed most.
_TOP_FIGURES = 15
_TOP_SPREADS = 3  # distributions drawn for the amounts that moved in the most records
#: Longest value written in a cell of the changed records (the rest is in its tooltip).
_LONGEST_VALUE = 160

_NONE = "—"
_ARROW = "→"

# Colours: the "before" and "compared" series are light, the "after" and "changed" series dark,
# so that they differ in a grey-scale print too; every bar also carries its value.

#: What the "With notes" count of a date counts.
_WITH_NOTES = (
    '<p class="note">With notes: records holding something one version does not know (a status '
    "kind or a field), treated as absent under that version, and records with a programme one "
    "version decides and the other does not (no rule of it applies), left out of that version's "
    "verdict.</p>"
)


@dataclass(frozen=True)
class _Series:
    """One series of a bar chart: its name in the legend, its values, how its bars look."""

    name: str
    values: tuple[int | float, ...]
    fill: str
    stroke: str


def _before(values: Iterable[int | float]) -> _Series:
    return _Series("before", tuple(values), _LIGHT_FILL, _LIGHT_STROKE)


def _after(values: Iterable[int | float]) -> _Series:
    return _Series("after", tuple(values), _NAVY, _NAVY)


def render_impact_html(
    summary: dict[str, Any], changed: list[dict[str, Any]], *, title: str | None = None
) -> str:
    """The report page of ``summary`` (an ``Impact.to_json()`` document) as HTML text.

    ``changed`` holds the first changed-record documents (the lines ``kzmig compare --changes``
    writes); the page lists them and says how many more changed records the summary counts.
    ``title`` heads the page (by default, one naming the two versions). Raises ``ValueError``
    for a document of another format, which the page would misread.
    """
    if summary.get("format") != FORMAT:
        raise ValueError(f"not an impact summary (format {FORMAT!r} expected)")
    return _Page(summary, changed, title).render()


# The page -----------------------------------------------------------------------------------


@dataclass
class _Page:
    """The state of one rendering: the input, and a counter for the ids of the charts."""

    summary: dict[str, Any]
    changed: list[dict[str, Any]]
    title: str | None
    dates: list[dict[str, Any]] = field(init=False)
    focus: dict[str, Any] | None = field(init=False)
    _ids: int = 0

    def __post_init__(self) -> None:
        self.dates = list(self.summary.get("dates") or [])
        with_changes = [date for date in self.dates if date.get("changed")]
        self.focus = with_changes[-1] if with_changes else (self.dates[-1] if self.dates else None)

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{self._ids}"

    @property
    def several(self) -> bool:
        return len(self.dates) > 1

    def focus_words(self) -> str:
        """Which date sections 4 to 7 are about, as a phrase."""
        if self.focus is None:
            return ""
        on = _e(self.focus.get("as_of"))
        if not self.several:
            return f"on {on}"
        if self.focus.get("changed"):
            return f"on {on}, the last date with changes"
        return f"on {on}, the last date (no date has changes)"

    def render(self) -> str:
        baseline, amended = str(self.summary.get("baseline")), str(self.summary.get("amended"))
        title = self.title if self.title is not None else f"Impact of the amendment {amended}"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="kzmig">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            self._header(title, baseline, amended),
            '<main class="report">',
            self._when(),
            self._law(),
            self._statuses(),
            self._amounts(),
            self._rules(),
            self._citizenship(),
            self._records(),
            "</main>",
            '<footer class="report">',
            f"<p>Drawn by kzmig from an impact summary ({_e(FORMAT)}): baseline {_e(baseline)}, "
            f"amended {_e(amended)}. Every count and figure comes from the comparison of the two "
            "versions; the page adds only shares and differences. An amendment that is "
            "not law is a hypothesis: the page says what it would change, not what the law "
            "is.</p>",
            "</footer>",
            "</body>",
            "</html>",
        ]
        return "\n".join(part for part in parts if part) + "\n"

    # 1. The header ------------------------------------------------------------------------

    def _header(self, title: str, baseline: str, amended: str) -> str:
        records = _int(self.summary.get("records"))
        errors = {str(kind): _int(count) for kind, count in (self.summary.get("errors") or {}).items()}
        error_total = sum(errors.values())
        error_text = _number(error_total)
        if errors:
            error_text += " (" + ", ".join(f"{_e(k)} {_number(n)}" for k, n in errors.items()) + ")"
        if not self.dates:
            when = _NONE
        elif self.several:
            when = (
                f"{_number(len(self.dates))} dates, {_e(self.dates[0].get('as_of'))} to "
                f"{_e(self.dates[-1].get('as_of'))}"
            )
        else:
            when = _e(self.dates[0].get("as_of"))
        facts = [
            ("Baseline version", _name(baseline)),
            ("Amended version", _name(amended)),
            ("Evaluation dates" if self.several else "Evaluation date", when),
            ("Records", _number(records)),
            ("Errors (not compared)", error_text),
        ]
        rows = "\n".join(f'<tr><th scope="row">{name}</th><td>{value}</td></tr>' for name, value in facts)
        return "\n".join(
            [
                '<header class="report">',
                '<p class="kicker">Impact analysis of an amendment · kzmig</p>',
                f"<h1>{_e(title)}</h1>",
                f'<table class="facts">\n<tbody>\n{rows}\n</tbody>\n</table>',
                self._findings(records, error_total),
                "</header>",
            ]
        )

    def _findings(self, records: int, errors: int) -> str:
        """A few sentences an analyst reads first: how many records change, when, and how."""
        found: list[str] = []
        biting = [date for date in self.dates if date.get("changed")]
        if not self.dates:
            found.append("The summary has no evaluation dates.")
        elif not biting:
            differs = any(date.get("law") for date in self.dates)
            found.append(
                "No record changes on any date."
                if self.several
                else f"No record changes on {_e(self.dates[0].get('as_of'))}."
            )
            these = "these dates" if self.several else "this date"
            found.append(
                f"The two versions state different law on {these}, but it decides no record differently."
                if differs
                else f"The two versions state the same law on {these}."
            )
        else:
            assert self.focus is not None
            changed, compared = _int(self.focus.get("changed")), _int(self.focus.get("compared"))
            if self.several:
                peak = max(biting, key=lambda date: _int(date.get("changed")))
                found.append(
                    f"Records change on {_number(len(biting))} of {_number(len(self.dates))} dates, "
                    f"first on {_e(biting[0].get('as_of'))}; the most on {_e(peak.get('as_of'))}: "
                    f"{_number(_int(peak.get('changed')))} of {_number(_int(peak.get('compared')))} "
                    "records compared."
                )
            words = self.focus_words()
            found.append(
                f"{words[:1].upper()}{words[1:]}: {_number(changed)} of {_number(compared)} records "
                f"change ({_share(changed, compared)})."
            )
            transitions = _status_changes(self.focus)
            if transitions:
                shown = "; ".join(
                    f"{_e(item['programme'])} {_status(item['before'])} {_ARROW} "
                    f"{_status(item['after'])}: {_number(_int(item['records']))}"
                    for item in transitions[:3]
                )
                more = f" and {_number(len(transitions) - 3)} more" if len(transitions) > 3 else ""
                found.append(f"Status changes: {shown}{more}.")
            else:
                found.append("No status changes: only other figures move.")
            moved = _moved_totals(self.focus)
            if moved:
                shown = "; ".join(
                    f"{_name(name)} {_value_number(totals.get('before'))} {_ARROW} "
                    f"{_value_number(totals.get('after'))} ({_signed(_delta(totals))})"
                    for name, totals in moved[:3]
                )
                more = f" and {_number(len(moved) - 3)} more" if len(moved) > 3 else ""
                found.append(f"Totals that move: {shown}{more}.")
        if errors:
            found.append(
                f"{_number(errors)} of {_number(records)} records could not be compared and are not counted."
            )
        items = "\n".join(f"<li>{sentence}</li>" for sentence in found)
        return (
            '<section class="findings" aria-label="Key findings">\n'
            f'<h2 class="plain">Key findings</h2>\n<ul>\n{items}\n</ul>\n</section>'
        )

    # 2. When it bites ---------------------------------------------------------------------

    def _when(self) -> str:
        parts = ['<section id="when">', "<h2>When it bites</h2>"]
        if not self.dates:
            parts.append("<p>No evaluation dates.</p>")
        elif not self.several:
            on = self.dates[0]
            compared, changed = _int(on.get("compared")), _int(on.get("changed"))
            numbers = [
                ("Compared", _number(compared)),
                ("Changed", _number(changed)),
                ("Unchanged", _number(compared - changed)),
                ("Share changed", _share(changed, compared)),
                ("With notes", _number(_int(on.get("with_notes")))),
            ]
            cells = "\n".join(
                f'<div class="figure-box"><div class="big">{value}</div><div class="label">{name}</div></div>'
                for name, value in numbers
            )
            parts += [
                f"<p>Evaluated on one date, {_e(on.get('as_of'))}.</p>",
                f'<div class="boxes">\n{cells}\n</div>',
                _WITH_NOTES,
            ]
        else:
            labels = [str(date.get("as_of")) for date in self.dates]
            compared_on = tuple(_int(date.get("compared")) for date in self.dates)
            changed_on = tuple(_int(date.get("changed")) for date in self.dates)
            parts.append(
                _column_chart(
                    self,
                    "Records changed on each evaluation date",
                    labels,
                    [_Series("changed", changed_on, _BRICK, _BRICK)],
                    x_label="evaluation date",
                    y_label="records changed",
                )
            )
            parts.append(
                _column_chart(
                    self,
                    "Records compared on each evaluation date",
                    labels,
                    [_Series("compared", compared_on, _LIGHT_FILL, _LIGHT_STROKE)],
                    x_label="evaluation date",
                    y_label="compared",
                    plot_height=60,
                )
            )
            rows = [
                [
                    _date(date.get("as_of")),
                    _number(_int(date.get("compared"))),
                    _number(_int(date.get("changed"))),
                    _share(_int(date.get("changed")), _int(date.get("compared"))),
                    _number(_int(date.get("with_notes"))),
                ]
                for date in self.dates
            ]
            parts.append(
                _table(
                    ["Date", "Compared", "Changed", "Share changed", "With notes"],
                    rows,
                    numeric=(1, 2, 3, 4),
                    caption="Records compared and changed, date by date",
                )
            )
            parts.append(_WITH_NOTES)
        parts.append("</section>")
        return "\n".join(parts)

    # 3. The law that differs --------------------------------------------------------------

    def _law(self) -> str:
        parts = ['<section id="law">', "<h2>The law that differs</h2>"]
        rows = _law_rows(self.dates)
        if not rows:
            these = "these dates" if self.several else "this date"
            parts.append(f"<p>The two versions state the same law on {these}.</p>")
            parts.append("</section>")
            return "\n".join(parts)
        headers = ["Kind", "Name", "Before", "After", "From"]
        if self.several:
            headers += ["Differs on", "Changed records it explains (most on one date)"]
        else:
            headers.append("Changed records it explains")
        table: list[list[str]] = []
        for row in rows:
            name = _name(row.name)
            if row.changed:
                name += f'<br><span class="small">changed: {_e(", ".join(row.changed))}</span>'
            cells = [
                _e(row.kind),
                name,
                _cell_value(row.before),
                _cell_value(row.after),
                (_e(row.start) + (f" to {_e(row.end)}" if row.end else "")) if row.start else _NONE,
            ]
            if self.several:
                if len(row.dates) == len(self.dates):
                    cells.append(f"all {_number(len(row.dates))} dates")
                else:
                    cells.append(
                        f"{_number(len(row.dates))} of {_number(len(self.dates))}: "
                        f"{_e(row.dates[0])} to {_e(row.dates[-1])}"
                    )
                on, count = max(row.explains, key=lambda item: (item[1], item[0]))
                cells.append(f"{_number(count)} on {_e(on)}" if count else "0")
            else:
                cells.append(_number(row.explains[0][1]))
            table.append(cells)
        parts.append(
            _table(
                headers,
                table,
                numeric=(6,) if self.several else (5,),
                caption="Items of the law that differ between the versions",
            )
        )
        parts.append(
            '<p class="note">From: the days a difference applies when it is not in force on the '
            "evaluation date: from a first to a last day for one that ended before it (a verdict "
            "judges a past day by the law of that day: an overstay by the limit, a fine by the MCI "
            "of its day), from a first day for one that begins after it (a figure that looks "
            f"ahead, such as the latest day to leave, reads the law of later days); {_NONE}: in "
            "force on the evaluation date. A changed record is explained by a difference when the "
            "figures or rules that changed read it (a table row, when the record may have been "
            "looked up by its key).</p>"
        )
        parts.append("</section>")
        return "\n".join(parts)

    # 4. Status transitions ----------------------------------------------------------------

    def _statuses(self) -> str:
        parts = ['<section id="statuses">', "<h2>Status transitions by programme</h2>"]
        if self.focus is None:
            parts += ["<p>No evaluation dates.</p>", "</section>"]
            return "\n".join(parts)
        statuses = [item for item in self.focus.get("statuses") or [] if isinstance(item, dict)]
        programmes = list(dict.fromkeys(str(item.get("programme")) for item in statuses))
        moved = {
            name: sum(
                _int(item.get("records"))
                for item in statuses
                if str(item.get("programme")) == name and item.get("before") != item.get("after")
            )
            for name in programmes
        }
        changing = sorted((name for name in programmes if moved[name]), key=lambda n: (-moved[n], n))
        steady = [name for name in programmes if not moved[name]]
        parts.append(f"<p>The status of each programme {self.focus_words()}, before and after.</p>")
        if not changing:
            parts.append("<p><strong>No status changes.</strong></p>")
        for name in changing:
            parts.append(self._programme(name, [i for i in statuses if str(i.get("programme")) == name]))
        if steady:
            rows = [
                [
                    _name(name),
                    "; ".join(
                        f"{_status(status)} {_number(count)}"
                        for status, count in _distribution(statuses, name, "before")
                    ),
                ]
                for name in steady
            ]
            parts.append(
                _table(
                    ["Programme", "Statuses (records), the same before and after"],
                    rows,
                    caption="Programmes whose statuses do not change",
                )
            )
        if self.several:
            parts.append(self._statuses_by_date())
        parts.append("</section>")
        return "\n".join(parts)

    def _programme(self, name: str, statuses: list[dict[str, Any]]) -> str:
        before = dict(_distribution(statuses, name, "before"))
        after = dict(_distribution(statuses, name, "after"))
        keys = sorted(
            dict.fromkeys([*before, *after]),
            key=lambda s: (s is None, -(before.get(s, 0) + after.get(s, 0)), s or ""),
        )
        labels = [_status_plain(status) for status in keys]
        chart = _column_chart(
            self,
            f"Programme {name}: records by status, before and after",
            labels,
            [_before(before.get(s, 0) for s in keys), _after(after.get(s, 0) for s in keys)],
            x_label="status",
            y_label="records",
            width=420,
        )
        rows = [
            [
                _status(status),
                _number(before.get(status, 0)),
                _number(after.get(status, 0)),
                _signed(after.get(status, 0) - before.get(status, 0)),
            ]
            for status in keys
        ]
        distribution = _table(["Status", "Before", "After", "Difference"], rows, numeric=(1, 2, 3))
        transitions = sorted(
            (item for item in statuses if item.get("before") != item.get("after")),
            key=lambda item: (-_int(item.get("records")), str(item.get("before")), str(item.get("after"))),
        )
        changed = _table(
            ["Before", "", "After", "Records"],
            [
                [
                    _status(item.get("before")),
                    _ARROW,
                    _status(item.get("after")),
                    _number(_int(item.get("records"))),
                ]
                for item in transitions
            ],
            numeric=(3,),
        )
        return "\n".join(
            [
                '<div class="programme">',
                f"<h3>Programme {_name(name)}</h3>",
                '<div class="side">',
                f'<div class="chart">{chart}</div>',
                '<div class="tables">',
                "<h4>Distribution</h4>",
                distribution,
                "<h4>Transitions that changed</h4>",
                changed,
                "</div>",
                "</div>",
                "</div>",
            ]
        )

    def _statuses_by_date(self) -> str:
        rows = []
        for date in self.dates:
            if not _int(date.get("changed")):
                continue
            changes = _status_changes(date)
            text = "; ".join(
                f"{_name(item['programme'])} {_status(item['before'])} "
                f"{_ARROW} {_status(item['after'])}: {_number(_int(item['records']))}"
                for item in changes
            )
            rows.append(
                [
                    _date(date.get("as_of")),
                    _number(_int(date.get("changed"))),
                    _number(sum(_int(item["records"]) for item in changes)),
                    text or _NONE,
                ]
            )
        return "\n".join(
            [
                "<h3>Date by date</h3>",
                _table(
                    ["Date", "Records changed", "Status changes", "Transitions (records)"],
                    rows,
                    numeric=(1, 2),
                    caption="Status changes on each evaluation date with changes (a record counts "
                    "once per programme whose status changed)",
                ),
            ]
        )

    # 5. Amounts ---------------------------------------------------------------------------

    def _amounts(self) -> str:
        parts = ['<section id="amounts">', "<h2>Amounts and figures</h2>"]
        if self.focus is None:
            parts += ["<p>No evaluation dates.</p>", "</section>"]
            return "\n".join(parts)
        moved = _moved_totals(self.focus)
        parts.append(f"<h3>Totals that moved {self.focus_words()}</h3>")
        if moved:
            rows = []
            for name, totals in moved:
                counted = f"{_number(_int(totals.get('records_before')))}"
                if totals.get("records_before") != totals.get("records_after"):
                    counted += f" {_ARROW} {_number(_int(totals.get('records_after')))}"
                rows.append(
                    [
                        _name(name),
                        _value_number(totals.get("before")),
                        _value_number(totals.get("after")),
                        _signed(_delta(totals)),
                        _percent_change(totals),
                        counted,
                    ]
                )
            parts.append(
                _table(
                    ["Amount", "Total before", "Total after", "Difference", "Change", "Records with it"],
                    rows,
                    numeric=(1, 2, 3, 4, 5),
                    caption="Sums over the records that have the amount (days, points, tenge)",
                )
            )
            parts.append(self._spreads(moved))
        else:
            parts.append("<p>No total moved.</p>")
        if self.several:
            parts.append(self._totals_by_date())
        figures = [(str(name), _int(count)) for name, count in (self.focus.get("figures") or {}).items()]
        figures.sort(key=lambda item: (-item[1], item[0]))
        parts.append(f"<h3>The figures that changed in the most records {self.focus_words()}</h3>")
        if figures:
            shown = figures[:_TOP_FIGURES]
            parts.append(
                _bar_chart(
                    self,
                    "Records in which each figure changed",
                    [name for name, _ in shown],
                    [_Series("records changed", tuple(n for _, n in shown), _NAVY, _NAVY)],
                    x_label="records in which the figure changed",
                )
            )
            if len(figures) > len(shown):
                parts.append(
                    f'<p class="note">{_number(len(figures) - len(shown))} more figures changed in '
                    "fewer records.</p>"
                )
        else:
            parts.append("<p>No figure changed.</p>")
        parts.append("</section>")
        return "\n".join(parts)

    def _spreads(self, moved: list[tuple[str, dict[str, Any]]]) -> str:
        """How the records spread over the amounts, before and after, for the totals that
        moved in the most records (buckets 0, 1, 2-4, 5-9, 10-19, ...: the same for every
        population, so that the bars of two runs compare)."""
        ranked = sorted(
            moved,
            key=lambda item: -(_int(item[1].get("records_before")) + _int(item[1].get("records_after"))),
        )
        parts = []
        for name, totals in ranked[:_TOP_SPREADS]:
            rows = [row for row in totals.get("spread") or () if isinstance(row, dict)]
            spread = [row for row in rows if row.get("from") != 0]
            if len(spread) < 2:
                continue  # one bucket: the table above says it all
            parts.append(
                _column_chart(
                    self,
                    f"{name} {self.focus_words()}: records by amount, before and after",
                    [str(row.get("label")) for row in spread],
                    [
                        _before(_int(row.get("before")) for row in spread),
                        _after(_int(row.get("after")) for row in spread),
                    ],
                    x_label=f"{name} (buckets of the amount)",
                    y_label="records",
                )
            )
            zero = next((row for row in rows if row.get("from") == 0), None)
            if zero is not None:
                parts.append(
                    f'<p class="note">Records at 0, not drawn: {_number(_int(zero.get("before")))} before, '
                    f"{_number(_int(zero.get('after')))} after.</p>"
                )
        if not parts:
            return ""
        heading = f"<h3>How the amounts spread {self.focus_words()}</h3>"
        return "\n".join([heading, *parts])

    def _totals_by_date(self) -> str:
        names = list(dict.fromkeys(name for date in self.dates for name, _ in _moved_totals(date)))
        if not names:
            return ""
        rows = []
        for date in self.dates:
            if not _moved_totals(date):
                continue
            totals = date.get("totals") or {}
            row = [_date(date.get("as_of"))]
            for name in names:
                item = totals.get(name)
                moved = isinstance(item, dict) and _has_moved(item)
                row.append(_signed(_delta(item)) if moved else _NONE)
            rows.append(row)
        headers = ["Date"] + [_name(name) for name in names]
        return "\n".join(
            [
                "<h3>Difference of each total, date by date</h3>",
                _table(
                    headers,
                    rows,
                    numeric=tuple(range(1, len(names) + 1)),
                    caption="After minus before, on each evaluation date on which a total moved",
                    escaped_headers=True,
                ),
            ]
        )

    # 6. Rules -----------------------------------------------------------------------------

    def _rules(self) -> str:
        parts = ['<section id="rules">', "<h2>Rules deciding differently</h2>"]
        found = []
        if self.focus is not None:
            found = [item for item in self.focus.get("rules") or [] if isinstance(item, dict)]
        found.sort(
            key=lambda item: (-_int(item.get("records")), str(item.get("rule")), str(item.get("effect")))
        )
        if not found:
            parts.append(f"<p>No rule fires differently {self.focus_words()}.</p>")
        else:
            parts.append(f"<p>The rules that fire or decide differently {self.focus_words()}.</p>")
            parts.append(
                _table(
                    ["Rule", "Effect of the amendment", "Records"],
                    [
                        [
                            _name(item.get("rule")),
                            _e(item.get("effect")),
                            _number(_int(item.get("records"))),
                        ]
                        for item in found
                    ],
                    numeric=(2,),
                )
            )
        parts.append("</section>")
        return "\n".join(parts)

    # 7. By citizenship --------------------------------------------------------------------

    def _citizenship(self) -> str:
        focus = self.focus or {}
        parts = [
            self._grouped(
                "citizenship", "By citizenship", "citizenship", focus.get("by_citizenship"), _citizenship_name
            )
        ]
        by = focus.get("by") or {}
        for fact in sorted(by) if isinstance(by, dict) else []:
            parts.append(self._grouped(f"by-{fact}", f"By {fact}", str(fact), by[fact], _value_name))
        return "\n".join(parts)

    def _grouped(
        self, anchor: str, heading: str, subject: str, table: Any, label: Callable[[str], str]
    ) -> str:
        """Records compared and changed per value (a citizenship, a fact given with --by)."""
        parts = [f'<section id="{_e(anchor)}">', f"<h2>{_e(heading)}</h2>"]
        found = [
            (str(code), _int(row.get("compared")), _int(row.get("changed")))
            for code, row in (table or {}).items()
            if isinstance(row, dict)
        ]
        found.sort(key=lambda item: (-item[2], -item[1], item[0]))
        if not found:
            parts += ["<p>No records compared.</p>", "</section>"]
            return "\n".join(parts)
        shown = found[:_TOP_CITIZENSHIPS]
        parts.append(
            f"<p>Records compared and changed by {_e(subject)} {self.focus_words()}"
            + (f", the {_number(len(shown))} with the most changes" if len(found) > len(shown) else "")
            + ".</p>"
        )
        parts.append(
            _bar_chart(
                self,
                f"Records compared and changed by {subject}",
                [label(code) for code, _, _ in shown],
                [
                    _Series("compared", tuple(c for _, c, _ in shown), _LIGHT_FILL, _LIGHT_STROKE),
                    _Series("changed", tuple(c for _, _, c in shown), _BRICK, _BRICK),
                ],
                x_label="records",
                shares=True,
            )
        )
        if len(found) > len(shown):
            rest = found[len(shown) :]
            parts.append(
                f'<p class="note">{_number(len(rest))} more values not drawn: '
                f"{_number(sum(c for _, c, _ in rest))} records compared, "
                f"{_number(sum(c for _, _, c in rest))} changed.</p>"
            )
        parts.append("</section>")
        return "\n".join(parts)

    # 8. The changed records ---------------------------------------------------------------

    def _records(self) -> str:
        parts = ['<section id="records">', "<h2>The changed records</h2>"]
        total = sum(_int(date.get("changed")) for date in self.dates)
        documents = [doc for doc in self.changed if isinstance(doc, dict)]
        unit = "changed records" if not self.several else "changed records on their dates"
        if not documents:
            parts.append(
                f"<p>{_number(total)} {unit}; none listed here.</p>" if total else "<p>No changed record.</p>"
            )
            parts.append("</section>")
            return "\n".join(parts)
        order = " (a record appears once for each date it changes on)" if self.several else ""
        parts.append(
            f"<p>{_number(len(documents))} of {_number(max(total, len(documents)))} {unit}, in the "
            f"order of the input{order}.</p>"
        )
        headers = ["Person", *(["Date"] if self.several else []), "What changed (before → after)", "Why"]
        rows = []
        for doc in documents:
            row = [_name(doc.get("person_id"))]
            if self.several:
                row.append(_date(doc.get("as_of")))
            row.append(_changes_cell(doc))
            row.append(_why_cell(doc))
            rows.append(row)
        parts.append(_table(headers, rows, css="records"))
        if total > len(documents):
            parts.append(
                f'<p class="more"><strong>{_number(total - len(documents))} more</strong> {unit} '
                "are not listed here: <code>kzmig compare --changes FILE</code> writes them all.</p>"
            )
        parts.append("</section>")
        return "\n".join(parts)


# Reading the summary ------------------------------------------------------------------------


@dataclass
class _LawRow:
    """One difference in the law, merged over the dates on which it is reported."""

    kind: str
    name: str
    before: Any
    after: Any
    changed: tuple[str, ...]
    start: str | None = None
    end: str | None = None
    dates: list[str] = field(default_factory=list)
    explains: list[tuple[str, int]] = field(default_factory=list)


def _law_rows(dates: Sequence[dict[str, Any]]) -> list[_LawRow]:
    """The differences in the law over all dates: one row per item and pair of values, with
    the first day it applies (when it is not in force on an evaluation date) and the last (when
    it ended before), the dates it is reported on and the changed records it explains on
    each."""
    rows: dict[tuple[str, ...], _LawRow] = {}
    for date in dates:
        on = str(date.get("as_of"))
        explained = date.get("explained_by") or {}
        for item in date.get("law") or []:
            if not isinstance(item, dict):
                continue
            changed = tuple(str(key) for key in item.get("changed") or ())
            key = (
                str(item.get("kind")),
                str(item.get("name")),
                json.dumps(item.get("before"), sort_keys=True, default=str),
                json.dumps(item.get("after"), sort_keys=True, default=str),
                *changed,
            )
            row = rows.get(key)
            if row is None:
                row = rows[key] = _LawRow(
                    str(item.get("kind")),
                    str(item.get("name")),
                    item.get("before"),
                    item.get("after"),
                    changed,
                )
            start, end = item.get("from"), item.get("to")
            if start is not None and (row.start is None or str(start) < row.start):
                row.start, row.end = str(start), None if end is None else str(end)
            row.dates.append(on)
            row.explains.append((on, _int(explained.get(row.name))))
    return list(rows.values())


def _status_changes(date: dict[str, Any]) -> list[dict[str, Any]]:
    """The transitions of a date whose status changed, the most records first."""
    found = [
        item
        for item in date.get("statuses") or []
        if isinstance(item, dict) and item.get("before") != item.get("after")
    ]
    return sorted(
        found,
        key=lambda item: (
            -_int(item.get("records")),
            str(item.get("programme")),
            str(item.get("before")),
            str(item.get("after")),
        ),
    )


def _distribution(statuses: list[dict[str, Any]], programme: str, side: str) -> list[tuple[str | None, int]]:
    """How many records hold each status of ``programme`` on one ``side`` (before or after)."""
    counts: dict[str | None, int] = {}
    for item in statuses:
        if str(item.get("programme")) == programme:
            status = item.get(side)
            key = None if status is None else str(status)
            counts[key] = counts.get(key, 0) + _int(item.get("records"))
    return sorted(counts.items(), key=lambda pair: (pair[0] is None, -pair[1], pair[0] or ""))


def _has_moved(totals: dict[str, Any]) -> bool:
    return (totals.get("before"), totals.get("records_before")) != (
        totals.get("after"),
        totals.get("records_after"),
    )


def _moved_totals(date: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The totals of a date that moved (a different sum, or a different number of records)."""
    return [
        (str(name), totals)
        for name, totals in (date.get("totals") or {}).items()
        if isinstance(totals, dict) and _has_moved(totals)
    ]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _delta(totals: dict[str, Any] | None) -> Decimal | None:
    """After minus before, exact (the totals are sums of exact amounts)."""
    if not totals:
        return None
    before, after = _decimal(totals.get("before")), _decimal(totals.get("after"))
    if before is None or after is None:
        return None
    return after - before


def _percent_change(totals: dict[str, Any]) -> str:
    before, delta = _decimal(totals.get("before")), _delta(totals)
    if before is None or delta is None or before == 0:
        return _NONE
    percent = float(delta / abs(before) * 100)
    sign = "+" if percent > 0 else (_MINUS if percent < 0 else "")
    return f"{sign}{abs(percent):.1f}\u202f%"


# Formatting ---------------------------------------------------------------------------------


def _date(value: Any) -> str:
    return f'<span class="nowrap">{_e(value)}</span>'


def _int(value: Any) -> int:
    """A count from the summary (a damaged count reads as 0 rather than breaking the page)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return 0


def _signed(value: int | float | Decimal | None) -> str:
    """A difference with its sign (``+5``, ``−643 763``, ``0``)."""
    if value is None:
        return _NONE
    if value > 0:
        return "+" + _number(value)
    return _number(value)


def _value_number(value: Any) -> str:
    number = _decimal(value)
    return _number(number) if number is not None else _cell_value(value)


def _share(part: int, whole: int) -> str:
    if whole <= 0:
        return _NONE
    return f"{part / whole * 100:.1f}\u202f%"


def _status(status: Any) -> str:
    """A status as HTML: its name, or *none* for a programme without a status."""
    if status is None:
        return '<span class="none">none</span>'
    return _e(status)


def _status_plain(status: Any) -> str:
    return "(none)" if status is None else str(status)


def _citizenship_name(code: str) -> str:
    return "(not given)" if code == "-" else code


def _value_name(value: str) -> str:
    """A fact's value as a label (``-``: the fact has no value for those records)."""
    return "(no value)" if value == "-" else value


def _cell_value(value: Any) -> str:
    """A figure's value, escaped and shortened (the whole value in the tooltip)."""
    if value is None:
        return _NONE
    if _decimal(value) is not None:
        return _value_number(value)
    text = shown_value(value)
    if len(text) <= _LONGEST_VALUE:
        return _e(text)
    return f'<span title="{_e(text)}">{_e(text[: _LONGEST_VALUE - 1])}…</span>'


def _is_checklist(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "result" in item for item in value)


def _changes_cell(doc: dict[str, Any]) -> str:
    """The figures of a changed record, each before → after (a checklist: the rules that moved)."""
    before, after = doc.get("before") or {}, doc.get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        before, after = {}, {}
    lines = []
    for name in doc.get("changed") or []:
        old, new = before.get(name), after.get(name)
        label = _name(name)
        if isinstance(old, list) and isinstance(new, list) and _is_checklist(old) and _is_checklist(new):
            was = {str(item.get("rule")): item.get("result") for item in old}
            now = {str(item.get("rule")): item.get("result") for item in new}
            moved = [
                f"{_e(rule)} {_cell_value(was.get(rule))} {_ARROW} {_cell_value(now.get(rule))}"
                for rule in dict.fromkeys([*was, *now])
                if was.get(rule) != now.get(rule)
            ]
            lines.append(f"{label}: {', '.join(moved) or 'reordered'}")
        else:
            lines.append(f"{label} {_cell_value(old)} {_ARROW} {_cell_value(new)}")
    return '<ul class="cell">' + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


def _escape_effect(rule: dict[str, Any]) -> str:
    """The rule's change in the words of the summary (``effect``, written by the comparison)."""
    return _e(rule.get("effect", "fires differently"))


def _why_cell(doc: dict[str, Any]) -> str:
    """Why a record changed: the rules that decided differently and the law they read."""
    why = doc.get("why") or {}
    lines = []
    for rule in why.get("rules") or [] if isinstance(why, dict) else []:
        if isinstance(rule, dict):
            lines.append(f"rule {_name(rule.get('rule'))} {_escape_effect(rule)}")
    for law in why.get("law") or [] if isinstance(why, dict) else []:
        if isinstance(law, dict):
            text = f"{_e(law.get('kind'))} {_name(law.get('name'))} "
            if law.get("changed"):
                text += f"({_e(', '.join(str(key) for key in law['changed']))} differs)"
            else:
                text += f"{_cell_value(law.get('before'))} {_ARROW} {_cell_value(law.get('after'))}"
            if law.get("from"):
                text += f" from {_e(law['from'])}"
            if law.get("to"):
                text += f" to {_e(law['to'])}"
            lines.append(text)
    for note in doc.get("notes") or []:
        lines.append(f'<span class="note">note: {_e(note)}</span>')
    if not lines:
        return _NONE
    return '<ul class="cell">' + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


# Charts -------------------------------------------------------------------------------------


def _ticks(top: float, count: int = 5) -> tuple[float, list[float]]:
    """A round axis maximum at or above ``top`` and its ticks (about ``count``, whole numbers)."""
    if top <= 0:
        return 1.0, [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    step = max(step, 1.0)
    maximum = math.ceil(top / step) * step
    count = round(maximum / step)
    return maximum, [i * step for i in range(count + 1)]


def _label_number(value: int | float) -> str:
    return _number(int(value)) if float(value).is_integer() else _number(value)


def _legend(series: Sequence[_Series], x: float, y: float) -> list[str]:
    parts = []
    for item in series:
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="12" height="10" fill="{item.fill}" '
            f'stroke="{item.stroke}" stroke-width="1"/>'
        )
        parts.append(f'<text x="{_f(x + 16)}" y="{_f(y)}" font-size="11">{_e(item.name)}</text>')
        x += 16 + _text_width(item.name, 11) + 18
    return parts


def _describe(labels: Sequence[str], series: Sequence[_Series]) -> str:
    """The data of a chart as a sentence, for a screen reader (the SVG's description)."""
    return "; ".join(
        f"{label}: " + ", ".join(f"{item.name} {_label_number(item.values[i])}" for item in series)
        for i, label in enumerate(labels)
    )


def _svg_open(
    page: _Page, title: str, labels: Sequence[str], series: Sequence[_Series], width: float, height: float
) -> list[str]:
    ident = page.new_id("chart")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{_f(width)}" height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{_e(_FONT)}" fill="{_INK}">',
        f'<title id="{ident}-title">{_e(title)}</title>',
        f'<desc id="{ident}-desc">{_e(_describe(labels, series))}</desc>',
    ]


def _column_chart(
    page: _Page,
    title: str,
    labels: Sequence[str],
    series: Sequence[_Series],
    *,
    x_label: str,
    y_label: str,
    width: float = 680,
    plot_height: float = 170,
) -> str:
    """Vertical bars, one group per label and one bar per series, each bar with its value
    (written upwards above a bar too narrow for it, with room kept for it above the plot)."""
    left, right = 52.0, 12.0
    plot_width = width - left - right
    group = plot_width / max(len(labels), 1)
    bar = min(34.0, (group * 0.78) / len(series))
    rotate = any(_text_width(label, 10) > group - 4 for label in labels)
    label_room = (max(_text_width(label, 10) for label in labels) * 0.72 + 12) if rotate and labels else 18
    upright = [_text_width(_label_number(v), 9.5) for item in series for v in item.values]
    value_room = max(upright, default=0) + 6 if any(w > bar + 2 for w in upright) else 14
    top = 22 + value_room
    height = top + plot_height + label_room + 28
    maximum, ticks = _ticks(
        max((v for item in series for v in item.values), default=0), 5 if plot_height >= 120 else 2
    )
    base = top + plot_height

    def y(value: float) -> float:
        return base - value / maximum * plot_height

    parts = _svg_open(page, title, labels, series, width, height)
    parts += _legend(series, left, 14)
    for tick in ticks:
        parts.append(
            f'<line x1="{_f(left)}" x2="{_f(width - right)}" y1="{_f(y(tick))}" y2="{_f(y(tick))}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_f(left - 6)}" y="{_f(y(tick) + 3.5)}" font-size="10" text-anchor="end" '
            f'fill="{_MUTED}">{_label_number(tick)}</text>'
        )
    parts.append(
        f'<text transform="translate(13 {_f(top + plot_height / 2)}) rotate(-90)" font-size="11" '
        f'text-anchor="middle" fill="{_MUTED}">{_e(y_label)}</text>'
    )
    for index, label in enumerate(labels):
        start = left + group * index + (group - bar * len(series)) / 2
        for number, item in enumerate(series):
            value = item.values[index]
            x = start + bar * number
            h = base - y(value)
            parts.append(
                f'<rect x="{_f(x + 1)}" y="{_f(base - h)}" width="{_f(bar - 2)}" height="{_f(h)}" '
                f'fill="{item.fill}" stroke="{item.stroke}" stroke-width="1">'
                f"<title>{_e(label)}, {_e(item.name)}: {_label_number(value)}</title></rect>"
            )
            text = _label_number(value)
            middle = x + bar / 2
            if _text_width(text, 9.5) > bar + 2:
                parts.append(
                    f'<text transform="translate({_f(middle + 3)} {_f(base - h - 4)}) rotate(-90)" '
                    f'font-size="9.5">{text}</text>'
                )
            else:
                parts.append(
                    f'<text x="{_f(middle)}" y="{_f(base - h - 4)}" font-size="9.5" '
                    f'text-anchor="middle">{text}</text>'
                )
        centre = left + group * index + group / 2
        if rotate:
            parts.append(
                f'<text transform="translate({_f(centre + 3)} {_f(base + 10)}) rotate(-40)" '
                f'font-size="10" text-anchor="end">{_e(label)}</text>'
            )
        else:
            parts.append(
                f'<text x="{_f(centre)}" y="{_f(base + 14)}" font-size="10" text-anchor="middle">'
                f"{_e(label)}</text>"
            )
    parts.append(
        f'<line x1="{_f(left)}" x2="{_f(width - right)}" y1="{_f(base)}" y2="{_f(base)}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    return _close_svg(parts, left + plot_width / 2, height, x_label)


def _close_svg(parts: list[str], centre: float, height: float, x_label: str) -> str:
    """The chart's axis title, centred under its plot, and the end of its SVG."""
    parts.append(
        f'<text x="{_f(centre)}" y="{_f(height - 6)}" font-size="11" '
        f'text-anchor="middle" fill="{_MUTED}">{_e(x_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _bar_chart(
    page: _Page,
    title: str,
    labels: Sequence[str],
    series: Sequence[_Series],
    *,
    x_label: str,
    width: float = 680,
    shares: bool = False,
) -> str:
    """Horizontal bars, one group per label (a row) and one bar per series, each with its
    value; with ``shares``, the last series' value also as a share of the first's."""
    bar, gap = 12.0, 9.0
    size = 10.5
    label_width = min(260.0, max((_text_width(label, size) for label in labels), default=20) + 12)
    value_room = 96.0 if shares else 46.0
    left, top = label_width, 30.0
    plot_width = width - left - value_room
    row = bar * len(series) + gap
    plot_height = row * len(labels)
    height = top + plot_height + 40
    maximum, ticks = _ticks(max((v for item in series for v in item.values), default=0))

    def x(value: float) -> float:
        return left + value / maximum * plot_width

    parts = _svg_open(page, title, labels, series, width, height)
    parts += _legend(series, left, 14)
    base = top + plot_height
    for tick in ticks:
        parts.append(
            f'<line x1="{_f(x(tick))}" x2="{_f(x(tick))}" y1="{_f(top)}" y2="{_f(base)}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_f(x(tick))}" y="{_f(base + 13)}" font-size="10" text-anchor="middle" '
            f'fill="{_MUTED}">{_label_number(tick)}</text>'
        )
    for index, label in enumerate(labels):
        y0 = top + row * index + gap / 2
        shown = label
        if _text_width(label, size) > label_width - 12:
            shown = label[: int((label_width - 12) / (size * 0.58)) - 1] + "…"
        parts.append(
            f'<text x="{_f(left - 6)}" y="{_f(y0 + row / 2 - gap / 2 + 3.5)}" font-size="{size}" '
            f'text-anchor="end">{_e(shown)}</text>'
        )
        for number, item in enumerate(series):
            value = item.values[index]
            y = y0 + bar * number
            w = x(value) - left
            parts.append(
                f'<rect x="{_f(left)}" y="{_f(y + 1)}" width="{_f(w)}" height="{_f(bar - 2)}" '
                f'fill="{item.fill}" stroke="{item.stroke}" stroke-width="1">'
                f"<title>{_e(label)}, {_e(item.name)}: {_label_number(value)}</title></rect>"
            )
            text = _label_number(value)
            if shares and number == len(series) - 1 and len(series) > 1 and value:
                text += f" ({_share(int(value), int(series[0].values[index]))})"
            parts.append(f'<text x="{_f(left + w + 4)}" y="{_f(y + bar - 3)}" font-size="9.5">{text}</text>')
    parts.append(
        f'<line x1="{_f(left)}" x2="{_f(left)}" y1="{_f(top)}" y2="{_f(base)}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    return _close_svg(parts, left + plot_width / 2, height, x_label)

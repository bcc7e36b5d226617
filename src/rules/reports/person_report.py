"""One person on one date as a printable page (``kzmig report``): the verdict, a time line of
the days around the evaluation date, and the law behind every rule that fired.

A caseworker prints the page or attaches it to a file. It is drawn from a verdict
(:class:`models.verdict.Verdict`) and the days classed around its date
(:class:`rules.stay.days.StayDays`): nothing is decided here, the page only shows and counts
what those hold. In order:

1. the header: the person (id, citizenship, regime, statuses), the evaluation date, the
   policy, and the stay limit's status as the headline, with its figures in boxes;
2. *Time line*: the days of the window ending on the evaluation date and the days after it,
   each drawn as counted, overstay, exempt, not counted, planned or absent (an inline SVG with
   a legend, dates on the axis, the window, the evaluation date, the latest exit and the
   earliest re-entry marked), and the same days as a table of periods;
3. *The verdict, programme by programme*: the stay limit with its figures, the decisions
   reported in it (sanction, check at the border, registration), every other programme's
   section; the missing facts and the warnings;
4. *Why*: the trace, each rule with its outcome and its source (title, the act's own date
   where the policy gives it, and the link).

The page is self-contained (inline style, inline SVG, no script, nothing loaded) and prints on
A4. Every text from the record or the policy is escaped. The page speaks English, Russian or
Kazakh (``lang``, see :mod:`rules.reports.language`): every sentence and label of the page is a
message of the gettext catalogues (marked ``say``, ``says`` for a count, or ``N_`` in a table),
the statuses and the names of values the catalogue's words under their contexts, the titles
and notes of the rules, programmes and sources the policy's own forms in the language (English
where it gives none), and every date the language's way (ISO 8601 in English). A
``translate`` or ``format_date`` callable given in place of the catalogue or of the dates is
used for every message or date alike. The same input gives the same bytes.

:func:`find_pdf_renderer` and :func:`write_pdf` print the page to PDF with a headless
Chromium where one is installed.
"""

from __future__ import annotations

import datetime as dt
import gettext
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.person import Person
from models.verdict import (
    Decision,
    ProgrammeSection,
    RegistrationDue,
    StayStatus,
    TraceEntry,
    Verdict,
)
from rules.engine.evaluator import Evaluator, parse_person
from rules.errors import KzmigError
from rules.reports.impact_text import shown_value
from rules.reports.language import N_, Wording, date_formatter, sentence, wording
from rules.reports.page import BASE_CSS as _BASE_CSS
from rules.reports.page import BRICK as _BRICK
from rules.reports.page import FONT as _FONT
from rules.reports.page import GRID as _GRID
from rules.reports.page import INK as _INK
from rules.reports.page import MUTED as _MUTED
from rules.reports.page import NAVY as _NAVY
from rules.reports.page import coordinate as _f
from rules.reports.page import dotted_name as _name
from rules.reports.page import escaped as _e
from rules.reports.page import number as _number
from rules.reports.page import table as _table
from rules.reports.page import text_width as _text_width
from rules.reports.text import WARNINGS, stay_headline_key
from rules.stay.days import DayClass, StayDays, classify_days, earliest_reentry
from rules.version import __version__

if TYPE_CHECKING:
    from rules.policy.loaded import Policy

__all__ = [
    "PDF_RENDERERS",
    "FormatDate",
    "NoPdfRenderer",
    "PdfError",
    "Translate",
    "find_pdf_renderer",
    "person_report",
    "render_person_report",
    "write_pdf",
]

#: Turns an English sentence or label of the page into the reader's language.
Translate = Callable[[str], str]
#: Writes a date for the reader.
FormatDate = Callable[[dt.date], str]

#: The days after the evaluation date drawn on the time line when the policy gives no limit,
#: and the days before it when it gives no window: the page's layout, not the law.
_DAYS_AFTER = 90
_DAYS_BEFORE = 180

#: Programs that print a page to PDF headless, looked for on PATH in this order.
PDF_RENDERERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds a renderer may take to print one page.
_PDF_TIMEOUT = 120


# What each class of day looks like, and what the legend calls it. Overstay and planned days
# also differ by their hatching, not by colour alone, so a grey-scale print keeps them apart.
_LOOK: dict[DayClass, tuple[str, str]] = {
    DayClass.COUNTED: (_NAVY, N_("counted towards the limit")),
    DayClass.OVERSTAY: ("url(#hatch-overstay)", N_("overstay")),
    DayClass.EXEMPT: ("#6f9f6a", N_("exempt (not counted)")),
    DayClass.NOT_COUNTED: ("#b9c0c9", N_("in the country, not counted")),
    DayClass.PLANNED: ("url(#hatch-planned)", N_("planned or staying on (after the evaluation date)")),
    DayClass.ABSENT: ("#ffffff", N_("not in the country")),
    DayClass.UNKNOWN: ("url(#hatch-unknown)", N_("not known: the record holds no travel history")),
}

#: The classes the legend names even when no day shown is of them (the others only when some is).
_ALWAYS_IN_LEGEND = (DayClass.COUNTED, DayClass.OVERSTAY, DayClass.EXEMPT, DayClass.PLANNED)

_STAY_HEADLINE = {
    StayStatus.COMPLIANT: N_("Compliant: no day of stay breaks the limit"),
    StayStatus.OVERSTAY: N_("Overstay: the record holds days beyond the limit"),
    StayStatus.EXEMPT: N_("Exempt: a valid exempt status covers the evaluation date"),
    StayStatus.NOT_APPLICABLE: N_("Not applicable: the stay limit does not apply"),
    StayStatus.UNDETERMINED: N_("Undetermined: facts are missing"),
    # An overstay verdict says whether the evaluation date itself is an overstay day.
    "overstay_now": N_("Overstay now: the person is in the country beyond the limit"),
    "overstay_past": N_(
        "Overstay in the past: no overstay on this day; the record holds earlier overstay days"
    ),
}

#: How a checklist of rules (a section's gates, say) marks each rule's result.
_CHECK = {
    "met": N_("met"),
    "failed": N_("failed"),
    "unknown": N_("unknown"),
    "set_aside": N_("set aside"),
    "not_in_force": N_("not in force"),
}


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The links the page makes clickable; any other text given as a source's link is shown, not linked.
_WEB_LINK = re.compile(r"https?://", re.IGNORECASE)


class _Html(str):
    """Text already written as HTML (everything else put into a sentence is escaped)."""


@dataclass(frozen=True)
class _Mark:
    """A day marked on the time line: its line's style and its label."""

    day: dt.date
    label: str
    colour: str
    dashed: bool


def person_report(
    evaluator: Evaluator,
    person: Person | Mapping[str, Any],
    on: dt.date,
    *,
    translate: Translate | None = None,
    format_date: FormatDate | None = None,
    lang: str = "en",
    words: Wording | None = None,
) -> str:
    """The report page of ``person`` evaluated on ``on`` under the evaluator's policy, in the
    language ``lang`` (``en``, ``ru`` or ``kk``; the policy's titles and notes in its forms).
    ``translate``, ``format_date`` and ``words`` are as :func:`render_person_report` takes them.

    The time line spans the window ending on ``on`` and as many days after it as the limit
    allows in one window (the policy's, on ``on``). Raises :class:`rules.errors.KzmigError` for
    a language kzmig does not speak, :class:`rules.errors.InputError` for a record that is not
    valid and :class:`rules.errors.EvaluationError` for a date the policy does not decide, as
    ``evaluate`` does.
    """
    if words is None:
        words = _page_words(lang, evaluator.policy, translate, format_date)
    record = parse_person(person, evaluator.policy)
    verdict = evaluator.evaluate(record, on)
    stay = verdict.stay
    before = stay.window if stay.window else _DAYS_BEFORE
    after = stay.limit if stay.limit else _DAYS_AFTER
    day = on.toordinal()  # the range stays inside the calendar, even on its first or last days
    first = dt.date.fromordinal(max(day - before + 1, 1))
    last = dt.date.fromordinal(min(day + after, dt.date.max.toordinal()))
    days = classify_days(evaluator, record, on, first, last)
    present = days.on(on) is not DayClass.ABSENT
    if stay.latest_exit is not None:
        leaves: dt.date | None = stay.latest_exit
    elif present and stay.status is StayStatus.OVERSTAY:
        leaves = on  # on an overstay day: the person should leave now
    else:
        leaves = None
    reentry = None
    if stay.status in (StayStatus.COMPLIANT, StayStatus.OVERSTAY) and (leaves is not None or not present):
        # Planned on the trips as the stay limit read them (crossings paired into trips).
        read = record.model_copy(update={"trips": days.trips, "crossings": None})
        reentry = earliest_reentry(evaluator, read, on, leaves)
    return render_person_report(
        verdict, days, record, earliest_reentry=reentry, policy=evaluator.policy, words=words
    )


def render_person_report(
    verdict: Verdict,
    days: StayDays,
    person: Person,
    *,
    earliest_reentry: dt.date | None = None,
    translate: Translate | None = None,
    format_date: FormatDate | None = None,
    lang: str = "en",
    policy: Policy | None = None,
    words: Wording | None = None,
) -> str:
    """The page of ``verdict``, with the time line of ``days`` (classed for the same person
    on the same date) and the person's statuses; ``earliest_reentry`` is marked when given.

    The page is in the language ``lang`` (its ``lang`` attribute too), with the titles and
    notes of ``policy`` (the verdict's) in their forms in that language where it gives them.
    ``translate``, when given, turns every sentence, label, status and name of a value into
    the reader's words in place of the catalogue; ``format_date``, when given, writes each
    date. ``words``, when given, is all of these at once (as :func:`person_report` makes it)."""
    if days.as_of != verdict.as_of:
        raise ValueError(f"the days are classed on {days.as_of}, the verdict is of {verdict.as_of}")
    if words is None:
        words = _page_words(lang, policy, translate, format_date)
    return _Page(verdict, days, person, earliest_reentry, words).render()


class _Through(gettext.NullTranslations):
    """A catalogue that is one ``translate`` callable: every message, plural form, status and
    name of a value (as its words, ``host notification``) goes through it."""

    def __init__(self, translate: Translate) -> None:
        super().__init__()
        self._translate = translate

    def gettext(self, message: str) -> str:
        return self._translate(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self._translate(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return self._translate(message.replace("_", " "))


def _page_words(
    lang: str, policy: Policy | None, translate: Translate | None, format_date: FormatDate | None
) -> Wording:
    """The page's :class:`Wording`: the language's catalogue and the policy's forms, with
    ``translate`` in place of the catalogue and ``format_date`` in place of the language's
    dates where given. A date of a page keeps the CLDR's no-break spaces (``1 сентября 2025 г.``
    is not broken over two lines)."""
    words = wording(lang, policy)
    if translate is not None:
        words = replace(words, catalogue=_Through(translate))
    return replace(words, date=format_date or date_formatter(words.language, plain=False))


@dataclass
class _Page:
    verdict: Verdict
    days: StayDays
    person: Person
    reentry: dt.date | None
    words: Wording

    # --- words ------------------------------------------------------------------------------
    # The methods ``say`` and ``says`` (and ``self.words.text``, ``self.words.plural``) take
    # the English message as written, for the catalogues' extraction to find; ``marked`` takes
    # one marked with ``N_`` where a table defines it.

    def translate(self, message: str) -> str:
        """A message in the reader's language, not escaped."""
        return self.words.text(message)

    def _filled(self, text: str, values: dict[str, Any]) -> str:
        if not values:
            return text
        shown = {key: value if isinstance(value, _Html) else _e(value) for key, value in values.items()}
        return text.format(**shown)

    def say(self, message: str, **values: Any) -> str:
        """``message`` translated and escaped, with ``values`` put in (escaped unless HTML)."""
        return self._filled(_e(self.words.text(message)), values)

    def says(self, singular: str, plural: str, count: int, **values: Any) -> str:
        """The form of a message that follows ``count`` (``1 день``, ``2 дня``, ``5 дней``),
        translated and escaped, with ``values`` put in."""
        return self._filled(_e(self.words.plural(singular, plural, count)), values)

    def marked(self, message: str) -> str:
        """A message marked with ``N_`` in a table, translated and escaped."""
        return _e(self.words.text(message))

    def of_policy(self, text: str) -> str:
        """A title or note of the policy in the reader's language (English where the policy
        gives no form), escaped."""
        return _e(self.words.of_policy(text))

    def label(self, code: str) -> str:
        """The name of a value (``fine_mci``, ``term_ends``) as the reader's words, escaped."""
        return _e(self.words.label(code))

    def date(self, day: dt.date | None) -> _Html:
        if day is None:
            return _Html('<span class="none">' + self.say("none") + "</span>")
        return _Html(f'<span class="nowrap">{_e(self.words.date(day))}</span>')

    def plain_date(self, day: dt.date) -> str:
        return self.words.date(day)

    def status(self, status: str) -> _Html:
        """A status code as a reader sees it: its words, translated, in a tag of its kind."""
        return _Html(f'<span class="status status-{_e(status)}">{_e(self.words.status(status))}</span>')

    # --- the page ---------------------------------------------------------------------------

    def render(self) -> str:
        verdict = self.verdict
        title = self.say(
            "Person {person} on {date}", person=verdict.person_id, date=self.plain_date(verdict.as_of)
        )
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{_e(self.words.language)}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="kzmig">',
            f"<title>{title}</title>",
            f"<style>{_BASE_CSS}{_CSS}</style>",
            "</head>",
            "<body>",
            self._header(title),
            '<main class="report">',
            self._time_line(),
            self._programmes(),
            self._why(),
            "</main>",
            '<footer class="report">',
            "<p>"
            + self.say(
                "Drawn by kzmig {version} from the verdict (format {format}) of policy {policy} "
                "{policy_version}. Every status, figure and rule is the engine's; the page only "
                "counts the days it shows.",
                version=__version__,
                format=verdict.format,
                policy=verdict.policy.name,
                policy_version=verdict.policy.version,
            )
            + "</p>",
            "</footer>",
            "</body>",
            "</html>",
        ]
        return "\n".join(part for part in parts if part) + "\n"

    # 1. The header --------------------------------------------------------------------------

    def _header(self, title: str) -> str:
        verdict, days = self.verdict, self.days
        statuses = [
            (
                self.say(
                    "{kind}, valid {start} to {end}",
                    kind=status.kind,
                    start=self.date(status.valid_from),
                    end=self.date(status.valid_to),
                )
                if status.valid_to
                else self.say(
                    "{kind}, valid {start} to no end date",
                    kind=status.kind,
                    start=self.date(status.valid_from),
                )
            )
            + (" · " + self.say("document {document}", document=status.document) if status.document else "")
            for status in self.person.statuses
        ]
        none = _Html('<span class="none">' + self.say("none") + "</span>")
        citizenship = days.citizenship or self.person.citizenship
        facts = [
            (self.say("Person"), _name(verdict.person_id)),
            (self.say("Citizenship"), _e(citizenship) if citizenship else self.say("not given")),
            (self.say("Stay regime"), _e(days.regime) if days.regime else self.say("not known")),
            (self.say("Statuses"), "<br>".join(statuses) if statuses else none),
            (self.say("Evaluation date"), self.date(verdict.as_of)),
            (self.say("Policy"), f"{_e(verdict.policy.name)} {_name(verdict.policy.version)}"),
        ]
        rows = "\n".join(f'<tr><th scope="row">{name}</th><td>{value}</td></tr>' for name, value in facts)
        stay = verdict.stay
        return "\n".join(
            [
                '<header class="report">',
                '<p class="kicker">' + self.say("Stay and eligibility report · kzmig") + "</p>",
                f"<h1>{title}</h1>",
                f'<table class="facts">\n<tbody>\n{rows}\n</tbody>\n</table>',
                f'<p class="headline stay-{_e(stay.status.value)}">'
                + self.say("Stay limit")
                + ": <strong>"
                + self.marked(_STAY_HEADLINE[stay_headline_key(stay)])
                + "</strong></p>",
                self._boxes(),
                "</header>",
            ]
        )

    def _boxes(self) -> str:
        stay = self.verdict.stay
        boxes: list[tuple[str, str]] = []
        if stay.days_used is not None:
            used = _number(stay.days_used) + (f" / {_number(stay.limit)}" if stay.limit else "")
            boxes.append(
                (used, self.say("days counted in the {window}-day window", window=stay.window or ""))
            )
            boxes.append((_number(stay.overstay_days or 0), self.say("overstay days in the record")))
            boxes.append((_number(stay.exempt_days or 0), self.say("days not counted (exemptions)")))
        if stay.latest_exit is not None:
            boxes.append((self.date(stay.latest_exit), self.say("latest exit if staying on")))
        if self.reentry is not None:
            boxes.append((self.date(self.reentry), self.say("earliest re-entry")))
        if not boxes:
            return ""
        cells = "\n".join(
            f'<div class="figure-box"><div class="big">{value}</div><div class="label">{label}</div></div>'
            for value, label in boxes
        )
        return f'<div class="boxes">\n{cells}\n</div>'

    # 2. The time line -----------------------------------------------------------------------

    def _time_line(self) -> str:
        days = self.days
        shown = [kind for kind in _LOOK if days.count(kind)]
        legend = "\n".join(
            f'<li><span class="swatch swatch-{kind.value}"></span>{self.marked(_LOOK[kind][1])}: '
            f"<strong>{_number(days.count(kind))}</strong></li>"
            for kind in _LOOK
            if kind in shown or kind in _ALWAYS_IN_LEGEND
        )
        periods = [(kind, first, last) for kind, first, last in days.runs() if kind is not DayClass.ABSENT]
        rows = [
            [
                f'<span class="swatch swatch-{kind.value}"></span>{self.marked(_LOOK[kind][1])}',
                self.date(first),
                self.date(last),
                _number((last - first).days + 1),
            ]
            for kind, first, last in periods
        ]
        table = (
            _table(
                [
                    self.words.text("Days"),
                    self.words.text("From"),
                    self.words.text("To"),
                    self.words.text("Days in the period"),
                ],
                rows,
                numeric=(3,),
                css="periods",
            )
            if rows
            else "<p>" + self.say("The record holds no day of stay among the days shown.") + "</p>"
        )
        return "\n".join(
            [
                '<section id="time-line">',
                "<h2>" + self.say("Time line") + "</h2>",
                "<p>"
                + self.say(
                    "Each day from {first} to {last}: the window ending on the evaluation date, then "
                    "the days after it. Days after the evaluation date are not counted in the verdict.",
                    first=self.date(days.first),
                    last=self.date(days.last),
                )
                + "</p>",
                self._chart(),
                '<ul class="legend">\n<li>' + self.say("Days shown") + f":</li>\n{legend}\n</ul>",
                table,
                "</section>",
            ]
        )

    def _marks(self) -> list[_Mark]:
        marks = [
            _Mark(
                self.verdict.as_of,
                self.say("evaluation date {date}", date=self.plain_date(self.verdict.as_of)),
                _INK,
                False,
            )
        ]
        latest = self.verdict.stay.latest_exit
        if latest is not None and self.days.first <= latest <= self.days.last:
            marks.append(
                _Mark(latest, self.say("latest exit {date}", date=self.plain_date(latest)), _BRICK, True)
            )
        if self.reentry is not None and self.days.first <= self.reentry <= self.days.last:
            marks.append(
                _Mark(
                    self.reentry,
                    self.say("earliest re-entry {date}", date=self.plain_date(self.reentry)),
                    "#2f6b3a",
                    True,
                )
            )
        return marks

    def _chart(self) -> str:
        days = self.days
        count = len(days.classes)
        width, left, right = 720.0, 8.0, 8.0
        plot = width - left - right
        step = plot / count
        top, bar = 34.0, 40.0
        base = top + bar
        marks = self._marks()
        height = base + 34 + 15 * len(marks) + 6

        def x(day: dt.date) -> float:
            return left + (day - days.first).days * step

        as_of = self.verdict.as_of
        stay = self.verdict.stay
        description = "; ".join(
            f"{self.translate(_LOOK[kind][1])} {self.plain_date(first)}–{self.plain_date(last)}"
            for kind, first, last in days.runs()
            if kind is not DayClass.ABSENT
        )
        title = self.words.text("Days of stay from {first} to {last}").format(
            first=self.plain_date(days.first), last=self.plain_date(days.last)
        )
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart time-line" role="img" '
            f'width="{_f(width)}" height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" '
            f'aria-labelledby="tl-title tl-desc" font-family="{_e(_FONT)}" fill="{_INK}">',
            f'<title id="tl-title">{_e(title)}</title>',
            f'<desc id="tl-desc">{_e(description or self.translate(_LOOK[DayClass.ABSENT][1]))}</desc>',
            "<defs>",
            '<pattern id="hatch-overstay" width="5" height="5" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)">'
            f'<rect width="5" height="5" fill="{_BRICK}"/>'
            '<line x1="0" y1="0" x2="0" y2="5" stroke="#f3d9cf" stroke-width="1.6"/></pattern>',
            '<pattern id="hatch-planned" width="5" height="5" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(-45)">'
            '<rect width="5" height="5" fill="#dbe4ef"/>'
            f'<line x1="0" y1="0" x2="0" y2="5" stroke="{_NAVY}" stroke-width="1"/></pattern>',
            '<pattern id="hatch-unknown" width="6" height="6" patternUnits="userSpaceOnUse">'
            '<rect width="6" height="6" fill="#f4f5f7"/>'
            f'<circle cx="3" cy="3" r="0.9" fill="{_MUTED}"/></pattern>',
            "</defs>",
        ]
        # The days after the evaluation date, on a shaded ground.
        if as_of < days.last:
            after = as_of + dt.timedelta(days=1)
            parts.append(
                f'<rect x="{_f(x(after))}" y="{_f(top - 6)}" width="{_f(x(days.last) + step - x(after))}" '
                f'height="{_f(bar + 12)}" fill="#f1f3f6"/>'
            )
        # The window ending on the evaluation date: a bracket above the bar with its count.
        if stay.window and stay.days_used is not None:
            start = dt.date.fromordinal(max(as_of.toordinal() - stay.window + 1, days.first.toordinal()))
            x0, x1 = x(start), x(as_of) + step
            limit = stay.limit or 0
            label = self.words.plural(
                "{window}-day window ending on {date}: {used} of {limit} day counted",
                "{window}-day window ending on {date}: {used} of {limit} days counted",
                limit,
            ).format(window=stay.window, date=self.plain_date(as_of), used=stay.days_used, limit=stay.limit)
            parts.append(
                f'<path d="M{_f(x0)} {_f(top - 8)} V{_f(top - 14)} H{_f(x1)} V{_f(top - 8)}" '
                f'fill="none" stroke="{_MUTED}" stroke-width="1"/>'
            )
            parts.append(
                f'<text x="{_f((x0 + x1) / 2)}" y="{_f(top - 18)}" font-size="10.5" text-anchor="middle" '
                f'fill="{_INK}">{_e(label)}</text>'
            )
        # The days, one run of a class at a time.
        for kind, first, last in days.runs():
            if kind is DayClass.ABSENT:
                continue
            fill = _LOOK[kind][0]
            span = f"{self.translate(_LOOK[kind][1])}: {self.plain_date(first)} – {self.plain_date(last)}"
            parts.append(
                f'<rect x="{_f(x(first))}" y="{_f(top)}" width="{_f(x(last) + step - x(first))}" '
                f'height="{_f(bar)}" fill="{fill}"><title>{_e(span)}</title></rect>'
            )
        parts.append(
            f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(plot)}" height="{_f(bar)}" fill="none" '
            f'stroke="{_MUTED}" stroke-width="0.8"/>'
        )
        # The axis: a tick on the first day of each month, labelled where there is room.
        label_size = 9.5
        next_free = -1.0
        month = dt.date(days.first.year, days.first.month, 1)
        while month <= days.last:
            if month >= days.first:
                at = x(month)
                parts.append(
                    f'<line x1="{_f(at)}" x2="{_f(at)}" y1="{_f(top)}" y2="{_f(base + 5)}" '
                    f'stroke="{_GRID}" stroke-width="1"/>'
                    if month != days.first
                    else ""
                )
                parts.append(
                    f'<line x1="{_f(at)}" x2="{_f(at)}" y1="{_f(base)}" y2="{_f(base + 5)}" '
                    f'stroke="{_INK}" stroke-width="1"/>'
                )
                text = self.plain_date(month)
                wide = _text_width(text, label_size)
                if at - wide / 2 >= max(next_free, 0) and at + wide / 2 <= width:
                    parts.append(
                        f'<text x="{_f(at)}" y="{_f(base + 16)}" font-size="{label_size}" '
                        f'text-anchor="middle" fill="{_MUTED}">{_e(text)}</text>'
                    )
                    next_free = at + wide / 2 + 6
            if (month.year, month.month) == (dt.MAXYEAR, 12):
                break
            month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        # The marked days: a line through the bar down to its label below the axis. The latest
        # day takes the first row and each earlier day the row below, every label to the right
        # of its line: a line then passes only the labels of later days, which begin further
        # right, and crosses none. A label too long to end before the right edge (a long date
        # in Russian or Kazakh, near the end of the time line) is set to the left of its line,
        # where earlier days' lines may pass it: the labels are drawn after every line, on a
        # white halo that hides what passes behind them.
        ordered = sorted(marks, key=lambda mark: mark.day, reverse=True)
        labels: list[str] = []
        for row, mark in enumerate(ordered):
            at = x(mark.day) + step / 2
            y = base + 34 + 15 * row
            dash = ' stroke-dasharray="3 2"' if mark.dashed else ""
            parts.append(  # through the bar, then below the dates of the axis to its label
                f'<path d="M{_f(at)} {_f(top - 6)} V{_f(base + 5)} M{_f(at)} {_f(base + 20)} V{_f(y - 9)}" '
                f'fill="none" stroke="{mark.colour}" stroke-width="1.6"{dash}/>'
            )
            wide = _text_width(mark.label, 10.5)
            anchor, shift = ("end", -4.0) if at + wide + 4 > width else ("start", 4.0)
            labels.append(
                f'<circle cx="{_f(at)}" cy="{_f(y - 4)}" r="2.6" fill="{mark.colour}"/>'
                f'<text x="{_f(at + shift)}" y="{_f(y)}" font-size="10.5" text-anchor="{anchor}" '
                f'font-weight="600" fill="{mark.colour}" stroke="#ffffff" stroke-width="3" '
                f'stroke-linejoin="round" paint-order="stroke">{_e(mark.label)}</text>'
            )
        parts += labels
        parts.append("</svg>")
        return "\n".join(part for part in parts if part)

    # 3. The programmes ----------------------------------------------------------------------

    def _programmes(self) -> str:
        verdict = self.verdict
        parts = ['<section id="verdict">', "<h2>" + self.say("The verdict, programme by programme") + "</h2>"]
        parts.append(self._stay())
        for name, section in verdict.sections.items():
            parts.append(self._section(name, section))
        if verdict.warnings:
            items = "\n".join(
                f"<li>{_e(sentence(warning, WARNINGS, self.words))}</li>" for warning in verdict.warnings
            )
            parts += [
                '<div class="warnings">',
                "<h3>" + self.say("Warnings") + "</h3>",
                f"<ul>\n{items}\n</ul>",
                "</div>",
            ]
        parts.append("</section>")
        return "\n".join(parts)

    def _missing(self, missing: Sequence[str]) -> list[tuple[str, str]]:
        if not missing:
            return []
        return [
            (
                self.say("Missing facts"),
                '<span class="missing">' + ", ".join(_name(m) for m in missing) + "</span>",
            )
        ]

    def _stay(self) -> str:
        stay = self.verdict.stay
        rows: list[tuple[str, str]] = [(self.say("Status"), self.status(stay.status.value))]
        rows += self._missing(stay.missing)
        if stay.days_used is not None:
            rows.append(
                (
                    self.say("Days counted"),
                    self.says(
                        "{used} of {limit} in the {window} day ending on {date}",
                        "{used} of {limit} in the {window} days ending on {date}",
                        stay.window or 0,
                        used=_number(stay.days_used),
                        limit=stay.limit,
                        window=stay.window,
                        date=self.date(self.verdict.as_of),
                    ),
                )
            )
            if stay.per_entry_limit is not None:
                days = stay.per_entry_limit
                rows.append(
                    (self.say("Limit per entry"), self.says("{days} day", "{days} days", days, days=days))
                )
            periods = "".join(
                "<br>"
                + self.say(
                    "{start} to {end}: {count}",
                    start=self.date(p.start),
                    end=self.date(p.end),
                    count=self.says("{days} day(s)", "{days} day(s)", p.days, days=p.days),
                )
                for p in stay.overstay_periods
            )
            rows.append((self.say("Overstay days in the record"), _number(stay.overstay_days or 0) + periods))
            rows.append((self.say("Days not counted (exemptions)"), _number(stay.exempt_days or 0)))
            rows.append((self.say("Latest exit if staying on"), self.date(stay.latest_exit)))
        if self.reentry is not None:
            rows.append((self.say("Earliest re-entry"), self.date(self.reentry)))
        if stay.sanction is not None:
            rows.append((self.say("Sanction for the latest overstay"), self._decision(stay.sanction)))
        if stay.entry_check is not None:
            rows.append(
                (self.say("Check at the border on the evaluation date"), self._decision(stay.entry_check))
            )
        if stay.registration is not None:
            rows.append((self.say("Registration"), self._registration(stay.registration)))
        return self._block(self.say("The stay limit"), rows)

    def _block(self, title: str, rows: list[tuple[str, str]], provisional: bool = False) -> str:
        body = "\n".join(f'<tr><th scope="row">{name}</th><td>{value}</td></tr>' for name, value in rows)
        flag = ' <span class="provisional">' + self.say("provisional") + "</span>" if provisional else ""
        return (
            f'<div class="programme">\n<h3>{title}{flag}</h3>\n'
            f'<table class="facts verdict">\n<tbody>\n{body}\n</tbody>\n</table>\n</div>'
        )

    def _value(self, value: Any) -> str:
        if isinstance(value, bool):
            return self.say("yes") if value else self.say("no")
        if isinstance(value, int):
            return _number(value)
        if isinstance(value, dt.date):
            return self.date(value)
        if isinstance(value, str) and _ISO_DAY.fullmatch(value):
            try:  # a date a section holds as its ISO text: written as every other date
                return self.date(dt.date.fromisoformat(value))
            except ValueError:
                pass
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            return "<br>".join(self._value(item) for item in value)
        if isinstance(value, dict):
            return ", ".join(f"{self.label(str(key))} {self._value(item)}" for key, item in value.items())
        return _e(shown_value(value))

    def _decision(self, decision: Decision) -> str:
        values = ", ".join(
            f"{self.label(name)} {self._value(value)}" for name, value in decision.values.items()
        )
        text = str(self.status(decision.status)) + (f" ({values})" if values else "")
        text += " · " + self.say("rule {rule}", rule=_Html(_name(decision.rule)))
        if decision.provisional:
            text += (
                ' <span class="provisional">'
                + self.say("provisional: the sources do not publish this rule")
                + "</span>"
            )
        if decision.missing:
            text += "<br>" + self.say("missing facts: {facts}", facts=", ".join(decision.missing))
        if decision.note:
            text += f'<br><span class="note">{self.of_policy(decision.note)}</span>'
        return text

    def _registration(self, due: RegistrationDue) -> str:
        if due.counted == "working_days":
            after = self.says("{days} working day", "{days} working days", due.days, days=due.days)
        else:
            after = self.says("{days} calendar day", "{days} calendar days", due.days, days=due.days)
        text = self.say(
            "{procedure} due by {due} ({after} after the entry on {entry})",
            procedure=self.words.status(due.procedure),
            due=self.date(due.due),
            after=_Html(after),
            entry=self.date(due.entry),
        )
        if due.state == "done" and due.registered_on is not None:
            text += " · " + self.say("done on {day}", day=self.date(due.registered_on))
        elif due.state == "done_late" and due.registered_on is not None:
            late = self.say("done late, on {day}", day=self.date(due.registered_on))
            text += f' · <strong class="late">{late}</strong>'
        elif due.state == "overdue":
            text += ' · <strong class="late">' + self.say("overdue: the record gives no day it was done")
            text += "</strong>"
        return text + "<br>" + self._source(due.source.title, due.source.date, due.source.href)

    def _section(self, name: str, section: ProgrammeSection) -> str:
        rows: list[tuple[str, str]] = [(self.say("Status"), self.status(section.status))]
        rows += self._missing(section.missing)
        if section.decided_by:
            rows.append((self.say("Decided by"), ", ".join(_name(rule) for rule in section.decided_by)))
        # Each value as the JSON document holds it (a checklist's items as records, dates as
        # their ISO text, written the reader's way where shown).
        document = section.model_dump(mode="json")
        absent = self.say("unknown") if section.missing else self.say("none")
        for key in section.model_extra or {}:
            value = document[key]
            label = self.label(key)
            if (
                isinstance(value, list)
                and value
                and all(isinstance(item, dict) and "rule" in item for item in value)
            ):
                items = "".join(
                    f'<li><span class="check check-{_e(item.get("result", "failed"))}">'
                    f"{self._check(str(item.get('result', 'failed')))}</span> "
                    f"{self.of_policy(str(item.get('title', '')))} ({_name(item['rule'])})</li>"
                    for item in value
                )
                rows.append((label, f'<ul class="checklist">{items}</ul>'))
            elif (
                isinstance(value, list)
                and value
                and all(isinstance(item, dict) and set(item) == {"label", "date"} for item in value)
            ):
                items = "".join(
                    f"<li>{self._value(item['date'])} {self.label(str(item['label']))}</li>" for item in value
                )
                rows.append((label, f'<ul class="checklist">{items}</ul>'))
            elif isinstance(value, dict):
                rows.append(
                    (
                        label,
                        ", ".join(
                            f"{self.label(k)} {absent if v is None else self._value(v)}"
                            for k, v in value.items()
                        ),
                    )
                )
            elif isinstance(value, list) and not value:
                rows.append((label, self.say("none")))
            else:
                rows.append((label, absent if value is None else self._value(value)))
        return self._block(
            self.of_policy(section.title) + f' <span class="name small">({_e(name)})</span>',
            rows,
            section.provisional,
        )

    # 4. Why ---------------------------------------------------------------------------------

    def _check(self, result: str) -> str:
        """A rule's result in a checklist (``met``, ``failed``) in the reader's words."""
        return self.marked(_CHECK[result]) if result in _CHECK else _e(self.words.status(result))

    def _source(self, title: str, date: dt.date | None, href: str) -> str:
        text = self.of_policy(title)
        if date is not None:
            text += " · " + self.say("act of {date}", date=self.date(date))
        if not _WEB_LINK.match(href):  # an amendment's source is the user's text: no other scheme
            return f'<span class="source">{text}</span><br><span class="link">{_e(href)}</span>'
        return f'<span class="source">{text}</span><br><a class="link" href="{_e(href)}">{_e(href)}</a>'

    def _why(self) -> str:
        rows = [self._trace_row(entry) for entry in self.verdict.trace]
        table = _table(
            [
                self.words.text("Rule"),
                self.words.text("Outcome"),
                self.words.text("What it says, and its source"),
            ],
            rows,
            css="trace",
        )
        return "\n".join(
            [
                '<section id="why">',
                "<h2>" + self.say("Why: the rules that fired and the law they cite") + "</h2>",
                "<p>"
                + self.say(
                    "★ decided the verdict; ✓ applied; ✗ set aside by an exception. Each source is "
                    "the one the policy cites, with the act's own date where the policy gives it."
                )
                + "</p>",
                table,
                "</section>",
            ]
        )

    def _trace_row(self, entry: TraceEntry) -> list[str]:
        if entry.overridden_by:
            mark = "✗"
            outcome = (
                str(self.status(entry.outcome))
                + "<br>"
                + self.say("set aside by {rule}", rule=_Html(_name(entry.overridden_by)))
            )
        else:
            mark = "★" if entry.decisive else "✓"
            outcome = str(self.status(entry.outcome))
        start, end = entry.in_force
        span = (
            self.say("in force from {start} to {end}", start=self.date(start), end=self.date(end))
            if end
            else self.say("in force from {start}", start=self.date(start))
        )
        what = [
            f"<strong>{self.of_policy(entry.title)}</strong>",
            self._source(entry.source.title, entry.source.date, entry.source.href),
        ]
        details = [span]
        if entry.facts:
            details.append(
                self.say("saw")
                + ": "
                + ", ".join(f"{_name(name)} = {self._value(value)}" for name, value in entry.facts.items())
            )
        if entry.missing:
            details.append(self.say("missing facts: {facts}", facts=", ".join(entry.missing)))
        if entry.note:
            details.append(self.of_policy(entry.note))
        for derivation in entry.derivations:
            operands = ", ".join(
                f"{_name(name)} = {self._value(value)}" for name, value in derivation.operands.items()
            )
            details.append(
                self.say(
                    "computed: {fact} = {value} ({formula} of {operands})",
                    fact=_Html(_name(derivation.fact)),
                    value=_Html(
                        self.say("unknown") if derivation.value is None else self._value(derivation.value)
                    ),
                    formula=derivation.formula,
                    operands=_Html(operands or self.say("constants")),
                )
            )
        what.append('<span class="note">' + "<br>".join(details) + "</span>")
        return [
            f'<span class="mark">{mark}</span> <span class="name">{_e(entry.rule)}</span>',
            outcome,
            "<br>".join(what),
        ]


# PDF ------------------------------------------------------------------------------------------


class PdfError(KzmigError):
    """The page could not be printed to PDF (the HTML page itself is not concerned)."""


class NoPdfRenderer(PdfError):
    """No program that prints a page to PDF is installed."""


#: How the renderer is started: headless, in a profile of its own, and without the background
#: connections a closed network refuses (each would otherwise be tried, and time out, at start).
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_pdf_renderer(path: str | None = None) -> str | None:
    """The first of :data:`PDF_RENDERERS` found on ``path`` (default: the PATH of the
    environment), or ``None``."""
    for name in PDF_RENDERERS:
        found = shutil.which(name, path=path)
        if found is not None:
            return found
    return None


def write_pdf(html: Path, pdf: Path, renderer: str | None = None) -> Path:
    """Print the page ``html`` to ``pdf`` with ``renderer`` (default: the one found on PATH).

    Raises :class:`NoPdfRenderer` when none is found and :class:`PdfError` when the renderer
    fails or writes no PDF; ``html`` is left as it is either way."""
    program = renderer or find_pdf_renderer()
    if program is None:
        raise NoPdfRenderer(
            "no PDF renderer found: looked for " + ", ".join(PDF_RENDERERS) + " on PATH; "
            "install Chromium to print the report to PDF"
        )
    target = pdf.resolve()
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="kzmig-pdf-") as profile:
        command = [
            program,
            *HEADLESS_FLAGS,
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={target}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                timeout=_PDF_TIMEOUT,
                check=False,
                env={**os.environ, "HOME": profile},
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PdfError(
                f"the PDF renderer {program} could not print the report: {type(error).__name__}"
            ) from None
    if not target.is_file() or target.read_bytes()[:5] != b"%PDF-":
        raise PdfError(f"the PDF renderer {program} wrote no PDF (exit code {done.returncode})")
    return target


_CSS = """
.headline { font-size: 12pt; margin: 8px 0 6px; padding: 6px 10px; border-left: 5px solid #5a6472;
  background: #f3f5f8; }
.headline.stay-overstay { border-left-color: #8f3a22; background: #f8ece7; }
.headline.stay-compliant { border-left-color: #2f6b3a; background: #ecf4ec; }
.headline.stay-exempt, .headline.stay-not_applicable { border-left-color: #1f3a5f; }
.late { color: #8f3a22; }
.headline.stay-undetermined { border-left-color: #a07a12; background: #faf4e2; }
.status { font-weight: 600; text-transform: uppercase; letter-spacing: .03em; font-size: .92em; }
.status-overstay, .status-refused, .status-expulsion, .status-fine, .status-failed { color: #8f3a22; }
.status-compliant, .status-admitted, .status-eligible { color: #2f6b3a; }
.status-undetermined { color: #8a6a0c; }
.figure-box .big { font-size: 15pt; }
svg.time-line { margin: 10px 0 4px; }
ul.legend { list-style: none; padding: 0; margin: 2px 0 10px; display: flex; flex-wrap: wrap; gap: 4px 16px;
  font-size: 8.8pt; }
.swatch { display: inline-block; width: 12px; height: 10px; margin-right: 5px; vertical-align: -1px;
  border: 1px solid #5a6472; }
.swatch-counted { background: #1f3a5f; }
.swatch-overstay { background: repeating-linear-gradient(45deg, #8f3a22 0 3px, #f3d9cf 3px 4.5px); }
.swatch-exempt { background: #6f9f6a; }
.swatch-not_counted { background: #b9c0c9; }
.swatch-planned { background: repeating-linear-gradient(-45deg, #dbe4ef 0 3px, #1f3a5f 3px 4px); }
.swatch-absent { background: #fff; }
.swatch-unknown { background: radial-gradient(#5a6472 0.9px, #f4f5f7 1px) 0 0 / 4px 4px; }
table.periods { width: auto; min-width: 60%; }
table.verdict { width: 100%; }
table.verdict th { width: 32%; }
.provisional { font-size: 8pt; font-weight: normal; color: #8a6a0c; border: 1px solid #d9c27a;
  padding: 0 4px; border-radius: 2px; }
.missing { color: #8a6a0c; }
ul.checklist { margin: 0; padding: 0; list-style: none; }
.check { display: inline-block; min-width: 64px; font-size: 8pt; text-transform: uppercase; color: #5a6472; }
.check-failed { color: #8f3a22; font-weight: 600; }
.check-met { color: #2f6b3a; }
.warnings { border-left: 3px solid #a07a12; background: #faf4e2; padding: 4px 12px; margin: 10px 0; }
.warnings h3 { margin: 4px 0; }
.warnings ul { margin: 0 0 4px; padding-left: 18px; }
table.trace td:first-child { width: 25%; }
table.trace td:nth-child(2) { width: 19%; }
.mark { color: #5a6472; }
.source { font-style: italic; }
a.link { color: #1f3a5f; font-size: 8pt; overflow-wrap: anywhere; }
@media print {
  a.link { color: #1b1f24; text-decoration: none; }
  header.report, .boxes, ul.legend { break-inside: avoid; }
  .headline, .warnings, .swatch { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  svg.time-line { width: 100%; }
}
"""

"""The pieces kzmig's printable pages share (the impact report of an amendment, the report on
one person): the palette, the base style sheet (A4, print colours, tables), and how text,
names, numbers and tables are written. Every value from an input goes through
:func:`escaped`; the pages hold no script and fetch nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

__all__ = [
    "BASE_CSS",
    "BRICK",
    "FONT",
    "GRID",
    "INK",
    "LIGHT_FILL",
    "LIGHT_STROKE",
    "MINUS",
    "MUTED",
    "NAVY",
    "coordinate",
    "dotted_name",
    "escaped",
    "number",
    "table",
    "text_width",
]

MINUS = "\u2212"
INK = "#1b1f24"
MUTED = "#5a6472"
GRID = "#dde2e8"
LIGHT_FILL, LIGHT_STROKE = "#c3cedb", "#4a5d75"
NAVY = "#1f3a5f"
BRICK = "#8f3a22"
FONT = "'Segoe UI', 'Helvetica Neue', Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif"


def escaped(value: Any) -> str:
    """Any text from the input, escaped for HTML and SVG alike."""
    return escape("" if value is None else str(value), quote=True)


def dotted_name(value: Any) -> str:
    """A dotted name (a rule, a figure, a parameter, a person id) in type, free to break after
    its dots and underscores (``stay.overstay_<wbr>days``, not ``stay.overstay_da`` and ``ys``
    in a narrow column)."""
    return f'<span class="name">{escaped(value).replace(".", ".<wbr>").replace("_", "_<wbr>")}</span>'


def number(value: int | float | Decimal) -> str:
    """A number with its thousands separated by a narrow space, as in Kazakhstan's documents."""
    if isinstance(value, float):
        value = Decimal(repr(value)) if math.isfinite(value) else Decimal(0)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    text = f"{value:,}"
    return text.replace(",", "\u202f").replace("-", MINUS)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    caption: str | None = None,
    css: str | None = None,
    escaped_headers: bool = False,
) -> str:
    """A table of cells already written as HTML; ``numeric`` columns are set right."""

    def klass(index: int) -> str:
        return ' class="num"' if index in numeric else ""

    head = "".join(
        f'<th scope="col"{klass(i)}>{header if escaped_headers else escaped(header)}</th>'
        for i, header in enumerate(headers)
    )
    body = "\n".join(
        "<tr>" + "".join(f"<td{klass(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>" for row in rows
    )
    attribute = f' class="{css}"' if css else ""
    caption_html = f"<caption>{escaped(caption)}</caption>\n" if caption else ""
    return (
        f"<table{attribute}>\n{caption_html}<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}\n</tbody>\n</table>"
    )


def text_width(text: str, size: float) -> float:
    """A rough width of ``text`` at ``size`` pixels (enough to lay labels out)."""
    return len(text) * size * 0.58


def coordinate(value: float) -> str:
    """A coordinate, rounded so that the output does not depend on float noise."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


BASE_CSS = """
@page { size: A4; margin: 14mm 13mm 16mm; }
* { box-sizing: border-box; }
html { background: #e8ebee; }
body { margin: 0 auto; max-width: 210mm; background: #fff; color: #1b1f24;
  font: 10pt/1.45 'Segoe UI', 'Helvetica Neue', Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif;
  padding: 12mm 13mm 14mm; counter-reset: section; }
@media print {
  html { background: #fff; }
  body { max-width: none; padding: 0; }
  section { break-inside: auto; }
  .programme, figure, svg, tr, .boxes { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
}
header.report { border-top: 5px solid #1f3a5f; padding-top: 6px; }
.kicker { margin: 0; text-transform: uppercase; letter-spacing: .12em; font-size: 7.5pt; color: #5a6472; }
h1 { font: normal 19pt/1.2 Georgia, 'Times New Roman', 'DejaVu Serif', serif; color: #1f3a5f;
  margin: 4px 0 10px; overflow-wrap: anywhere; }
h2 { font: normal 13.5pt/1.25 Georgia, 'Times New Roman', 'DejaVu Serif', serif; color: #1f3a5f;
  border-bottom: 1px solid #9aa7b6; padding-bottom: 2px; margin: 20px 0 8px; }
main h2 { counter-increment: section; }
main h2::before { content: counter(section) ".\\2002"; color: #5a6472; }
h2.plain { font-size: 11pt; border: 0; margin: 0 0 4px; }
h3 { font-size: 10.5pt; margin: 14px 0 6px; color: #1b1f24; }
h4 { font-size: 9pt; margin: 6px 0 3px; color: #5a6472; text-transform: uppercase; letter-spacing: .06em; }
p { margin: 4px 0 8px; }
table { border-collapse: collapse; width: 100%; font-size: 8.8pt; margin: 4px 0 10px;
  font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-size: 8.5pt; color: #5a6472; padding-bottom: 3px; }
th, td { border-bottom: 1px solid #d3d9e0; padding: 3px 6px; text-align: left; vertical-align: top; }
thead th { background: #eef1f5; border-bottom: 1.5px solid #1f3a5f; font-weight: 600; }
thead { display: table-header-group; }
.num { text-align: right; }
td.num { white-space: nowrap; }
table.facts { width: auto; font-size: 9.5pt; margin: 0 0 10px; }
table.facts th { font-weight: 600; color: #5a6472; padding-right: 18px; border-bottom: 1px solid #e3e7ec; }
table.facts td { border-bottom: 1px solid #e3e7ec; }
.name, code { font-family: 'DejaVu Sans Mono', Consolas, 'Liberation Mono', monospace; font-size: .92em;
  overflow-wrap: anywhere; }
.small, .note { font-size: 8.5pt; color: #5a6472; }
.none { font-style: italic; color: #5a6472; }
.nowrap { white-space: nowrap; }
.findings { background: #f3f5f8; border-left: 3px solid #1f3a5f; padding: 8px 12px 4px; margin: 6px 0 4px; }
.findings ul { margin: 0 0 4px; padding-left: 18px; }
.findings li { margin: 2px 0; }
.boxes { display: flex; gap: 8px; flex-wrap: wrap; margin: 6px 0 8px; }
.figure-box { border: 1px solid #c9d1db; border-top: 3px solid #1f3a5f; padding: 6px 14px; min-width: 100px; }
.figure-box .big { font-size: 17pt; font-variant-numeric: tabular-nums; color: #1f3a5f; }
.figure-box .label { font-size: 8.5pt; color: #5a6472; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 4px 0 8px; }
.programme { border-top: 1px solid #e3e7ec; margin-top: 8px; }
.side { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.side .chart { flex: 0 1 auto; min-width: 0; }
.side .tables { flex: 1 1 240px; }
ul.cell { margin: 0; padding: 0; list-style: none; }
ul.cell li { margin: 0 0 1px; overflow-wrap: anywhere; }
table.records td { font-size: 8.4pt; }
table.records td:first-child { white-space: nowrap; }
.more { font-size: 9pt; }
footer.report { margin-top: 22px; border-top: 1px solid #9aa7b6; padding-top: 6px; font-size: 8pt;
  color: #5a6472; }
"""

"""Server-side SVG bar charts: accessible (role="img", a <title> and <desc> named by
aria-labelledby), styled only by classes (the Content-Security-Policy forbids inline styles), and
always shown beside a data table holding the same numbers.

A chart draws the numbers it is given and computes nothing: suppressed cells (``[REDACTED]``) get
no bar and are labelled with their marker, so the picture never shows more than the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from html import escape

WIDTH = 720
LABEL_WIDTH = 190
VALUE_SPACE = 90
BAR_HEIGHT = 14
BAR_GAP = 2
GROUP_GAP = 8
TOP = 12
LEGEND_ROW = 20
MAX_LABEL = 30


@dataclass(frozen=True)
class Series:
    """One set of bars: a name (for the legend) and one value per category. A value is a
    number, a number written as text, or a marker such as ``[REDACTED]`` (drawn as no bar)."""

    name: str
    values: list[object]


def number(value: object) -> float | None:
    """The value as a number, or None when it is missing or a marker."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    try:
        return float(Decimal(str(value).replace(",", "")))
    except (InvalidOperation, ValueError):
        return None


def _shown(value: object) -> str:
    n = number(value)
    if n is None:
        return "–" if value is None else str(value)
    if n == int(n) and not (isinstance(value, str) and "." in value):
        return f"{int(n):,}"
    return str(value)


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    unit: str = "",
) -> str:
    """A horizontal (grouped) bar chart as an SVG string."""
    if not labels or not series:
        return ""
    values = [number(v) for s in series for v in s.values]
    top = max([v for v in values if v is not None] + [0.0])
    scale = (WIDTH - LABEL_WIDTH - VALUE_SPACE) / top if top > 0 else 0.0
    legend = LEGEND_ROW if len(series) > 1 else 0
    group = len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    height = TOP + legend + group * len(labels) + 8
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [
        f'<svg class="pcnkit-chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]
    if legend:
        x = LABEL_WIDTH
        for i, s in enumerate(series):
            cls = _bar_class(i)
            out.append(
                f'<rect class="{cls}" x="{x}" y="{TOP - 2}" width="12" height="12"></rect>'
                f'<text class="pcnkit-chart__label" x="{x + 16}" y="{TOP + 8}">'
                f"{escape(s.name)}</text>"
            )
            x += 24 + 7 * len(s.name)
    y0 = TOP + legend
    for row, label in enumerate(labels):
        y = y0 + row * group
        middle = y + (len(series) * (BAR_HEIGHT + BAR_GAP)) / 2 + 4
        out.append(
            f'<text class="pcnkit-chart__label" x="{LABEL_WIDTH - 6}" y="{middle:.1f}" '
            f'text-anchor="end">{escape(_short(str(label)))}</text>'
        )
        for i, s in enumerate(series):
            raw = s.values[row] if row < len(s.values) else None
            n = number(raw)
            by = y + i * (BAR_HEIGHT + BAR_GAP)
            w = max(0.0, (n or 0.0) * scale)
            if n:
                out.append(
                    f'<rect class="{_bar_class(i)}" x="{LABEL_WIDTH}" y="{by}" '
                    f'width="{w:.1f}" height="{BAR_HEIGHT}"></rect>'
                )
            text = _shown(raw) + (unit if n is not None else "")
            out.append(
                f'<text class="pcnkit-chart__label" x="{LABEL_WIDTH + w + 4:.1f}" '
                f'y="{by + BAR_HEIGHT - 3}">{escape(text)}</text>'
            )
    out.append(
        f'<line class="pcnkit-chart__axis" x1="{LABEL_WIDTH}" y1="{y0 - 2}" '
        f'x2="{LABEL_WIDTH}" y2="{height - 6}"></line>'
    )
    out.append("</svg>")
    return "".join(out)


def _bar_class(i: int) -> str:
    return "pcnkit-chart__bar" + ("" if i == 0 else f" pcnkit-chart__bar--{min(i + 1, 4)}")

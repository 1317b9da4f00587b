"""Server-side SVG bar charts: accessible (role="img", a <title> and <desc> named by
aria-labelledby), styled only by classes (the Content-Security-Policy forbids inline styles), and
always shown beside a data table holding the same numbers.

An SVG scales its text with its width, so one drawing cannot suit both a desktop and a phone:
the 720-unit-wide chart shown in a 343 px phone column drew its 12-unit labels at under 6 px.
Each chart is therefore drawn twice: wide (labels beside the bars) and narrow (320 units, each
label on its own line above its bars, so a phone shows the text at 12 px or more); the
stylesheet shows one of them by the width of the screen.

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
NARROW_WIDTH = 320
NARROW_VALUE_SPACE = 72
NARROW_LABEL_ROW = 16
NARROW_MAX_LABEL = 48
NARROW_PAD = 6


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


def _short(text: str, most: int = MAX_LABEL) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    unit: str = "",
) -> str:
    """A horizontal (grouped) bar chart as SVG: the wide drawing, then the narrow one."""
    if not labels or not series:
        return ""
    return _wide(chart_id, title, description, labels, series, unit) + _narrow(
        chart_id, title, description, labels, series, unit
    )


def _wide(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    unit: str,
) -> str:
    scale = _scale(series, WIDTH - LABEL_WIDTH - VALUE_SPACE)
    legend = LEGEND_ROW if len(series) > 1 else 0
    group = len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    height = TOP + legend + group * len(labels) + 8
    out = _svg(chart_id, "pcnkit-chart", WIDTH, height, title, description)
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
            out += _bar(i, s, row, LABEL_WIDTH, y + i * (BAR_HEIGHT + BAR_GAP), scale, unit)
    out.append(
        f'<line class="pcnkit-chart__axis" x1="{LABEL_WIDTH}" y1="{y0 - 2}" '
        f'x2="{LABEL_WIDTH}" y2="{height - 6}"></line>'
    )
    out.append("</svg>")
    return "".join(out)


def _narrow(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    unit: str,
) -> str:
    """The phone drawing: each category's label on its own line, its bars below it."""
    scale = _scale(series, NARROW_WIDTH - NARROW_VALUE_SPACE - NARROW_PAD)
    legend = LEGEND_ROW * len(series) if len(series) > 1 else 0
    bars = len(series) * (BAR_HEIGHT + BAR_GAP)
    group = NARROW_LABEL_ROW + bars + GROUP_GAP
    height = TOP + legend + group * len(labels)
    out = _svg(
        f"{chart_id}-narrow",
        "pcnkit-chart pcnkit-chart--narrow",
        NARROW_WIDTH,
        height,
        title,
        description,
    )
    if legend:
        for i, s in enumerate(series):
            y = TOP - 2 + i * LEGEND_ROW
            out.append(
                f'<rect class="{_bar_class(i)}" x="{NARROW_PAD}" y="{y}" width="12" '
                f'height="12"></rect><text class="pcnkit-chart__label" x="{NARROW_PAD + 16}" '
                f'y="{y + 10}">'
                f"{escape(_short(s.name, NARROW_MAX_LABEL))}</text>"
            )
    y0 = TOP + legend
    for row, label in enumerate(labels):
        y = y0 + row * group
        out.append(
            f'<text class="pcnkit-chart__label" x="{NARROW_PAD}" y="{y + 12}">'
            f"{escape(_short(str(label), NARROW_MAX_LABEL))}</text>"
        )
        for i, s in enumerate(series):
            by = y + NARROW_LABEL_ROW + i * (BAR_HEIGHT + BAR_GAP)
            out += _bar(i, s, row, NARROW_PAD, by, scale, unit)
    out.append("</svg>")
    return "".join(out)


def _scale(series: list[Series], room: float) -> float:
    """Pixels per unit: the largest value fills `room` (nothing drawn if none is positive)."""
    values = [number(v) for s in series for v in s.values]
    top = max([v for v in values if v is not None] + [0.0])
    return room / top if top > 0 else 0.0


def _svg(
    svg_id: str, classes: str, width: int, height: float, title: str, description: str
) -> list[str]:
    """The opening of a drawing, named by its title and described for screen readers."""
    title_id, desc_id = f"{svg_id}-title", f"{svg_id}-desc"
    return [
        f'<svg class="{classes}" id="{escape(svg_id)}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]


def _bar(i: int, s: Series, row: int, x: float, by: float, scale: float, unit: str) -> list[str]:
    """Series `i`'s bar for category `row` (none when zero or missing) and its value after it."""
    raw = s.values[row] if row < len(s.values) else None
    n = number(raw)
    w = max(0.0, (n or 0.0) * scale)
    out = []
    if n:
        out.append(
            f'<rect class="{_bar_class(i)}" x="{x}" y="{by}" '
            f'width="{w:.1f}" height="{BAR_HEIGHT}"></rect>'
        )
    text = _shown(raw) + (unit if n is not None else "")
    out.append(
        f'<text class="pcnkit-chart__label" x="{x + w + 4:.1f}" '
        f'y="{by + BAR_HEIGHT - 3}">{escape(text)}</text>'
    )
    return out


def _bar_class(i: int) -> str:
    return "pcnkit-chart__bar" + ("" if i == 0 else f" pcnkit-chart__bar--{min(i + 1, 4)}")

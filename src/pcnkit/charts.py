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

import re
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


# --- assurance charts: a trend sparkline, an SPC chart and a funnel plot -----------------------
# Drawn from the numbers `pcnkit.assurance.summary` gives (the charts compute no statistic).
# Colours are SVG presentation attributes (allowed by the Content-Security-Policy, which forbids
# only style attributes and inline <style>), in Making Data Count's scheme: blue improvement,
# orange concern, purple a change where neither direction is better, grey common cause.

SPARK_WIDTH, SPARK_HEIGHT = 120, 32
COLOURS = {
    "improvement": "#005eb8",
    "concern": "#ed8b00",
    "neither": "#7c2855",
    None: "#768692",
}
LINE = "#212b32"
LIMIT = "#4c6272"
TARGET = "#007f3b"


@dataclass(frozen=True)
class SpcPoint:
    """One month as drawn: its label, value, the lines in force and how a signal reads."""

    label: str
    value: float | None
    centre: float | None
    upper: float | None
    lower: float | None
    near_upper: float | None
    near_lower: float | None
    assessment: str | None  # "improvement" / "concern" / "neither" for a signal point


@dataclass(frozen=True)
class FunnelDot:
    label: str
    denominator: float
    value: float
    own: bool  # the organisation the page is about


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 or float(v).is_integer() else f"{v:,.1f}"


def _span(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high == low:
        pad = abs(high) * 0.05 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def sparkline(chart_id: str, title: str, values: list[float | None]) -> str:
    """A small trend line (no axes): the words beside it say what it shows."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = _span(known)
    step = (SPARK_WIDTH - 8) / max(1, len(values) - 1)

    def y(v: float) -> float:
        return SPARK_HEIGHT - 4 - (v - low) / (high - low) * (SPARK_HEIGHT - 8)

    out = [
        f'<svg class="pcnkit-sparkline" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" width="{SPARK_WIDTH}" '
        f'height="{SPARK_HEIGHT}" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{4 + i * step:.1f},{y(v):.1f}")
    for run in runs:
        if len(run) > 1:
            out.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{COLOURS[None]}" '
                'stroke-width="1.5"></polyline>'
            )
    last = len(values) - 1 - next(i for i, v in enumerate(reversed(values)) if v is not None)
    out.append(
        f'<circle cx="{4 + last * step:.1f}" cy="{y(values[last]):.1f}" r="2.5" '
        f'fill="{LINE}"></circle></svg>'
    )
    return "".join(out)


def spc_chart(
    chart_id: str,
    title: str,
    description: str,
    points: list[SpcPoint],
    target: float | None = None,
) -> str:
    """An XmR chart: the values joined, the mean (solid), process limits (dashed), near-limit
    lines (dotted), the target (green) and signal points coloured by what they mean; drawn
    wide and narrow (see the module's note)."""
    if not any(p.value is not None for p in points):
        return ""
    return _spc(chart_id, title, description, points, target, WIDTH, 300) + _spc(
        f"{chart_id}-narrow", title, description, points, target, NARROW_WIDTH, 220
    )


def _spc(chart_id, title, description, points, target, width, height) -> str:
    narrow = width == NARROW_WIDTH
    left, right, top, bottom = (44 if narrow else 64), 10, 12, 34
    lines = [
        v
        for p in points
        for v in (p.value, p.upper, p.lower, p.near_upper, p.near_lower, p.centre)
        if v is not None
    ] + ([target] if target is not None else [])
    low, high = _span(lines)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(points) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + (high - v) / (high - low) * plot_h

    classes = "pcnkit-chart pcnkit-chart--narrow" if narrow else "pcnkit-chart"
    out = _svg(chart_id, classes, width, height, title, description)
    size = 10 if narrow else 12
    for v in (low, (low + high) / 2, high):
        out.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="{size}" '
            f'fill="{LINE}">{escape(_fmt(v))}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{LIMIT}"></line>'
    )
    every = max(1, len(points) // 6)
    labelled = {0, len(points) - 1} | (
        set() if narrow else set(range(0, len(points) - every, every))
    )
    for i in sorted(labelled):
        anchor = "start" if i == 0 else ("end" if i == len(points) - 1 else "middle")
        out.append(
            f'<text x="{x(i):.1f}" y="{height - 12}" text-anchor="{anchor}" '
            f'font-size="{size}" fill="{LINE}">{escape(points[i].label)}</text>'
        )
    for attr, dash in (
        ("centre", ""),
        ("upper", "6 4"),
        ("lower", "6 4"),
        ("near_upper", "2 3"),
        ("near_lower", "2 3"),
    ):
        out += _step_line(points, attr, x, y, dash)
    if target is not None:
        out.append(
            f'<line x1="{left}" y1="{y(target):.1f}" x2="{left + plot_w}" y2="{y(target):.1f}" '
            f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="10 3"></line>'
        )
    run: list[str] = []
    for i, p in enumerate(points):
        if p.value is not None:
            run.append(f"{x(i):.1f},{y(p.value):.1f}")
    out.append(
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{COLOURS[None]}" '
        'stroke-width="1.5"></polyline>'
    )
    for i, p in enumerate(points):
        if p.value is None:
            continue
        colour = COLOURS.get(p.assessment, COLOURS[None])
        r = 4.5 if p.assessment else 3
        out.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="{r}" fill="{colour}">'
            f"<title>{escape(p.label)}: {escape(_fmt(p.value))}</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)


def _step_line(points, attr, x, y, dash) -> list[str]:
    """A limit line, broken where a segment starts (each segment has its own)."""
    out, run, last = [], [], None
    for i, p in enumerate(points):
        v = getattr(p, attr)
        if v is None or (last is not None and v != last and run):
            if len(run) > 1:
                out.append(run)
            run = []
        if v is not None:
            run.append(f"{x(i):.1f},{y(v):.1f}")
        last = v
    if len(run) > 1:
        out.append(run)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return [
        f'<polyline points="{" ".join(r)}" fill="none" stroke="{LIMIT}"{extra}></polyline>'
        for r in out
    ]


def funnel_plot(
    chart_id: str,
    title: str,
    description: str,
    benchmark: float,
    limits: list[tuple[float, float, float, float, float]],
    dots: list[FunnelDot],
    x_label: str = "",
) -> str:
    """Peers' values against their denominators, inside 95% (dashed) and 99.8% (solid) limits
    around the benchmark. `limits` are (denominator, lower 95, upper 95, lower 99.8, upper
    99.8) as `compare.funnel_limits` gives them."""
    if not limits or not dots:
        return ""
    args = (title, description, benchmark, limits, dots, x_label)
    return _funnel(chart_id, *args, WIDTH, 320) + _funnel(
        f"{chart_id}-narrow", *args, NARROW_WIDTH, 240
    )


def _funnel(chart_id, title, description, benchmark, limits, dots, x_label, width, height):
    narrow = width == NARROW_WIDTH
    left, right, top, bottom = (44 if narrow else 64), 10, 12, 34
    size = 10 if narrow else 12
    ys = [v for row in limits for v in row[1:]] + [d.value for d in dots] + [benchmark]
    low, high = _span(ys)
    xs = [row[0] for row in limits] + [d.denominator for d in dots]
    x_low, x_high = 0.0, max(xs) * 1.05
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(v: float) -> float:
        return left + (v - x_low) / (x_high - x_low) * plot_w

    def y(v: float) -> float:
        return top + (high - v) / (high - low) * plot_h

    classes = "pcnkit-chart pcnkit-chart--narrow" if narrow else "pcnkit-chart"
    out = _svg(chart_id, classes, width, height, title, description)
    for v in (low, (low + high) / 2, high):
        out.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="{size}" '
            f'fill="{LINE}">{escape(_fmt(v))}</text>'
        )
    for v, anchor in ((x_low, "start"), (x_high, "end")):
        out.append(
            f'<text x="{x(v):.1f}" y="{height - 12}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{LINE}">{escape(_fmt(v))}</text>'
        )
    if x_label:
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" text-anchor="middle" '
            f'font-size="{size}" fill="{LINE}">{escape(_short(x_label, 40))}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{y(benchmark):.1f}" x2="{left + plot_w}" '
        f'y2="{y(benchmark):.1f}" stroke="{LINE}"></line>'
    )
    for column, dash in ((1, "6 4"), (2, "6 4"), (3, ""), (4, "")):
        pts = " ".join(f"{x(row[0]):.1f},{y(row[column]):.1f}" for row in limits)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{LIMIT}"{extra}></polyline>')
    for d in dots:
        colour = COLOURS["concern"] if d.own else COLOURS["improvement"]
        out.append(
            f'<circle cx="{x(d.denominator):.1f}" cy="{y(d.value):.1f}" '
            f'r="{6 if d.own else 4}" fill="{colour}"><title>{escape(d.label)}: '
            f"{escape(_fmt(d.value))}</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)


# --- drawings that stand alone: a committee pack's HTML, PDF and Word -------------------------
# A pack has no stylesheet for the SVG (Word reads the drawing on its own), so the classes'
# colours become presentation attributes and the drawing carries its size and font; only the
# wide drawing is used (a page of A4 is not a phone).

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
_CLASS_ATTRIBUTES = {
    "pcnkit-chart__bar": 'fill="#005eb8"',
    "pcnkit-chart__bar pcnkit-chart__bar--2": 'fill="#ae2573"',
    "pcnkit-chart__bar pcnkit-chart__bar--3": 'fill="#00a499"',
    "pcnkit-chart__bar pcnkit-chart__bar--4": 'fill="#ed8b00"',
    "pcnkit-chart__axis": 'stroke="#4c6272" stroke-width="1"',
    "pcnkit-chart__label": 'font-size="12" fill="#212b32"',
}
_OPENING = re.compile(r'<svg class="[^"]*" (id="[^"]*") (role="img" aria-labelledby="[^"]*") '
                      r'viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"')  # fmt: skip


def standalone(drawing: str) -> str:
    """`drawing` (one wide SVG from this module) with its classes turned into presentation
    attributes, and its width, height and font stated, so it renders the same anywhere."""
    if not drawing:
        return ""
    out = _OPENING.sub(
        lambda m: (
            f'<svg {m[1]} {m[2]} width="{m[3]}" height="{m[4]}" viewBox="0 0 {m[3]} {m[4]}" '
            f'font-family="{FONT}" font-size="12"'
        ),
        drawing,
        count=1,
    )
    for cls, attributes in _CLASS_ATTRIBUTES.items():
        out = out.replace(f'class="{cls}"', attributes)
    return out


def bar_chart_drawing(
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    unit: str = "",
) -> str:
    """`bar_chart`'s wide drawing, standing alone (see `standalone`)."""
    if not labels or not series:
        return ""
    return standalone(_wide(chart_id, title, description, labels, series, unit))


def spc_drawing(
    chart_id: str,
    title: str,
    description: str,
    points: list[SpcPoint],
    target: float | None = None,
) -> str:
    """`spc_chart`'s wide drawing, standing alone."""
    if not any(p.value is not None for p in points):
        return ""
    return standalone(_spc(chart_id, title, description, points, target, WIDTH, 300))


def funnel_drawing(
    chart_id: str,
    title: str,
    description: str,
    benchmark: float,
    limits: list[tuple[float, float, float, float, float]],
    dots: list[FunnelDot],
    x_label: str = "",
) -> str:
    """`funnel_plot`'s wide drawing, standing alone."""
    if not limits or not dots:
        return ""
    return standalone(
        _funnel(chart_id, title, description, benchmark, limits, dots, x_label, WIDTH, 320)
    )

"""Maps drawn as SVG: no map tiles are reachable from NHS networks or these machines.

Points are practices' coordinates (NHS Choices); the outline drawn round each PCN is the convex
hull of its member practices — an honest "area the practices span", not an official boundary
(none is published for PCNs). Longitude is scaled by cos(latitude) so distances look right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, PAD = 760, 520, 28


@dataclass(frozen=True)
class Point:
    code: str
    name: str
    lat: float
    lon: float
    group: str = ""  # e.g. the PCN: points of one group share an outline


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain; fewer than three distinct points come back as they are."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def practice_map(points: list[Point], title: str, label_points: bool = True) -> str | None:
    """An SVG map of practice points with an outline per group; None when no point has
    coordinates. The caller shows the same points as a table (the text alternative)."""
    points = [p for p in points if p.lat is not None and p.lon is not None]
    if not points:
        return None
    mid_lat = sum(p.lat for p in points) / len(points)
    k = math.cos(math.radians(mid_lat))
    xs = [p.lon * k for p in points]
    ys = [p.lat for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.01)
    scale = min((WIDTH - 2 * PAD) / span, (HEIGHT - 2 * PAD) / span)
    x0 = (min(xs) + max(xs)) / 2
    y0 = (min(ys) + max(ys)) / 2

    def xy(p: Point) -> tuple[float, float]:
        return (WIDTH / 2 + (p.lon * k - x0) * scale, HEIGHT / 2 - (p.lat - y0) * scale)

    parts = [
        f'<svg class="pcnkit-map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="map-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="map-title">{escape(title)}</title>',
    ]
    groups: dict[str, list[tuple[float, float]]] = {}
    for p in points:
        if p.group:
            groups.setdefault(p.group, []).append(xy(p))
    for group, xys in sorted(groups.items()):
        hull = convex_hull([(round(x, 1), round(y, 1)) for x, y in xys])
        if len(hull) >= 3:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in hull)
            parts.append(
                f'<polygon class="pcnkit-map__boundary" points="{path}">'
                f"<title>{escape(group)}: area its practices span</title></polygon>"
            )
    for p in points:
        x, y = xy(p)
        parts.append(
            f'<circle class="pcnkit-map__point" cx="{x:.1f}" cy="{y:.1f}" r="6">'
            f"<title>{escape(p.name)} ({escape(p.code)})</title></circle>"
        )
        if label_points:
            parts.append(
                f'<text class="pcnkit-map__label" x="{x + 8:.1f}" y="{y + 4:.1f}" '
                f'aria-hidden="true">{escape(p.code)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)

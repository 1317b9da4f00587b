"""Maps drawn by pcnkit: points, and an outline per PCN that is the hull of its practices."""

from __future__ import annotations

import re

from pcnkit.web.maps import Point, convex_hull, practice_map


def test_the_hull_keeps_the_corners_and_drops_points_inside():
    square = [(0, 0), (2, 0), (2, 2), (0, 2)]
    assert sorted(convex_hull([*square, (1, 1), (1, 0)])) == sorted(square)
    assert convex_hull([(0, 0), (1, 1)]) == [(0, 0), (1, 1)]


def test_a_map_has_a_titled_point_per_practice_and_one_outline_per_pcn():
    points = [
        Point("A1", "Alpha", 51.50, 0.10, "PCN one"),
        Point("A2", "Beta", 51.52, 0.14, "PCN one"),
        Point("A3", "Gamma", 51.55, 0.11, "PCN one"),
        Point("B1", "Delta", 51.58, 0.20, "PCN two"),
        Point("C1", "No place", None, None, "PCN two"),
    ]
    svg = practice_map(points, "Test map")
    assert (
        svg.startswith("<svg") and 'role="img"' in svg and '<title id="map-title">Test map' in svg
    )
    assert len(re.findall(r"<circle ", svg)) == 4  # the practice without coordinates is left out
    assert "<title>Beta (A2)</title>" in svg
    assert svg.count("<polygon ") == 1  # PCN two has one located practice: no outline
    assert "PCN one: area its practices span" in svg


def test_no_map_without_coordinates():
    assert practice_map([Point("X", "X", None, None)], "t") is None

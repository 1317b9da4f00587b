"""A patient list page's rows (web/tables.py `list_rows`): each cell in words, escaped, with
the heading narrow screens show, as the list template wrote them."""

import datetime as dt
from decimal import Decimal

from pcnkit.web.render import environment

COLUMNS = [
    {"key": "pseudonym", "heading": "Pseudonym", "numeric": False},
    {"key": "predicted_risk", "heading": "Risk", "numeric": True},
    {"key": "sex", "heading": "Sex", "numeric": False},
    {"key": "latest_sbp", "heading": "Systolic", "numeric": True},
    {"key": "age", "heading": "Age", "numeric": True},
    {"key": "care_home", "heading": "Care home", "numeric": False},
    {"key": "efi_approx_category", "heading": "Frailty", "numeric": False},
    {"key": "criteria_met", "heading": "Why", "numeric": False},
    {"key": "last_review", "heading": "Reviewed", "numeric": False},
]


def _cells(html: str) -> list[str]:
    return [part.split("</span>", 1)[1].split("</td>", 1)[0] for part in html.split("<td")[1:]]


def test_each_cell_is_written_in_words():
    rows = [
        {
            "pseudonym": "p<1>",
            "predicted_risk": 0.1234,
            "sex": "F",
            "latest_sbp": 132.5,
            "age": 1234,
            "care_home": True,
            "efi_approx_category": "mild",
            "criteria_met": "a & b",
            "last_review": dt.date(2020, 1, 1),
        },
        {
            "pseudonym": "p2",
            "predicted_risk": None,
            "sex": "X",
            "latest_sbp": Decimal("90.4"),
            "age": 70,
            "care_home": False,
            "efi_approx_category": "unknown",
            "criteria_met": "",
        },
    ]
    html = environment().globals["list_rows"](COLUMNS, rows)
    first, second = _cells(html)[: len(COLUMNS)], _cells(html)[len(COLUMNS) :]
    assert first == [
        "p&lt;1&gt;",
        "12.3%",
        "Female",
        "132",
        "1,234",
        "Yes",
        "Mild frailty",
        "a &amp; b",
        "1 January 2020",
    ]
    assert second == ["p2", "–", "X", "90", "70", "No", "unknown", "", ""]  # no last_review
    assert html.count('<tr class="nhsuk-table__row">') == 2
    assert (
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric" data-column="age">'
        '<span class="nhsuk-table__heading" aria-hidden="true">Age </span>1,234</td>'
    ) in html
    assert 'class="nhsuk-table__cell pcnkit-population__pseudonym"' in html
    assert 'class="nhsuk-table__cell pcnkit-population__reasons" data-column="criteria_met"' in html

"""Data tables in the NHS.UK design system's responsive table markup, written directly.

The nhsuk-frontend-jinja `table` macro costs about 0.2 ms a cell, which made a page of a few
hundred rows (an ICS's map table, a patient list) miss the 300 ms target on its own; this writes
the same markup (classes, roles, the per-cell heading used on narrow screens) in one pass, in
a box that scrolls sideways when a wide table does not fit, rather than the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from numbers import Number

from markupsafe import Markup, escape

Column = tuple[str, str, bool]  # key, heading, numeric


def _cell(value: object, numeric: bool, fmt) -> Markup:
    if isinstance(value, Mapping):
        if "html" in value:
            return Markup(value["html"])
        return escape(value.get("text", ""))
    if value is None:
        return Markup("–")
    if isinstance(value, Markup):
        return value
    return escape(fmt(value) if numeric else value)


def data_table(
    caption: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, object]],
    id: str | None = None,
    fmt=str,
) -> Markup:
    """`rows` are mappings keyed by the columns' keys; a cell may be {"text"} or {"html"}."""
    num = " nhsuk-table__header--numeric"
    out = [
        '<div class="pcnkit-table-wrap">'
        '<table class="nhsuk-table nhsuk-table--responsive" role="table"'
        + (f' id="{escape(id)}">' if id else ">"),
        f'<caption class="nhsuk-table__caption nhsuk-table__caption--s">{escape(caption)}'
        "</caption>",
        '<thead class="nhsuk-table__head" role="rowgroup"><tr class="nhsuk-table__row" role="row">',
    ]
    headings = []
    for _key, heading, numeric in columns:
        out.append(
            f'<th class="nhsuk-table__header{num if numeric else ""}" scope="col" '
            f'role="columnheader">{escape(heading)}</th>'
        )
        headings.append(
            f'<span class="nhsuk-table__heading" aria-hidden="true">{escape(heading)} </span>'
        )
    out.append('</tr></thead><tbody class="nhsuk-table__body">')
    for row in rows:
        out.append('<tr class="nhsuk-table__row" role="row">')
        for (key, _heading, numeric), label in zip(columns, headings, strict=True):
            css = "nhsuk-table__cell nhsuk-table__cell--numeric" if numeric else "nhsuk-table__cell"
            out.append(
                f'<td class="{css}" role="cell">{label}{_cell(row.get(key), numeric, fmt)}</td>'
            )
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return Markup("".join(out))


# --- a patient-level list's rows (population_list.jinja) --------------------------------------

SEX = {"F": "Female", "M": "Male"}
FRAILTY = {
    "fit": "Fit",
    "mild": "Mild frailty",
    "moderate": "Moderate frailty",
    "severe": "Severe frailty",
}
REASON_COLUMNS = ("criteria_met", "rising_risk_reasons")
_MISSING = object()


def _list_cell(key: str, value: object, count, date) -> str:
    """A list cell in words: risks as percentages, yes/no, sex and frailty spelt out, blood
    pressures whole, other numbers as counts, dates long."""
    if value is _MISSING:
        return ""
    if value is None:
        return "–"
    if key == "predicted_risk":
        return escape("%.1f" % (100 * value)) + "%"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if key == "sex":
        return escape(SEX.get(value, value))
    if key == "efi_approx_category":
        return escape(FRAILTY.get(value, value))
    if key in ("latest_sbp", "latest_dbp") and isinstance(value, Number):
        return escape("%d" % round(value, 0))  # noqa: UP031 (as the template wrote it)
    if isinstance(value, Number):
        return escape(count(value))
    return escape(date(value))


def list_rows(columns: Sequence[Mapping[str, object]], rows: Iterable[Mapping], count, date):
    """The body rows of a patient-level list page, written in one pass (a page is 100 rows of
    up to a dozen columns: in template code it was most of the server's time under load).
    `columns` are the page's column entries (key, heading, numeric)."""
    cells = []
    for col in columns:
        key = str(col["key"])
        css = (
            "nhsuk-table__cell"
            + (" nhsuk-table__cell--numeric" if col["numeric"] else "")
            + (" pcnkit-population__pseudonym" if key == "pseudonym" else "")
            + (
                " pcnkit-population__reasons"
                if key in ("criteria_met", "rising_risk_reasons")
                else ""
            )
        )
        cells.append(
            (
                key,
                f'      <td class="{escape(css)}" data-column="{escape(key)}"><span '
                f'class="nhsuk-table__heading" aria-hidden="true">{escape(col["heading"])} </span>',
            )
        )
    out = []
    for row in rows:
        out.append('    <tr class="nhsuk-table__row">\n')
        for key, start in cells:
            out.append(f"{start}{_list_cell(key, row.get(key, _MISSING), count, date)}</td>\n")
        out.append("    </tr>\n")
    return Markup("".join(out))

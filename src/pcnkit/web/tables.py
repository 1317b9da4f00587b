"""Data tables in the NHS.UK design system's responsive table markup, written directly.

The nhsuk-frontend-jinja `table` macro costs about 0.2 ms a cell, which made a page of a few
hundred rows (an ICS's map table, a patient list) miss the 300 ms target on its own; this writes
the same markup (classes, roles, the per-cell heading used on narrow screens) in one pass, in
a box that scrolls sideways when a wide table does not fit, rather than the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

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

"""Reading pages in tests: every <table id=...> as rows of cell texts."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Every <table id=...> of a page as rows of cell texts (header row included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._id = a["id"]
            self.tables[self._id] = []
        elif self._id and tag == "tr":
            self._row = []
        elif self._id and tag in ("td", "th"):
            self._cell = []
        elif (
            self._cell is not None
            and tag == "span"
            and (self._hidden or "nhsuk-table__heading" in (a.get("class") or ""))
        ):
            # the responsive table repeats the column heading (aria-hidden) in each cell
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self._id = None
        elif self._id and tag == "tr" and self._row is not None:
            self.tables[self._id].append(self._row)
            self._row = None
        elif self._id and tag in ("td", "th") and self._cell is not None:
            self._row.append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "span" and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if self._cell is not None and not self._hidden:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables

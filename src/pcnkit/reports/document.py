"""A committee pack as data: sections of paragraphs, numbered tables and figures, each citing
its sources, and a cover page. The pack builders (`assurance_update`, `funding_paper`,
`pcn_pack`) fill one from the engines; the renderers (`html`, `pdf`, `docx`) write it out.

Everything a renderer shows is decided here, once: the table and figure numbers, the footnote
number of each source, the words for a figure that could not be calculated. So the HTML, the
PDF and the Word document of one pack say exactly the same thing, and the same inputs give the
same document apart from the stated generation time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

SYNTHETIC_WORDS = (
    "SYNTHETIC DATA: the patient-level figures in this pack come from a generated population; "
    "no row describes a real person."
)


@dataclass(frozen=True, order=True)
class Source:
    """Where figures come from, by its public title (never a file name), with what dates it
    and which part was used ("published 12 March 2026", "rows 4–120", "lists at 1 January
    2019"). Footnoted once per pack, numbered in the order first cited."""

    title: str
    detail: str = ""

    @property
    def words(self) -> str:
        return f"{self.title}: {self.detail}" if self.detail else self.title


@dataclass(frozen=True)
class Paragraph:
    text: str
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Notice:
    """A paragraph the reader must not miss: a figure not confirmed, data not held, a
    SYNTHETIC label. `kind` is "warning" or "info"."""

    text: str
    kind: str = "warning"


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Column:
    heading: str
    numeric: bool = False  # right-aligned; figures


@dataclass(frozen=True)
class Table:
    """A numbered table. Cells are the words shown (format them with `money`, `count`,
    `percent` or `not_calculated`); `totals` are the indexes of subtotal and total rows (shown
    bold); `notes` sit under the table (a key to every code or status letter)."""

    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    sources: tuple[Source, ...]
    notes: tuple[str, ...] = ()
    totals: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"table {self.caption!r} row {i + 1} has {len(row)} cells, "
                                 f"not {width}")  # fmt: skip


@dataclass(frozen=True)
class Figure:
    """A numbered chart: a standalone SVG drawing (`pcnkit.charts.*_drawing`), what it shows
    in words (for readers who cannot see it) and its sources. `table` holds the same numbers
    where the pack shows them beside the chart."""

    caption: str
    svg: str
    description: str
    sources: tuple[Source, ...]
    notes: tuple[str, ...] = ()


Block = Paragraph | Notice | Bullets | Table | Figure


@dataclass
class Section:
    key: str  # the name a user picks it by: `--sections funding,watchlist`
    title: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self

    def walk(self) -> Iterator[Block]:
        yield from self.blocks
        for s in self.subsections:
            yield from s.walk()


@dataclass
class Document:
    """One pack. `inputs` are what the user chose, shown on the cover ("Previous pack: 1
    December 2025", "Contract year: 2019/20"); `unconfirmed` are the figures the research could
    not confirm, each in words; `synthetic` adds the SYNTHETIC label to the cover and every
    page."""

    kind: str  # "assurance-update", "funding-paper", "pcn-pack"
    title: str
    organisation: str  # "Barking and Dagenham, Havering and Redbridge (BHR)"
    as_of: dt.date
    generated: dt.datetime
    sections: list[Section] = field(default_factory=list)
    inputs: list[tuple[str, str]] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    synthetic: bool = False
    # figures the reader must not take as real (an illustrative roster), said on the cover
    illustrative: list[str] = field(default_factory=list)
    # told apart in the file name: "as-published" for a paper made from a published paper's
    # inputs, so it never overwrites the pack from the registry's
    variant: str = ""

    def blocks(self) -> Iterator[Block]:
        for s in self.sections:
            yield from s.walk()

    def numbers(self) -> dict[int, str]:
        """Each table's and figure's label ("Table 3", "Figure 2"), keyed by id(block), in
        document order; tables and figures are counted separately."""
        out: dict[int, str] = {}
        tables = figures = 0
        for b in self.blocks():
            if isinstance(b, Table):
                tables += 1
                out[id(b)] = f"Table {tables}"
            elif isinstance(b, Figure):
                figures += 1
                out[id(b)] = f"Figure {figures}"
        return out

    def footnotes(self) -> list[Source]:
        """Every source cited, once each, in the order first cited (footnote 1 first)."""
        seen: dict[Source, None] = {}
        for b in self.blocks():
            for s in getattr(b, "sources", ()):
                seen.setdefault(s, None)
        return list(seen)

    def footnote_numbers(self) -> dict[Source, int]:
        return {s: i for i, s in enumerate(self.footnotes(), start=1)}

    def source_series(self) -> list[SourceSeries]:
        """The cover's list: each publication once, with the editions cited (a monthly
        series' months in date order) and its footnote numbers; the numbered list at the end
        gives each footnote whole."""
        found: dict[str, tuple[list[str], list[int]]] = {}
        for n, s in enumerate(self.footnotes(), start=1):
            series, edition = _edition(s.title)
            dates, numbers = found.setdefault(series, ([], []))
            if edition and edition not in dates:
                dates.append(edition)
            numbers.append(n)
        return [
            SourceSeries(series, tuple(sorted(dates, key=_edition_order)), tuple(numbers))
            for series, (dates, numbers) in found.items()
        ]

    @property
    def generated_words(self) -> str:
        return (
            f"Generated {long_date(self.generated.date())} at {self.generated:%H:%M}. "
            "Everything else in this pack depends only on its inputs, so two packs made with "
            "the same inputs differ only here."
        )


@dataclass(frozen=True)
class SourceSeries:
    """One publication on the cover: its editions cited and its footnotes."""

    title: str
    editions: tuple[str, ...]
    footnotes: tuple[int, ...]

    @property
    def words(self) -> str:
        editions = f": {', '.join(self.editions)}" if self.editions else ""
        word = "source" if len(self.footnotes) == 1 else "sources"
        return f"{self.title}{editions} ({word} {_ranges(self.footnotes)})"


_MONTHS = tuple(dt.date(2000, m, 1).strftime("%B") for m in range(1, 13))
_EDITION = re.compile(
    r"^(?P<series>.+?)(?:,\s*|\s+)(?P<edition>(?:(?:(?:as )?at )?(?:\d{1,2} )?(?:"
    + "|".join(_MONTHS)
    + r") \d{4})|\d{4}/\d{2}|\d{4}-\d{2})$"
)


def _edition(title: str) -> tuple[str, str]:
    """("NHS Digital, Patients Registered at a GP Practice", "March 2026") from the title of
    one edition; a title without a trailing date is its own series."""
    m = _EDITION.match(title.strip())
    return (m["series"], m["edition"]) if m else (title, "")


def _edition_order(edition: str) -> tuple[int, int, str]:
    words = edition.removeprefix("as ").removeprefix("at ").split()
    if len(words) >= 2 and words[-2] in _MONTHS and words[-1].isdigit():
        return (int(words[-1]), _MONTHS.index(words[-2]) + 1, edition)
    digits = re.match(r"(\d{4})", edition)
    return (int(digits[1]) if digits else 0, 0, edition)


def _ranges(numbers: tuple[int, ...]) -> str:
    """1, 2, 3, 5 -> "1–3, 5"."""
    out: list[str] = []
    start = prev = None
    for n in (*sorted(numbers), None):
        if start is not None and (n is None or n != prev + 1):
            out.append(str(start) if start == prev else f"{start}–{prev}")
            start = None
        if n is not None and start is None:
            start = n
        prev = n
    return ", ".join(out)


# --- the one way each kind of figure is written -----------------------------------------------

PENNY = Decimal("0.01")


def money(amount: Decimal | None, reason: str = "") -> str:
    """Pounds and pence ("£74,215.50"). An amount already rounded by the engine is shown as it
    is; a missing one says why, never £0.00."""
    if amount is None:
        return not_calculated(reason)
    return f"-£{-amount.quantize(PENNY, ROUND_HALF_UP):,}" if amount < 0 else (
        f"£{amount.quantize(PENNY, ROUND_HALF_UP):,}"
    )  # fmt: skip


def count(n: int | None, reason: str = "") -> str:
    if n is None:
        return not_calculated(reason)
    return f"{n:,}"


def percent(value: float | None, places: int = 1, reason: str = "") -> str:
    """`value` is already a percentage (85.5 for 85.5%)."""
    if value is None:
        return not_calculated(reason)
    return f"{value:,.{places}f}%"


def not_calculated(reason: str) -> str:
    return f"not calculated: {reason}" if reason else "not calculated"


def long_date(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


__all__ = [
    "SYNTHETIC_WORDS",
    "Block",
    "Bullets",
    "Column",
    "Document",
    "Figure",
    "Notice",
    "Paragraph",
    "Section",
    "Source",
    "SourceSeries",
    "Table",
    "count",
    "long_date",
    "money",
    "not_calculated",
    "percent",
]

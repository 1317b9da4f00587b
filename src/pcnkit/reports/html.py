"""A committee pack as one self-contained HTML file: inline CSS, inline SVG charts, no scripts
and nothing fetched, so it opens the same offline, attached to an email or years later.

The same HTML, with `for_print`, is what WeasyPrint lays out as the PDF: the page rules (A4,
"Page N of M", the organisation and date in every header, the SYNTHETIC label on every page)
live here so that the PDF and the HTML cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from pcnkit.reports.document import (
    SYNTHETIC_WORDS,
    Block,
    Bullets,
    Document,
    Figure,
    Notice,
    Paragraph,
    Section,
    Source,
    Table,
    long_date,
)

BLUE = "#005eb8"
# A table with this many columns or more gets the small type; with WIDE_TABLE or more it gets
# a landscape page of its own in print (a funding table with its streams as columns).
MANY_COLUMNS = 7
WIDE_TABLE = 9
ALL_CONFIRMED = "All figures in this pack are confirmed."

_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def render_html(doc: Document, *, for_print: bool = False) -> str:
    """The pack as one HTML page; `for_print` adds the paged-media rules the PDF uses."""
    r = _Renderer(doc)
    body = [_cover(doc), _contents(doc)]
    body += [r.section(s, 1) for s in doc.sections]
    body.append(_sources(doc))
    css = _CSS + (_print_css(doc) if for_print else _SCREEN_CSS)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(doc.title)} – {_e(doc.organisation)}</title>\n"
        '<meta name="author" content="pcnkit">\n'
        '<meta name="generator" content="pcnkit">\n'
        f'<meta name="dcterms.created" content="{w3c_time(doc.generated)}">\n'
        f'<meta name="dcterms.modified" content="{w3c_time(doc.generated)}">\n'
        f"<style>{css}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def generated_utc(when: dt.datetime) -> dt.datetime:
    """The generation time in UTC, as the PDF and Word metadata need it (a time without a
    zone is taken as UTC, as the pack states it)."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def w3c_time(when: dt.datetime) -> str:
    return f"{generated_utc(when):%Y-%m-%dT%H:%M:%SZ}"


def _e(text: str) -> str:
    return escape(text, quote=True)


def _num(numeric: bool) -> str:
    return ' class="num"' if numeric else ""


def as_at(doc: Document) -> str:
    return f"As at {long_date(doc.as_of)}"


def _cover(doc: Document) -> str:
    out = ['<section class="cover" aria-label="Cover">']
    out.append(f'<p class="cover-org">{_e(doc.organisation)}</p>')
    out.append(f'<h1 class="cover-title">{_e(doc.title)}</h1>')
    out.append(f'<p class="cover-date">{_e(as_at(doc))}</p>')
    if doc.synthetic:
        out.append(f'<p class="notice notice--warning synthetic">{_e(SYNTHETIC_WORDS)}</p>')
    for words in doc.illustrative:
        out.append(f'<p class="notice notice--warning illustrative">{_e(words)}</p>')
    if doc.inputs:
        out.append('<h2 class="cover-h">Inputs</h2><table class="inputs"><tbody>')
        for name, value in doc.inputs:
            out.append(f'<tr><th scope="row">{_e(name)}</th><td>{_e(value)}</td></tr>')
        out.append("</tbody></table>")
    out.append('<h2 class="cover-h">Data sources and their dates</h2>')
    sources = doc.source_series()
    if sources:
        out.append('<ul class="cover-sources">')
        out += [f"<li>{_e(s.words)}</li>" for s in sources]
        out.append("</ul>")
    else:
        out.append("<p>No data source is cited in this pack.</p>")
    out.append('<h2 class="cover-h">Figures not confirmed</h2>')
    if doc.unconfirmed:
        out.append('<div class="notice notice--warning"><ul>')
        out += [f"<li>{_e(u)}</li>" for u in doc.unconfirmed]
        out.append("</ul></div>")
    else:
        out.append(f"<p>{ALL_CONFIRMED}</p>")
    out.append(f'<p class="generated">{_e(doc.generated_words)}</p>')
    out.append("</section>")
    return "\n".join(out)


def section_id(path: str) -> str:
    return "section-" + re.sub(r"[^A-Za-z0-9_-]+", "-", path)


def _contents(doc: Document) -> str:
    out = ['<nav class="contents" aria-labelledby="contents-h">',
           '<h2 id="contents-h">Contents</h2>', "<ol>"]  # fmt: skip
    for i, s in enumerate(doc.sections, start=1):
        out.append(f'<li><a href="#{section_id(str(i))}">{_e(s.title)}</a>')
        if s.subsections:
            out.append("<ol>")
            for j, sub in enumerate(s.subsections, start=1):
                out.append(f'<li><a href="#{section_id(f"{i}-{j}")}">{_e(sub.title)}</a></li>')
            out.append("</ol>")
        out.append("</li>")
    out.append('<li><a href="#sources">Sources</a></li>')
    out += ["</ol>", "</nav>"]
    return "\n".join(out)


def _sources(doc: Document) -> str:
    out = ['<section class="sources" id="sources" aria-labelledby="sources-h">',
           '<h1 id="sources-h">Sources</h1>', "<ol>"]  # fmt: skip
    for n, s in enumerate(doc.footnotes(), start=1):
        out.append(f'<li id="source-{n}">{_e(s.words)}</li>')
    out += ["</ol>", "</section>"]
    return "\n".join(out)


class _Renderer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.labels = doc.numbers()
        self.notes = doc.footnote_numbers()
        self.counter = iter(range(1, 10_000))
        self.paths: dict[int, str] = {}
        for i, s in enumerate(doc.sections, start=1):
            self.paths[id(s)] = str(i)
            for j, sub in enumerate(s.subsections, start=1):
                self.paths[id(sub)] = f"{i}-{j}"

    def section(self, s: Section, level: int, path: str = "") -> str:
        path = self.paths.get(id(s), path)
        h = min(level, 3)
        # a section holding a wide table is printed landscape whole, so its heading and
        # words stay with the table rather than alone on the page before
        wide = any(isinstance(b, Table) and len(b.columns) >= WIDE_TABLE for b in s.blocks)
        cls = f"part level-{level}" + (" wide" if wide else "")
        out = [f'<section class="{cls}" id="{section_id(path)}">',
               f"<h{h}>{_e(s.title)}</h{h}>"]  # fmt: skip
        out += [self.block(b) for b in s.blocks]
        out += [
            self.section(sub, level + 1, f"{path}-{j}")
            for j, sub in enumerate(s.subsections, start=1)
        ]
        out.append("</section>")
        return "\n".join(out)

    def cite(self, sources: tuple[Source, ...]) -> str:
        numbers = sorted({self.notes[s] for s in sources})
        return "".join(
            f'<sup class="fn"><a href="#source-{n}" aria-label="source {n}">[{n}]</a></sup>'
            for n in numbers
        )

    def block(self, b: Block) -> str:
        if isinstance(b, Paragraph):
            return f"<p>{_e(b.text)}{self.cite(b.sources)}</p>"
        if isinstance(b, Notice):
            kind = "info" if b.kind == "info" else "warning"
            word = "Note" if kind == "info" else "Important"
            return (
                f'<div class="notice notice--{kind}" role="note"><p>'
                f'<strong class="notice-word">{word}: </strong>{_e(b.text)}</p></div>'
            )
        if isinstance(b, Bullets):
            items = "".join(f"<li>{_e(i)}</li>" for i in b.items)
            cite = f'<p class="cite">Sources: {self.cite(b.sources)}</p>' if b.sources else ""
            return f"<ul>{items}</ul>{cite}"
        if isinstance(b, Table):
            return self.table(b)
        if isinstance(b, Figure):
            return self.figure(b)
        raise TypeError(f"no HTML for {type(b).__name__}")

    def table(self, t: Table) -> str:
        label = self.labels[id(t)]
        width = len(t.columns)
        classes = ["data"]
        if width >= MANY_COLUMNS:
            classes.append("many")
        wrap = ["table-block"] + (["wide"] if width >= WIDE_TABLE else [])
        out = [f'<div class="{" ".join(wrap)}">', f'<table class="{" ".join(classes)}">']
        out.append(
            f'<caption><span class="label">{label}:</span> {_e(t.caption)}'
            f"{self.cite(t.sources)}</caption>"
        )
        heads = "".join(f'<th scope="col"{_num(c.numeric)}>{_e(c.heading)}</th>' for c in t.columns)
        out.append(f"<thead><tr>{heads}</tr></thead><tbody>")
        for i, row in enumerate(t.rows):
            cells = []
            for j, (c, cell) in enumerate(zip(t.columns, row, strict=True)):
                if j == 0 and not c.numeric:  # the row's name
                    cells.append(f'<th scope="row">{_e(cell)}</th>')
                else:
                    cells.append(f"<td{_num(c.numeric)}>{_e(cell)}</td>")
            cls = ' class="total"' if i in t.totals else ""
            out.append(f"<tr{cls}>{''.join(cells)}</tr>")
        out.append("</tbody></table>")
        out.append(self.notes_list(t.notes))
        out.append("</div>")
        return "\n".join(x for x in out if x)

    def notes_list(self, notes: tuple[str, ...]) -> str:
        if not notes:
            return ""
        return '<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"

    def figure(self, f: Figure) -> str:
        label = self.labels[id(f)]
        svg = _XMLNS.sub("", f.svg) if f.svg else '<p class="no-chart">No chart: no values.</p>'
        return "\n".join(
            x
            for x in [
                '<figure class="chart">',
                f'<figcaption><span class="label">{label}:</span> {_e(f.caption)}'
                f"{self.cite(f.sources)}</figcaption>",
                f'<div class="drawing">{svg}</div>',
                f'<p class="description"><strong>What the chart shows:</strong> '
                f"{_e(f.description)}</p>",
                self.notes_list(f.notes),
                "</figure>",
            ]
            if x
        )


_CSS = f"""
html {{ font-family: Arial, "Liberation Sans", Helvetica, sans-serif; color: #212b32;
  font-size: 11pt; line-height: 1.4; }}
body {{ margin: 0; }}
h1, h2, h3 {{ color: {BLUE}; line-height: 1.2; break-after: avoid; page-break-after: avoid; }}
h1 {{ font-size: 18pt; margin: 1.2em 0 0.5em; }}
h2 {{ font-size: 14pt; margin: 1.1em 0 0.4em; }}
h3 {{ font-size: 12pt; margin: 1em 0 0.4em; }}
p, ul, ol {{ margin: 0 0 0.7em; }}
a {{ color: {BLUE}; }}
sup.fn {{ font-size: 0.7em; line-height: 0; }}
sup.fn a {{ text-decoration: none; }}
.cover {{ break-after: page; page-break-after: always; }}
.cover-org {{ font-size: 14pt; font-weight: bold; color: #4c6272; margin-top: 2em; }}
.cover-title {{ font-size: 26pt; margin: 0.2em 0 0.3em; }}
.cover-date {{ font-size: 14pt; font-weight: bold; margin-bottom: 1.5em; }}
.cover-h {{ font-size: 12pt; margin-top: 1.2em; }}
.cover-sources {{ font-size: 10pt; }}
.generated {{ font-size: 9pt; color: #4c6272; margin-top: 2em; }}
table {{ border-collapse: collapse; }}
table.inputs th {{ text-align: left; padding: 2pt 12pt 2pt 0; vertical-align: top; }}
table.inputs td {{ padding: 2pt 0; }}
.notice {{ border: 1.5pt solid #4c6272; border-left-width: 6pt; padding: 6pt 10pt;
  margin: 0 0 1em; break-inside: avoid; page-break-inside: avoid; }}
.notice p:last-child, .notice ul:last-child {{ margin-bottom: 0; }}
.notice ul {{ padding-left: 1.2em; }}
.notice--warning {{ border-color: #ed8b00; background: #fff9e6; }}
.notice--info {{ border-color: {BLUE}; background: #eef4fa; }}
.synthetic {{ font-weight: bold; }}
.contents {{ break-after: page; page-break-after: always; }}
.contents ol {{ padding-left: 1.5em; }}
.contents ol ol {{ margin: 0; }}
.contents a {{ text-decoration: none; color: #212b32; }}
.table-block {{ margin: 1em 0 1.4em; }}
table.data {{ width: 100%; font-size: 9.5pt; line-height: 1.3; }}
table.data.many {{ font-size: 7.5pt; }}
table.data caption {{ caption-side: top; text-align: left; font-weight: bold;
  font-size: 10.5pt; padding-bottom: 4pt; color: #212b32; }}
table.data th, table.data td {{ border-bottom: 0.75pt solid #aeb7bd; padding: 3pt 5pt;
  text-align: left; vertical-align: top; }}
table.data thead th {{ border-bottom: 1.5pt solid #212b32; vertical-align: bottom;
  background: #f0f4f5; }}
table.data tbody th {{ font-weight: normal; }}
table.data .num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
table.data.many .num {{ white-space: normal; }}
table.data tr.total th, table.data tr.total td {{ font-weight: bold;
  border-top: 1pt solid #212b32; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; page-break-inside: avoid; }}
.notes {{ font-size: 8.5pt; color: #4c6272; margin: 4pt 0 0; padding-left: 1.2em; }}
.label {{ color: {BLUE}; }}
figure.chart {{ margin: 1em 0 1.4em; break-inside: avoid; page-break-inside: avoid; }}
figure.chart figcaption {{ font-weight: bold; font-size: 10.5pt; margin-bottom: 4pt; }}
figure.chart .drawing svg {{ display: block; width: 100%; max-width: 720px; height: auto; }}
.description {{ font-size: 9.5pt; }}
.cite {{ font-size: 9pt; color: #4c6272; }}
.sources ol {{ font-size: 10pt; }}
"""

_SCREEN_CSS = """
body { max-width: 60em; margin: 0 auto; padding: 1em 2em 3em; }
.cover { border-bottom: 2px solid #005eb8; padding-bottom: 1.5em; margin-bottom: 1.5em; }
.contents { border-bottom: 1px solid #aeb7bd; margin-bottom: 1em; }
.table-block { overflow-x: auto; }
table.data.many { font-size: 0.85em; }
@page { size: A4; margin: 18mm 16mm; }
@media print { body { max-width: none; padding: 0; } .cover, .contents { border: 0; }
  .table-block { overflow: visible; } }
"""


def _css_string(text: str) -> str:
    """`text` as a CSS string (for the margin boxes)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{out}"'


def _print_css(doc: Document) -> str:
    header = _css_string(f"{doc.organisation} · {as_at(doc)}")
    if doc.synthetic:
        # one box, two lines: the label must be on every page, the cover too
        header += r' "\A" ' + _css_string(SYNTHETIC_WORDS)
    top = "28mm" if doc.synthetic else "22mm"
    font = 'font-family: Arial, "Liberation Sans", sans-serif; font-size: 8pt; color: #4c6272;'
    return f"""
@page {{
  size: A4; margin: {top} 18mm 20mm;
  @top-left {{ content: {header}; {font} white-space: pre-wrap; vertical-align: bottom;
    padding-bottom: 3mm; width: 100%; }}
  @bottom-left {{ content: {_css_string(doc.title)}; {font} }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {font} }}
}}
@page :first {{ @bottom-right {{ content: none; }} @bottom-left {{ content: none; }} }}
@page wide {{ size: A4 landscape; }}
.wide {{ page: wide; }}
.wide table.data.many {{ font-size: 8.5pt; }}
.contents a::after {{ content: leader(".") target-counter(attr(href), page); }}
"""

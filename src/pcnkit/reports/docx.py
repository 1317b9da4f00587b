"""A committee pack as a Word document, for the secretaries who edit papers in Word: real
styles (Title, Heading 1 and 2, Caption, List Bullet, a table style whose header row repeats on
every page), captions numbered as in the HTML and PDF, "Page X of Y" as fields in the footer,
the SYNTHETIC label in every page's header.

Charts stay vector: each is the SVG itself, through Word's SVG extension (Word 2016 and later
draw it), with a PNG drawn from the same SVG as the picture older readers show. python-docx
has no SVG support, so the SVG part and its relationship are added here.

The same Document gives the same bytes: the core properties carry the pack's stated
generation time, and the package is rewritten with fixed zip entry times.
"""

from __future__ import annotations

import io
import re
import zipfile
from copy import deepcopy

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
from pcnkit.reports.html import ALL_CONFIRMED, MANY_COLUMNS, WIDE_TABLE, generated_utc

SVG_NS = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
SVG_EXT_URI = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"
BLUE = "005EB8"
GREY = "4C6272"
FONT = "Arial"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def render_docx(doc: Document) -> bytes:
    """The pack as .docx bytes."""
    return _Writer(doc).write()


class _Writer:
    def __init__(self, doc: Document) -> None:
        import docx  # only loaded when a Word document is asked for

        self.doc = doc
        self.word = docx.Document()
        self.labels = doc.numbers()
        self.notes = doc.footnote_numbers()
        self.landscape = False

    # --- the whole document ----------------------------------------------------------------

    def write(self) -> bytes:
        self._styles()
        self._page_setup()
        self._cover()
        self._contents()
        for s in self.doc.sections:
            self._section(s, 1)
        self._sources()
        self._properties()
        out = io.BytesIO()
        self.word.save(out)
        return _fixed_zip(out.getvalue())

    def _properties(self) -> None:
        p = self.word.core_properties
        when = generated_utc(self.doc.generated)
        p.author = "pcnkit"
        p.last_modified_by = "pcnkit"
        p.title = f"{self.doc.title} – {self.doc.organisation}"
        p.subject = f"As at {long_date(self.doc.as_of)}"
        p.created = when
        p.modified = when
        p.revision = 1
        p.comments = ""
        p.keywords = self.doc.kind

    def _styles(self) -> None:
        from docx.shared import Pt, RGBColor

        styles = self.word.styles
        normal = styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(10.5)
        _east_asian_font(normal)
        for name, size in (("Title", 26), ("Heading 1", 17), ("Heading 2", 13.5),
                           ("Heading 3", 12)):  # fmt: skip
            st = styles[name]
            st.font.name = FONT
            st.font.size = Pt(size)
            st.font.color.rgb = RGBColor.from_string(BLUE)
            st.font.bold = True
            _east_asian_font(st)
        styles["Title"].paragraph_format.space_after = Pt(6)
        caption = styles["Caption"]
        caption.font.name = FONT
        caption.font.size = Pt(10)
        caption.font.bold = True
        caption.font.italic = False
        caption.font.color.rgb = RGBColor.from_string("212B32")
        caption.paragraph_format.keep_with_next = True
        caption.paragraph_format.space_before = Pt(10)
        caption.paragraph_format.space_after = Pt(4)
        for name in ("Header", "Footer"):
            styles[name].font.size = Pt(8)
            styles[name].font.color.rgb = RGBColor.from_string(GREY)

    def _page_setup(self) -> None:
        from docx.shared import Mm

        section = self.word.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(18)
        section.top_margin, section.bottom_margin = Mm(25), Mm(20)
        section.header_distance = section.footer_distance = Mm(10)
        section.different_first_page_header_footer = True  # the cover has no page number
        self._header(section.header)
        self._header(section.first_page_header)
        self._footer(section.footer)

    def _header(self, header) -> None:
        from docx.shared import RGBColor

        p = header.paragraphs[0]
        p.text = f"{self.doc.organisation} · As at {long_date(self.doc.as_of)}"
        if self.doc.synthetic:
            label = header.add_paragraph(style="Header")
            run = label.add_run(SYNTHETIC_WORDS)
            run.bold = True
            run.font.color.rgb = RGBColor.from_string("8A1538")

    def _footer(self, footer) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p = footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT  # right in portrait and landscape alike
        p.add_run(f"{self.doc.title} · Page ")
        _field(p, "PAGE", "1")
        p.add_run(" of ")
        _field(p, "NUMPAGES", "1")

    # --- cover, contents, sources ----------------------------------------------------------

    def _cover(self) -> None:
        from docx.enum.text import WD_BREAK
        from docx.shared import Pt, RGBColor

        w, doc = self.word, self.doc
        org = w.add_paragraph()
        run = org.add_run(doc.organisation)
        run.bold, run.font.size = True, Pt(14)
        run.font.color.rgb = RGBColor.from_string(GREY)
        w.add_paragraph(doc.title, style="Title")
        date = w.add_paragraph()
        run = date.add_run(f"As at {long_date(doc.as_of)}")
        run.bold, run.font.size = True, Pt(14)
        if doc.synthetic:
            self._notice(SYNTHETIC_WORDS, "warning", word="")
        for words in doc.illustrative:
            self._notice(words, "warning", word="")
        if doc.inputs:
            w.add_heading("Inputs", level=2)
            table = w.add_table(rows=0, cols=2)
            for name, value in doc.inputs:
                cells = table.add_row().cells
                cells[0].paragraphs[0].add_run(name).bold = True
                cells[1].text = value
        w.add_heading("Data sources and their dates", level=2)
        sources = doc.source_series()
        for s in sources:
            w.add_paragraph(s.words, style="List Bullet")
        if not sources:
            w.add_paragraph("No data source is cited in this pack.")
        w.add_heading("Figures not confirmed", level=2)
        if doc.unconfirmed:
            for u in doc.unconfirmed:
                p = w.add_paragraph(u, style="List Bullet")
                _shade(p, "FFF9E6", "ED8B00")
        else:
            w.add_paragraph(ALL_CONFIRMED)
        gen = w.add_paragraph()
        run = gen.add_run(doc.generated_words)
        run.font.size = Pt(8.5)
        run.font.color.rgb = RGBColor.from_string(GREY)
        gen.add_run().add_break(WD_BREAK.PAGE)

    def _contents(self) -> None:
        from docx.enum.text import WD_BREAK

        w = self.word
        w.add_heading("Contents", level=1)
        for i, s in enumerate(self.doc.sections, start=1):
            w.add_paragraph(f"{i}. {s.title}")
            for j, sub in enumerate(s.subsections, start=1):
                p = w.add_paragraph(f"{i}.{j}. {sub.title}")
                p.paragraph_format.left_indent = _mm(8)
        w.add_paragraph(f"{len(self.doc.sections) + 1}. Sources")
        w.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)

    def _sources(self) -> None:
        w = self.word
        self._orientation(False)
        w.add_heading("Sources", level=1)
        for n, s in enumerate(self.doc.footnotes(), start=1):
            p = w.add_paragraph()
            _bookmark(p, n, f"source_{n}")
            p.add_run(f"[{n}] ").bold = True
            p.add_run(s.words)

    # --- sections and blocks -----------------------------------------------------------------

    def _section(self, s: Section, level: int) -> None:
        wide = any(isinstance(b, Table) and len(b.columns) >= WIDE_TABLE for b in s.blocks)
        self._orientation(wide)
        self.word.add_heading(s.title, level=min(level, 3))
        for b in s.blocks:
            self._block(b)
        for sub in s.subsections:
            self._section(sub, level + 1)

    def _orientation(self, landscape: bool) -> None:
        """A new section (and page) when the orientation changes: wide tables go landscape."""
        if landscape == self.landscape:
            return
        from docx.enum.section import WD_ORIENT, WD_SECTION
        from docx.shared import Mm

        section = self.word.add_section(WD_SECTION.NEW_PAGE)
        section.different_first_page_header_footer = False
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
        else:
            section.orientation = WD_ORIENT.PORTRAIT
            section.page_width, section.page_height = Mm(210), Mm(297)
        self.landscape = landscape

    def _cite(self, p, sources: tuple[Source, ...]) -> None:
        """Superscript [n] markers, each a link to source n in the Sources list."""
        for n in sorted({self.notes[s] for s in sources}):
            _internal_link(p, f"[{n}]", f"source_{n}")

    def _block(self, b: Block) -> None:
        w = self.word
        if isinstance(b, Paragraph):
            p = w.add_paragraph(b.text)
            self._cite(p, b.sources)
        elif isinstance(b, Notice):
            kind = "info" if b.kind == "info" else "warning"
            self._notice(b.text, kind, word="Note: " if kind == "info" else "Important: ")
        elif isinstance(b, Bullets):
            for item in b.items:
                w.add_paragraph(item, style="List Bullet")
            if b.sources:
                p = w.add_paragraph("Sources: ")
                self._cite(p, b.sources)
        elif isinstance(b, Table):
            self._table(b)
        elif isinstance(b, Figure):
            self._figure(b)
        else:
            raise TypeError(f"no Word rendering for {type(b).__name__}")

    def _notice(self, text: str, kind: str, word: str) -> None:
        p = self.word.add_paragraph()
        if word:
            p.add_run(word).bold = True
        run = p.add_run(text)
        if not word:
            run.bold = True
        fill, line = ("FFF9E6", "ED8B00") if kind == "warning" else ("EEF4FA", BLUE)
        _shade(p, fill, line)

    def _caption(self, label: str, caption: str, sources: tuple[Source, ...]) -> None:
        """ "Table 3: caption" in the Caption style, the number a SEQ field (so Word renumbers
        a caption inserted by hand) whose shown result is the pack's own number."""
        kind, number = label.split(" ")
        p = self.word.add_paragraph(style="Caption")
        p.add_run(f"{kind} ")
        _field(p, f"SEQ {kind} \\* ARABIC", number)
        p.add_run(f": {caption}")
        self._cite(p, sources)

    def _table(self, t: Table) -> None:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        self._caption(self.labels[id(t)], t.caption, t.sources)
        size = Pt(7.5) if len(t.columns) >= MANY_COLUMNS else Pt(9)
        table = self.word.add_table(rows=1, cols=len(t.columns))
        table.style = self.word.styles["Light List Accent 1"]
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        _plain_first_column(table)
        header = table.rows[0]
        _repeat_header(header)
        for cell, col in zip(header.cells, t.columns, strict=True):
            p = cell.paragraphs[0]
            run = p.add_run(col.heading)
            run.bold, run.font.size = True, size
            if col.numeric:
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for i, row in enumerate(t.rows):
            r = table.add_row()
            _cant_split(r)
            for cell, col, text in zip(r.cells, t.columns, row, strict=True):
                p = cell.paragraphs[0]
                run = p.add_run(text)
                run.font.size = size
                if i in t.totals:
                    run.bold = True
                if col.numeric:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self._notes(t.notes)

    def _notes(self, notes: tuple[str, ...]) -> None:
        from docx.shared import Pt, RGBColor

        for n in notes:
            p = self.word.add_paragraph()
            run = p.add_run(n)
            run.font.size = Pt(8.5)
            run.font.color.rgb = RGBColor.from_string(GREY)
        if not notes:
            self.word.add_paragraph()

    def _figure(self, f: Figure) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Mm

        self._caption(self.labels[id(f)], f.caption, f.sources)
        if f.svg:
            p = self.word.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            p.paragraph_format.keep_with_next = True
            _svg_picture(p.add_run(), f.svg, Mm(170))
        else:
            self.word.add_paragraph("No chart: no values.")
        p = self.word.add_paragraph()
        p.add_run("What the chart shows: ").bold = True
        p.add_run(f.description)
        self._notes(f.notes)


# --- Word XML that python-docx has no API for ------------------------------------------------


def _mm(n: float):
    from docx.shared import Mm

    return Mm(n)


def _east_asian_font(style) -> None:
    """Word picks a paragraph's font per script; name Arial for all of them."""
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attr), None)


def _field(paragraph, instruction: str, shown: str) -> None:
    """A complex field (PAGE, NUMPAGES, SEQ) with `shown` as its current result."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str):
        r = OxmlElement("w:r")
        fc = OxmlElement("w:fldChar")
        fc.set(qn("w:fldCharType"), kind)
        r.append(fc)
        return r

    instr = OxmlElement("w:r")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    instr.append(text)
    p = paragraph._p
    p.append(char("begin"))
    p.append(instr)
    p.append(char("separate"))
    paragraph.add_run(shown)
    p.append(char("end"))


def _internal_link(paragraph, text: str, anchor: str) -> None:
    """A superscript run inside a hyperlink to bookmark `anchor` in this document."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    align = OxmlElement("w:vertAlign")
    align.set(qn("w:val"), "superscript")
    rpr.append(align)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _bookmark(paragraph, n: int, name: str) -> None:
    """Bookmark `name` around the start of `paragraph` (the target of its links)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(n))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(n))
    paragraph._p.append(start)
    paragraph._p.append(end)


def _shade(paragraph, fill: str, line: str) -> None:
    """A boxed paragraph: a border all round (thick on the left) and a background."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side, size in (("top", 8), ("left", 36), ("bottom", 8), ("right", 8)):
        b = OxmlElement(f"w:{side}")
        b.set(qn("w:val"), "single")
        b.set(qn("w:sz"), str(size))
        b.set(qn("w:space"), "4")
        b.set(qn("w:color"), line)
        borders.append(b)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    # schema order in w:pPr: ... pBdr, shd ... (before spacing/ind/jc)
    anchor = None
    for tag in ("w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc", "w:rPr"):
        anchor = ppr.find(qn(tag))
        if anchor is not None:
            break
    if anchor is not None:
        anchor.addprevious(borders)
        anchor.addprevious(shd)
    else:
        ppr.append(borders)
        ppr.append(shd)


def _plain_first_column(table) -> None:
    """The table style's special formatting for the header row only: its first column is not
    bold, so that bold means a total."""
    from docx.oxml.ns import qn

    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is not None:
        look.set(qn("w:firstColumn"), "0")
        look.set(qn("w:val"), "0420")  # firstRow (0x0020) and noVBand (0x0400)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    h = OxmlElement("w:tblHeader")
    h.set(qn("w:val"), "true")
    trpr.append(h)
    _cant_split(row)


def _cant_split(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    c = OxmlElement("w:cantSplit")
    c.set(qn("w:val"), "true")
    trpr.insert(0, c)


def _svg_picture(run, svg: str, width) -> None:
    """The chart as a picture: the PNG fallback is the main image (every Word reads it); the
    SVG rides in Word 2016's svgBlip extension on the same blip, so Word draws vectors."""
    import cairosvg
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    data = svg.encode("utf-8")
    png = cairosvg.svg2png(bytestring=data, scale=3)
    run.add_picture(io.BytesIO(png), width=width)
    part = run.part
    package = part.package
    # one part per distinct drawing, named by its order (deterministic)
    existing = {p.partname: p for p in package.iter_parts()}
    svg_part = next(
        (p for p in existing.values() if p.content_type == "image/svg+xml" and p.blob == data),
        None,
    )
    if svg_part is None:
        n = 1
        while PackURI(f"/word/media/chart{n}.svg") in existing:
            n += 1
        svg_part = Part(PackURI(f"/word/media/chart{n}.svg"), "image/svg+xml", data, package)
    rid = part.relate_to(svg_part, RT.IMAGE)
    blip = run._r.findall(".//" + qn("a:blip"))[-1]
    ext_list = parse_xml(
        f'<a:extLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        f'<a:ext uri="{SVG_EXT_URI}">'
        f'<asvg:svgBlip xmlns:asvg="{SVG_NS}" xmlns:r="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/relationships" r:embed="{rid}"/></a:ext></a:extLst>'
    )
    blip.append(deepcopy(ext_list))


_NAME_ORDER = re.compile(r"^\[Content_Types\]\.xml$")


def _fixed_zip(data: bytes) -> bytes:
    """The package again with every entry's time fixed, in a fixed order, so the bytes depend
    only on the content."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    ordered = [n for n in names if _NAME_ORDER.match(n)] + sorted(
        n for n in names if not _NAME_ORDER.match(n)
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in ordered:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 0
            dst.writestr(info, src.read(name))
    return out.getvalue()

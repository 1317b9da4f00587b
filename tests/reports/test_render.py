"""The three renderers of a committee pack (HTML, PDF, Word) and the file writer, on a
Document built by hand with every kind of block: each format shows the same numbered tables,
figures and sources; charts stay vector; the same Document gives the same bytes; a failed
write leaves nothing behind. Pages 1 and the chart's page go to test-artifacts/packs/ as PNGs
for a person to look at."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from render_sample import MARKUP, STREAMS, sample_document

from pcnkit.errors import PcnkitError
from pcnkit.reports import output
from pcnkit.reports.document import SYNTHETIC_WORDS
from pcnkit.reports.docx import SVG_NS, render_docx
from pcnkit.reports.html import ALL_CONFIRMED, render_html
from pcnkit.reports.pdf import render_pdf

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "packs"
SYNTHETIC_START = SYNTHETIC_WORDS.split(":")[0]  # "SYNTHETIC DATA"


@pytest.fixture(scope="module")
def doc():
    return sample_document()


@pytest.fixture(scope="module")
def pdf(doc) -> bytes:
    return render_pdf(doc)


@pytest.fixture(scope="module")
def pdf_pages(pdf) -> list[str]:
    import pypdf

    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def word(doc):
    import docx

    return docx.Document(io.BytesIO(render_docx(doc)))


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- HTML -----------------------------------------------------------------------------------


def test_html_is_self_contained_and_escapes_text(doc):
    html = render_html(doc)
    assert "http:" not in html and "https:" not in html
    assert not re.search(r"\b(src|href)\s*=\s*[\"'](?!#)", html), "a reference outside the file"
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; =SUM(A1:A9)" in html
    assert html.count("<svg") == 2


def test_html_numbers_tables_and_figures_and_cites_sources(doc):
    html = render_html(doc)
    for label in ("Table 1:", "Table 2:", "Figure 1:", "Figure 2:"):
        assert f'<span class="label">{label}</span>' in html
    numbers = doc.footnote_numbers()
    for source, n in numbers.items():
        assert f'<li id="source-{n}">{source.words}</li>' in html
    assert '<a href="#source-1" aria-label="source 1">[1]</a>' in html
    # right-aligned numbers, bold totals, the SYNTHETIC label, unconfirmed figures on the cover
    assert '<th scope="col" class="num">Amount</th>' in html
    assert '<tr class="total"><th scope="row">Total</th>' in html
    assert SYNTHETIC_WORDS in html
    assert "Care home premium for 2019/20 (status U: unconfirmed)" in html
    assert ALL_CONFIRMED not in html
    assert "not calculated: list size not held" in html


def test_html_says_all_confirmed_only_when_nothing_is_unconfirmed():
    html = render_html(sample_document(synthetic=False, unconfirmed=False))
    assert ALL_CONFIRMED in html
    assert SYNTHETIC_WORDS not in html


def test_print_html_has_page_rules(doc):
    html = render_html(doc, for_print=True)
    assert 'counter(page) " of " counter(pages)' in html
    assert "@page wide { size: A4 landscape; }" in html
    assert "@page :first" in html


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_holds_the_pack(doc, pdf_pages):
    text = " ".join(pdf_pages)
    for words in (
        "Table 1: Funding by practice, 2019/20",
        "Table 2: Funding streams by practice",
        "Figure 1: Appointments seen within two weeks",
        "Figure 2: Registered",
        "£13,640.25",
        "-£120.50",
        "£13,519.75",
        "not calculated: list size not held",
        "<script>alert('x')</script> & =SUM(A1:A9)",
        "As at 1 March 2026",
        "Care home premium for 2019/20",
    ):
        assert words in text, words
    for source in doc.footnotes():
        assert _flat(source.words) in text
    # page numbers from page 2 (the cover has none); the total is the page count
    n = len(pdf_pages)
    assert "Page" not in pdf_pages[0].split("Generated")[-1]
    assert f"Page 2 of {n}" in pdf_pages[1]
    assert f"Page {n} of {n}" in pdf_pages[-1]
    # the SYNTHETIC label and the organisation head every page, the cover too
    for i, page in enumerate(pdf_pages, start=1):
        assert _flat(SYNTHETIC_WORDS) in page, f"page {i}"
        assert "(BHR) · As at 1 March 2026" in page, f"page {i}"
    # every stream of the 12-column table is there, on a landscape page
    wide = next(i for i, p in enumerate(pdf_pages) if "Table 2:" in p)
    for stream in STREAMS[:-1]:
        assert stream in pdf_pages[wide]


def test_pdf_wide_table_is_landscape_and_others_portrait(pdf, pdf_pages):
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page, text in zip(reader.pages, pdf_pages, strict=True):
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert (w > h) == ("Table 2:" in text), text[:80]


def test_pdf_charts_are_vector(pdf, pdf_pages):
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    chart = next(i for i, p in enumerate(pdf_pages) if "Figure 1:" in p)
    page = reader.pages[chart]
    xobjects = page["/Resources"].get("/XObject", {})
    images = [k for k, v in xobjects.items() if v.get_object().get("/Subtype") == "/Image"]
    assert images == [], "a chart was drawn as an image"
    assert not list(page.images)
    # the axis labels are text, not pixels
    for label in ("Apr 2025", "Mar 2026", "The Surgery (F82002)", "7,312", "[REDACTED]"):
        assert label in pdf_pages[chart], label


def test_pdf_metadata_and_same_bytes(doc, pdf):
    import pypdf

    meta = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert meta.title.startswith("Assurance update")
    assert meta.author == "pcnkit"
    assert meta["/CreationDate"] == meta["/ModDate"] == "D:20260302093000Z"
    assert render_pdf(doc) == pdf
    assert render_pdf(sample_document()) == pdf  # a new, equal Document too


# --- Word -----------------------------------------------------------------------------------


def test_docx_holds_the_same_figures(doc, word):
    captions = [_flat(p.text) for p in word.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "Table 1: Funding by practice, 2019/20[1][2]",
        "Table 2: Funding streams by practice[1]",
        "Figure 1: Appointments seen within two weeks, by month[3]",
        "Figure 2: Registered patients by practice[2]",
    ]
    tables = [t for t in word.tables if t.style.name == "Light List Accent 1"]
    first = [[c.text for c in row.cells] for row in tables[0].rows]
    assert first[0] == ["Practice", "Registered patients", "Amount"]
    assert first[2] == [MARKUP, "5,021", "-£120.50"]
    assert first[4] == ["Total", "12,333", "£13,519.75"]
    assert all(r.bold for r in tables[0].rows[4].cells[2].paragraphs[0].runs)
    assert not any(r.bold for r in tables[0].rows[1].cells[0].paragraphs[0].runs)
    assert 'w:firstColumn="0"' in tables[0]._tbl.tblPr.xml  # bold means a total, nothing else
    assert len(tables[1].columns) == 11
    # the header row repeats on every page
    assert tables[0].rows[0]._tr.trPr.xml.count("tblHeader") == 1
    styles = {p.style.name for p in word.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Caption", "List Bullet"} <= styles
    body = "\n".join(p.text for p in word.paragraphs)
    xml = word.element.xml
    for n, source in enumerate(doc.footnotes(), start=1):
        assert f"[{n}] {source.words}" in body
        # each marker links to its entry in the Sources list
        assert f'w:anchor="source_{n}"' in xml and f'w:name="source_{n}"' in xml
    assert "Care home premium for 2019/20 (status U: unconfirmed)" in body


def test_docx_headers_footers_and_properties(doc, word):
    first = word.sections[0]
    assert first.different_first_page_header_footer
    for header in (first.header, first.first_page_header):
        text = "\n".join(p.text for p in header.paragraphs)
        assert SYNTHETIC_WORDS in text and "As at 1 March 2026" in text
    footer = first.footer.paragraphs[0]._p.xml
    assert " PAGE " in footer and " NUMPAGES " in footer
    assert "PAGE" not in first.first_page_footer.paragraphs[0]._p.xml
    # the wide table's section is landscape, and keeps the page numbers
    orientations = [s.page_width > s.page_height for s in word.sections]
    assert True in orientations and orientations[0] is False
    assert not any(s.different_first_page_header_footer for s in word.sections[1:])
    props = word.core_properties
    assert props.author == "pcnkit" and props.title.startswith("Assurance update")
    assert props.created.replace(tzinfo=None) == doc.generated


def test_docx_charts_are_svg_with_png_fallback(word):
    part = word.part
    blips = part.element.xpath(".//a:blip")
    assert len(blips) == 2
    for blip in blips:
        png = part.related_parts[blip.get(f"{{{_R}}}embed")]
        assert png.content_type == "image/png" and png.blob.startswith(b"\x89PNG")
        svg_blip = blip.find(f".//{{{SVG_NS}}}svgBlip")
        svg = part.related_parts[svg_blip.get(f"{{{_R}}}embed")]
        assert svg.content_type == "image/svg+xml"
        assert str(svg.partname).endswith(".svg") and svg.blob.startswith(b"<svg")


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def test_docx_same_bytes(doc):
    data = render_docx(doc)
    assert render_docx(sample_document()) == data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2026-03-02T09:30:00Z" in core


# --- writing files --------------------------------------------------------------------------


def test_write_each_format_and_same_bytes(doc, tmp_path):
    for fmt in sorted(output.FORMATS):
        path = output.write(doc, tmp_path / output.filename(doc, fmt))
        assert path.name == f"assurance-update_BHR_2026-03-01.{fmt}"
        assert path.read_bytes() == output.render(doc, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "assurance-update_BHR_2026-03-01.docx",
        "assurance-update_BHR_2026-03-01.html",
        "assurance-update_BHR_2026-03-01.pdf",
    ]
    assert output.write(doc, tmp_path / "pack.out", "HTML").read_bytes().startswith(b"<!DOCTYPE")


def test_write_refuses_unknown_format(doc, tmp_path):
    with pytest.raises(PcnkitError, match="docx, html, pdf"):
        output.write(doc, tmp_path / "pack.xlsx")
    with pytest.raises(PcnkitError, match="no suffix"):
        output.write(doc, tmp_path / "pack")
    assert list(tmp_path.iterdir()) == []


def test_failed_render_leaves_no_file_and_keeps_the_old_one(doc, tmp_path, monkeypatch):
    import pcnkit.reports.pdf as pdf_module

    def broken(_doc):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(pdf_module, "render_pdf", broken)
    with pytest.raises(RuntimeError):
        output.write(doc, tmp_path / "new.pdf")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.pdf"
    old.write_bytes(b"the last complete pack")
    with pytest.raises(RuntimeError):
        output.write(doc, old)
    assert old.read_bytes() == b"the last complete pack"
    assert [p.name for p in tmp_path.iterdir()] == ["old.pdf"]


def test_failed_disk_write_leaves_no_stray_file(doc, tmp_path, monkeypatch):
    old = tmp_path / "pack.html"
    old.write_bytes(b"old")

    def full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", full)
    with pytest.raises(PcnkitError, match=r"No space left on device\); nothing was changed there"):
        output.write(doc, old)
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]
    assert old.read_bytes() == b"old"


def test_filename_is_safe():
    d = sample_document()
    d.organisation = "Havering South / <PCN> (U00367)"
    assert output.filename(d, "docx") == "assurance-update_U00367_2026-03-01.docx"
    d.organisation = "../../etc passwd"
    name = output.filename(d, "pdf")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name) and "/" not in name
    assert not name.startswith(".")


# --- pictures for a person to look at --------------------------------------------------------


def test_pdf_pages_as_pictures(pdf, pdf_pages, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is missing: run `make system-deps`")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "pack.pdf"
    source.write_bytes(pdf)
    chart = next(i for i, p in enumerate(pdf_pages) if "Figure 1:" in p) + 1
    wide = next(i for i, p in enumerate(pdf_pages) if "Table 2:" in p) + 1
    for page, name in ((1, "cover"), (chart, "chart"), (wide, "wide-table")):
        out = ARTIFACTS / f"sample-pack-{name}"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-singlefile",
                "-f",
                str(page),
                "-l",
                str(page),
                str(source),
                str(out),
            ],
            check=True,
        )
        assert out.with_suffix(".png").stat().st_size > 10_000


def test_killed_write_keeps_the_old_file_and_its_leftover_is_cleared(doc, tmp_path):
    """kill -9 after the bytes are written but before the rename: the old pack is intact, and
    the hidden part file left behind is removed by the next write to the same path."""
    import os
    import sys
    import time

    old = tmp_path / "pack.html"
    old.write_bytes(b"old")
    script = (
        "import os, signal, sys\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from render_sample import sample_document\n"
        "from pcnkit.reports import output\n"
        "output.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        "output.write(sample_document(), output.Path(sys.argv[1]))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(old), str(Path(__file__).parent)], env=env, check=False
    )
    assert done.returncode == -9
    assert old.read_bytes() == b"old"
    leftovers = [p for p in tmp_path.iterdir() if p != old]
    assert [p.name.startswith(".pack.html.") and p.suffix == ".part" for p in leftovers] == [True]
    # the part names its writer, which is gone: the next write removes it at once
    output.write(doc, old)
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]
    assert old.read_bytes() == output.render(doc, "html")
    # a part whose writer still runs is left alone, until it is an hour old
    alive = tmp_path / f".pack.html.{os.getppid()}.abc.part"
    alive.write_bytes(b"being written")
    output.write(doc, old)
    assert alive.exists()
    an_hour_ago = time.time() - output.STALE_PART_SECONDS - 60
    os.utime(alive, (an_hour_ago, an_hour_ago))
    output.write(doc, old)
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]


def test_pdf_never_fetches(doc):
    """A drawing that refers to something outside the pack stops the PDF: nothing is fetched
    and no PDF goes out with the chart left out."""
    import dataclasses

    bad = sample_document()
    figure = bad.sections[2].blocks[0]
    svg = figure.svg.replace("</svg>", '<image href="http://127.0.0.1:9/x.png" width="5" '
                             'height="5"/></svg>')  # fmt: skip
    bad.sections[2].blocks[0] = dataclasses.replace(figure, svg=svg)
    with pytest.raises(PcnkitError, match="could not be laid out whole"):
        render_pdf(bad)

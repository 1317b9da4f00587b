"""A committee pack as PDF: WeasyPrint lays out the print HTML (`html.render_html`), so the
PDF says exactly what the HTML says. Charts are inline SVG, which WeasyPrint draws as vector
paths and text, so they stay sharp when printed or zoomed and their words can be searched.

The same Document gives the same bytes: the dates in the metadata are the pack's stated
generation time and the file identifier is derived from the document's own content.
"""

from __future__ import annotations

import hashlib

from pcnkit.reports.document import Document
from pcnkit.reports.html import render_html


def render_pdf(doc: Document) -> bytes:
    import weasyprint  # heavy (pango, cairo); only loaded when a PDF is asked for

    source = render_html(doc, for_print=True)
    identifier = hashlib.sha256(source.encode("utf-8")).hexdigest()[:32].encode("ascii")
    return weasyprint.HTML(string=source, base_url=None).write_pdf(
        pdf_identifier=identifier,
        custom_metadata=False,
        uncompressed_pdf=False,
    )

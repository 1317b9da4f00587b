"""A committee pack as PDF: WeasyPrint lays out the print HTML (`html.render_html`), so the
PDF says exactly what the HTML says. Charts are inline SVG, which WeasyPrint draws as vector
paths and text, so they stay sharp when printed or zoomed and their words can be searched.

The same Document gives the same bytes: the dates in the metadata are the pack's stated
generation time and the file identifier is derived from the document's own content.
WeasyPrint only logs what it cannot draw (and leaves it out); here that stops the PDF, so a
pack never goes out with a chart silently missing.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from pcnkit.errors import PcnkitError
from pcnkit.reports.document import Document
from pcnkit.reports.html import render_html


class _Errors(logging.Handler):
    """WeasyPrint's errors while this thread renders (the web renders two packs at once, and
    one pack's problem must never fail, or be shown in, another's)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


def render_pdf(doc: Document) -> bytes:
    import weasyprint  # heavy (pango, cairo); only loaded when a PDF is asked for

    source = render_html(doc, for_print=True)
    identifier = hashlib.sha256(source.encode("utf-8")).hexdigest()[:32].encode("ascii")
    # a pack holds everything it shows: any reference to fetch is an error, never a request
    no_fetching = weasyprint.URLFetcher(allowed_protocols=(), fail_on_errors=True)
    errors = _Errors()
    log = logging.getLogger("weasyprint")
    log.addHandler(errors)
    try:
        page = weasyprint.HTML(string=source, base_url=None, url_fetcher=no_fetching)
        data = page.write_pdf(
            pdf_identifier=identifier, custom_metadata=False, uncompressed_pdf=False
        )
    finally:
        log.removeHandler(errors)
    if errors.messages:
        raise PcnkitError(
            f"the PDF of {doc.title!r} could not be laid out whole: {errors.messages[0]}"
        )
    return data

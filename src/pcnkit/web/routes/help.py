"""The help page: what the statuses, tags and codes on the pages mean and where the data comes
from (pcnkit.glossary). Open to everyone: it holds no data, and people need it before they sign
in too; the signed-in header is shown when there is a session."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pcnkit import glossary
from pcnkit.web.context import signed_in_context
from pcnkit.web.render import render

router = APIRouter()


@router.get("/help", include_in_schema=False)
def help_page(request: Request):
    signed_in = signed_in_context(request)
    try:
        return render(
            next(signed_in, None) or request,
            "help.jinja",
            statuses=glossary.funding_statuses(),
            tags=glossary.TAGS,
            severities=glossary.severities(),
            tiers=glossary.TIERS,
            codes=glossary.CODES,
            sources=glossary.SOURCES,
            assurance=glossary.ASSURANCE,
        )
    finally:
        signed_in.close()

"""Committee packs: the page offering them, its JSON twin, and the download."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx
from pcnkit.web.jsonout import answer
from pcnkit.web.render import render
from pcnkit.web.views import packs

router = APIRouter()


class PacksPage(schemas.Model):
    """The API's description of `views.packs.PacksPage`."""

    org: schemas.OrgRef
    as_of: dt.date
    packs: list[schemas.Row] = Field(
        description="Each pack you may download for the organisation: {kind, title, about, "
        "sections: [{key, title, about}], years, year, previous (whether it takes the last "
        "pack's date), inputs (published papers' inputs it can be set beside), download}."
    )
    formats: dict[str, str]


@router.get("/packs/{code}", include_in_schema=False)
def packs_page(code: str, c: Ctx = Depends(ctx)):
    return render(c, "packs.jinja", **packs.packs_page(c, code))


@router.get("/api/packs/{code}", tags=["reports"], response_model=PacksPage)
def packs_api(code: str, c: Ctx = Depends(ctx)):
    """The committee packs you may download for an organisation as at `on`, with their
    sections; download one from `download` with `kind`, `format` (pdf, docx or html) and,
    optionally, `year`, `previous`, `sections` (repeat) and `inputs`."""
    return answer(packs.packs_page(c, code))


@router.get("/packs/{code}/download", include_in_schema=False)
def packs_download(
    code: str,
    kind: str = Query(..., max_length=40),
    format: str = Query("pdf", max_length=10),
    year: str | None = Query(None, max_length=10),
    previous: str | None = Query(None, max_length=20),
    sections: list[str] = Query([], max_length=20),
    inputs: str | None = Query(None, max_length=80),
    c: Ctx = Depends(ctx),
):
    """The pack as a file: built from the figures as at `on` (a few seconds for an area)."""
    content, media, name = packs.download(c, code, kind, format, year, previous, sections, inputs)
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

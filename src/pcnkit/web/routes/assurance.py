"""Assurance pages and their JSON twins, and the indicator page's downloads (CSV per table,
Excel for all)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx
from pcnkit.web.jsonout import answer
from pcnkit.web.render import render
from pcnkit.web.views import assurance

router = APIRouter()

PartQuery = Query(..., description="series, members or peers.")


@router.get("/assurance/{code}", include_in_schema=False)
def assurance_page(code: str, c: Ctx = Depends(ctx)):
    data = assurance.assurance_page(c, code)
    return render(c, "assurance.jinja", cache=("assurance", code), **data)


@router.get("/api/assurance/{code}", tags=["assurance"], response_model=schemas.AssurancePage)
def assurance_api(code: str, c: Ctx = Depends(ctx)):
    """An organisation's assurance indicators as at `on`, grouped by topic: each one's latest
    value with its period and coverage (or why there is none), its SPC variation and assurance
    icons, target, England and the comparison with it, and its rank among its peers; and the
    indicators that need attention first."""
    return answer(assurance.assurance_page(c, code))


@router.get("/assurance/{code}/{indicator_id}", include_in_schema=False)
def indicator_page(code: str, indicator_id: str, c: Ctx = Depends(ctx)):
    data = assurance.indicator_page(c, code, indicator_id)
    return render(c, "assurance_indicator.jinja", cache=("assurance", code, indicator_id), **data)


@router.get(
    "/api/assurance/{code}/{indicator_id}",
    tags=["assurance"],
    response_model=schemas.IndicatorPage,
)
def indicator_api(code: str, indicator_id: str, c: Ctx = Depends(ctx)):
    """One indicator for one organisation as at `on`: the series with its SPC lines and each
    point's signal, the members and how much each pulls the value, the peers, funnel limits,
    the definition and where each figure came from."""
    return answer(assurance.indicator_page(c, code, indicator_id))


def _download(content: bytes, media: str, name: str) -> Response:
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# (left out of the OpenAPI document, as the funding downloads' test lists the only downloads)
@router.get("/assurance/{code}/{indicator_id}/download.csv", include_in_schema=False)
def indicator_csv(code: str, indicator_id: str, part: str = PartQuery, c: Ctx = Depends(ctx)):
    """One table of the indicator page (series, members or peers) as CSV."""
    return _download(*assurance.download(c, code, indicator_id, part))


@router.get("/assurance/{code}/{indicator_id}/download.xlsx", include_in_schema=False)
def indicator_xlsx(code: str, indicator_id: str, c: Ctx = Depends(ctx)):
    """The indicator page's tables as one Excel workbook, with the definition on a cover."""
    return _download(*assurance.download(c, code, indicator_id, None))

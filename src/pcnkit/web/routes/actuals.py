"""Entitled against actually paid: the page and its JSON twin."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx
from pcnkit.web.jsonout import answer
from pcnkit.web.render import render
from pcnkit.web.views import actuals

router = APIRouter()

YearQuery = Query(
    None,
    description="Contract year with a payments file loaded, e.g. 2021/22 (default: the latest).",
)


@router.get("/funding/{code}/actuals", include_in_schema=False)
def actuals_page(code: str, year: str | None = YearQuery, c: Ctx = Depends(ctx)):
    data = actuals.actuals_page(c, code, year)
    return render(c, "funding_actuals.jinja", cache=("funding_actuals.jinja", code), **data)


@router.get("/api/funding/{code}/actuals", tags=["funding"], response_model=schemas.ActualsPage)
def actuals_api(code: str, year: str | None = YearQuery, c: Ctx = Depends(ctx)):
    """For a PCN or an area: per PCN and column of NHS Payments to General Practice, the
    entitlement, what was actually paid, the difference and its explanation; and the PCN's
    ARRS budget, the reimbursement actually paid and the money left unclaimed."""
    return answer(actuals.actuals_page(c, code, year))

"""Funding pages and their JSON twins, and the downloads (CSV per table, Excel for all)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx
from pcnkit.web.jsonout import answer
from pcnkit.web.render import render
from pcnkit.web.views import funding

router = APIRouter()

YearQuery = Query(
    None,
    description="Contract year, e.g. 2019/20 (default: the year containing the as-of date).",
)
PartQuery = Query(
    ...,
    description="entitlements, schedule, arrs, arrs-budget, ledger or reconciliation (a PCN); "
    "entitlements, schedule, ledger or reconciliation (a practice); entitlements, pcn-totals "
    "or schedule (an area).",
)


@router.get("/funding/{code}", include_in_schema=False)
def funding_page(code: str, year: str | None = YearQuery, c: Ctx = Depends(ctx)):
    data = funding.funding_page(c, code, year)
    template = "funding_area.jinja" if data["kind"] == "area" else "funding.jinja"
    return render(c, template, cache=(template, code), **data)


@router.get(
    "/api/funding/{code}",
    tags=["funding"],
    response_model=schemas.FundingPage | schemas.FundingArea,
)
def funding_api(code: str, year: str | None = YearQuery, c: Ctx = Depends(ctx)):
    """Network Contract DES money for a PCN, a practice or an area in a contract year.

    A PCN: entitlements by stream with every line's rule id and version, inputs, formula,
    source, confirmation status and note; the total; the monthly payment schedule; ARRS (the
    budget, and the staff claims and headroom when the workspace holds a staff roster for the
    year); the ledger lines paid up to `on`; and entitlement against the ledger. A practice:
    its own lines, schedule, ledger and reconciliation. An area: each PCN's totals by stream
    and the area's totals. Money is given as decimal strings."""
    return answer(funding.funding_page(c, code, year))


def _download(content: bytes, media: str, name: str) -> Response:
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/funding/{code}/download.csv",
    tags=["funding"],
    response_class=Response,
    responses=schemas.CSV,
)
def funding_csv(
    code: str, part: str = PartQuery, year: str | None = YearQuery, c: Ctx = Depends(ctx)
):
    """One funding table as CSV (money as exact decimals)."""
    return _download(*funding.download(c, code, year, part))


@router.get(
    "/funding/{code}/download.xlsx",
    tags=["funding"],
    response_class=Response,
    responses=schemas.XLSX,
)
def funding_xlsx(code: str, year: str | None = YearQuery, c: Ctx = Depends(ctx)):
    """Every funding table of the page as one Excel workbook, a sheet per table."""
    return _download(*funding.download(c, code, year, None))

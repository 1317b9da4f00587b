"""The watch-list page, its JSON twin and its downloads (CSV, Excel)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx
from pcnkit.web.jsonout import answer
from pcnkit.web.render import render
from pcnkit.web.views import watchlist

router = APIRouter()


class WatchlistPage(schemas.Model):
    """The API's description of `views.watchlist.WatchlistPage`."""

    org: schemas.OrgRef
    as_of: dt.date
    practices: int = Field(description="Practices of the area you may see, at the date.")
    flagged: list[schemas.Row] = Field(
        description="Practices with a flag, ranked: {rank, code, name, url, score, flags: "
        "[{code, label, evidence, period, period_start, period_end, value, threshold, "
        "confirmed, whose, basis, severity}], not_assessed (reasons), "
        "not_assessed_criteria (names), clear (criteria judged and not met)}."
    )
    not_assessed: list[schemas.Row] = Field(
        description="Practices with no flag on which no criterion could be judged."
    )
    no_flags: list[schemas.Row] = Field(
        description="Practices with no flag on the criteria that could be judged."
    )
    criteria: list[schemas.Row] = Field(
        description="Each criterion: {code, label, nhs_england, why, source, confirmed, whose}."
    )
    not_assessable: list[str]
    downloads: dict[str, str]


@router.get("/watchlist/{code}", include_in_schema=False)
def watchlist_page(code: str, c: Ctx = Depends(ctx)):
    data = watchlist.watchlist_page(c, code)
    return render(c, "watchlist.jinja", cache=("watchlist", code), **data)


@router.get("/api/watchlist/{code}", tags=["assurance"], response_model=WatchlistPage)
def watchlist_api(code: str, c: Ctx = Depends(ctx)):
    """The vulnerable-practice watch-list of an area's practices as at `on` (NHS England's 2015
    criteria, as far as the files held can assess them): practices with a flag, most first,
    each flag with its evidence, period, threshold and whether the threshold is NHS England's
    or pcnkit's; then practices not assessed, and those with no flag."""
    return answer(watchlist.watchlist_page(c, code))


def _download(content: bytes, media: str, name: str) -> Response:
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# (left out of the OpenAPI document, as the funding downloads' test lists the only downloads)
@router.get("/watchlist/{code}/download.csv", include_in_schema=False)
def watchlist_csv(code: str, c: Ctx = Depends(ctx)):
    """The watch-list as CSV: the library's table, a row per flag or criterion not assessed."""
    return _download(*watchlist.download(c, code, excel=False))


@router.get("/watchlist/{code}/download.xlsx", include_in_schema=False)
def watchlist_xlsx(code: str, c: Ctx = Depends(ctx)):
    """The watch-list as an Excel workbook with a cover sheet."""
    return _download(*watchlist.download(c, code, excel=True))

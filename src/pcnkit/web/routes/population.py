"""Population health pages and API: the population pack (aggregates, for anyone in scope) and
the patient-level lists (PCN and practice users only; every view and download audited)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx
from pcnkit.web.jsonout import answer
from pcnkit.web.render import render
from pcnkit.web.views import population

router = APIRouter()

PageQuery = Query(1, ge=1, description="Page of the list, 100 rows a page (from 1).")


def list_view(
    practice: str | None = Query(None, description="Only this practice's people (its code)."),
    reason: str | None = Query(
        None, description="Only people meeting this criterion or rising-risk rule (its id)."
    ),
    sort: str | None = Query(
        None, description="Sort by this column (e.g. age, predicted_risk, practice)."
    ),
    order: str | None = Query(None, description="asc (default) or desc."),
) -> population.ListView:
    """How to show a list: filtered by practice and reason, sorted by a column."""
    return population.ListView(practice or None, reason or None, sort or None, order or None)


ViewQuery = Depends(list_view)


@router.get("/population/{code}", include_in_schema=False)
def pack_page(code: str, c: Ctx = Depends(ctx)):
    data = population.pack_page(c, code)
    template = "population.jinja" if data["available"] else "population_missing.jinja"
    return render(c, template, cache=(template, code), **data)


@router.get(
    "/api/population/{code}",
    tags=["population"],
    response_model=schemas.Pack | schemas.NoPack,
)
def pack_api(code: str, c: Ctx = Depends(ctx)):
    """The population health pack for any organisation you may open, as at the population's
    extract date (`data_as_of`; `date_note` says so when `on` differs): its practices'
    age/sex pyramid, prevalence, long-term conditions, deprivation, care settings, tier sizes,
    frailty, the rising-risk cohort and case-finding list sizes, with definitions and sources.
    Aggregates only, every count through disclosure control (1-7 `[REDACTED]`, others rounded
    to 5). `available` is false (with the commands to run) when no population is loaded."""
    return answer(population.pack_page(c, code))


# The CSV routes come before the page routes: `{list_id}` would otherwise match "smr.csv".
@router.get("/population/{code}/lists/{list_id}.csv", include_in_schema=False)
def list_csv_page(code: str, list_id: str, view=ViewQuery, c: Ctx = Depends(ctx)):
    return _csv(c, code, list_id, view)


@router.get(
    "/api/population/{code}/lists/{list_id}.csv",
    tags=["population"],
    response_class=Response,
    responses=schemas.CSV,
)
def list_csv_api(code: str, list_id: str, view=ViewQuery, c: Ctx = Depends(ctx)):
    """A whole patient-level list as CSV (attachment) for a PCN or practice whose lists you may
    see (direct care), as at the population's extract date; `practice`, `reason`, `sort` and
    `order` narrow and order it as on the page. Each download is written to the audit log."""
    return _csv(c, code, list_id, view)


def _csv(c: Ctx, code: str, list_id: str, view: population.ListView) -> Response:
    content, filename = population.list_csv(c, code, list_id, view)
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/population/{code}/lists/{list_id}", include_in_schema=False)
def list_page(
    code: str, list_id: str, page: int = PageQuery, view=ViewQuery, c: Ctx = Depends(ctx)
):
    data = population.list_page(c, code, list_id, page, view)
    return render(c, "population_list.jinja", **data)


@router.get(
    "/api/population/{code}/lists/{list_id}",
    tags=["population"],
    response_model=schemas.ListPage,
)
def list_api(code: str, list_id: str, page: int = PageQuery, view=ViewQuery, c: Ctx = Depends(ctx)):
    """One page (100 rows) of a patient-level list for a PCN or practice whose lists you may
    see: a case-finding list (smr, ehch, proactive_care, cvd_hypertension, cancer_lgi_no_fit) or
    `rising_risk` (the rising-risk cohort). Each row carries the patient's pseudonym, practice
    and why they are on the list. Patients, scope and practices are as at the population's
    extract date (`data_as_of`), whatever `on` says. `practice` and `reason` filter, `sort` and
    `order` sort (server-side, over the whole list). Commissioners get 403 (aggregates only);
    an unknown list 404. Each view is written to the audit log."""
    return answer(population.list_page(c, code, list_id, page, view))

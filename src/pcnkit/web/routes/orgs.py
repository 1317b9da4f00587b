"""Home, find an organisation, and organisation pages (with their JSON twins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx
from pcnkit.web.jsonout import answer
from pcnkit.web.render import render
from pcnkit.web.views import assurance, orgs, watchlist

router = APIRouter()


@router.get("/", include_in_schema=False)
def home_page(c: Ctx = Depends(ctx)):
    # every home leads with what needs attention in the user's organisation
    return render(
        c,
        "home.jinja",
        **orgs.home(c),
        attention=assurance.home_attention(c),
        watch=watchlist.home_summary(c),
    )


@router.get("/api/me", tags=["organisations"], response_model=schemas.Home)
def home_api(c: Ctx = Depends(ctx)):
    """The signed-in user, their role and scope."""
    return answer(orgs.home(c))


@router.get("/find", include_in_schema=False)
def find_page(q: str = "", c: Ctx = Depends(ctx)):
    return render(c, "find.jinja", **orgs.search(c, q))


@router.get("/api/find", tags=["organisations"], response_model=schemas.Search)
def find_api(q: str = "", c: Ctx = Depends(ctx)):
    """Organisations whose name or code contains `q`, among those you may open."""
    return answer(orgs.search(c, q))


@router.get("/org/{code}", include_in_schema=False)
def org_page(code: str, c: Ctx = Depends(ctx)):
    return render(c, "org.jinja", cache=("org", code), **orgs.org_page(c, code))


@router.get("/api/org/{code}", tags=["organisations"], response_model=schemas.OrgPage)
def org_api(code: str, c: Ctx = Depends(ctx)):
    """An organisation as at `on`: hierarchy up and down, members over time, list sizes with
    their sources, configuration findings and practice coordinates."""
    return answer(orgs.org_page(c, code))


@router.get("/api/docs", include_in_schema=False)
def api_docs_page(c: Ctx = Depends(ctx)):
    """The JSON API, described from its OpenAPI document (no Swagger UI: it needs a CDN)."""
    spec = c.request.app.openapi()
    endpoints = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            endpoints.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "tag": (op.get("tags") or ["other"])[0],
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        (p["name"], p["in"], p.get("required", False))
                        for p in op.get("parameters", [])
                    ],
                }
            )
    return render(c, "api_docs.jinja", spec=spec, endpoints=endpoints)

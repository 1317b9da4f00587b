"""Jinja on the NHS.UK design system's macros (nhsuk-frontend-jinja), and the shared formatting
filters, so that every page writes money, counts and dates the same way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader

from pcnkit.funding.money import money
from pcnkit.registry.checks import long_date
from pcnkit.web.tables import data_table, list_rows
from pcnkit.web.wording import role_words

TEMPLATES = Path(__file__).parent / "templates"


def _count(value: object) -> str:
    """Whole numbers with thousands separators; a suppressed count stays as its marker."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{int(value):,}" if value == value.to_integral() else f"{value:,}"
    return str(value)


def _date(value: object) -> str:
    if isinstance(value, dt.date):
        return long_date(value)
    return "–" if value is None else str(value)


def _money(value: object) -> str:
    return "–" if value is None else money(Decimal(str(value)))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One environment per process, so each template is compiled once."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), PackageLoader("nhsuk_frontend_jinja")]),
        undefined=ChainableUndefined,
        autoescape=True,
        extensions=["jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(count=_count, date=_date, money=_money, role=role_words)
    env.globals["render_table"] = partial(data_table, fmt=_count)
    env.globals["list_rows"] = partial(list_rows, count=_count, date=_date)
    return env


# Stand-ins for the per-request nonce and the session's CSRF token in cached pages.
NONCE, CSRF = "pcnkit-nonce-0f3a9c", "pcnkit-csrf-0f3a9c"


def render(
    ctx_or_request,
    template: str,
    status_code: int = 200,
    cache: tuple | None = None,
    **data: object,
) -> HTMLResponse:
    """Render a page. `ctx_or_request` is a signed-in `Ctx` or, for public pages, a Request.

    `cache` names pages whose HTML depends only on their data (memoised by version), the user
    and the address: such a page is rendered once with stand-ins for the nonce and the CSRF
    token, which are put in on every request (never for patient-level pages)."""
    from pcnkit.web.context import Ctx, web

    if isinstance(ctx_or_request, Ctx):
        ctx, request = ctx_or_request, ctx_or_request.request
        common = {"ctx": ctx, "user": ctx.user, "as_of": ctx.as_of, "csrf": ctx.csrf}
    else:
        ctx, request = None, ctx_or_request
        common = {"ctx": None, "user": None, "as_of": None, "csrf": data.pop("csrf", "")}
    nonce = getattr(request.state, "nonce", "")
    common["nonce"] = nonce
    common["path"] = request.url.path
    env = web(request).templates
    if cache is None or ctx is None:
        html = env.get_template(template).render({**data, **common})
        return HTMLResponse(html, status_code=status_code)

    def make() -> str:
        stand_ins = {**common, "nonce": NONCE, "csrf": CSRF}
        return env.get_template(template).render({**data, **stand_ins})

    key = ("html", template, *cache, ctx.user.username, str(request.url.path), request.url.query)
    html = ctx.memo(key, make)
    return HTMLResponse(html.replace(NONCE, nonce).replace(CSRF, ctx.csrf), status_code=status_code)

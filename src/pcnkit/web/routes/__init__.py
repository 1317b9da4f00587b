"""Routers: each page has a JSON twin under /api built from the same view function. Every route
takes a database slot first (pcnkit.web.limits), so sign-in and pages queue together for the
pool's connections rather than failing when many arrive at once."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from pcnkit.web.context import db_slot


def register(app: FastAPI) -> None:
    from pcnkit.web.routes import (
        actuals,
        assurance,
        auth,
        funding,
        help,
        orgs,
        packs,
        population,
        watchlist,
    )

    for module in (auth, orgs, actuals, funding, population, assurance, watchlist, packs, help):
        app.include_router(module.router, dependencies=[Depends(db_slot)])

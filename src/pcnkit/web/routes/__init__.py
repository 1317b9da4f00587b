"""Routers: each page has a JSON twin under /api built from the same view function."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from pcnkit.web.routes import auth, funding, help, orgs, population

    for module in (auth, orgs, funding, population, help):
        app.include_router(module.router)

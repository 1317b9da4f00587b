"""Routers: each page has a JSON twin under /api built from the same view function."""

from __future__ import annotations

from fastapi import FastAPI


def register(app: FastAPI) -> None:
    from pcnkit.web.routes import auth, funding, orgs, population

    for module in (auth, orgs, funding, population):
        app.include_router(module.router)

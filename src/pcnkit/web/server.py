"""Serving the application with uvicorn (the CLI's `serve` and `demo` call this)."""

from __future__ import annotations

import datetime as dt

import uvicorn

from pcnkit.store import Workspace
from pcnkit.web.app import create_app

HOST, PORT = "127.0.0.1", 8000


def serve(ws: Workspace, as_of: dt.date | None, host: str = HOST, port: int = PORT) -> None:
    """Serve until interrupted. Binds to loopback unless told otherwise: put it behind an
    HTTPS reverse proxy (and `--https`) before anyone else can reach it."""
    app = create_app(ws, default_as_of=as_of, https=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)

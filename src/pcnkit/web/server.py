"""Serving the application with uvicorn (the CLI's `serve` and `demo` call this).

Python runs one request at a time per process, so the server starts one worker process per CPU
(two on these machines); each worker opens the same workspace, passed to it in environment
variables because uvicorn imports the app afresh in every worker.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from pcnkit.store import Workspace, open_workspace
from pcnkit.web.app import create_app
from pcnkit.web.security import EXTERNAL_URL
from pcnkit.web.views.assurance import warm

HOST, PORT = "127.0.0.1", 8000
# Seconds an idle keep-alive connection stays open. uvicorn's default (5 s) is shorter than the
# pause between a person's clicks, and a request sent just as the server closes the connection
# is reset ("connection reset by peer"); 65 s outlasts the usual 60 s of reverse proxies, so the
# proxy, not the server, closes idle connections.
KEEP_ALIVE = 65
# Seconds a worker may take to answer the supervisor's health check before it is killed as hung
# (uvicorn's default is 5). The answer comes from a thread that needs the interpreter lock, so a
# busy worker - fifty people signing in at once, each an Argon2 hash on a shared machine - missed
# it, was killed and dropped every connection it held ("server disconnected", "connection reset
# by peer"), silently at the default log level. A worker that is really hung is still replaced.
HEALTH_CHECK = 60
_FOLDER, _URL, _AS_OF = "PCNKIT_SERVE_FOLDER", "PCNKIT_SERVE_URL", "PCNKIT_SERVE_AS_OF"


def app_from_environment():
    """The app for one worker process (uvicorn's factory)."""
    as_of = os.environ.get(_AS_OF)
    ws = open_workspace(os.environ[_FOLDER], url=os.environ[_URL])
    app = create_app(ws, default_as_of=dt.date.fromisoformat(as_of) if as_of else None)
    warm(app.state, ws)  # each worker reads the assurance figures as it starts
    return app


def serve(
    ws: Workspace,
    as_of: dt.date | None,
    host: str = HOST,
    port: int = PORT,
    workers: int | None = None,
    external_url: str | None = None,
    forwarded_allow_ips: str | None = None,
) -> None:
    """Serve until interrupted. Binds to loopback unless told otherwise: put it behind an
    HTTPS reverse proxy before anyone else can reach it, and say where users reach it with
    `external_url` (PCNKIT_EXTERNAL_URL), so that cookies are Secure and origins are checked
    against that address. `forwarded_allow_ips`: the proxies whose X-Forwarded-Proto and
    X-Forwarded-For uvicorn believes (default: only 127.0.0.1)."""
    if external_url:
        os.environ[EXTERNAL_URL] = external_url
    create_app(ws, default_as_of=as_of)  # fail here, clearly, if the assets are missing
    os.environ[_FOLDER] = str(ws.path)
    os.environ[_URL] = ws.url
    if as_of:
        os.environ[_AS_OF] = as_of.isoformat()
    run(
        "pcnkit.web.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers or os.cpu_count() or 1,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE,
        timeout_worker_healthcheck=HEALTH_CHECK,
    )


class NoDelayConfig(uvicorn.Config):
    """uvicorn's configuration, with Nagle's algorithm off on the listening socket.

    With more than one worker uvicorn binds the shared socket itself, without naming the
    protocol, so asyncio does not turn Nagle's algorithm off on the connections it accepts
    (it does so only for sockets that say they are TCP). A response is written in two parts
    (headers, then body), and the second waited for the client's delayed acknowledgement of
    the first: about 40 ms on every page of a multi-worker server. Accepted connections
    inherit the option from the listening socket (Linux)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def run(app: str, app_dir: str | None = None, **options: object) -> None:
    """`uvicorn.run` with `NoDelayConfig` (`app` as an import string, so that each worker
    imports it afresh; `app_dir` is put first on the import path, as uvicorn's --app-dir)."""
    if app_dir is not None:
        sys.path.insert(0, app_dir)
    config = NoDelayConfig(app, **options)
    server = uvicorn.Server(config=config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not server.started:
        sys.exit(STARTUP_FAILURE)

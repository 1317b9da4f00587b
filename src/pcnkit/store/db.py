"""Workspaces: a folder holding the database (SQLite by default), migrated to head on open."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from pcnkit.store.layout import Layout

DEFAULT_WORKSPACE = "pcnkit-workspace"
MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Workspace:
    path: Path
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def layout(self) -> Layout:
        """Where this workspace keeps its files (population store, ARRS rosters, ...)."""
        return Layout(self.path)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One atomic unit of work: commits on success, rolls everything back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def workspace_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: the one given, else PCNKIT_HOME, else ./pcnkit-workspace."""
    return Path(path or os.environ.get("PCNKIT_HOME") or DEFAULT_WORKSPACE)


def workspace_layout(path: str | os.PathLike[str] | None = None) -> Layout:
    """The layout of a workspace folder without opening its database."""
    return Layout(workspace_path(path))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# Connections per process. The web app lets as many requests as POOL_SIZE hold one at a time
# (pcnkit.web.limits) and queues the rest; the overflow serves the few that open a second one
# (sign-in, an audit record written in its own transaction, an error page), and nobody waits
# for a connection longer than POOL_TIMEOUT seconds (the web answers 503, never hangs).
POOL_SIZE = 10
MAX_OVERFLOW = 10
POOL_TIMEOUT = 5.0


def make_engine(
    url: str,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    pool_timeout: float = POOL_TIMEOUT,
) -> Engine:
    pooled = ":memory:" not in url and "mode=memory" not in url
    options = (
        {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
        if pooled
        else {}
    )
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_workspace(path: str | os.PathLike[str] | None = None, url: str | None = None) -> Workspace:
    """Open (creating if needed) a workspace; PCNKIT_DATABASE_URL points it at PostgreSQL."""
    folder = workspace_path(path)
    folder.mkdir(parents=True, exist_ok=True)
    url = url or os.environ.get("PCNKIT_DATABASE_URL") or Layout(folder).sqlite_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = make_engine(url)
    migrate(engine)
    return Workspace(folder, url, engine, sessionmaker(engine, expire_on_commit=False))

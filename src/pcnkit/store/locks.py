"""Serialising writers. A writer that reads what is stored and writes on the strength of it (a
payment run reads what has been paid) must hold the write lock from BEFORE its first read, or two
of them read the same state and both write. SQLite: `BEGIN IMMEDIATE` takes the database's write
lock at once (a plain transaction only takes it at the first write). PostgreSQL: a
transaction-level advisory lock per name, released at commit or rollback."""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pcnkit.errors import PcnkitError

WAIT_SECONDS = 120


class BusyError(PcnkitError):
    """Another writer held the lock for longer than we wait."""


def write_lock(session: Session, name: str, what: str, wait_seconds: int | None = None) -> None:
    """Hold `name`'s write lock until the session's transaction ends, waiting up to
    `wait_seconds` (default WAIT_SECONDS) for another holder, then BusyError naming `what`."""
    wait_seconds = WAIT_SECONDS if wait_seconds is None else wait_seconds
    connection = session.connection()
    try:
        if connection.dialect.name == "sqlite":
            raw = connection.connection.driver_connection
            # The sqlite3 module opens a transaction only at the first write, so one that is
            # open here has written already and so holds the write lock.
            if not raw.in_transaction:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_seconds * 1000}")
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{wait_seconds}s'")
            key = zlib.crc32(f"pcnkit:{name}".encode()) - 2**31
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    except OperationalError as exc:
        raise BusyError(
            f"{what} is waiting for another {what} still writing to the same workspace "
            f"(waited {wait_seconds} s); nothing was written. Try again when it has finished."
        ) from exc

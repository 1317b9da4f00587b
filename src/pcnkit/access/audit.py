"""The audit log: every view or download of a patient-level list, and sign-ins.

The table is append-only in the database (migration 0004), and the web application has no
route that writes anything else to it. An event names the list and organisation, never a
patient.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pcnkit.store.models import AuditEvent

VIEW_LIST = "view patient list"
DOWNLOAD_LIST = "download patient list"
LIST_REFUSED = "patient list refused"
SIGN_IN = "sign in"
SIGN_IN_REFUSED = "sign in refused"
SIGN_OUT = "sign out"


def record(
    session: Session, username: str, action: str, subject: str, now: dt.datetime, detail: str = ""
) -> None:
    session.add(
        AuditEvent(at=now, username=username, action=action, subject=subject, detail=detail)
    )


def events(session: Session, limit: int = 200, username: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if username:
        query = query.where(AuditEvent.username == username)
    return list(session.scalars(query))

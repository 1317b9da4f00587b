"""The span of dates the registry has data for: the earliest dated membership or list size,
and the latest extract or list size loaded. Pages offer dates in this span and say so when a
date after it is asked for (the registry knows nothing later, so it shows the last known
position), rather than silently showing old data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pcnkit.store.models import ListSize, Membership, SourceFile


@dataclass(frozen=True)
class DataDates:
    earliest: dt.date | None
    latest: dt.date | None

    def before(self, day: dt.date) -> bool:
        """True when `day` is earlier than any data."""
        return self.earliest is not None and day < self.earliest

    def after(self, day: dt.date) -> bool:
        """True when `day` is later than the latest data."""
        return self.latest is not None and day > self.latest


def data_dates(session: Session) -> DataDates:
    row = session.execute(
        select(
            select(func.min(Membership.start)).scalar_subquery(),
            select(func.min(ListSize.as_of)).scalar_subquery(),
            select(func.min(SourceFile.extract_date)).scalar_subquery(),
            select(func.max(SourceFile.extract_date)).scalar_subquery(),
            select(func.max(ListSize.as_of)).scalar_subquery(),
        )
    ).one()
    firsts = [d for d in row[:3] if d is not None]
    lasts = [d for d in row[3:] if d is not None]
    return DataDates(min(firsts) if firsts else None, max(lasts) if lasts else None)

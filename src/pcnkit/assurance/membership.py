"""Who belongs to whom on each date, for the whole registry at once (for indicator sums).

A PCN's value in March 2025 sums its members in March 2025: for each date asked, every
organisation's ancestors (its PCN, federation, place, sub-ICB location, ICB, groupings, by any
path) from the registry's resolved membership timeline, as one table. A PCN-level figure (the PCN
workforce census) rolls up through the areas its member practices are in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from pcnkit.registry import kinds
from pcnkit.store.models import Membership, Organisation

DEPTH = 6  # practice -> PCN / sub-ICB -> place -> ICB -> region -> nation, with room to spare


class Tree:
    """The membership timeline, loaded once; `ancestors(dates)` answers for many dates."""

    def __init__(self, session: Session) -> None:
        child, parent = aliased(Organisation), aliased(Organisation)
        rows = session.execute(
            select(
                child.code, child.kind, parent.code, parent.kind, Membership.start, Membership.end
            )
            .join(child, child.id == Membership.child_id)
            .join(parent, parent.id == Membership.parent_id)
        ).all()
        self.edges = pd.DataFrame(
            rows, columns=["child", "child_kind", "parent", "parent_kind", "start", "end"]
        )
        self.edges["start"] = pd.to_datetime(self.edges["start"])
        self.edges["end"] = pd.to_datetime(self.edges["end"])
        orgs = session.execute(select(Organisation.code, Organisation.kind)).all()
        self.kind_of = dict(orgs)

    def ancestors(self, dates: Iterable[dt.date | pd.Timestamp]) -> pd.DataFrame:
        """Columns date, org, ancestor, ancestor_kind: each organisation with itself and every
        ancestor on each date (an organisation without parents has only itself)."""
        out = []
        for day in sorted({pd.Timestamp(d) for d in dates}):
            e = self.edges
            valid = e[
                (e["start"].isna() | (e["start"] <= day)) & (e["end"].isna() | (e["end"] >= day))
            ]
            links = valid[["child", "parent", "parent_kind"]].drop_duplicates()
            found = [links.rename(columns={"child": "org", "parent": "ancestor"})]
            frontier = found[0]
            for _ in range(DEPTH):
                step = frontier.merge(
                    links, left_on="ancestor", right_on="child", suffixes=("", "_up")
                )
                if step.empty:
                    break
                frontier = step[["org", "parent", "parent_kind_up"]].rename(
                    columns={"parent": "ancestor", "parent_kind_up": "parent_kind"}
                )
                found.append(frontier)
            pairs = pd.concat(found, ignore_index=True).rename(
                columns={"parent_kind": "ancestor_kind"}
            )
            selves = pd.DataFrame({"org": list(self.kind_of)})
            selves["ancestor"] = selves["org"]
            selves["ancestor_kind"] = selves["org"].map(self.kind_of)
            pairs = pd.concat([selves, pairs], ignore_index=True).drop_duplicates(
                ["org", "ancestor"]
            )
            pairs["org_kind"] = pairs["org"].map(self.kind_of)
            pairs["date"] = day
            out.append(pairs)
        if not out:
            return pd.DataFrame(columns=["date", "org", "org_kind", "ancestor", "ancestor_kind"])
        return pd.concat(out, ignore_index=True)


def pcn_rollup(pairs: pd.DataFrame) -> pd.DataFrame:
    """For PCN-level figures: each PCN with itself and the areas containing it on each date.
    An area contains a PCN when all the PCN's member practices are in the area then (the
    registry's one containment rule), so a PCN straddling two places counts in neither."""
    members = pairs[(pairs["ancestor_kind"] == kinds.PCN) & (pairs["org"] != pairs["ancestor"])]
    up = members[["date", "org", "ancestor"]].rename(columns={"org": "practice", "ancestor": "pcn"})
    size = up.groupby(["date", "pcn"])["practice"].nunique().rename("size")
    rolled = up.merge(pairs.rename(columns={"org": "practice"}), on=["date", "practice"])
    rolled = rolled[
        rolled["ancestor_kind"].ne(kinds.PCN) & rolled["ancestor_kind"].ne(kinds.PRACTICE)
    ]
    held = rolled.groupby(["date", "pcn", "ancestor", "ancestor_kind"])["practice"].nunique()
    held = held.rename("held").reset_index().merge(size.reset_index(), on=["date", "pcn"])
    rolled = held[held["held"] == held["size"]]
    rolled = rolled[["date", "pcn", "ancestor", "ancestor_kind"]].rename(columns={"pcn": "org"})
    rolled["org_kind"] = kinds.PCN
    selves = pairs[pairs["ancestor_kind"].eq(kinds.PCN) & (pairs["org"] == pairs["ancestor"])]
    return pd.concat([selves, rolled], ignore_index=True).drop_duplicates(
        ["date", "org", "ancestor"]
    )

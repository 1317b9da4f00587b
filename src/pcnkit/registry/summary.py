"""An area at a glance: its kind, its places / PCNs and their lists, as at a date. Registered
lists are whole patients from counting sources (`queries.patients_at`), as on every page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from pcnkit.registry import kinds
from pcnkit.registry.queries import AreaList, Hierarchy, is_open

# A place or grouping lists its PCNs and sub-areas; its commissioners are shown only when it has
# nothing more local.
LOCAL_KINDS = (kinds.GROUPING, kinds.PLACE, kinds.FEDERATION, kinds.PCN)


@dataclass
class Node:
    code: str
    name: str
    kind_label: str
    practices: int
    registered: AreaList
    weighted: AreaList
    children: list[Node] = field(default_factory=list)


def _node(h: Hierarchy, org, depth: int) -> Node:
    if org.kind == kinds.PCN:
        practices = [p for p in h.members(org, kinds.PRACTICE) if is_open(p, h.as_of)]
    else:
        practices = [p for p in h.descendants(org, kinds.PRACTICE) if is_open(p, h.as_of)]
    node = Node(
        org.code,
        h.name(org),
        kinds.KINDS[org.kind].label_at(h.as_of),
        len(practices),
        h.area_patients(practices),
        h.area_list(practices, "weighted"),
    )
    if depth > 0 and org.kind not in (kinds.PCN, kinds.PRACTICE):
        members = [c for c in h.members(org) if c.kind != kinds.PRACTICE and is_open(c, h.as_of)]
        children = [c for c in members if c.kind in LOCAL_KINDS] or members or h.pcns_in(org)
        node.children = [_node(h, c, depth - 1) for c in children]
    return node


def area_summary(session: Session, code: str, as_of: dt.date, depth: int = 3) -> Node:
    h = Hierarchy.at(session, as_of)
    return _node(h, h.get(code), depth)

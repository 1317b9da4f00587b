"""One place for the access rule: which organisations, and which patients, a user may see.

- commissioner: its ICS / place / federation and everything below it, as aggregates only;
- pcn: its PCN and the PCN's member practices, with their patient lists;
- practice: its own practice, with its own patient list.

Reach is worked out from the membership as at the date being viewed, so a PCN user sees the
practices that were its members on that date.
"""

from __future__ import annotations

from pcnkit.access.users import COMMISSIONER, UserView
from pcnkit.errors import PcnkitError
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy
from pcnkit.store.models import Organisation


class Forbidden(PcnkitError):
    """The organisation or list is outside the user's scope (HTTP 403)."""


def reach(h: Hierarchy, user: UserView) -> set[str]:
    """Codes of every organisation the user may open, as at the hierarchy's date."""
    scope = h.by_code.get(user.scope_code)
    if scope is None:
        return set()
    codes = {scope.code}
    seen, stack = {scope.id}, [scope.id]
    while stack:
        for child in h.children.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                codes.add(h.orgs[child].code)
                stack.append(child)
    if scope.kind not in (kinds.PCN, kinds.PRACTICE):
        codes.update(p.code for p in h.pcns_in(scope))
    return codes


def require_org(h: Hierarchy, user: UserView, code: str) -> Organisation:
    """The organisation, or Forbidden when it is outside the user's reach."""
    org = h.get(code)
    if org.code not in reach(h, user):
        raise Forbidden(f"{org.code} is outside your scope ({user.scope_code}).")
    return org


def may_see_patients(h: Hierarchy, user: UserView, org: Organisation) -> bool:
    """Patient-level lists: PCN users for their PCN and its practices, practice users for their
    own practice; commissioners never (they see aggregates)."""
    if user.role == COMMISSIONER or org.kind not in (kinds.PCN, kinds.PRACTICE):
        return False
    return org.code in reach(h, user)


def require_patients(h: Hierarchy, user: UserView, code: str) -> Organisation:
    org = require_org(h, user, code)
    if not may_see_patients(h, user, org):
        raise Forbidden(f"Your role does not allow patient-level lists for {org.code}.")
    return org

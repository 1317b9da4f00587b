"""One place for the access rule: which organisations, and which patients, a user may see.

- commissioner: its ICS / place / federation and everything below it, as aggregates only;
- pcn: its PCN and the PCN's member practices, with their patient lists;
- practice: its own practice, with its own patient list.

Reach is worked out from the membership as at the date being viewed, so a PCN user sees the
practices that were its members on that date. The registry is a graph, not a tree (a place holds
PCNs, an ICB holds sub-ICB locations, and no file links the two), so a commissioner also reaches
every place, federation, grouping or sub-ICB location whose practices all lie within its reach.
"""

from __future__ import annotations

from pcnkit.access.users import COMMISSIONER, UserView
from pcnkit.errors import PcnkitError
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy
from pcnkit.store.models import Organisation

# Areas a commissioner reaches when all their practices are within its scope (never a region
# or nation: those stand above ICBs whatever the demo's practices are).
CONTAINED = (kinds.PLACE, kinds.FEDERATION, kinds.GROUPING, kinds.SUB_ICB)


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
        for org in h.orgs.values():
            if org.kind in CONTAINED and org.code not in codes:
                practices = h.descendants(org, kinds.PRACTICE)
                if practices and all(p.code in codes for p in practices):
                    codes.add(org.code)
    return codes


def require_org(h: Hierarchy, user: UserView, code: str) -> Organisation:
    """The organisation, or Forbidden when it is outside the user's reach."""
    org = h.get(code)
    if org.code not in reach(h, user):
        scope = h.by_code.get(user.scope_code)
        mine = f"{h.name(scope)} ({scope.code})" if scope is not None else user.scope_code
        when = f"{h.as_of.day} {h.as_of:%B %Y}"
        raise Forbidden(
            f"{h.name(org)} ({org.code}) is outside your scope on {when}: you may open "
            f"{mine} and the organisations that belonged to it on that date. Membership "
            "changes over time, so another date may differ."
        )
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

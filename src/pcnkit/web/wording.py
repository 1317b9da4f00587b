"""The web's words for the values the library names (pcnkit.errors.BadValue's `field`, request
parameters): users see "Contract year", never a command-line option or a parameter's key."""

from __future__ import annotations

from pcnkit.errors import BadValue

FIELD_WORDS = {
    "year": "Contract year",
    "on": "Date",
    "page": "Page number",
    "part": "Table",
    "q": "Search text",
    "month": "Payment month",
}


def worded(exc: BadValue) -> str:
    label = FIELD_WORDS.get(exc.field, exc.field.replace("_", " ").capitalize())
    return f"{label}: {exc.problem}. {exc.action}"


ROLE_WORDS = {"commissioner": "commissioner", "pcn": "PCN", "practice": "practice"}


def role_words(role: str) -> str:
    """A user's role as people say it ("PCN user", not "pcn user")."""
    return ROLE_WORDS.get(role, role)

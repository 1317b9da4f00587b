"""How a patient-level list is shown: its columns with plain headings, the reasons a person can
be on it, and the same filtering (by practice, by reason) and sorting (by any shown column) for
the page, its JSON twin and the CSV download.

A list arrives whole from the stratification results (:func:`pcnkit.population.stratify.
list_for` / :func:`~pcnkit.population.stratify.cohort_for`) in the library's order (practice,
then predicted risk or cohort rank). :func:`arrange` narrows and re-orders it; it never adds a
person the scope did not already hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pcnkit.errors import PcnkitError
from pcnkit.population import casefinding, segments

RISING_RISK = "rising_risk"
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Column:
    """A column of the list as shown: its key in the rows, its heading, and whether it is a
    number (right-aligned)."""

    key: str
    heading: str
    numeric: bool = False


@dataclass(frozen=True)
class Reason:
    """A criterion (or rising-risk rule) that can put a person on a list."""

    id: str
    label: str


COMMON = (
    Column("pseudonym", "Pseudonym"),
    Column("practice", "Practice"),
    Column("age", "Age", True),
    Column("sex", "Sex"),
    Column("predicted_risk", "Risk of emergency admission, next 12 months", True),
)
DETAIL = {
    "medicine_groups_12m": Column("medicine_groups_12m", "Medicine groups in 12 months", True),
    "efi_approx_category": Column("efi_approx_category", "Frailty (approximate eFI)"),
    "efi_approx_deficits": Column("efi_approx_deficits", "Frailty deficits (of 36)", True),
    "housebound": Column("housebound", "Housebound"),
    "care_home_since": Column("care_home_since", "In the care home since"),
    "latest_sbp": Column("latest_sbp", "Latest systolic blood pressure (mmHg)", True),
    "latest_dbp": Column("latest_dbp", "Latest diastolic blood pressure (mmHg)", True),
    "latest_bp_date": Column("latest_bp_date", "Date of the latest blood pressure"),
    "lgi_referrals_12m": Column(
        "lgi_referrals_12m", "Lower-GI urgent referrals in 12 months", True
    ),
    "lgi_referrals_without_fit_12m": Column(
        "lgi_referrals_without_fit_12m", "Of which without a FIT", True
    ),
}
WHY_COHORT = Column("rising_risk_reasons", "Why (rising-risk rules that hold)")
WHY_LIST = Column("criteria_met", "Why (criteria met)")
RANK = Column("cohort_rank", "Rank in practice", True)


def columns(list_id: str) -> list[Column]:
    """The columns shown for a list, the reason first after the person."""
    if list_id == RISING_RISK:
        return [*COMMON[:4], RANK, COMMON[4], WHY_COHORT]
    definition = casefinding.get(list_id)
    return [*COMMON, WHY_LIST, *(DETAIL[d] for d in definition.detail)]


def reasons(list_id: str) -> list[Reason]:
    """The criteria (or rising-risk rules) a person on the list may meet, in definition order."""
    if list_id == RISING_RISK:
        return [Reason(r.id, r.label) for r in segments.ALL_RULES if r.tier == segments.RISING]
    seen: dict[str, Reason] = {}
    for c in casefinding.get(list_id).criteria:
        seen.setdefault(c.id, Reason(c.id, c.label))
    return list(seen.values())


def _reason_mask(table: pa.Table, list_id: str, reason: str):
    known = {r.id: r for r in reasons(list_id)}
    if reason not in known:
        choices = ", ".join(f"{r.id} ({r.label})" for r in known.values())
        raise PcnkitError(f"'{reason}' is not a reason for this list; choose one of: {choices}.")
    if list_id == RISING_RISK:
        pattern = f"(^|; ){re.escape(known[reason].label)}(;|$)"
        return pc.match_substring_regex(table["rising_risk_reasons"], pattern)
    return pc.match_substring_regex(table["criteria_ids"], f"(^|,){re.escape(reason)}(,|$)")


def arrange(
    table: pa.Table,
    list_id: str,
    *,
    practice: str | None = None,
    reason: str | None = None,
    sort: str | None = None,
    order: str | None = None,
) -> pa.Table:
    """The list's rows of one practice and/or one reason, sorted by a shown column (`order`
    asc or desc; ties keep the library's order, empty values last). Unknown values are
    refused with the valid ones named."""
    if practice:
        code = practice.strip().upper()
        present = set(table["practice"].to_pylist()) if table.num_rows else set()
        if code not in present:
            raise PcnkitError(f"Nobody on this list is registered at practice '{practice}'.")
        table = table.filter(pc.equal(table["practice"], code))
    if reason:
        table = table.filter(pc.fill_null(_reason_mask(table, list_id, reason), False))
    if order and order not in ORDERS:
        raise PcnkitError(f"'order' must be asc or desc, not '{order}'.")
    if sort:
        keys = [c.key for c in columns(list_id)]
        if sort not in keys:
            raise PcnkitError(f"The list cannot be sorted by '{sort}'; choose one of {keys}.")
        direction = "descending" if order == "desc" else "ascending"
        position = pa.array(range(table.num_rows), pa.int64())
        table = (
            table.append_column("__position", position)
            .sort_by([(sort, direction, "at_end"), ("__position", "ascending", "at_end")])
            .drop_columns(["__position"])
        )
    return table

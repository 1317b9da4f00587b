"""The "What the network must provide" block of a PCN's funding page: the service obligations
(extended hours / enhanced access minutes a week) beside the money, from funding.obligations."""

from __future__ import annotations

from typing import Any

from pcnkit.funding import obligations as obl
from pcnkit.funding.rules import STATUSES, YearRules
from pcnkit.funding.sources import public


def obligations_block(session, rules: YearRules, pcn: str) -> list[dict[str, Any]]:
    """One row per obligation in the year for the PCN: minutes a week or why not, the formula,
    the rounding rule and the source, with what is not confirmed."""
    pops_at = obl.load(session, rules, pcn)
    rows = []
    for line in obl.obligation_lines(pops_at, rules, pcns=[pcn]):
        o = line.obligation
        rows.append(
            {
                "name": o.name,
                "months": f"{o.start:%B %Y} to {o.end:%B %Y}",
                "minutes": line.minutes,
                "hours": obl.hours_text(line.minutes) if line.minutes is not None else None,
                "reason": line.population.reason,  # the page says "Cannot be calculated"
                "population": line.population.value,
                "inputs": line.population.inputs,
                "formula": line.formula,
                "worked": line.worked,
                "rounding": obl.ROUNDING_WORDS[o.rounding],
                "rounding_source": public(o.rounding_source),
                "rounding_confirmed": STATUSES[o.rounding_status],
                "hours_rule": o.hours,
                "status": o.status,
                "confirmed": o.confirmed,
                "source": public(o.source),
                "unconfirmed": [public(u.rstrip(".")) for u in line.unconfirmed],
            }
        )
    return rows

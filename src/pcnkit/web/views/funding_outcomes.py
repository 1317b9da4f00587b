"""A PCN funding page's outcome payments, read-only: each scheme the workspace keeps
(funding/outcome-schemes/*.yaml) applied to the PCN at the page's date by
`funding.outcomes.evaluate`, the same figures `pcnkit funding outcomes` prints. A scheme file
that cannot be read is reported on the page, naming the file and the key to fix."""

from __future__ import annotations

from typing import Any

from pcnkit.errors import PcnkitError
from pcnkit.funding import outcomes
from pcnkit.funding.rules import STATUS_WORDS
from pcnkit.web.context import Ctx


def _line(x: outcomes.OutcomeLine) -> dict[str, Any]:
    return {
        "payment": x.payment,
        "payment_name": x.payment_name,
        "practice_code": x.practice_code,
        "practice_name": x.practice_name,
        "payee_code": x.payee_code,
        "payee_name": x.payee_name,
        "amount": x.amount,
        "reason": x.reason,
        "formula": x.formula,
        "targets": [{"short": t.short, "text": t.text, "met": t.met} for t in x.targets],
        "inputs": x.inputs,
        "source": x.source,
        "status": x.status,
        "status_words": STATUS_WORDS[x.status],
        "confirmed": x.confirmed,
        "note": x.note,
    }


def section(c: Ctx, pcn_code: str) -> list[dict[str, Any]]:
    """Each kept scheme's lines for the PCN (its signed-up practices' aspiration payments and
    its collective payment), their total, what is not confirmed and the scheme's budget."""
    out = []
    for path in outcomes.workspace_schemes(c.app.ws.layout.funding):
        shown = f"funding/{outcomes.SCHEMES_FOLDER}/{path.name}"
        entry: dict[str, Any] = {
            "file": shown,
            "name": path.stem,
            "source": None,
            "error": None,
            "total": None,
            "lines": [],
            "unconfirmed": [],
            "budget": None,
            "notes": [],
        }
        try:
            scheme = outcomes.read_scheme(path)
            found = outcomes.evaluate(c.db, scheme, pcn_code, c.as_of)
        except PcnkitError as exc:
            entry["error"] = str(exc).replace(str(path), shown)
            out.append(entry)
            continue
        t = found.total
        entry.update(
            name=scheme.name,
            source=scheme.source,
            total={"amount": t.amount, "complete": t.complete, "gaps": list(t.gaps)},
            lines=[_line(x) for x in found.lines],
            unconfirmed=[
                {"figure": what, "status": status, "status_words": STATUS_WORDS[status]}
                for what, status in found.unconfirmed
            ],
            budget=found.budget_words(),
            notes=found.notes,
        )
        out.append(entry)
    return out

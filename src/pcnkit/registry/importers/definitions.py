"""Local definitions (YAML): places, federations, groupings, extra memberships, clinical
directors, nominated payees and recorded exceptions that no national file holds.

    pcnkit: definitions
    publisher: BHR CCGs primary care team
    as_of: 2019-10-01
    organisations:
      - {code: FED-HAV, kind: federation, name: Havering Health Limited,
         members: [{code: U00367, from: 2019-07-01}]}
    memberships:
      - {child: F82614, parent: U00367, from: 2019-07-01, to: 2020-03-31}
    roles:
      - {pcn: U00367, role: clinical_director, holder: Dr A Example, from: 2019-07-01}
      - {pcn: U00367, role: nominated_payee, payee: F82008, from: 2019-07-01}
    exceptions:
      - {org: U12345, rule: list_size_minimum, reason: rural waiver, from: 2019-07-01}
    mergers:
      - {practice: F82639, into: F82009, date: 2019-07-01, note: list taken on by North Street}
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pcnkit.dates import parse_iso
from pcnkit.errors import InputError
from pcnkit.registry import kinds
from pcnkit.registry.importers.base import (
    Batch,
    ExceptionRecord,
    FactRecord,
    MergerRecord,
    OrgRecord,
    RoleRecord,
)

file_type = "definitions"
description = "pcnkit local definitions"
ROLES = {"clinical_director", "nominated_payee"}
RULES = {"list_size_minimum", "list_size_maximum", "single_practice"}


class _LineLoader(yaml.SafeLoader):
    """Records each mapping's line so errors can point at it."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


# Dates are read as text and parsed per entry, so a bad one (2020-03-32) is reported with its
# line and key; PyYAML's own timestamp constructor raises a bare ValueError for it.
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def sniff(text: str, header: list[str]) -> bool:
    return text.lstrip().startswith("pcnkit: definitions")


class _Entry:
    def __init__(self, file: str, data: object, section: str) -> None:
        if not isinstance(data, dict):
            raise InputError(
                file,
                f"an entry of '{section}' is not a mapping",
                "Write each entry as 'key: value' pairs.",
            )
        self.file, self.data, self.section = file, data, section
        self.line = data.get("__line__")

    def error(self, key: str, problem: str, action: str) -> InputError:
        return InputError(self.file, problem, action, row=self.line, column=f"{self.section}.{key}")

    def text(self, key: str, required: bool = True) -> str:
        value = self.data.get(key)
        if value in (None, "") and required:
            raise self.error(key, "is missing", f"Add '{key}:' to this entry.")
        return "" if value is None else str(value).strip()

    def code(self, key: str, required: bool = True) -> str:
        return self.text(key, required).upper()

    def date(self, key: str):
        value = self.data.get(key)
        if value in (None, ""):
            return None
        try:
            return parse_iso(str(value))
        except ValueError as exc:
            raise self.error(key, str(exc), "Write dates as YYYY-MM-DD.") from exc

    def period(self):
        start, end = self.date("from"), self.date("to")
        if start and end and end < start:
            raise self.error("to", f"ends ({end}) before it starts ({start})", "Swap the dates.")
        return start, end


def parse(path: Path, text: str, sha: str) -> Batch:
    name = str(path)
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            name,
            f"is not valid YAML ({getattr(exc, 'problem', exc)})",
            "Fix the YAML syntax.",
            row=mark.line + 1 if mark else None,
        ) from exc
    if not isinstance(doc, dict) or doc.get("pcnkit") != "definitions":
        raise InputError(
            name,
            "does not start with 'pcnkit: definitions'",
            "Add that line at the top of the file.",
        )
    try:
        as_of = parse_iso(str(doc.get("as_of", "")))
    except ValueError as exc:
        raise InputError(name, "has no valid 'as_of' date", "Add 'as_of: YYYY-MM-DD'.") from exc
    batch = Batch(name, file_type, description, sha, as_of, str(doc.get("publisher", "local")))

    for data in doc.get("organisations") or []:
        e = _Entry(name, data, "organisations")
        kind = e.text("kind")
        if kind not in kinds.KINDS:
            raise e.error(
                "kind", f"'{kind}' is not a kind", f"Use one of: {', '.join(kinds.KINDS)}."
            )
        code = e.code("code")
        opened, closed = e.date("open"), e.date("close")
        batch.add_org(
            OrgRecord(
                code,
                kind,
                e.text("name"),
                e.text("subtype", False) or None,
                e.text("postcode", False) or None,
                opened,
                closed,
                e.line,
            )
        )
        batch.rows += 1
        for member in data.get("members") or []:
            m = _Entry(name, member, "organisations.members")
            start, end = m.period()
            batch.facts.append(FactRecord(m.code("code"), code, True, start, end, m.line))
            batch.rows += 1

    for data in doc.get("memberships") or []:
        e = _Entry(name, data, "memberships")
        start, end = e.period()
        batch.facts.append(FactRecord(e.code("child"), e.code("parent"), True, start, end, e.line))
        batch.rows += 1

    for data in doc.get("roles") or []:
        e = _Entry(name, data, "roles")
        role = e.text("role")
        if role not in ROLES:
            raise e.error("role", f"'{role}' is not a PCN role", f"Use one of: {sorted(ROLES)}.")
        payee = e.code("payee", required=role == "nominated_payee") or None
        holder = e.text("holder", required=role == "clinical_director") or (payee or "")
        start, end = e.period()
        batch.roles.append(RoleRecord(e.code("pcn"), role, holder, payee, start, end, e.line))
        batch.rows += 1

    for data in doc.get("exceptions") or []:
        e = _Entry(name, data, "exceptions")
        rule = e.text("rule")
        if rule not in RULES:
            raise e.error(
                "rule",
                f"'{rule}' is not a check that can be waived",
                f"Use one of: {sorted(RULES)}.",
            )
        start, end = e.period()
        batch.exceptions.append(
            ExceptionRecord(e.code("org"), rule, e.text("reason"), start, end, e.line)
        )
        batch.rows += 1
    for data in doc.get("mergers") or []:
        e = _Entry(name, data, "mergers")
        when = e.date("date")
        if when is None:
            raise e.error("date", "is missing", "Give the date the list was taken on.")
        practice, into = e.code("practice"), e.code("into")
        if practice == into:
            raise e.error("into", "is the practice itself", "Name the practice that took it on.")
        batch.mergers.append(MergerRecord(practice, into, when, e.text("note", False), e.line))
        batch.rows += 1
    if not batch.rows:
        raise InputError(name, "defines nothing", "Add organisations, memberships or roles.")
    return batch

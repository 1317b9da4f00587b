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

import re
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
    control_character,
)
from pcnkit.yamlfile import Loader, parse_yaml

file_type = "definitions"
description = "pcnkit local definitions"
ROLES = {"clinical_director", "nominated_payee"}
RULES = {"list_size_minimum", "list_size_maximum", "single_practice"}


# What each section's entries may say: a misspelt key ('form:' for 'from:') would otherwise be
# dropped in silence and the entry read without it.
SECTIONS = {
    "organisations": {"code", "kind", "name", "subtype", "postcode", "open", "close", "members"},
    "memberships": {"child", "parent", "from", "to"},
    "roles": {"pcn", "role", "holder", "payee", "from", "to"},
    "exceptions": {"org", "rule", "reason", "from", "to"},
    "mergers": {"practice", "into", "date", "note"},
}
MEMBER_KEYS = {"code", "from", "to"}
TOP_KEYS = {"pcnkit", "publisher", "as_of", *SECTIONS}
# pcnkit's own codes (FED-HAV, PL-HAV) as well as ODS codes; organisation.code holds 20
CODE = re.compile(r"[A-Z0-9][A-Z0-9_.-]{0,19}")


class _Lines(list):
    """A YAML sequence that remembers the line of each item (for items that are not mappings)."""

    line: int = 0
    lines: list[int]


class _LineLoader(Loader):
    """Records each mapping's line and each key's line so errors can point at them, and
    refuses a key given twice in one mapping (YAML would keep the last in silence)."""

    def construct_mapping(self, node, deep=False):
        lines: dict[object, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str) and key in lines:
                raise yaml.constructor.ConstructorError(
                    None, None, f"'{key}' is given twice in one entry", key_node.start_mark
                )
            if isinstance(key, str):
                lines[key] = key_node.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__lines__"] = lines
        return mapping


def _sequence(loader: _LineLoader, node):
    data = _Lines()
    data.line = node.start_mark.line + 1
    data.lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_LineLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)


def sniff(text: str, header: list[str]) -> bool:
    return text.lstrip().startswith("pcnkit: definitions")


def _entries(file: str, parent: dict, key: str, label: str) -> list[tuple[object, int | None]]:
    """The entries of a section (or of an organisation's members) with their lines; a
    section that is not a list ('organisations: 5') is a located error."""
    value = parent.get(key)
    line = parent.get("__lines__", {}).get(key) or parent.get("__line__")
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(
            file,
            f"'{key}' must be a list of entries (lines starting '- '), not {_shown(value)}",
            f"Write each entry of '{key}' on its own line starting with '- '.",
            row=line,
            column=label,
        )
    lines = getattr(value, "lines", [line] * len(value))
    return list(zip(value, lines, strict=False))


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Entry:
    def __init__(self, file: str, data: object, section: str, line: int | None = None) -> None:
        if not isinstance(data, dict):
            raise InputError(
                file,
                f"an entry of '{section}' is {_shown(data)}, not a mapping",
                "Write each entry as 'key: value' pairs, e.g. {child: F82614, parent: U00367}.",
                row=line,
                column=section,
            )
        self.file, self.data, self.section = file, data, section
        self.line = data.get("__line__", line)
        self.lines = data.get("__lines__", {})
        allowed = MEMBER_KEYS if section.endswith("members") else SECTIONS[section]
        unknown = [k for k in data if k not in allowed and not str(k).startswith("__")]
        if unknown:
            raise self.error(
                str(unknown[0]),
                f"'{unknown[0]}' is not a key of '{section}' entries",
                f"Use only: {', '.join(sorted(allowed))}.",
            )

    def error(self, key: str, problem: str, action: str) -> InputError:
        return InputError(
            self.file,
            problem,
            action,
            row=self.lines.get(key, self.line),
            column=f"{self.section}.{key}",
        )

    def text(self, key: str, required: bool = True) -> str:
        value = self.data.get(key)
        if value in (None, "") and required:
            raise self.error(key, "is missing", f"Add '{key}:' to this entry.")
        if isinstance(value, dict | list):
            raise self.error(key, f"is {_shown(value)}; expected one value", "Give one value.")
        text = "" if value is None else str(value).strip()
        bad = control_character(text)
        if bad:
            raise self.error(key, f"holds a control character ({bad})", "Remove it from the text.")
        return text

    def code(self, key: str, required: bool = True) -> str:
        value = self.text(key, required).upper()
        if value and not CODE.fullmatch(value):
            raise self.error(
                key,
                f"'{value}' is not an organisation code",
                "Use the ODS code, or a code of letters, digits and '-' of up to 20 characters.",
            )
        return value

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
    doc = parse_yaml(text, name, _LineLoader)
    if not isinstance(doc, dict) or doc.get("pcnkit") != "definitions":
        raise InputError(
            name,
            "does not start with 'pcnkit: definitions'",
            "Add that line at the top of the file.",
            row=1,
        )
    lines = doc.get("__lines__", {})
    unknown = [k for k in doc if k not in TOP_KEYS and not str(k).startswith("__")]
    if unknown:
        raise InputError(
            name,
            f"'{unknown[0]}' is not a section of a definitions file",
            f"Use only: {', '.join(sorted(TOP_KEYS))}.",
            row=lines.get(unknown[0]),
            column=str(unknown[0]),
        )
    try:
        as_of = parse_iso(str(doc.get("as_of", "")))
    except ValueError as exc:
        raise InputError(
            name,
            f"has no valid 'as_of' date ({'missing' if 'as_of' not in doc else exc})",
            "Add 'as_of: YYYY-MM-DD'.",
            row=lines.get("as_of"),
            column="as_of",
        ) from exc
    batch = Batch(name, file_type, description, sha, as_of, str(doc.get("publisher", "local")))

    for data, line in _entries(name, doc, "organisations", "organisations"):
        e = _Entry(name, data, "organisations", line)
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
        for member, line in _entries(name, data, "members", "organisations.members"):
            m = _Entry(name, member, "organisations.members", line)
            start, end = m.period()
            batch.facts.append(FactRecord(m.code("code"), code, True, start, end, m.line))
            batch.rows += 1

    for data, line in _entries(name, doc, "memberships", "memberships"):
        e = _Entry(name, data, "memberships", line)
        start, end = e.period()
        batch.facts.append(FactRecord(e.code("child"), e.code("parent"), True, start, end, e.line))
        batch.rows += 1

    for data, line in _entries(name, doc, "roles", "roles"):
        e = _Entry(name, data, "roles", line)
        role = e.text("role")
        if role not in ROLES:
            raise e.error("role", f"'{role}' is not a PCN role", f"Use one of: {sorted(ROLES)}.")
        payee = e.code("payee", required=role == "nominated_payee") or None
        holder = e.text("holder", required=role == "clinical_director") or (payee or "")
        start, end = e.period()
        batch.roles.append(RoleRecord(e.code("pcn"), role, holder, payee, start, end, e.line))
        batch.rows += 1

    for data, line in _entries(name, doc, "exceptions", "exceptions"):
        e = _Entry(name, data, "exceptions", line)
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
    for data, line in _entries(name, doc, "mergers", "mergers"):
        e = _Entry(name, data, "mergers", line)
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

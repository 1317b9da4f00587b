"""Code lists as data: one versioned YAML file per list in `population/codelists/`.

Every list states its id, name, version, source (the citation in the research note,
shared/domain/population-health.md), status and coding system. A list is either flat
(`codes`: entries `{code, term}`) or grouped (`groups`: e.g. the 36 eFI deficits or the 20 CMS
conditions, each with its own `codes` and, where the list scores, Decimal `weights`).

`status` is `confirmed` when the list is complete as its source gives it, or `partial` when the
research note could not obtain all of it (for example the eFI deficits' SNOMED codes, which the
note counts but does not reproduce). A partial list is usable, but every output built on it must
be marked unconfirmed (`CodeList.confirmed`). Codes are never invented to fill a gap: an empty
`codes` list with a `note` says what is missing and where to get it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

from pcnkit.errors import InputError
from pcnkit.funding.money import decimal
from pcnkit.yamlfile import Fields, parse_yaml

STATUSES = ("confirmed", "partial")
CODING_SYSTEMS = (
    "snomedct",
    "dmd",
    "bnf",
    "icd10",
    "opcs4",
    "ctv3",
    "readv2",
    "qof_group",  # NHS Digital QOF register group identifiers (AF, AST, ...)
)
TOP_KEYS = {
    "id",
    "name",
    "version",
    "source",
    "status",
    "coding_system",
    "note",
    "weight_variants",
    "codes",
    "groups",
}
GROUP_KEYS = {
    "id",
    "name",
    "codes",
    "note",
    "weights",
    "source_set",
    "source_code_counts",
    "value_rule",
}
CODE_KEYS = {"code", "term"}
ACTION = "Correct the code list file."


@dataclass(frozen=True)
class Code:
    code: str
    term: str


@dataclass(frozen=True)
class CodeGroup:
    """One named part of a grouped list: an eFI deficit, a CMS condition, a medicine group."""

    id: str
    name: str
    codes: tuple[Code, ...]
    note: str = ""
    # Outcome variant -> weight; None where the variant's weight was not obtained.
    weights: dict[str, Decimal | None] = field(default_factory=dict)
    source_set: str = ""  # the code set's name at its source, e.g. the gm-sde folder
    source_code_counts: dict[str, int] = field(default_factory=dict)  # coding system -> count
    value_rule: str = ""  # an extra numeric trigger, in words

    @property
    def has_codes(self) -> bool:
        return bool(self.codes)


@dataclass(frozen=True)
class CodeList:
    id: str
    name: str
    version: int
    source: str
    status: str
    coding_system: str
    file: str
    codes: tuple[Code, ...] = ()
    groups: tuple[CodeGroup, ...] = ()
    weight_variants: tuple[str, ...] = ()
    note: str = ""

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"

    @property
    def all_codes(self) -> tuple[Code, ...]:
        """Every code in the list: the flat codes, or each group's codes in order."""
        return self.codes + tuple(c for g in self.groups for c in g.codes)

    def group(self, group_id: str) -> CodeGroup:
        for g in self.groups:
            if g.id == group_id:
                return g
        raise KeyError(
            f"code list '{self.id}' has no group '{group_id}'; it has {[g.id for g in self.groups]}"
        )


def codelists_folder() -> Path:
    return Path(str(resources.files("pcnkit") / "population" / "codelists"))


def available() -> list[str]:
    """The ids of the code lists shipped with pcnkit."""
    return sorted(p.stem for p in codelists_folder().glob("*.yaml"))


class _Reader(Fields):
    """Typed access to one mapping in a code list file, with errors that name file and key."""

    fix = ACTION

    def __init__(self, file: str, data: object, where: str, allowed: set[str]) -> None:
        super().__init__(file, data, where)
        unknown = sorted(str(k) for k in set(data) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"is not a known key; use {sorted(allowed)}")

    def text(self, key: str, default=...) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, "must be text (write codes in quotes so none loses a digit)")
        return value.strip()

    def items(self, key: str) -> list:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        return value


def _codes(file: str, where: str, entries: list) -> tuple[Code, ...]:
    seen: set[str] = set()
    out = []
    for i, data in enumerate(entries):
        r = _Reader(file, data, f"{where}[{i}]", CODE_KEYS)
        code = r.text("code")
        if code in seen:
            raise r.fail("code", f"code '{code}' is listed twice")
        seen.add(code)
        out.append(Code(code, r.text("term")))
    return tuple(out)


def _weights(r: _Reader, variants: tuple[str, ...]) -> dict[str, Decimal | None]:
    data = r.get("weights", {})
    if not isinstance(data, dict):
        raise r.fail("weights", "must be a mapping of outcome variant to weight")
    if set(data) != set(variants):
        missing = sorted(set(variants) - set(data))
        extra = sorted(str(k) for k in set(data) - set(variants))
        problem = f"needs exactly the weight_variants {list(variants)}"
        if missing:
            problem += f"; missing {missing} (write null where a weight was not obtained)"
        if extra:
            problem += f"; unknown {extra}"
        raise r.fail("weights", problem)
    out: dict[str, Decimal | None] = {}
    for variant in variants:
        value = data[variant]
        if value is None:
            out[variant] = None
            continue
        if not isinstance(value, str):
            raise r.fail(f"weights.{variant}", f'write the weight in quotes, e.g. "{value}"')
        try:
            out[variant] = decimal(value, f"{r.where}.weights.{variant}")
        except ValueError as exc:
            raise r.fail(f"weights.{variant}", str(exc)) from exc
    return out


def _counts(r: _Reader) -> dict[str, int]:
    data = r.get("source_code_counts", {})
    if not isinstance(data, dict):
        raise r.fail("source_code_counts", "must be a mapping of coding system to count")
    out = {}
    for system, count in data.items():
        if system not in CODING_SYSTEMS:
            raise r.fail(f"source_code_counts.{system}", f"is not one of {list(CODING_SYSTEMS)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise r.fail(f"source_code_counts.{system}", "must be a whole number")
        out[str(system)] = count
    return out


def parse_codelist(text: str, file: str) -> CodeList:
    """Read and validate one code list; every problem names the file and the key."""
    doc = parse_yaml(text, file)
    top = _Reader(file, doc, "codelist", TOP_KEYS)
    list_id = top.text("id")
    version = top.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise top.fail("version", "must be a whole number from 1")
    variants = tuple(str(v) for v in top.items("weight_variants"))
    if len(set(variants)) != len(variants):
        raise top.fail("weight_variants", "names a variant twice")
    has_codes, has_groups = "codes" in doc, "groups" in doc
    if has_codes == has_groups:
        raise top.fail("codes", "the list needs exactly one of 'codes' (flat) or 'groups'")
    groups: list[CodeGroup] = []
    for i, data in enumerate(top.items("groups")):
        r = _Reader(file, data, f"groups[{i}]", GROUP_KEYS)
        group_id = r.text("id")
        if any(g.id == group_id for g in groups):
            raise r.fail("id", f"group '{group_id}' is defined twice")
        groups.append(
            CodeGroup(
                id=group_id,
                name=r.text("name"),
                codes=_codes(file, f"groups[{i}].codes", r.items("codes")),
                note=r.text("note", ""),
                weights=_weights(r, variants) if variants else {},
                source_set=r.text("source_set", ""),
                source_code_counts=_counts(r),
                value_rule=r.text("value_rule", ""),
            )
        )
        if not variants and "weights" in data:
            raise r.fail("weights", "the list declares no weight_variants")
    if has_groups and not groups:
        raise top.fail("groups", "is empty")
    return CodeList(
        id=list_id,
        name=top.text("name"),
        version=version,
        source=top.text("source"),
        status=top.choice("status", STATUSES),
        coding_system=top.choice("coding_system", CODING_SYSTEMS),
        file=file,
        codes=_codes(file, "codes", top.items("codes")),
        groups=tuple(groups),
        weight_variants=variants,
        note=top.text("note", ""),
    )


def load_file(path: Path) -> CodeList:
    """A code list from any file; its id must match the file name."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc})", "Check the path.") from exc
    codelist = parse_codelist(text, name)
    if codelist.id != path.stem:
        raise InputError(
            name,
            f"id '{codelist.id}' does not match the file name",
            f"Rename the file to {codelist.id}.yaml or correct the id.",
            column="codelist.id",
        )
    return codelist


@cache
def load(list_id: str) -> CodeList:
    """A code list shipped with pcnkit, by id (see `available()`)."""
    if list_id not in available():
        raise InputError(
            list_id, "is not a known code list", f"Known code lists: {', '.join(available())}."
        )
    return load_file(codelists_folder() / f"{list_id}.yaml")

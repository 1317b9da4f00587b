"""Published funding papers' inputs kept in a workspace, so the funding paper pack can be made
"as the paper": a folder per paper under `<workspace>/funding/published/<name>/` holding
`inputs.yaml`, which names the paper and its files:

    title: Primary Care Network Development in Havering (July 2019)
    year: 2019/20
    statement: statement.csv   # the paper's published figures (`pcn_code, stream...`)
    scenario: scenario.yaml    # the rates the paper used, where they depart from the DES
    lists: lists.csv           # the lists the paper used (`pcn_code, registered, weighted`)
    totals: totals.csv         # the paper's place subtotals (`borough` or `place`, streams...)

Only `title`, `year` and `statement` are required. The web offers these by name (never a path a
user types), and the CLI's `--statement/--scenario/--lists` take the files directly.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pcnkit.errors import NotFoundError, PcnkitError
from pcnkit.store import Workspace
from pcnkit.yamlfile import read_yaml

FOLDER = "published"
INPUTS = "inputs.yaml"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


@dataclass(frozen=True)
class PublishedInputs:
    name: str
    title: str
    year: str
    statement: Path
    scenario: Path | None
    lists: Path | None
    totals: Path | None = None


def folder(ws: Workspace) -> Path:
    return ws.layout.funding / FOLDER


def _read(path: Path) -> PublishedInputs:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PcnkitError(f"{path}: expected title, year and statement")

    def file(key: str, required: bool = False) -> Path | None:
        value = data.get(key)
        if not value:
            if required:
                raise PcnkitError(f"{path}: '{key}' is missing; name the {key} file")
            return None
        found = (path.parent / str(value)).resolve()
        if found.parent != path.parent.resolve() or not found.is_file():
            raise PcnkitError(f"{path}: {key} '{value}' is not a file in {path.parent}")
        return found

    for key in ("title", "year"):
        if not data.get(key):
            raise PcnkitError(f"{path}: '{key}' is missing")
    statement = file("statement", required=True)
    assert statement is not None
    return PublishedInputs(
        name=path.parent.name,
        title=str(data["title"]),
        year=str(data["year"]),
        statement=statement,
        scenario=file("scenario"),
        lists=file("lists"),
        totals=file("totals"),
    )


def available(ws: Workspace) -> list[PublishedInputs]:
    """Every paper whose inputs the workspace holds, by name (a folder that does not read is
    left out: `find` names its problem)."""
    out = []
    base = folder(ws)
    if not base.is_dir():
        return out
    for path in sorted(base.glob(f"*/{INPUTS}")):
        if NAME.match(path.parent.name):
            try:
                out.append(_read(path))
            except PcnkitError:
                continue
    return out


def find(ws: Workspace, name: str) -> PublishedInputs:
    if not NAME.match(name or ""):
        raise NotFoundError(f"No published paper's inputs are called '{(name or '')[:40]}'.")
    path = folder(ws) / name / INPUTS
    if not path.is_file():
        raise NotFoundError(f"No published paper's inputs are called '{name}'.")
    return _read(path)


def year_for(paper: PublishedInputs, year: str | None) -> str:
    """A paper's inputs are for its own contract year: that year when none is asked for, and a
    clear refusal when another is."""
    if year and year.strip() != paper.year:
        raise PcnkitError(
            f"{paper.title} is a {paper.year} paper: its lists and rates are for {paper.year}, "
            f"not {year.strip()[:10]}. Choose contract year {paper.year}, or the registry's lists."
        )
    return paper.year


def install(ws: Workspace, source: Path, name: str) -> PublishedInputs:
    """Copy a paper's inputs folder (with its inputs.yaml) into the workspace as `name`."""
    if not NAME.match(name):
        raise PcnkitError(f"'{name}': a name is lower-case letters, digits and hyphens")
    target = folder(ws) / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return find(ws, name)

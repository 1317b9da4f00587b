"""A workspace's population: generating a synthetic one into it, importing an extract into it,
stratifying it, and naming which practices a command is about.

The population lives in the workspace's ``population/`` folder (Parquet tables, then
``results/`` after stratification; see `pcnkit.store.layout`). These are the library halves
of the `pcnkit population ...` commands, so the CLI only parses options and prints.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from pcnkit.errors import PcnkitError
from pcnkit.population.engine import SYNTHETIC_MARKER
from pcnkit.population.swap import recover, replace_folder
from pcnkit.store import open_workspace
from pcnkit.store.db import workspace_layout

if TYPE_CHECKING:
    from pcnkit.population.engine import PopulationStore

Workspace = str | os.PathLike[str] | None  # a workspace folder (None: PCNKIT_HOME or default)
RISING_RISK = "rising-risk"  # the patient list of the rising-risk cohort, beside the lists


def population_folder(workspace: Workspace) -> Path:
    """The workspace's population store folder."""
    return workspace_layout(workspace).population


def generate_population(
    workspace: Workspace,
    area: str,
    seed: int,
    as_of: dt.date,
    qof: Path,
    patients: int | None,
    replace: bool,
    progress: Callable[[int, int], None] | None = None,
):
    """Generate a synthetic population for an area of the registry into the workspace; returns
    (folder, generation report). A population that is not synthetic is never replaced.
    `progress(done, total)` is called as practices are generated."""
    from pcnkit.population.synthetic import generate, specs_from_registry

    folder = population_folder(workspace)
    recover(folder)
    if folder.exists() and any(folder.iterdir()):
        if not (folder / SYNTHETIC_MARKER).exists():
            raise PcnkitError(
                f"{folder} holds a population that is not synthetic; it is never replaced"
            )
        if not replace:
            raise PcnkitError(f"{folder} already holds a population; add --replace")
    if not Path(qof).is_file():
        raise PcnkitError(f"{qof}: no such QOF prevalence file; give --qof PREVALENCE_yyyy.csv")
    if patients is not None and patients < 1:
        raise PcnkitError("--patients must be at least 1")
    ws = open_workspace(workspace)
    try:
        with ws.sessions() as session:
            # when the specs are read again scaled, only that second reading warns (once)
            specs = specs_from_registry(session, area, as_of, qof, warn=patients is None)
            if not specs:
                raise PcnkitError(f"no open practices with a list in {area} on {as_of}")
            if patients is not None:
                total = sum(s.list_size for s in specs)
                specs = specs_from_registry(session, area, as_of, qof, scale=patients / total)
    finally:
        ws.dispose()
    # Generate beside the old population and swap only when complete, so a failure (or an
    # interrupted run) leaves the previous population as it was.
    staging = folder.with_name(f".{folder.name}-generating")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        if progress is not None:
            progress(0, len(specs))
        report = generate(specs, staging, seed, as_of=as_of, progress=progress)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_folder(staging, folder)
    return folder, report


def stratify_population(
    workspace: Workspace,
    engine: str,
    quota: float,
    as_of: dt.date | None,
    model_path: Path | None,
    save_model: Path | None,
    progress: Callable[[str], None] | None = None,
):
    """Stratify the workspace's population (with a saved model when `model_path` is given, and
    writing the fitted model to `save_model` when asked); returns the stratification."""
    from pcnkit.population import risk, stratify
    from pcnkit.population.engine import PopulationStore

    model = None
    if model_path is not None:
        model = risk.model_from_dict(json.loads(Path(model_path).read_text()))
    with PopulationStore(population_folder(workspace), backend=engine) as store:
        result = stratify.stratify(
            store, as_of=as_of, quota_per_10000=quota, model=model, progress=progress
        )
    if save_model is not None:
        Path(save_model).write_text(json.dumps(result.model.to_dict(), indent=1))
    return result


def registry_practices(workspace: Workspace) -> set[str]:
    """Every practice code the workspace's registry knows (an extract's practices must be
    among them; empty when no registry is loaded)."""
    from pcnkit.store.models import Organisation

    ws = open_workspace(workspace)
    try:
        with ws.sessions() as session:
            query = select(Organisation.code).where(Organisation.kind == "practice")
            return set(session.scalars(query))
    finally:
        ws.dispose()


def import_population(workspace: Workspace, source: Path, as_of: dt.date):
    """Import a pseudonymised extract into the workspace's population folder, checking its
    practices against the registry when one is loaded; returns the import report."""
    from pcnkit.population.extract import import_extract

    known = registry_practices(workspace)
    return import_extract(
        source, population_folder(workspace), as_of=as_of, known_practices=known or None
    )


def scope_practices(
    workspace: Workspace, practice: str | None, pcn: str | None, as_of: dt.date
) -> list[str]:
    """The practices a patient-level answer covers: exactly one of a practice or a PCN (its
    member practices on `as_of`)."""
    from pcnkit.population.pack import practices_in

    if bool(practice) == bool(pcn):
        raise PcnkitError("name exactly one scope: --practice CODE or --pcn CODE")
    if practice:
        return [practice.strip().upper()]
    ws = open_workspace(workspace)
    try:
        with ws.sessions() as session:
            return practices_in(session, pcn, as_of)
    finally:
        ws.dispose()


@dataclass(frozen=True)
class PatientList:
    """A patient list for some practices: the rising-risk cohort or a case-finding list."""

    title: str
    rows: list[dict[str, Any]]
    reason: str  # the column that says why each patient is on the list
    synthetic: bool


def patient_list(store: PopulationStore, name: str, practices: list[str]) -> PatientList:
    """The rising-risk cohort (`name` RISING_RISK) or a case-finding list, for `practices`."""
    from pcnkit.population import casefinding, listview, stratify

    if name == RISING_RISK:
        rows = stratify.cohort_for(store, practices).to_pyarrow().to_pylist()
        return PatientList("Rising-risk cohort", rows, listview.WHY_COHORT.key, store.synthetic)
    definition = casefinding.get(name)
    rows = stratify.list_for(store, name, practices).to_pyarrow().to_pylist()
    return PatientList(definition.name, rows, listview.WHY_LIST.key, store.synthetic)

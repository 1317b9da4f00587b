"""`pcnkit registry ...`: a thin shell over the registry library (no rule lives here)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from pcnkit import spreadsheet
from pcnkit.cli.shell import (
    Format,
    WorkspaceOpt,
    console,
    date_option,
    open_workspace,
    progress_bar,
    styled,
    user_errors,
)
from pcnkit.registry import queries
from pcnkit.registry.actions import refresh_derived
from pcnkit.registry.checks import run_checks
from pcnkit.registry.importers import TYPES
from pcnkit.registry.kinds import KINDS
from pcnkit.registry.loading import load_paths
from pcnkit.registry.profile import describe
from pcnkit.registry.summary import Node

registry_app = typer.Typer(help="Practices, PCNs, places and ICSs over time.", no_args_is_help=True)


def _date(value: str | None) -> dt.date:
    return date_option(value, dt.date.today())


SKIPPED_EXIT = 3  # `registry load --skip-bad` left bad files out: stored the rest, but say so


@registry_app.command("load")
def registry_load(
    paths: list[Path] = typer.Argument(..., help="Files or folders; types are detected."),
    file_type: str | None = typer.Option(None, "--type", help=f"Expect one type: {list(TYPES)}"),
    skip_bad: bool = typer.Option(
        False,
        "--skip-bad",
        help="Leave out damaged or refused files, store the rest, list what was left out and "
        f"exit {SKIPPED_EXIT}. Without it one bad file stops the load and nothing is stored.",
    ),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Load NHS registry files (a whole folder is fine) in one all-or-nothing transaction.

    Exit 0: all stored. Exit 2: a bad file; nothing stored. Exit 3 (--skip-bad only): the
    good files stored, the bad ones listed as skipped."""
    with user_errors():
        ws = open_workspace(workspace)
        with progress_bar() as bar:
            task = bar.add_task("reading", total=None)

            def progress(stage: str, name: str) -> None:
                bar.update(task, description=f"{stage} {name}")

            result = load_paths(ws.transaction, paths, file_type, skip_bad, progress)
    table = Table(title=f"Loaded into {ws.path}")
    for col in (
        "file",
        "type",
        "as at",
        "rows",
        "new orgs",
        "memberships",
        "lists",
        "coords",
        "status",
    ):
        table.add_column(col, overflow="fold")
    for r in result.reports:
        coords = f"{r.coordinates}" + (
            f" ({r.coordinates_unmatched} unmatched)" if r.coordinates_unmatched else ""
        )
        averaged = r.list_basis is not None and r.list_basis.averaged
        lists = f"{r.list_sizes}" + (" (averages)" if averaged else "")
        table.add_row(
            Path(r.file).name,
            r.file_type,
            str(r.extract_date),
            str(r.rows),
            str(r.organisations_new),
            str(r.facts),
            lists,
            coords,
            r.status,
        )
    console.print(table)
    for r in result.reports:
        if r.list_basis is not None and r.list_basis.averaged:
            console.print(
                f"note: {Path(r.file).name}: list sizes are the publisher's {r.list_basis.text}, "
                "kept as published",
                highlight=False,
                markup=False,
            )
    for finding in result.findings:
        console.print(f"finding: {finding}", highlight=False, markup=False)
    for s in result.ignored:
        console.print(
            f"ignored {s.path}: not a registry file; it looks like {s.looks_like}",
            highlight=False,
            markup=False,
        )
    for exc in result.skipped:
        console.print(f"skipped (not loaded): {exc}", highlight=False, markup=False)
    if result.skipped:
        console.print(
            f"{len(result.skipped)} bad file(s) skipped; everything else was stored.",
            highlight=False,
        )
        raise typer.Exit(SKIPPED_EXIT)


@registry_app.command("rebuild")
def registry_rebuild(workspace: Path | None = WorkspaceOpt) -> None:
    """Re-derive every membership and first mention from the loaded files (after an upgrade:
    PCN memberships from the DES start, CCG merger dates, sources by public title)."""
    with user_errors():
        ws = open_workspace(workspace)
        with ws.transaction() as session:
            count = refresh_derived(session)
    console.print(f"{count:,} memberships re-derived in {ws.path}", highlight=False)


@registry_app.command("check")
def registry_check(
    area: str | None = typer.Option(None, "--area", help="ICB, CCG, place, grouping or PCN."),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default today)."),
    fmt: Format = typer.Option(Format.table, "--format"),
    check: str | None = typer.Option(None, "--check", help="Show only one check's findings."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Configuration checks: coverage, list sizes, clinical director, payee, cross-border."""
    when = _date(as_of)
    with user_errors():
        ws = open_workspace(workspace)
        with ws.sessions() as session:
            result = run_checks(session, when, area)
    if check:
        result.findings = [f for f in result.findings if f.check == check]
    if fmt is Format.json:
        print(json.dumps(result.as_dict(), indent=2, default=str))
        return
    if fmt is Format.csv:
        fields = [
            "outcome", "check", "check_name", "pcn", "pcn_name", "code", "name", "figure",
            "figure_date", "text",
        ]  # fmt: skip
        spreadsheet.write_csv(
            sys.stdout,
            fields,
            ({**f.__dict__, "check_name": f.check_name} for f in result.findings),
        )
        return
    console.print(
        styled("[bold]{}[/]", result.area_name) + f" ({result.area}) as at {result.as_of}: "
        f"{len(result.pcns)} PCNs, {result.practices} open practices",
        highlight=False,
    )
    console.print(f"Findings: {result.summary()}", highlight=False, markup=False)
    if len(result.pcns) <= 60:
        table = Table(title="PCNs")
        for col in ("PCN", "name", "practices", "registered patients", "as at", "status"):
            table.add_column(
                col, justify="right" if col in ("practices", "registered patients") else "left"
            )
        for p in result.pcns:
            style = "yellow" if p.status != "within range" else None
            table.add_row(
                p.code,
                p.name,
                str(sum(1 for x in p.practices if x.open)),
                p.registered,
                p.list_dated,
                p.status,
                style=style,
            )
        console.print(table)
    colour = {"breach": "red", "not recorded": "yellow", "review": "cyan"}
    for group in result.groups():
        title = group.name if group.pcn is None else f"{group.name} ({group.pcn})"
        table = Table(title=title, title_justify="left")
        for col in ("outcome", "check", "organisation", "finding"):
            table.add_column(col, overflow="fold")
        for f in group.findings:
            table.add_row(
                Text(f.outcome_label, style=colour[f.outcome]),
                Text(f.check_name),
                Text(f"{f.name} ({f.code})"),
                Text(f.text),
            )
        console.print(table)


@registry_app.command("show")
def registry_show(
    code: str,
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default today)."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """One organisation as at a date: its parents, members and lists, with their sources (or
    why there is nothing to show on that date)."""
    when = _date(as_of)
    with user_errors():
        ws = open_workspace(workspace)
        with ws.sessions() as session:
            p = describe(session, code, when)

    def out(text: str) -> None:
        console.print(text, highlight=False, markup=False)

    out(f"{p.name} ({p.code}), {p.kind_label}, as at {p.as_of}")
    closed = f"; closed {p.close_date}" if p.close_date else ""
    opened = p.open_date or "unknown"
    if p.began:
        how = f"recorded open date {p.open_date}" if p.open_date else "first named in the data"
        opened = f"{p.began} ({how})"
    out(f"  postcode {p.postcode or '-'}; began {opened}{closed}")
    if p.empty_state:
        out(f"  {p.empty_state}")
    for m in p.memberships:
        mark = "  <- on this date" if m.current else ""
        out(
            f"  in {m.parent_kind} {m.parent_name} ({m.parent_code}) from "
            f"{m.start or 'unknown'} to {m.end or 'now'}{mark}"
        )
        out(f"     evidence: {m.basis}")
    for role, holder in p.roles:
        out(f"  {role}: {holder}")
    for measure, f in p.lists.items():
        kind = "registered patients" if measure == "registered" else f"{measure} list"
        note = " (quarter average, rounded)" if measure == "registered" and f.average else ""
        out(f"  {kind} {f.value:,} as at {f.as_of}{note} ({f.cited})")
    if p.members:
        out(f"  {len(p.members)} members on {p.as_of}:")
    for m in p.members:
        figure = m.patients
        extra = ""
        if figure is not None:
            extra = f"  {figure.total:,} patients ({figure.dated}; {figure.source_text})"
        out(f"    {m.code:8} {m.kind:8} {m.name}{extra}")
    if p.total:
        t = p.total
        out(
            f"  registered patients {t.total:,} in {t.practices} open practices "
            f"({t.dated}; {t.source_text})"
        )


@registry_app.command("find")
def registry_find(text: str, workspace: Path | None = WorkspaceOpt) -> None:
    """Find organisations by name or code."""
    ws = open_workspace(workspace)
    with ws.sessions() as session:
        for org in queries.find(session, text):
            kind = KINDS[org.kind].label if org.kind in KINDS else org.kind
            console.print(f"{org.code:8} {kind:18} {org.name}", highlight=False, markup=False)


def print_summary(node: Node) -> None:
    def label(n: Node) -> str:
        reg = n.registered
        return styled(
            "[bold]{}[/] ({}, {}): {} practices, registered patients {}, weighted {} "
            "[dim]({}; {})[/]",
            n.name,
            n.code,
            n.kind_label,
            n.practices,
            f"{reg.total:,.0f}",
            f"{n.weighted.total:,.0f}",
            reg.dated,
            reg.source_text,
        )

    tree = Tree(label(node))

    def add(branch: Tree, n: Node) -> None:
        for child in n.children:
            add(branch.add(label(child)), child)

    add(tree, node)
    console.print(tree, highlight=False)

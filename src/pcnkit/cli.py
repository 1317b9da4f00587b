"""The `pcnkit` command: a thin shell over the library (no rule lives here)."""

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
from pcnkit.access.cli import users_app
from pcnkit.errors import PcnkitError
from pcnkit.funding.cli import funding_app
from pcnkit.funding.money import money
from pcnkit.population.cli import population_app
from pcnkit.registry import queries
from pcnkit.registry.actions import refresh_derived
from pcnkit.registry.checks import run_checks
from pcnkit.registry.importers import TYPES
from pcnkit.registry.kinds import KINDS
from pcnkit.registry.loading import load_paths
from pcnkit.registry.profile import describe
from pcnkit.registry.summary import Node, area_summary
from pcnkit.shell import Format, console, date_option, fail, progress_bar, styled
from pcnkit.store import open_workspace

app = typer.Typer(help="pcnkit: primary care at scale for the English NHS.", no_args_is_help=True)
registry_app = typer.Typer(help="Practices, PCNs, places and ICSs over time.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
app.add_typer(funding_app, name="funding")
app.add_typer(population_app, name="population")
app.add_typer(users_app, name="users")

WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace folder (or PCNKIT_HOME).")


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
    try:
        ws = open_workspace(workspace)
        with progress_bar() as bar:
            task = bar.add_task("reading", total=None)

            def progress(stage: str, name: str) -> None:
                bar.update(task, description=f"{stage} {name}")

            result = load_paths(ws.transaction, paths, file_type, skip_bad, progress)
    except PcnkitError as exc:
        fail(exc)
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
    try:
        ws = open_workspace(workspace)
        with ws.transaction() as session:
            count = refresh_derived(session)
    except PcnkitError as exc:
        fail(exc)
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
    try:
        ws = open_workspace(workspace)
        with ws.sessions() as session:
            result = run_checks(session, when, area)
    except PcnkitError as exc:
        fail(exc)
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
    try:
        ws = open_workspace(workspace)
        with ws.sessions() as session:
            p = describe(session, code, when)
    except PcnkitError as exc:
        fail(exc)

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


@app.command("demo")
def demo(
    workspace: Path = typer.Option(Path("pcnkit-demo"), "--workspace", "-w"),
    as_of: str = typer.Option("2019-12-01", "--as-of"),
    patients: int | None = typer.Option(
        None, "--patients", help="Synthetic patients (default: BHR's real lists, ~850,000)."
    ),
    population: bool = typer.Option(True, "--population/--no-population"),
    serve_app: bool = typer.Option(
        True, "--serve/--no-serve", help="Start the web application when the build is done."
    ),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Build the BHR demo workspace from the shipped extract (area summary, 2019/20 funding, a
    synthetic population with its stratification, demo users), then serve it on
    http://127.0.0.1:8000."""
    from pcnkit.demo import (
        DEMO_AREA,
        DEMO_YEAR,
        build_demo,
        demo_funding,
        demo_ledger,
        demo_staff,
        demo_users,
    )

    when = _date(as_of)
    try:
        ws = build_demo(workspace)
        with ws.sessions() as session:
            print_summary(area_summary(session, DEMO_AREA, when))
            result = run_checks(session, when, DEMO_AREA)
            funding = demo_funding(session)
    except PcnkitError as exc:
        fail(exc)
    console.print(
        f"Configuration check as at {when}: {result.summary()}. "
        f"Run: pcnkit registry check --area {DEMO_AREA} --as-of {when} -w {workspace}",
        markup=False,
    )
    table = Table(title=f"Network Contract DES {DEMO_YEAR}: what the BHR PCNs are owed")
    for col in ("borough", "PCNs", *funding.streams, "total"):
        table.add_column(col, justify="left" if col == "borough" else "right")
    for place, row in funding.by_place.items():
        values = [row.get(s, 0) for s in funding.streams]
        table.add_row(
            place, str(funding.pcns[place]), *[money(v) for v in values], money(sum(values))
        )
    console.print(table)
    console.print(
        f"{funding.unconfirmed} Details: pcnkit funding entitlements --year {DEMO_YEAR} "
        f"--area {DEMO_AREA} -w {workspace}"
    )
    if population:
        demo_population(workspace, patients)
    with ws.transaction() as session:
        logins = demo_users(session, workspace)
        demo_staff(session, workspace)
        paid = demo_ledger(session)
    console.print(
        f"Ledger: {paid} payment lines for {DEMO_YEAR} (April 2019 to June 2020 runs); ARRS "
        "roster: ILLUSTRATIVE posts from the Havering paper's planning assumption."
    )
    table = Table(title="Demo logins (new passwords on every build; also in demo-logins.txt)")
    for c in ("username", "password", "role", "sees"):
        table.add_column(c)
    for login in logins:
        table.add_row(login.username, login.password, login.role, login.sees)
    console.print(table)
    if serve_app:
        _serve_demo(ws, port)


def _serve_demo(ws, port: int) -> None:
    from pcnkit.demo import DEMO_POPULATION_AS_OF
    from pcnkit.web.server import HOST, serve

    console.print(
        styled("[bold]pcnkit is running: open http://{}:{}/ and sign in[/]", HOST, port)
        + " with a login "
        "above (Ctrl+C stops it; the JSON API is documented at /api/docs). Try: which practices "
        "form Havering South PCN, what it is owed in 2019/20, who its rising-risk patients are."
    )
    try:
        serve(ws, DEMO_POPULATION_AS_OF, port=port)
    except PcnkitError as exc:
        fail(exc)


@app.command("serve")
def serve_command(
    workspace: Path | None = WorkspaceOpt,
    as_of: str | None = typer.Option(
        None, "--as-of", help="The date pages open at (default: today)."
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: CPUs)."),
    external_url: str | None = typer.Option(
        None,
        "--external-url",
        envvar="PCNKIT_EXTERNAL_URL",
        help="The address users open behind a reverse proxy, e.g. https://pcnkit.example.nhs.uk "
        "(https makes the session cookie Secure; form origins are checked against it).",
    ),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Proxies (IPs, comma-separated) whose X-Forwarded-Proto/-For headers are trusted "
        "(default 127.0.0.1).",
    ),
) -> None:
    """Serve a workspace's web application (users: `pcnkit users add`)."""
    from pcnkit.access.users import list_users
    from pcnkit.web.server import serve

    try:
        ws = open_workspace(workspace)
        with ws.sessions() as session:
            if not list_users(session):
                console.print(
                    styled("[yellow]{} has no users yet: nobody can sign in.[/]", ws.path)
                    + " Add one with `pcnkit users add NAME --role ... --scope ...`."
                )
        console.print(f"pcnkit is running on http://{host}:{port}/ (Ctrl+C stops it)")
        serve(
            ws,
            date_option(as_of),
            host=host,
            port=port,
            workers=workers,
            external_url=external_url,
            forwarded_allow_ips=forwarded_allow_ips,
        )
    except PcnkitError as exc:
        fail(exc)


def demo_population(workspace: Path, patients: int | None) -> None:
    """The demo's synthetic BHR population, its calibration and its stratification."""
    from pcnkit.demo import DEMO_AREA, DEMO_POPULATION_AS_OF, DEMO_SEED, demo_data
    from pcnkit.population.calibration import prevalence_report
    from pcnkit.population.cli import (
        _print_calibration,
        generate_population,
        print_stratification,
        run_stratify,
    )
    from pcnkit.population.engine import PopulationStore

    qof = demo_data() / "PREVALENCE_1920.csv"
    try:
        folder, report = generate_population(
            workspace, DEMO_AREA, DEMO_SEED, DEMO_POPULATION_AS_OF, qof, patients, replace=True
        )
        with PopulationStore(folder) as store:
            calibration = prevalence_report(store, qof).summary()
    except PcnkitError as exc:
        fail(exc)
    console.print(
        f"SYNTHETIC population for {DEMO_AREA}: {report.patients:,} patients in "
        f"{report.practices} practices, generated in {report.seconds:.0f} s (seed {DEMO_SEED}; "
        "no row describes a real person)."
    )
    _print_calibration(calibration)
    result = run_stratify(workspace, "duckdb", 50, None, None, None)
    print_stratification(result.summary, result.seconds)
    console.print(
        f"Next: pcnkit population cohort rising-risk --pcn U00367 -w {workspace}  |  "
        f"pcnkit population cohort cvd_hypertension --practice F82002 -w {workspace}  |  "
        f"pcnkit population pack --pcn U00367 -w {workspace}"
    )


if __name__ == "__main__":
    app()

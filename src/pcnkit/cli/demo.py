"""`pcnkit demo`: build the BHR demo workspace, print what it holds, then serve it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from pcnkit.cli.population import (
    generate_with_progress,
    print_calibration,
    print_stratification,
    run_stratify,
)
from pcnkit.cli.registry import print_summary
from pcnkit.cli.shell import console, date_option, styled, user_errors
from pcnkit.funding.money import money
from pcnkit.registry.checks import run_checks
from pcnkit.registry.summary import area_summary


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
        DEMO_ASSURANCE_AS_OF,
        DEMO_YEAR,
        build_demo,
        demo_assurance,
        demo_funding,
        demo_ledger,
        demo_published,
        demo_staff,
        demo_users,
    )

    when = date_option(as_of, dt.date.today())
    with user_errors():
        ws = build_demo(workspace)
        with ws.sessions() as session:
            print_summary(area_summary(session, DEMO_AREA, when))
            result = run_checks(session, when, DEMO_AREA)
            funding = demo_funding(session)
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
    with user_errors():
        loaded = demo_assurance(ws)
    figures = sum(r.observations for r in loaded.reports)
    skipped = sum(r.status.startswith("already loaded") for r in loaded.reports)
    console.print(
        f"Assurance data: {len(loaded.reports)} files, {figures:,} figures"
        + (f" ({skipped} already loaded: skipped)" if skipped else "")
        + f". Try: pcnkit kpi show {DEMO_AREA} --as-of {DEMO_ASSURANCE_AS_OF} -w {workspace}",
        markup=False,
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
    demo_published(ws)
    console.print(
        "Committee packs (PDF, Word, HTML): pcnkit report assurance-update "
        f"{DEMO_AREA} --as-of {DEMO_ASSURANCE_AS_OF} -f pdf -f docx -w {workspace}  |  "
        f"pcnkit report funding-paper PL-HAV --as-of 2020-01-01 --published havering-2019-20 "
        f"-w {workspace}  |  pcnkit report pcn-pack U00367 --as-of 2020-01-01 -w {workspace}",
        markup=False,
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
    with user_errors():
        serve(ws, DEMO_POPULATION_AS_OF, port=port)


def demo_population(workspace: Path, patients: int | None) -> None:
    """The demo's synthetic BHR population, its calibration and its stratification."""
    from pcnkit.demo import DEMO_AREA, DEMO_POPULATION_AS_OF, DEMO_SEED, demo_data
    from pcnkit.population.calibration import prevalence_report
    from pcnkit.population.engine import PopulationStore

    qof = demo_data() / "PREVALENCE_1920.csv"
    with user_errors():
        folder, report = generate_with_progress(
            workspace, DEMO_AREA, DEMO_SEED, DEMO_POPULATION_AS_OF, qof, patients, replace=True
        )
        with PopulationStore(folder) as store:
            calibration = prevalence_report(store, qof).summary()
    console.print(
        f"SYNTHETIC population for {DEMO_AREA}: {report.patients:,} patients in "
        f"{report.practices} practices, generated in {report.seconds:.0f} s (seed {DEMO_SEED}; "
        "no row describes a real person)."
    )
    print_calibration(calibration)
    result = run_stratify(workspace, "duckdb", 50, None, None, None)
    print_stratification(result.summary, result.seconds)
    console.print(
        f"Next: pcnkit population cohort rising-risk --pcn U00367 -w {workspace}  |  "
        f"pcnkit population cohort cvd_hypertension --practice F82002 -w {workspace}  |  "
        f"pcnkit population pack --pcn U00367 -w {workspace}"
    )

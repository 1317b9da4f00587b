"""`pcnkit funding ...`: a thin shell over the funding library."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pcnkit.errors import PcnkitError
from pcnkit.funding import export
from pcnkit.funding.entitlements import EntitlementLine, entitlements
from pcnkit.funding.money import money
from pcnkit.funding.populations import Populations, from_csv, from_registry, registry_names
from pcnkit.funding.rules import YearRules, apply_scenario, rules_for
from pcnkit.funding.schedule import by_month, schedule
from pcnkit.store import open_workspace

funding_app = typer.Typer(
    help="Network Contract DES money: entitlements, schedules, ARRS.", no_args_is_help=True
)
console = Console(width=None if sys.stdout.isatty() else 180)
err = Console(stderr=True, soft_wrap=True)

ENTITLEMENT_COLUMNS = [
    "pcn_code",
    "pcn_name",
    "payee_code",
    "practice_code",
    "stream",
    "basis",
    "population",
    "rate",
    "rate_period",
    "months",
    "first_month",
    "last_month",
    "amount",
    "rule_id",
    "rule_version",
    "confirmed",
    "status",
    "formula",
    "inputs",
    "source",
    "note",
    "official_rate",
    "official_amount",
    "difference",
]
PAYMENT_COLUMNS = [
    "payment_month",
    "payee_code",
    "pcn_code",
    "practice_code",
    "stream",
    "service_months",
    "amount",
    "rule_id",
    "confirmed",
]
MONEY = {"amount", "official_amount", "difference"}


class Format(str, Enum):  # noqa: UP042 - Typer needs a str Enum
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(2)


def _inputs(year, area, lists, scenario, workspace) -> tuple[YearRules, Populations]:
    rules = rules_for(year)
    if scenario:
        rules = apply_scenario(rules, scenario)
    if lists:
        names = {}
        if workspace or area:
            with open_workspace(workspace).sessions() as session:
                names = registry_names(session)
        return rules, from_csv(lists, rules.start, rules.list_reference_date, names)
    ws = open_workspace(workspace)
    with ws.sessions() as session:
        pops = from_registry(
            session, rules.start, rules.list_reference_date, area, rules.membership_from
        )
    return rules, pops


def _write(fmt: Format, output: Path | None, sheets: dict, payload: dict) -> bool:
    """Write csv/json/xlsx; returns False for the table format (the caller prints it)."""
    if fmt is Format.table:
        return False
    if fmt is Format.xlsx:
        target = output or Path(f"{next(iter(sheets))}.xlsx")
        export.write_xlsx(target, sheets, MONEY)
        console.print(f"wrote {target}")
        return True
    stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt is Format.csv:
            rows, columns = next(iter(sheets.values()))
            export.write_csv(rows, columns, stream)
        else:
            export.write_json(payload, stream)
    finally:
        if output:
            stream.close()
    return True


YearOpt = typer.Option(..., "--year", help="Contract year, e.g. 2019/20.")
AreaOpt = typer.Option(None, "--area", help="ICB, CCG, place, grouping or PCN code.")
ListsOpt = typer.Option(
    None, "--lists", help="CSV: pcn_code[,practice_code],registered,weighted[,adjusted]"
)
ScenarioOpt = typer.Option(None, "--scenario", help="YAML overriding rates (pcnkit: scenario).")
FormatOpt = typer.Option(Format.table, "--format")
OutputOpt = typer.Option(None, "--output", "-o", help="File to write (default: standard output).")
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace folder (or PCNKIT_HOME).")


def _unconfirmed(lines: list[EntitlementLine]) -> None:
    streams = sorted({(x.stream, x.status) for x in lines if not x.confirmed})
    if streams:
        console.print(
            "[yellow]Unconfirmed figures used:[/] "
            + ", ".join(f"{s} (status {st})" for s, st in streams)
            + ". See each line's note and source."
        )


@funding_app.command("entitlements")
def funding_entitlements(
    year: str = YearOpt,
    area: str | None = AreaOpt,
    lists: Path | None = ListsOpt,
    scenario: Path | None = ScenarioOpt,
    fmt: Format = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """What each PCN and practice is owed for a contract year, stream by stream."""
    try:
        rules, pops = _inputs(year, area, lists, scenario, workspace)
        lines = entitlements(pops, rules)
    except PcnkitError as exc:
        _fail(exc)
    rows = [line.as_row() for line in lines]
    label = f"entitlements-{rules.year.replace('/', '-')}"
    payload = {"year": rules.year, "scenario": rules.scenario, "lines": rows}
    if _write(fmt, output, {label: (rows, ENTITLEMENT_COLUMNS)}, payload):
        return
    streams = list(rules.streams)
    table = Table(
        title=f"Network Contract DES entitlements {rules.year}"
        + (f" — scenario: {rules.scenario}" if rules.scenario else "")
    )
    table.add_column("PCN")
    table.add_column("name")
    for s in streams:
        mark = "" if rules.streams[s].confirmed else " *"
        table.add_column(s.replace("_", " ") + mark, justify="right")
    table.add_column("total", justify="right")
    per_pcn: dict[str, dict[str, object]] = {}
    for line in lines:
        row = per_pcn.setdefault(line.pcn_code, {"name": line.pcn_name})
        row[line.stream] = row.get(line.stream, 0) + line.amount
    grand = {s: 0 for s in streams}
    for code, row in sorted(per_pcn.items()):
        values = [row.get(s, 0) for s in streams]
        for s, v in zip(streams, values, strict=True):
            grand[s] += v
        table.add_row(code, str(row["name"]), *[money(v) for v in values], money(sum(values)))
    table.add_row(
        "", "[bold]total[/]", *[money(grand[s]) for s in streams], money(sum(grand.values()))
    )
    console.print(table)
    console.print("* not confirmed in the research note (status S, X or U)")
    _unconfirmed(lines)
    if rules.official is not None:
        diff = sum(x.difference or 0 for x in lines)
        console.print(
            f"Scenario '{rules.scenario}' differs from the official rules by {money(diff)}."
        )


@funding_app.command("schedule")
def funding_schedule(
    year: str = YearOpt,
    area: str | None = AreaOpt,
    lists: Path | None = ListsOpt,
    scenario: Path | None = ScenarioOpt,
    payee: str | None = typer.Option(None, "--payee"),
    fmt: Format = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """When each payee is paid: the monthly schedule for a contract year."""
    try:
        rules, pops = _inputs(year, area, lists, scenario, workspace)
        payments = schedule(entitlements(pops, rules), rules)
    except PcnkitError as exc:
        _fail(exc)
    if payee:
        payments = [p for p in payments if p.payee_code == payee.upper()]
    rows = [p.as_row() for p in payments]
    label = f"schedule-{rules.year.replace('/', '-')}"
    if _write(
        fmt, output, {label: (rows, PAYMENT_COLUMNS)}, {"year": rules.year, "payments": rows}
    ):
        return
    table = Table(title=f"Payment schedule {rules.year}" + (f" for {payee}" if payee else ""))
    table.add_column("paid by end of")
    table.add_column("amount", justify="right")
    table.add_column("covering")
    covering: dict = {}
    for p in payments:
        covering.setdefault(p.payment_month, set()).update(p.service_months)
    for month, amount in by_month(payments).items():
        months = sorted(covering[month])
        span = f"{months[0]:%b %Y}" + (f" - {months[-1]:%b %Y}" if len(months) > 1 else "")
        table.add_row(f"{month:%B %Y}", money(amount), span)
    console.print(table)

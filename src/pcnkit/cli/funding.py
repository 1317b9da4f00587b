"""`pcnkit funding ...`: a thin shell over the funding library."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from pcnkit.cli.shell import (
    ExportFormat,
    WorkspaceOpt,
    console,
    date_option,
    fail,
    open_workspace,
    progress_bar,
    styled,
    user_errors,
)
from pcnkit.errors import InputError, PcnkitError
from pcnkit.funding import actuals as actual_payments
from pcnkit.funding import against_actuals, allocations, arrs, export, ledger, outcomes
from pcnkit.funding.census import read_census
from pcnkit.funding.entitlements import EntitlementLine, Total, entitlements, total
from pcnkit.funding.export import (
    ARRS_COLUMNS,
    ENTITLEMENT_COLUMNS,
    MONEY,
    MONEY_COLUMNS,
    PAYMENT_COLUMNS,
    RECONCILE_COLUMNS,
)
from pcnkit.funding.money import decimal, money
from pcnkit.funding.populations import Populations, from_csv, from_registry, registry_names
from pcnkit.funding.reconcile import as_at, as_at_totals, read_statement, reconcile
from pcnkit.funding.rules import (
    STATUS_WORDS,
    YearRules,
    apply_scenario,
    known_years,
    month,
    rules_for,
)
from pcnkit.funding.schedule import monthly, schedule
from pcnkit.funding.summary import GroupTotal, by_pcn, group_totals, unconfirmed
from pcnkit.funding.utilisation import ROW_COLUMNS as UTILISATION_COLUMNS
from pcnkit.funding.utilisation import Utilisation, ics_groups, percent, utilisation
from pcnkit.store.db import workspace_path
from pcnkit.store.layout import year_slug

funding_app = typer.Typer(
    help="Network Contract DES money: entitlements, schedules, ARRS.", no_args_is_help=True
)


def _inputs(year, area, lists, scenario, workspace) -> tuple[YearRules, Populations]:
    rules = rules_for(year)
    if scenario:
        rules = apply_scenario(rules, scenario)
    if lists:
        names = {}
        if workspace or area or workspace_path(None).exists():
            with open_workspace(workspace).sessions() as session:
                names = registry_names(session)
        return rules, from_csv(lists, rules.start, rules.list_reference_date, names)
    ws = open_workspace(workspace)
    with ws.sessions() as session:
        pops = from_registry(session, rules, area)
    return rules, pops


def _write(
    fmt: ExportFormat,
    output: Path | None,
    sheets: dict,
    payload: dict,
    cover: list | None = None,
) -> bool:
    """Write csv/json/xlsx; returns False for the table format (the caller prints it). A
    workbook gets `cover` as its first sheet and a totals row under each table."""
    if fmt is ExportFormat.table:
        return False
    if fmt is ExportFormat.xlsx:
        target = output or Path(f"{next(iter(sheets))}.xlsx")
        money_columns = MONEY | MONEY_COLUMNS | {"claimable", "annual_cost", "budget", "headroom"}
        export.write_xlsx(target, sheets, money_columns, cover=cover, totals=set(sheets))
        console.print(f"wrote {target}")
        return True
    stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt is ExportFormat.csv:
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
FormatOpt = typer.Option(ExportFormat.table, "--format")
OutputOpt = typer.Option(None, "--output", "-o", help="File to write (default: standard output).")


def _unconfirmed(lines: list[EntitlementLine]) -> None:
    streams = sorted({(u.name, u.status) for u in unconfirmed(lines)})
    if streams:
        console.print(
            styled("[yellow]Figures not confirmed:[/] ")
            + "; ".join(f"{s} ({STATUS_WORDS[st]})" for s, st in streams)
            + ". See each line's note and source.",
            highlight=False,
        )


def _cover(area: str | None, rules: YearRules, lines: list[EntitlementLine]) -> list:
    return export.cover(
        area or "every PCN in the workspace",
        rules,
        dt.date.today(),
        total(lines),
        sorted({(u.name, u.status) for u in unconfirmed(lines)}),
        {x.stream for x in lines},
    )


def _incomplete(gaps: tuple[str, ...]) -> None:
    if gaps:
        console.print(
            styled("[bold red]Totals are incomplete:[/] {}.", "; ".join(gaps)),
            highlight=False,
        )


def _figure(t: Total) -> str:
    """A total for the terminal: 'cannot be calculated', or the amount, starred when it is
    incomplete."""
    if t.amount is None:
        return "cannot be calculated"
    return money(t.amount) + ("" if t.complete else " (incomplete)")


@funding_app.command("entitlements")
def funding_entitlements(
    year: str = YearOpt,
    area: str | None = AreaOpt,
    lists: Path | None = ListsOpt,
    scenario: Path | None = ScenarioOpt,
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """What each PCN and practice is owed for a contract year, stream by stream."""
    with user_errors():
        rules, pops = _inputs(year, area, lists, scenario, workspace)
        lines = entitlements(pops, rules)
    rows = [line.as_row() for line in lines]
    label = f"entitlements-{year_slug(rules.year)}"
    payload = {"year": rules.year, "scenario": rules.scenario, "lines": rows}
    sheet = {label: (rows, ENTITLEMENT_COLUMNS)}
    if _write(fmt, output, sheet, payload, _cover(area, rules, lines)):
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
    for code, group in sorted(group_totals(lines, by_pcn).items()):
        table.add_row(
            code,
            group.lines[0].pcn_name,
            *[_figure(group.stream(s)) for s in streams],
            _figure(group.total),
        )
    grand = GroupTotal(lines)
    table.add_row(
        "",
        Text("total", style="bold"),
        *[_figure(grand.stream(s)) for s in streams],
        _figure(grand.total),
    )
    console.print(table)
    console.print("* not confirmed by public sources (one source only, sources conflict or none)")
    _unconfirmed(lines)
    _incomplete(total(lines).gaps)
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
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """When each payee is paid: the monthly schedule for a contract year."""
    with user_errors():
        rules, pops = _inputs(year, area, lists, scenario, workspace)
        lines = entitlements(pops, rules)
        payments = schedule(lines, rules)
    if payee:
        payments = [p for p in payments if p.payee_code == payee.upper()]
    rows = [p.as_row() for p in payments]
    label = f"schedule-{year_slug(rules.year)}"
    if _write(
        fmt,
        output,
        {label: (rows, PAYMENT_COLUMNS)},
        {"year": rules.year, "payments": rows},
        _cover(area, rules, lines),
    ):
        return
    table = Table(title=f"Payment schedule {rules.year}" + (f" for {payee}" if payee else ""))
    table.add_column("paid by end of")
    table.add_column("amount", justify="right")
    table.add_column("covering")
    for m in monthly(payments):
        months = m.service_months
        span = f"{months[0]:%b %Y}" + (f" - {months[-1]:%b %Y}" if len(months) > 1 else "")
        table.add_row(f"{m.payment_month:%B %Y}", money(m.amount), span)
    console.print(table)


def _month(text: str) -> dt.date:
    try:
        return month(text, "--month")
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@funding_app.command("run")
def funding_run(
    year: str = YearOpt,
    payment_month: str = typer.Option(..., "--month", help="Payment month, YYYY-MM."),
    area: str | None = AreaOpt,
    lists: Path | None = ListsOpt,
    scenario: Path | None = ScenarioOpt,
    restate: bool = typer.Option(
        False,
        "--restate",
        help="Restate a month already paid: adjust only what its own inputs changed.",
    ),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Pay a month: append what is due less what was already paid to the ledger. A month
    earlier than the latest run is refused unless --restate is given."""
    when = _month(payment_month)
    with user_errors():
        rules, pops = _inputs(year, area, lists, scenario, workspace)
        lines = entitlements(pops, rules)
        inputs = f"{pops.origin}; area {area or 'all'}; lists as at {rules.list_reference_date}"
        with open_workspace(workspace).transaction() as session:
            result = ledger.run_month(session, rules, lines, when, inputs, restate=restate)
    if not result.lines:
        console.print(
            f"Nothing to {'restate' if restate else 'pay'} for {when:%B %Y}: "
            "the ledger already holds everything due."
        )
        return
    kinds = {}
    for line in result.lines:
        kinds[line.kind] = kinds.get(line.kind, 0) + line.amount
    what = "Restatement" if restate else "Run"
    console.print(
        f"{what} {result.run_id} for {when:%B %Y} ({rules.year}): {len(result.lines)} lines, "
        f"{money(result.total)} ("
        + ", ".join(f"{k} {money(v)}" for k, v in sorted(kinds.items()))
        + ")"
    )


@funding_app.command("correct")
def funding_correct(
    year: str = YearOpt,
    payment_month: str = typer.Option(..., "--month"),
    payee: str = typer.Option(..., "--payee"),
    pcn: str = typer.Option(..., "--pcn"),
    stream: str = typer.Option(..., "--stream"),
    amount: str = typer.Option(..., "--amount"),
    reason: str = typer.Option(..., "--reason"),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Record a correction as a new ledger line (the ledger is never edited)."""
    when = _month(payment_month)
    with user_errors(ValueError):
        rules = rules_for(year)
        if stream not in rules.streams:
            _unknown_stream(rules, stream)
        value = decimal(amount, "--amount")
        with open_workspace(workspace).transaction() as session:
            line = ledger.correct(
                session, rules.year, when, payee.upper(), pcn.upper(), stream, value, reason
            )
    console.print(f"Correction {line.id}: {money(line.amount)} to {line.payee_code} ({reason})")


def _unknown_stream(rules: YearRules, stream: str) -> None:
    raise InputError(
        "--stream",
        f"'{stream}' is not a stream of {rules.year}",
        f"Use one of: {', '.join(rules.streams)}.",
    )


@funding_app.command("reconcile")
def funding_reconcile(
    year: str | None = typer.Option(
        None, "--year", help="Contract year, e.g. 2019/20 (with --actuals: default every year)."
    ),
    area: str | None = AreaOpt,
    actuals: bool = typer.Option(
        False,
        "--actuals",
        help="Against what NHS England actually paid (NHS Payments to General Practice).",
    ),
    largest: int = typer.Option(
        10, "--largest", min=0, help="With --actuals: how many of the largest differences."
    ),
    lists: Path | None = ListsOpt,
    statement: Path | None = typer.Option(
        None, "--statement", help="CSV of published figures to explain."
    ),
    scenario: Path | None = ScenarioOpt,
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Set entitlement against the ledger as at this date, YYYY-MM-DD (default today).",
    ),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Entitlement against the ledger as at a date, against a published statement with
    explanations, or (--actuals) against what NHS England actually paid every PCN."""
    if actuals:
        _reconcile_actuals(year, area, largest, fmt, output, workspace)
        return
    if year is None:
        raise typer.BadParameter("give --year (e.g. 2019/20), or --actuals", param_hint="--year")
    when = date_option(as_of, dt.date.today())
    with user_errors():
        official, pops = _inputs(year, area, lists, None, workspace)
        lines = entitlements(pops, official)
        if statement:
            alt = apply_scenario(official, scenario) if scenario else None
            found = reconcile(lines, read_statement(statement, official), official, alt)
            rows = [e.as_row() for e in found]
            columns = [
                "pcn_code",
                "pcn_name",
                "stream",
                "published",
                "calculated",
                "difference",
                "verdict",
                "explanation",
                "implied_population",
            ]
        else:
            with open_workspace(workspace).sessions() as session:
                found = as_at(session, lines, official, when)
            rows, sums = [r.as_row() for r in found], as_at_totals(found)
            columns = RECONCILE_COLUMNS
    label = f"reconcile-{year_slug(official.year)}"
    if _write(fmt, output, {label: (rows, columns)}, {"year": official.year, "rows": rows}):
        return
    title = f"Reconciliation {official.year}"
    if not statement:
        title += f" as at {when:%-d %B %Y}: due, paid and still to pay on that date"
        columns = [c for c in columns if c not in ("as_at", "payee_name", "stream_name")]
    table = Table(title=title)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        if statement and r["verdict"] == "agrees":
            continue
        table.add_row(
            *[
                money(v)
                if c in MONEY_COLUMNS and v is not None
                else ("cannot be calculated" if c == "entitlement" else str(v or ""))
                for c, v in ((c, r.get(c)) for c in columns)
            ]
        )
    console.print(table)
    if not statement:
        console.print(
            f"As at {when:%-d %B %Y}: entitlement {money(sums.entitlement)}"
            + ("" if sums.complete else " (incomplete)")
            + f", due {money(sums.due)}, paid {money(sums.paid)}"
            + f", still to pay {money(sums.outstanding)}.",
            highlight=False,
        )
    if statement:
        agreed = sum(1 for r in rows if r["verdict"] == "agrees")
        console.print(
            f"{agreed} of {len(rows)} published figures agree to the penny; "
            "the others are explained above."
        )


def _reconcile_actuals(year, area, largest, fmt, output, workspace) -> None:
    with user_errors():
        years = [rules_for(year).year] if year else None
        with open_workspace(workspace).sessions() as session:
            loaded = actual_payments.loaded_years(session)
            if not loaded:
                raise InputError(
                    "workspace",
                    "holds no actual payments",
                    "Load NHS Payments to General Practice (2019/20 to 2022/23) with "
                    "`pcnkit registry load`.",
                )
            todo = years or [y for y in loaded if y in known_years()]
            with progress_bar() as bar:
                task = bar.add_task("reconciling", total=len(todo))
                found = against_actuals.reconcile(
                    session, years, area, lambda y: bar.update(task, advance=1, description=y)
                )
        if found.missing_years:
            raise InputError(
                "--year",
                f"no payments file is loaded for {', '.join(found.missing_years)}",
                f"Years loaded: {', '.join(loaded)}.",
            )
    rows = [c.as_row() for c in found.comparisons]
    summary = [_summary_row(s) for s in found.summary()]
    sheets = {"against-actuals": (rows, list(rows[0]) if rows else ["year"])}
    if fmt is ExportFormat.xlsx:
        sheets["national"] = (summary, list(summary[0]) if summary else ["year"])
    if _write(fmt, output, sheets, {"summary": summary, "rows": rows}):
        return
    where = f"the PCNs of {area}" if area else "every PCN in England"
    table = Table(
        title=f"Entitled against actually paid, {where}: how many PCNs agree, by payments column"
    )
    for c in (
        "year",
        "column",
        "PCNs",
        "within 1%",
        "within 5%",
        "explained",
        "entitled",
        "paid to them",
        "paid to all",
    ):
        table.add_column(c, justify="left" if c in ("year", "column") else "right")
    for s in found.summary():
        table.add_row(
            s.year,
            s.heading + ("" if s.confirmed else " *"),
            str(s.pcns) if s.pcns else "-",
            _share(s, s.within_1),
            _share(s, s.within_5),
            _share(s, s.explained),
            money(s.entitled) if s.pcns else "not compared",
            money(s.paid_compared) if s.pcns else "-",
            money(s.paid),
        )
    console.print(table)
    console.print(
        "PCNs: those with an entitlement calculated to compare; explained: within 1% or with "
        "an explanation other than 'unexplained'. * a rate not confirmed. '-' and 'not "
        "compared': the column is not an entitlement pcnkit calculates, or its input is not "
        "held. Paid to all: every PCN the file names, compared or not."
    )
    cats = Table(title="What explains the differences (paid - entitled)")
    for c in ("year", "column", "explanation", "PCNs", "difference"):
        cats.add_column(c, justify="right" if c in ("PCNs", "difference") else "left")
    for s in found.summary():
        for key, words in against_actuals.CATEGORIES.items():
            if key in s.by_category and key != "agrees":
                cats.add_row(
                    s.year, s.heading, words, str(s.counts[key]), money(s.by_category[key])
                )
    console.print(cats)
    if largest:
        big = Table(title=f"The {largest} largest differences, and why")
        for c in ("year", "PCN", "column", "entitled", "paid", "explanation"):
            big.add_column(c, overflow="fold")
        for c in found.largest(largest):
            big.add_row(
                c.year,
                f"{c.pcn_name} ({c.pcn_code})",
                c.heading,
                money(c.entitled),
                money(c.paid),
                f"{against_actuals.CATEGORIES[c.category]}: {c.explanation}",
            )
        console.print(big)
    titles = "; ".join(found.titles[y] for y in found.years)
    console.print(f"Paid: {titles}. Entitled: pcnkit's funding rules for each year.")


def _share(s, n: int) -> str:
    pct = s.pct(n)
    return "-" if pct is None else f"{n} ({pct:.0f}%)"


def _summary_row(s) -> dict:
    return {
        "year": s.year,
        "column": s.heading,
        "kind": s.kind,
        "pcns_compared": s.pcns,
        "within_1pct": s.within_1,
        "within_5pct": s.within_5,
        "explained": s.explained,
        "entitled": s.entitled if s.pcns else None,
        "paid_to_pcns_compared": s.paid_compared if s.pcns else None,
        "paid_to_all": s.paid,
        "rate_confirmed": s.confirmed,
        **{f"diff_{k}": s.by_category.get(k) for k in against_actuals.CATEGORIES if k != "agrees"},
        **{f"pcns_{k}": s.counts.get(k, 0) for k in against_actuals.CATEGORIES},
    }


@funding_app.command("allocate")
def funding_allocate(
    recipients: Path = typer.Option(
        ..., "--recipients", help="CSV: code,name,registered,weighted,normalised_weighted"
    ),
    method: str = typer.Option(..., "--method", help=f"One of {', '.join(allocations.METHODS)}."),
    pot: str | None = typer.Option(None, "--pot", help="The sum to share, in pounds."),
    top_slice: list[str] = typer.Option(
        [], "--top-slice", help="NAME=15% or NAME=367200 (repeatable, in order)."
    ),
    unit: str = typer.Option("0.01", "--unit", help="Round each share to 0.01, 1, 100 ..."),
    residual: str = typer.Option("report", "--residual", help="report | largest_remainder"),
    rate: str | None = typer.Option(None, "--rate", help="£ per head, for --method per_head."),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
) -> None:
    """Share a pot across organisations after top-slices, rounding each share to a unit."""
    # the library's "top_slices" is the repeatable --top-slice here
    with user_errors(ValueError, fields={"top_slices": "top_slice"}):
        slices = [_top_slice(text) for text in top_slice]
        result = allocations.allocate(
            decimal(pot, "--pot") if pot else None,
            allocations.read_recipients_csv(recipients),
            method,
            top_slices=slices,
            unit=decimal(unit, "--unit"),
            residual=residual,
            rate=decimal(rate, "--rate") if rate else None,
        )
    rows = result.as_rows()
    if _write(fmt, output, {"allocation": (rows, list(allocations.ROW_FIELDS))}, {"rows": rows}):
        return
    table = Table(title=f"Allocation by {method}, shares rounded to £{unit}")
    for c in ("kind", "code", "name", "basis_value", "share", "formula"):
        table.add_column(c, overflow="fold", justify="right" if c == "share" else "left")
    for r in rows:
        # the rows are CSV-ready plain decimals; people read money as pcnkit writes it (£1,234.56)
        share = money(Decimal(r["share"])) if r["share"] else ""
        table.add_row(r["kind"], r["code"], r["name"], r["basis_value"], share, r["formula"])
    console.print(table)


def _top_slice(text: str) -> allocations.TopSlice:
    name, _, value = text.rpartition("=")
    if not name or not value:
        raise InputError(
            "--top-slice",
            f"'{text}' is not NAME=15% or NAME=AMOUNT",
            "Write e.g. --top-slice 'Population health=15%'.",
        )
    if value.strip().endswith("%"):
        return allocations.TopSlice(
            name.strip(), percent=decimal(value.strip()[:-1], "--top-slice")
        )
    return allocations.TopSlice(name.strip(), amount=decimal(value, "--top-slice"))


@funding_app.command("arrs")
def funding_arrs(
    year: str = YearOpt,
    staff: Path | None = typer.Option(
        None,
        "--staff",
        help="CSV: pcn_code,role,wte,start,end,annual_cost[,name][,planned]. Without it every "
        "PCN is shown with no staff recorded: its headroom is its whole budget.",
    ),
    area: str | None = AreaOpt,
    lists: Path | None = ListsOpt,
    planned: bool = typer.Option(False, "--planned", help="Show what planned recruits add."),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """ARRS: every PCN's budget, what its staff may reclaim, and the headroom it would lose."""
    with user_errors():
        rules, pops = _inputs(year, area, lists, None, workspace)
        members = arrs.read_staff_csv(staff) if staff else None
        found = arrs.every_pcn(
            rules, pops, members, include_planned=planned, area_only=bool(area) and not lists
        )
    results = found.results
    rows = []
    for result in results:
        for line in result.lines + (result.planned.lines if result.planned else []):
            row = {c: getattr(line, c, None) for c in ARRS_COLUMNS}
            rows.append(row)
    summary = [
        {
            "pcn_code": r.pcn_code,
            "pcn_name": pops.pcn_names.get(r.pcn_code, r.pcn_code),
            "budget": r.budget.amount,
            "claimable": r.total,
            "headroom": r.headroom,
            "planned_adds": r.planned.adds if r.planned else None,
            "staff": r.staff_text,
            "budget_formula": r.budget.formula,
            "confirmed": r.confirmed,
            "status": r.budget.status,
        }
        for r in results
    ]
    label = f"arrs-{year_slug(rules.year)}"
    budgets = (summary, list(summary[0]) if summary else ["pcn_code"])
    # without a roster there are no staff lines: the budgets are the table asked for
    sheets = (
        {label: (rows, ARRS_COLUMNS), "budgets": budgets}
        if staff
        else {f"{label}-budgets": budgets, "staff": (rows, ARRS_COLUMNS)}
    )
    payload = {
        "year": rules.year,
        "roster": str(staff) if staff else None,
        "staff": rows,
        "pcns": summary,
        "left_out": found.left_out,
    }
    if _write(fmt, output, sheets, payload):
        return
    table = Table(title=f"ARRS {rules.year}")
    columns = ("PCN", "budget", "claimable", "headroom", "staff", "planned recruits add")
    for c in (*columns, "budget rule"):
        table.add_column(
            c, justify="left" if c in ("PCN", "staff", "budget rule") else "right", overflow="fold"
        )
    for s in summary:
        table.add_row(
            s["pcn_code"],
            _m(s["budget"]),
            _m(s["claimable"]) if s["staff"] != arrs.NO_STAFF else "-",
            _m(s["headroom"]),
            s["staff"],
            _m(s["planned_adds"]),
            s["budget_formula"],
        )
    known = [s["budget"] for s in summary if s["budget"] is not None]
    table.add_row(
        Text("total", style="bold"),
        money(sum(known, Decimal(0))) + ("" if len(known) == len(summary) else " (incomplete)"),
        money(sum((s["claimable"] for s in summary), Decimal(0))),
        money(sum((s["headroom"] for s in summary if s["headroom"] is not None), Decimal(0))),
        f"{sum(1 for s in summary if s['staff'] == arrs.NO_STAFF)} of {len(summary)} PCNs "
        "with no staff recorded",
        "",
        "",
    )
    console.print(table)
    if not staff:
        console.print(
            "No staff roster given: no staff are recorded for any PCN, so each headroom is the "
            "whole budget (this does not say no staff are in post). Give --staff to count claims."
        )
    if len(known) < len(summary):
        console.print(
            styled(
                "[bold red]Budgets of {} PCN(s) cannot be calculated[/]: see the budget rule.",
                len(summary) - len(known),
            ),
            highlight=False,
        )
    if found.outside:
        console.print(
            f"{found.outside} roster row(s) name PCNs outside {area}: not counted here.",
            highlight=False,
        )
    for code, why in sorted(found.left_out.items()):
        console.print(f"{code} has no ARRS budget in {rules.year}: {why}.", highlight=False)
    _arrs_unconfirmed(rules, summary)


def _arrs_unconfirmed(rules: YearRules, summary: list[dict]) -> None:
    if rules.arrs is None or all(s["confirmed"] for s in summary):
        return
    a = rules.arrs
    console.print(
        styled(
            "[yellow]Some ARRS figures used are not confirmed[/] (budget rule: {}{}); see "
            "--format csv notes.",
            STATUS_WORDS.get(a.status, a.status),
            f": {a.note}" if a.note and not a.confirmed else "",
        ),
        highlight=False,
    )


@funding_app.command("outcomes")
def funding_outcomes(
    scheme: Path = typer.Option(
        ..., "--scheme", help="The outcome scheme (pcnkit: outcome-scheme)."
    ),
    area: str = typer.Option(..., "--area", help="ICB, CCG, place, grouping or PCN code."),
    as_of: str = typer.Option(
        ..., "--as-of", help="Membership and indicator values as at, YYYY-MM-DD."
    ),
    values: Path | None = typer.Option(
        None, "--values", help="CSV of indicator values: org_code,indicator,period_end,value."
    ),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Outcome payments for groups of practices: each practice's aspiration payment for signing
    up, and each network's collective payment for the targets it meets."""
    when = date_option(as_of)
    with user_errors():
        chosen = outcomes.read_scheme(scheme)
        held = outcomes.read_values(values) if values else None
        with open_workspace(workspace).sessions() as session:
            found = outcomes.evaluate(session, chosen, area, when, held)
    rows = [line.as_row() for line in found.lines]
    payload = {
        "scheme": chosen.name,
        "description": chosen.description,
        "source": chosen.source,
        "area": found.area,
        "as_of": found.as_of,
        "total": found.total.amount,
        "incomplete": list(found.total.gaps),
        "unconfirmed": [{"figure": f, "status": s} for f, s in found.unconfirmed],
        "budget": found.budget_words(),
        "notes": found.notes,
        "lines": rows,
    }
    sheets = {"outcomes": (rows, outcomes.OUTCOME_COLUMNS)}
    if _write(fmt, output, sheets, payload):
        return
    table = Table(
        title=f"{chosen.name}: {found.area_name} ({found.area}) as at {when:%-d %B %Y}",
        show_lines=True,
    )
    for c in ("PCN", "payee", "payment", "amount", "working"):
        table.add_column(c, justify="right" if c == "amount" else "left", overflow="fold")
    for line in found.lines:
        working = [line.formula if line.amount is not None else line.reason]
        if line.reason and line.amount is not None:
            working.append(line.reason)
        working += [f"- {t.short}" for t in line.targets]
        if line.payment == "collective" and line.inputs:
            working.append(f"Inputs: {line.inputs}")
        table.add_row(
            f"{line.pcn_code}\n{line.pcn_name}",
            f"{line.payee_code}\n{line.payee_name}",
            line.payment_name + ("" if line.confirmed else " *"),
            _m(line.amount) if line.amount is not None else "cannot be calculated",
            Text("\n".join(working)),
        )
    console.print(table)
    for payment, name in (
        ("sign_up", chosen.sign_up.name),
        ("collective", chosen.collective.name),
    ):
        console.print(f"{name}: {_figure(found.subtotal(payment))}", highlight=False)
    console.print(Text(f"Total: {_figure(found.total)}", style="bold"))
    console.print(
        "* not confirmed: a rate or threshold whose source does not confirm it. "
        "--format csv gives each line's inputs, sources and notes in full."
    )
    if found.unconfirmed:
        console.print(
            styled("[yellow]Figures not confirmed:[/] ")
            + "; ".join(f"{f} ({STATUS_WORDS[s]})" for f, s in found.unconfirmed)
            + ".",
            highlight=False,
        )
    _incomplete(found.total.gaps)
    for note in found.notes:
        console.print(f"Note: {note}.", highlight=False)
    if found.budget_words():
        console.print(found.budget_words(), highlight=False)


def _m(value) -> str:
    return "-" if value is None else money(value)


@funding_app.command("arrs-utilisation")
def funding_arrs_utilisation(
    year: str = YearOpt,
    area: str | None = AreaOpt,
    census: Path | None = typer.Option(
        None,
        "--census",
        help="NHS Digital PCN Workforce individual-level CSV: roles in post beside each PCN.",
    ),
    pcns: bool = typer.Option(False, "--pcns", help="List every PCN, not only the ICS sums."),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """ARRS utilisation: what NHS England actually paid each PCN for additional roles (PCN
    Workforce) against its ARRS budget: share used and money left unclaimed, per ICS and for
    England."""
    try:
        from pcnkit.funding.actuals import paid as actual_paid
    except ImportError:
        fail(
            PcnkitError(
                "actual payments are not loaded: this pcnkit cannot read the NHS Payments to "
                "General Practice figures yet. Load them, then run this again."
            )
        )
    with user_errors():
        rules = rules_for(year)
        in_post = read_census(census) if census else None
        with open_workspace(workspace).sessions() as session:
            pops = from_registry(session, rules, area)
            paid = actual_paid(session, rules.year, column="PCN Workforce", area=area)
            if not paid:
                raise PcnkitError(
                    f"actual payments are not loaded for {rules.year}: no PCN Workforce "
                    "payments are held for it. Load that year's NHS Payments to General "
                    "Practice file."
                )
            if area:  # only the area's PCNs, whatever the actuals hold
                inside = set(pops.pcn_codes())
                paid = {code: amount for code, amount in paid.items() if code in inside}
            codes = sorted(set(pops.pcn_codes()) | set(paid))
            end = rules.arrs.end if rules.arrs else rules.start
            groups, names = ics_groups(session, codes, [end, rules.start])
        scope = (area.upper(), f"all PCNs of {area.upper()}") if area else ("ENG", "England")
        found = utilisation(rules, pops, paid, in_post, groups, names, total=scope)
    pcn_rows = [p.as_row() for p in found.pcns]
    ics_rows = [g.as_row() for g in found.groups.values()] + [found.national.as_row()]
    label = f"arrs-utilisation-{year_slug(rules.year)}"
    sheets = {label: (pcn_rows, UTILISATION_COLUMNS), "ics": (ics_rows, list(ics_rows[0]))}
    payload = {
        "year": rules.year,
        "status": found.status,
        "confirmed": found.confirmed,
        "census_date": found.census_date,
        "census_note": found.census_note,
        "pcns": pcn_rows,
        "ics": ics_rows,
    }
    if _write(fmt, output, sheets, payload):
        return
    census_note = ""
    if found.census_date:
        n = found.national
        census_note = (
            f"; ARRS FTE from the workforce census ({found.census_note}; "
            f"{n.in_census} of the {n.pcns} PCNs counted are in it)"
        )
    table = Table(title=f"ARRS utilisation {rules.year}: PCN Workforce paid against budget")
    heads = ["ICS", "PCNs", "left out", "budget", "paid", "used", "unclaimed", "over-claimed"]
    if found.census_date:
        heads.append("ARRS FTE in post (PCNs)")
    for h in heads:
        table.add_column(h, justify="left" if h == "ICS" else "right", overflow="fold")
    for g in [*found.groups.values(), found.national]:
        part = f", its PCNs in {area.upper()}" if area and g is not found.national else ""
        cells = [
            Text(f"{g.name} ({g.code}{part})", style="bold" if g is found.national else ""),
            str(g.pcns),
            str(g.left_out_total),
            money(g.budget) if g.pcns else "-",
            money(g.paid) if g.pcns else "-",
            percent(g.used),
            money(g.unclaimed) if g.pcns else "-",
            f"{money(g.over)} ({g.over_claims})" if g.over_claims else "-",
        ]
        if found.census_date:
            cells.append("-" if g.arrs_fte is None else f"{g.arrs_fte:,.1f} ({g.in_census})")
        table.add_row(*cells)
    console.print(table)
    if pcns:
        _utilisation_pcns(found)
    n = found.national
    who = n.name[0].upper() + n.name[1:]
    if n.pcns:
        console.print(
            f"{who}: {n.pcns} PCNs counted, used {percent(n.used)} of {money(n.budget)}; "
            f"{money(n.unclaimed)} left unclaimed{census_note}. PCN Workforce paid to every "
            f"PCN whose payment is known, counted or not: {money(n.paid_all)}.",
            highlight=False,
        )
    else:
        console.print(
            styled(
                "[bold red]{}: utilisation cannot be calculated for any PCN[/] (see why below);"
                " PCN Workforce paid to PCNs whose payment is known: {}.",
                who,
                money(n.paid_all),
            ),
            highlight=False,
        )
    if n.left_out:
        console.print(
            "Left out of the sums (their share cannot be calculated): "
            + "; ".join(f"{why}: {count}" for why, count in sorted(n.left_out.items()))
            + ". See --format csv for each PCN's reason.",
            highlight=False,
        )
    if n.over_claims:
        console.print(
            f"{n.over_claims} PCN(s) were paid more than their calculated budget "
            f"({money(n.over)} in all): counted as fully used, the excess shown as over-claimed.",
            highlight=False,
        )
    if not found.confirmed:
        console.print(
            styled(
                "[yellow]The {} ARRS budget is not confirmed[/] ({}){}",
                rules.year,
                STATUS_WORDS.get(found.status, found.status),
                f": {found.note}" if found.note else ".",
            ),
            highlight=False,
        )


def _utilisation_pcns(found: Utilisation) -> None:
    table = Table(title=f"ARRS utilisation {found.year} by PCN")
    for h in ("PCN", "ICS", "budget", "paid", "used", "unclaimed", "note"):
        table.add_column(h, justify="left" if h in ("PCN", "ICS", "note") else "right")
    for p in found.pcns:
        table.add_row(
            f"{p.pcn_name} ({p.pcn_code})",
            p.group or "",
            _m(p.budget),
            _m(p.paid),
            percent(p.used),
            _m(p.unclaimed),
            p.reason or "; ".join(p.notes),
        )
    console.print(table)

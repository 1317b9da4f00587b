"""`pcnkit funding iif` and `pcnkit funding obligations`: thin shells over funding.iif and
funding.obligations (registered on the funding command group)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from pcnkit.cli.funding import AreaOpt, FormatOpt, OutputOpt, YearOpt, _write, funding_app
from pcnkit.cli.shell import (
    ExportFormat,
    WorkspaceOpt,
    console,
    open_workspace,
    styled,
    user_errors,
)
from pcnkit.errors import BadValue
from pcnkit.funding import obligations as obl
from pcnkit.funding.iif import iif_what_if, parse_pairs
from pcnkit.funding.money import decimal, figure, money
from pcnkit.funding.populations import from_registry
from pcnkit.funding.rules import STATUS_WORDS, STATUSES, month, rules_for

STATUS_KEY = "Status key: " + "; ".join(f"{k} = {v}" for k, v in STATUS_WORDS.items()) + "."


def _m(value: Decimal | None, why: str = "cannot be calculated") -> str:
    return why if value is None else money(value)


def _p(value: Decimal | None) -> str:
    return "—" if value is None else figure(value)


def _n(value) -> str:
    return "—" if value is None else f"{value:,}"


@funding_app.command("iif")
def funding_iif(
    pcn: str = typer.Argument(..., help="PCN code, e.g. U12345."),
    year: str = YearOpt,
    achievement: list[str] = typer.Option(
        None, "--achievement", help="indicator=percent achieved, e.g. VI-01=82.5 (repeatable)."
    ),
    denominator: list[str] = typer.Option(
        None, "--denominator", help="indicator=patients in the denominator, e.g. VI-01=4200."
    ),
    prevalence: list[str] = typer.Option(
        None, "--prevalence", help="indicator=PCN prevalence / national prevalence, e.g. HI-01=1.1."
    ),
    average_list: str | None = typer.Option(
        None, "--average-list", help="National average PCN registered list (replaces the estimate)."
    ),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Investment and Impact Fund what-if for one PCN: money at stake per indicator, money
    earned at an achievement, patients needed to reach the upper threshold; and CAIP."""
    with user_errors(fields={"indicator": "achievement", "PCN": "pcn"}):
        rules = rules_for(year)
        ach = parse_pairs(achievement, "achievement")
        den = parse_pairs(denominator, "denominator", whole=True)
        prev = parse_pairs(prevalence, "prevalence")
        avg = None
        if average_list is not None:
            try:
                avg = decimal(average_list, "--average-list")
            except ValueError as exc:
                raise BadValue("average_list", str(exc), "Give a number of patients.") from None
            if avg <= 0:
                raise BadValue(
                    "average_list", f"{avg} is not above 0", "Give a number of patients."
                )
        with open_workspace(workspace).sessions() as session:
            pops = from_registry(session, rules)
        result = iif_what_if(pops, rules, pcn.upper(), ach, den, prev, avg, national=pops)
    rows = [i.as_row() for i in result.indicators]
    payload = {
        "year": result.year,
        "pcn_code": result.pcn_code,
        "point_value": result.point_value,
        "list_size_adjustment": result.list_size.text,
        "indicators": rows,
        "caip": [c.__dict__ for c in result.caip],
        "notes": result.notes,
    }
    columns = list(rows[0]) if rows else ["indicator"]
    if _write(fmt, output, {f"iif-{pcn}": (rows, columns)}, payload):
        return
    console.print(
        styled(
            "[bold]Investment and Impact Fund {}: {} ({})[/]",
            result.year,
            result.pcn_name,
            result.pcn_code,
        )
    )
    reg = result.registered
    console.print(f"Registered list: {_p(reg.value)} — {reg.inputs}", highlight=False)
    point = (
        "not confirmed"
        if result.point_value is None
        else f"£{result.point_value} ({result.point_status}: {STATUS_WORDS[result.point_status]})"
    )
    console.print(f"Point value: {point}", highlight=False)
    console.print(f"List-size adjustment: {result.list_size.text}", highlight=False)
    for note in result.notes:
        console.print(styled("[yellow]Note:[/] {}", note), highlight=False)
    est = result.list_size.estimate
    if result.indicators:
        table = Table(title="IIF indicators (what-if)")
        for col in (
            "indicator",
            "lower %",
            "upper %",
            "points",
            "prev. adj.",
            "at stake",
            "achieved %",
            "points earned",
            "earned",
            "denominator",
            "patients needed",
            "status",
        ):
            table.add_column(col, justify="left" if col in ("indicator", "status") else "right")
        for i in result.indicators:
            ind = i.indicator
            star = "*" if i.at_stake is not None and (est or i.prevalence.estimate) else ""
            table.add_row(
                ind.id,
                _n(ind.lower),
                _n(ind.upper),
                _n(ind.points),
                _n(i.prevalence.value) + ("*" if i.prevalence.estimate else ""),
                _m(i.at_stake) + star,
                _n(i.achievement),
                "—" if i.points is None else f"{i.points.quantize(Decimal('0.01'))}",
                _m(i.earned, "—" if i.achievement is None else "cannot be calculated")
                + (star if i.earned is not None else ""),
                _n(i.denominator),
                _n(i.needed),
                ind.status + ("" if ind.confirmed else " (unconfirmed)"),
            )
        console.print(table)
        total = result.total_at_stake
        flags = []
        if total is not None:
            flags = [w for w, on in (("estimate", est), ("unconfirmed", result.unconfirmed)) if on]
        held = len(result.indicators)
        console.print(
            f"Total at stake: {_m(total)}"
            + (f" ({', '.join(flags)})" if flags else "")
            + f", over the {held} indicator{'s' if held != 1 else ''} whose figures pcnkit "
            f"holds for {rules.year}: not the whole of the year's IIF.",
            highlight=False,
        )
        for i in result.indicators:
            ind = i.indicator
            extra = f" — {'; '.join(i.reasons)}" if i.reasons else ""
            console.print(f"  {ind.id}: {ind.name}. Source: {ind.source}.{extra}", highlight=False)
            if i.prevalence.estimate:
                console.print(f"    prevalence adjustment {i.prevalence.text}", highlight=False)
    if result.caip:
        table = Table(title="Capacity and access payment (CASP paid monthly; CAIP conditional)")
        for col in ("payment", "amount", "formula", "status"):
            table.add_column(col, justify="right" if col == "amount" else "left")
        for c in result.caip:
            table.add_row(
                c.name,
                _m(c.amount),
                c.formula,
                c.status + ("" if STATUSES[c.status] else " (unconfirmed)"),
            )
        console.print(table)
        console.print(f"CAIP: {result.caip_payment}", highlight=False)
        if result.adjusted is not None:
            console.print(f"Adjusted population: {result.adjusted.inputs}", highlight=False)
    console.print(
        "Key: at stake = points x point value x list-size adjustment x prevalence adjustment; "
        "earned = points earned (linear between the lower and upper thresholds) x the same; "
        "patients needed = ceiling(upper % x denominator) - floor(achieved % x denominator). "
        "* = assumed or estimated. " + STATUS_KEY,
        highlight=False,
    )


@funding_app.command("obligations")
def funding_obligations(
    year: str = YearOpt,
    area: str | None = AreaOpt,
    in_month: str | None = typer.Option(
        None, "--month", help="YYYY-MM: obligations in force then."
    ),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """What each PCN must provide for the money: extended hours / enhanced access minutes a week."""
    with user_errors():
        rules = rules_for(year)
        when: dt.date | None = None
        if in_month:
            try:
                when = month(in_month, "--month")
            except ValueError as exc:
                raise BadValue("month", str(exc), "Write it as YYYY-MM.") from None
            if not rules.start <= when <= rules.end:
                raise BadValue("month", f"{in_month} is not in {rules.year}", "")
        with open_workspace(workspace).sessions() as session:
            pops_at = obl.load(session, rules, area, when)
        lines = obl.obligation_lines(pops_at, rules, when)
    rows = [x.as_row() for x in lines]
    payload = {"year": rules.year, "lines": rows}
    columns = list(rows[0]) if rows else ["year"]
    if _write(fmt, output, {f"obligations-{year.replace('/', '-')}": (rows, columns)}, payload):
        return
    table = Table(title=f"What each network must provide, {rules.year}")
    for col in (
        "PCN",
        "name",
        "obligation",
        "months",
        "population",
        "minutes a week",
        "hours a week",
    ):
        table.add_column(
            col, justify="right" if col in ("population", "minutes a week") else "left"
        )
    for x in lines:
        o = x.obligation
        table.add_row(
            x.pcn_code,
            x.pcn_name,
            o.name + ("" if o.confirmed else " *"),
            f"{o.start:%b %Y} - {o.end:%b %Y}",
            _p(x.population.value),
            _n(x.minutes) if x.minutes is not None else x.reason,
            obl.hours_text(x.minutes) if x.minutes is not None else "—",
        )
    console.print(table)
    for o in obl.in_force(rules, when):
        console.print(
            f"{o.name}: {figure_rule(o)}. Hours: {o.hours}. Source: {o.source} ({o.status}). "
            f"Population read at {obl.population_date(rules, o):%-d %B %Y}"
            + (
                ""
                if o.list_date_status in ("C", "C2", "D")
                else " (date not confirmed: pcnkit's assumption)"
            )
            + f". Rounding: {obl.ROUNDING_WORDS[o.rounding]} — {o.rounding_source}"
            + f" ({o.rounding_status}).",
            highlight=False,
        )
    console.print("* not confirmed. " + STATUS_KEY, highlight=False)


def figure_rule(o) -> str:
    unit = "registered patients" if o.basis == "registered" else "PCN adjusted population"
    return f"{o.minutes_per_1000} minutes a week per 1,000 {unit}"

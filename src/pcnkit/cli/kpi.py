"""`pcnkit kpi`: load assurance data, list the indicators, and show an organisation's figures
with their trend (statistical process control), England and peers."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from pcnkit.cli.shell import (
    ExportFormat,
    WorkspaceOpt,
    console,
    date_option,
    err,
    open_workspace,
    progress_bar,
    styled,
    user_errors,
)
from pcnkit.spreadsheet import write_csv, write_workbook

kpi_app = typer.Typer(
    help="Assurance indicators: CQC, access, telephony, workforce, QOF; SPC and peers.",
    no_args_is_help=True,
)
AsOfOpt = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD); default today.")
FormatOpt = typer.Option(ExportFormat.table, "--format", help="table, csv, json or xlsx.")
OutputOpt = typer.Option(None, "--output", "-o", help="File to write (xlsx needs one).")


def _emit(fmt: ExportFormat, output: Path | None, name: str, rows: list, columns: list) -> bool:
    """Write csv/json/xlsx (False for table: the caller prints it)."""
    if fmt is ExportFormat.table:
        return False
    if fmt is ExportFormat.xlsx:
        target = output or Path(f"{name}.xlsx")
        write_workbook(target, {name: (rows, columns)}, set())
        console.print(f"wrote {target}")
        return True
    stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt is ExportFormat.csv:
            write_csv(stream, columns, rows)
        else:
            json.dump(rows, stream, indent=2, default=str)
            stream.write("\n")
    finally:
        if output:
            stream.close()
    return True


@kpi_app.command("load")
def load_cmd(
    paths: list[Path] = typer.Argument(..., help="Files or folders of assurance publications."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Load online consultation and telephony workbooks, CQC ratings, workforce, QOF and GPAD
    files (recognised by their content). All files are stored, or none is."""
    from pcnkit.assurance.loading import expand, load_paths

    with user_errors():
        ws = open_workspace(workspace)
        chosen, _ = expand(paths)
        with progress_bar() as bar:
            task = bar.add_task("Loading", total=2 * len(chosen))

            def tick(stage: str, name: str) -> None:
                bar.update(task, advance=1, description=f"{stage} {name}")

            result = load_paths(ws.transaction, paths, tick)
    for r in result.reports:
        console.print(
            styled(
                "{}: {} ({} rows, {} figures; {})",
                Path(r.file).name,
                r.description,
                f"{r.rows:,}",
                f"{r.observations:,}",
                r.status,
            )
        )
        for finding in r.findings:
            console.print(styled("  [yellow]note:[/] {}", finding))
    for found in result.ignored:
        console.print(styled("[dim]ignored {}: {}[/]", found.path.name, found.looks_like))


@kpi_app.command("datasets")
def datasets_cmd() -> None:
    """The datasets pcnkit imports and the measures each gives, in plain words."""
    from pcnkit.assurance.loading import datasets

    for name, measures in datasets().items():
        console.print(styled("[bold]{}[/]", name))
        for measure, words in measures.items():
            console.print(styled("  {}  [dim]{}[/]", measure, words))


@kpi_app.command("list")
def list_cmd(fmt: ExportFormat = FormatOpt, output: Path | None = OutputOpt) -> None:
    """Every indicator: what it measures, unit, better direction, targets, review status."""
    from pcnkit.assurance.definitions import load_all

    rows = [
        {
            "id": i.id,
            "title": i.title,
            "topic": i.topic,
            "unit": i.unit_words or i.unit,
            "better": {"higher": "higher", "lower": "lower", "neither": "no direction"}[i.polarity],
            "levels": ", ".join(i.levels),
            "targets": "; ".join(f"{t.value} ({t.source})" for t in i.targets) or None,
            "review": (
                f"reviewed {i.reviewed.date} by {i.reviewed.by}"
                if i.reviewed
                else "NO INDEPENDENT REVIEW RECORDED"
            ),
            "version": i.version,
        }
        for i in load_all()
    ]
    columns = list(rows[0])
    if _emit(fmt, output, "indicators", rows, columns):
        return
    table = Table("id", "title", "unit", "better", "target")
    for r in rows:
        table.add_row(r["id"], r["title"], r["unit"], r["better"], r["targets"] or "")
    console.print(table)
    console.print("No indicator has an independent review recorded yet.")


def _context(workspace: Path | None, as_of: str | None):
    from pcnkit.assurance.values import Assurance
    from pcnkit.registry.queries import Hierarchy

    when = date_option(as_of, dt.date.today())
    ws = open_workspace(workspace)
    session = ws.sessions()  # read only; closed with the workspace when the command ends
    assurance = Assurance.load(session, snapshot=ws.layout.assurance_snapshot)
    return when, assurance, Hierarchy.at(session, when)


@kpi_app.command("show")
def show_cmd(
    code: str = typer.Argument(..., help="Organisation code (practice, PCN, place, ICB...)."),
    as_of: str | None = AsOfOpt,
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """An organisation's assurance figures at a date: each indicator's latest value, trend
    signals, target, England and rank among its peers; what needs attention first."""
    from pcnkit.assurance import summary

    with user_errors():
        when, assurance, h = _context(workspace, as_of)
        org = h.get(code)
        found = summary.tiles(assurance, h, org.code, when)
    rows = [summary.tile_record(t) for t in found]
    if _emit(fmt, output, f"assurance-{org.code}", rows, summary.TILE_COLUMNS):
        return
    console.print(styled("[bold]{} ({})[/] as at {}", h.name(org), org.code, when))
    attention = summary.needs_attention(found)
    if attention:
        console.print(styled("[bold red]Needs attention[/]"))
        for t in attention:
            console.print(styled("  {}: {}", t.indicator.title, "; ".join(t.attention)))
    table = Table("indicator", "period", "value", "trend", "target", "England", "peers")
    for t, r in zip(found, rows, strict=True):
        if t.figure is None or t.figure.value is None:
            table.add_row(t.indicator.short_title, r["period"] or "", f"not calculated: {t.reason}")
            continue
        # from the figure itself: the record's 2-place rounding would round twice (52.349 ->
        # 52.35 -> 52.4 where the web shows 52.3)
        value = f"{t.figure.value:,.1f} {r['unit']}".strip()
        target = (
            f"{r['target']:g} ({'met' if t.target_status == 'met' else 'not met'})"
            if t.target
            else ""
        )
        known = t.england is not None and t.england.value is not None
        england = f"{t.england.value:,.1f}" if known else ""
        if t.versus_england and t.versus_england.result != "not_compared":
            england += f" ({t.versus_england.result})"
        table.add_row(
            t.indicator.short_title,
            r["period"],
            value,
            r["variation"] or "",
            target,
            england,
            r["peer_rank"] or "",
        )
    console.print(table)


@kpi_app.command("spc")
def spc_cmd(
    indicator: str = typer.Argument(..., help="Indicator id (see `pcnkit kpi list`)."),
    code: str = typer.Argument(..., help="Organisation code."),
    as_of: str | None = AsOfOpt,
    baseline: int | None = typer.Option(
        None, "--baseline", min=2, help="Fix the limits on the first N points."
    ),
    rebase: list[str] = typer.Option([], "--rebase", help="New limits from this date (repeat)."),
    screen: bool = typer.Option(
        True, "--screen/--no-screen", help="Screen large moving ranges (off: NHS Excel tool)."
    ),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """The indicator's series for the organisation with its XmR chart (mean, process limits,
    special-cause signals) per NHS England's Making Data Count."""
    from pcnkit.assurance import definitions, summary
    from pcnkit.assurance.definitions import SpcSettings

    with user_errors():
        chosen = definitions.get(indicator)
        given = baseline is not None or rebase or not screen
        settings = (
            SpcSettings(
                baseline if baseline is not None else chosen.spc.baseline,
                tuple(date_option(d) for d in rebase) or chosen.spc.rebase,
                screen,
            )
            if given
            else None
        )
        when, assurance, h = _context(workspace, as_of)
        org = h.get(code)
        t = summary.tile(assurance, h, chosen, org.code, when, settings)
    rows = summary.series_records(t)
    if _emit(fmt, output, f"{chosen.id}-{org.code}", rows, summary.SERIES_COLUMNS):
        return
    console.print(styled("[bold]{}[/]: {} ({})", chosen.title, h.name(org), org.code))
    if not rows:
        console.print(f"No figures on or before {when}: {t.reason}", markup=False)
        raise typer.Exit(0)
    table = Table("period", "value", "mean", "limits", "signal", "coverage")
    for r in rows:
        limits = (
            f"{r['lower_limit']:,.2f} to {r['upper_limit']:,.2f}"
            if r["lower_limit"] is not None
            else ""
        )
        value = "" if r["value"] is None else f"{r['value']:,.2f}"
        mean = "" if r["centre"] is None else f"{r['centre']:,.2f}"
        table.add_row(r["period"], value, mean, limits, r["signal"] or "", r["coverage"] or "")
    console.print(table)
    if t.chart:
        for note in t.chart.notes:
            console.print(note, markup=False)
        if t.chart.variation:
            console.print(styled("Variation: {}", t.chart.variation.label))
        if t.chart.assurance:
            console.print(styled("Assurance: {}", t.chart.assurance.label))


@kpi_app.command("compare")
def compare_cmd(
    indicator: str = typer.Argument(..., help="Indicator id."),
    code: str = typer.Argument(..., help="Organisation code."),
    as_of: str | None = AsOfOpt,
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """The organisation's members (worst pull first) and its peers against England."""
    from pcnkit.assurance import definitions, summary

    with user_errors():
        chosen = definitions.get(indicator)
        when, assurance, h = _context(workspace, as_of)
        org = h.get(code)
        d = summary.detail(assurance, h, chosen, org.code, when)
    members = summary.member_records(d.members)
    peers = summary.member_records(d.peers)
    if fmt is ExportFormat.xlsx:
        target = output or Path(f"{chosen.id}-{org.code}.xlsx")
        write_workbook(
            target,
            {
                "members": (members, summary.MEMBER_COLUMNS),
                "peers": (peers, summary.MEMBER_COLUMNS),
            },
            set(),
        )
        console.print(f"wrote {target}")
        return
    if _emit(fmt, output, "members", members + peers, summary.MEMBER_COLUMNS):
        return
    if d.tile.figure is None:
        err.print(f"No figures on or before {when}: {d.tile.reason}", markup=False)
        raise typer.Exit(0)
    f = d.tile.figure
    console.print(
        styled(
            "[bold]{}[/]: {} ({}), {}: {}",
            chosen.title,
            h.name(org),
            org.code,
            summary.period_words(f),
            "not calculated" if f.value is None else f"{f.value:,.2f} {chosen.unit_words}",
        )
    )
    for title, rows in (("Members (worst pull first)", members), ("Peers against England", peers)):
        if not rows:
            continue
        table = Table("code", "name", "value", "numerator", "denominator", "compared")
        for r in rows:
            table.add_row(
                r["code"],
                r["name"],
                "" if r["value"] is None else f"{r['value']:,.2f}",
                "" if r["numerator"] is None else f"{r['numerator']:,.0f}",
                "" if r["denominator"] is None else f"{r['denominator']:,.0f}",
                r["versus"] or "",
            )
        console.print(styled("[bold]{}[/]", title))
        console.print(table)


@kpi_app.command("watchlist")
def watchlist_cmd(
    area: str | None = typer.Argument(None, help="ICB, place, PCN... code (default: all)."),
    as_of: str | None = AsOfOpt,
    top: int = typer.Option(25, "--top", help="Practices to print (table format)."),
    fmt: ExportFormat = FormatOpt,
    output: Path | None = OutputOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Vulnerable practices (NHS England's 2015 criteria, as Bedfordshire's committee paper uses
    them): each practice's flags with the evidence behind each, most flags first, at a date."""
    from pcnkit.assurance import watchlist
    from pcnkit.registry import kinds

    with user_errors():
        when, assurance, h = _context(workspace, as_of)
        practices = None
        if area:
            org = h.get(area)
            found = [org] if org.kind == kinds.PRACTICE else h.descendants(org, kinds.PRACTICE)
            practices = [o.code for o in found]
        entries = watchlist.watchlist(assurance.frame, practices, when)
    table = watchlist.table(entries)
    rows = table.to_dict("records")
    if _emit(fmt, output, "watchlist", rows, list(table.columns)):
        return
    flagged = [e for e in entries if e.flags]
    scope = f"{h.name(h.get(area))} ({area.upper()})" if area else "every practice held"
    console.print(
        styled(
            "[bold]Watch-list[/] for {} as at {}: {} of {} practices flagged",
            scope,
            when,
            len(flagged),
            len(entries),
        )
    )
    for e in flagged[:top]:
        org = h.by_code.get(e.practice)
        name = h.name(org) if org else e.practice
        console.print(styled("[bold]{}[/] ({}): {} flag(s)", name, e.practice, e.score))
        for f in e.flags:
            console.print(f"  - {f.label}: {f.evidence}", markup=False)
        for reason in e.not_assessed:
            console.print(f"  . {reason}", markup=False)
    if len(flagged) > top:
        console.print(f"... and {len(flagged) - top} more (--top, or --format csv for all)")

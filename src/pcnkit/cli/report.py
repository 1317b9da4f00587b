"""`pcnkit report`: write a committee pack (PDF, Word, HTML) for an organisation and a date.

One command per pack type (`pcnkit report assurance-update BHR --as-of 2026-03-01`), and
`pcnkit report packs` to list them with their sections. The pack is built once and written in
each format asked for; a failure writes no file (`pcnkit.reports.output.write`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from pcnkit.cli.shell import (
    WorkspaceOpt,
    console,
    date_option,
    fail,
    open_workspace,
    progress_bar,
    styled,
    user_errors,
)
from pcnkit.errors import PcnkitError
from pcnkit.reports.packs import PACKS, PackRequest, PackType

report_app = typer.Typer(
    help="Committee packs: an organisation and a date turned into the paper a committee reads "
    "(PDF, Word, HTML).",
    no_args_is_help=True,
)


@report_app.command("packs")
def packs_cmd() -> None:
    """The packs pcnkit writes, and the sections each is made of (`--sections` picks some)."""
    for pack in PACKS.values():
        console.print(styled("[bold]{}[/] ({}): {}", pack.kind, pack.title, pack.about))
        table = Table("section", "title", "what it shows")
        for s in pack.sections:
            table.add_row(s.key, s.title, s.about)
        console.print(table)


def _sections(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    return tuple(s for s in (x.strip() for x in value.split(",")) if s)


def _targets(formats: list[str], output: Path | None, doc, filename) -> list[tuple[str, Path]]:
    """(format, path) for each format: `output` is a file (with one format) or a folder
    (an existing one, or a name without a suffix, made if missing)."""
    wanted = list(dict.fromkeys(formats))
    if output is not None and output.exists() and not output.is_dir() and not output.suffix:
        raise PcnkitError(
            f"--output {output} exists and is not a folder; give a folder, or a file name "
            "ending .pdf, .docx or .html"
        )
    if output is None or output.is_dir() or not output.suffix:
        folder = output or Path.cwd()
        folder.mkdir(parents=True, exist_ok=True)
        return [(fmt, folder / filename(doc, fmt)) for fmt in wanted]
    if len(wanted) > 1:
        raise PcnkitError(
            f"--output {output} is one file but {len(wanted)} formats were asked for; give a "
            "folder, or one --format"
        )
    if output.suffix.lower().lstrip(".") != wanted[0]:
        raise PcnkitError(f"--output {output} does not end in .{wanted[0]} (--format {wanted[0]})")
    return [(wanted[0], output)]


def _command(pack: PackType):
    paper = pack.kind == "funding-paper"  # only the funding paper reads published inputs

    def command(
        code: str = typer.Argument(..., help="Organisation code (ICS, place, PCN or practice)."),
        as_of: str | None = typer.Option(
            None, "--as-of", help="The date the pack is about (YYYY-MM-DD); default today."
        ),
        year: str | None = typer.Option(
            None, "--year", help="Contract year, e.g. 2019/20; default the year of --as-of."
        ),
        sections: str | None = typer.Option(
            None,
            "--sections",
            help=f"Comma-separated sections (default all): {', '.join(pack.section_keys())}.",
        ),
        previous: str | None = typer.Option(
            None,
            "--previous",
            help="The last pack's date, for 'what has changed' (default three months earlier).",
            hidden="changes" not in pack.section_keys(),
        ),
        formats: list[str] | None = typer.Option(
            None,
            "--format",
            "-f",
            help="pdf, docx or html; repeat for several (default: the --output file's suffix, "
            "else pdf).",
        ),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="File to write, or a folder (default: this folder)."
        ),
        statement: Path | None = typer.Option(
            None,
            "--statement",
            help="Funding paper: published figures to set beside pcnkit's.",
            hidden=not paper,
        ),
        scenario: Path | None = typer.Option(
            None,
            "--scenario",
            help="Funding paper: a scenario of rates (YAML).",
            hidden=not paper,
        ),
        lists: Path | None = typer.Option(
            None,
            "--lists",
            help="Funding paper: list sizes (CSV) in place of the registry's.",
            hidden=not paper,
        ),
        published_name: str | None = typer.Option(
            None,
            "--published",
            help="Funding paper: a published paper's inputs the workspace holds, by name "
            "(statement, scenario and lists at once).",
            hidden=not paper,
        ),
        workspace: Path | None = WorkspaceOpt,
    ) -> None:
        from pcnkit.reports.output import FORMATS, filename, write

        if not formats:
            suffix = output.suffix.lower().lstrip(".") if output is not None else ""
            formats = [suffix if suffix in FORMATS else "pdf"]
        formats = [f.strip().lower().lstrip(".") for f in formats]
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            fail(PcnkitError(f"--format {unknown[0]}: choose {', '.join(sorted(FORMATS))}"))
        for given, what in (
            (statement, "--statement"),
            (scenario, "--scenario"),
            (lists, "--lists"),
        ):
            if given is not None and not given.is_file():
                fail(PcnkitError(f"{what} {given}: no such file"))
        inputs_title, totals = None, None
        if published_name:
            from pcnkit.reports import published

            with user_errors():
                held = published.find(open_workspace(workspace), published_name)
            statement = statement or held.statement
            scenario = scenario or held.scenario
            lists = lists or held.lists
            totals = held.totals
            inputs_title = held.title
            with user_errors():
                year = published.year_for(held, year)
        request = PackRequest(
            kind=pack.kind,
            organisation=code,
            as_of=date_option(as_of, dt.date.today()),
            year=year,
            sections=_sections(sections),
            previous_as_of=date_option(previous),
            statement=statement,
            scenario=scenario,
            lists=lists,
            totals=totals,
            inputs_title=inputs_title,
        )
        from pcnkit.reports.packs import build

        with user_errors(OSError, fields={"year": "year"}):
            ws = open_workspace(workspace)
            with progress_bar() as bar:
                task = bar.add_task(pack.title, total=len(pack.sections) + 1)

                def told(title: str, done: int, of: int) -> None:
                    bar.update(task, description=title, completed=done, total=of + 1)

                doc = build(ws, request, progress=told)
                targets = _targets(formats, output, doc, filename)
                written = []
                for fmt, path in targets:
                    bar.update(task, description=f"writing {fmt}")
                    written.append(write(doc, path, fmt))
                bar.update(task, description="written", completed=len(doc.sections) + 1)
        for path in written:
            console.print(styled("wrote {}", path))
        if doc.unconfirmed:
            console.print(
                styled(
                    "[yellow]{} figure(s) not confirmed[/]: listed on the cover",
                    len(doc.unconfirmed),
                )
            )

    command.__doc__ = f"{pack.title}: {pack.about}."
    return command


for _pack in PACKS.values():
    report_app.command(_pack.kind)(_command(_pack))

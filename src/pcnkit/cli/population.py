"""`pcnkit population ...`: a thin shell over the population health library.

The population lives in the workspace's ``population/`` folder (Parquet tables, then
``results/`` after stratification). Patient-level output (cohorts and lists) is printed only
for a named practice or PCN.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from pcnkit import spreadsheet
from pcnkit.cli.shell import (
    Format,
    WorkspaceOpt,
    console,
    date_option,
    err,
    fail,
    open_workspace,
    progress_bar,
    styled,
    user_errors,
)
from pcnkit.errors import PcnkitError
from pcnkit.population.workspace import (
    RISING_RISK,
    generate_population,
    import_population,
    patient_list,
    population_folder,
    scope_practices,
    stratify_population,
)

population_app = typer.Typer(
    help="Population health: synthetic or extracted patients, risk, tiers, case-finding lists.",
    no_args_is_help=True,
)


def generate_with_progress(
    workspace: Path | None,
    area: str,
    seed: int,
    as_of: dt.date,
    qof: Path,
    patients: int | None,
    replace: bool,
):
    """`generate_population` with the progress bar on stderr."""
    with progress_bar() as bar:
        task = bar.add_task("generating practices", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, total=total, completed=done)

        return generate_population(
            workspace, area, seed, as_of, qof, patients, replace, progress=progress
        )


@population_app.command("generate")
def generate_cmd(
    area: str = typer.Option(..., "--area", help="Registry code of the area (e.g. BHR, a PCN)."),
    seed: int = typer.Option(..., "--seed", help="Same seed, same population."),
    patients: int | None = typer.Option(None, "--patients", help="Scale lists to N patients."),
    as_of: str = typer.Option("2020-01-01", "--as-of", help="Date the population describes."),
    qof: Path | None = typer.Option(None, "--qof", help="QOF PREVALENCE_yyyy.csv (registers)."),
    replace: bool = typer.Option(False, "--replace", help="Replace a synthetic population."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Generate a SYNTHETIC population calibrated to the area's real lists and QOF registers."""
    from pcnkit.demo import demo_data
    from pcnkit.population.calibration import prevalence_report
    from pcnkit.population.engine import PopulationStore

    when = date_option(as_of)
    qof = qof or demo_data() / "PREVALENCE_1920.csv"
    with user_errors():
        folder, report = generate_with_progress(workspace, area, seed, when, qof, patients, replace)
        with PopulationStore(folder) as store:
            calibration = prevalence_report(store, qof).summary()
    console.print(
        f"SYNTHETIC population in {folder}: {report.practices} practices, "
        f"{report.patients:,} patients, {report.conditions:,} register entries "
        f"({report.seconds:.1f} s). No row describes a real person."
    )
    print_calibration(calibration)


def print_calibration(c: dict) -> None:
    console.print(
        f"Register prevalence against {c['source']}: {c['practice_registers']} practice "
        f"registers in {c['practices']} practices, mean absolute error "
        f"{c['mean_abs_error_points']:.3f} percentage points, largest "
        f"{c['max_abs_error_points']:.3f}; {c['within_0_1_points']} within 0.1 points."
    )


@population_app.command("stratify")
def stratify_cmd(
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (embedded) or spark."),
    quota: float = typer.Option(50, "--quota", help="Rising-risk quota per 10,000 list."),
    as_of: str | None = typer.Option(None, "--as-of", help="Index date (default: the data's)."),
    model: Path | None = typer.Option(None, "--model", help="A saved model (JSON) to use."),
    save_model: Path | None = typer.Option(None, "--save-model", help="Write the model here."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Measures, risk model, tiers, rising-risk cohort and every case-finding list."""
    result = run_stratify(workspace, engine, quota, date_option(as_of), model, save_model)
    print_stratification(result.summary, result.seconds)


def run_stratify(workspace, engine, quota, as_of, model_path, save_model):
    """`stratify_population` with the progress bar; a bad model file ends the command."""
    with user_errors(OSError, ValueError), progress_bar() as bar:
        task = bar.add_task("stratifying", total=6)

        def step(label: str) -> None:
            bar.update(task, description=label, advance=1)

        return stratify_population(workspace, engine, quota, as_of, model_path, save_model, step)


def cohort_sentence(rr: dict) -> str:
    """The rising-risk cohort line; when the cohort count is redacted its rate is too, and the
    line says so rather than printing "None per 10,000"."""
    rate = (
        f"{rr['per_10000']} per 10,000"
        if rr["per_10000"] is not None
        else "rate not shown (the count is redacted)"
    )
    return (
        f"Rising-risk cohort: {rr['cohort']} people = {rate} "
        f"(quota {rr['quota_per_10000']} per 10,000 per practice; {rr['quota_source']})."
    )


def print_stratification(summary: dict, seconds: dict | None = None) -> None:
    label = " (SYNTHETIC DATA)" if summary["synthetic"] else ""
    console.print(
        f"Stratified {summary['patients']} patients as at {summary['as_of']} on "
        f"{summary['engine']}{label}. Counts are rounded to 5, 1-7 shown as [REDACTED]."
    )
    t = Table(title="Triangle of care")
    t.add_column("tier")
    t.add_column("patients", justify="right")
    for tier, n in summary["tiers"].items():
        t.add_row(tier, n)
    console.print(t)
    console.print(cohort_sentence(summary["rising_risk"]))
    t = Table(title="Case-finding lists")
    t.add_column("list")
    t.add_column("people", justify="right")
    t.add_column("criteria (all of / any of)")
    for lid, info in summary["lists"].items():
        rule = "; ".join(info["all_of"])
        if info["any_of"]:
            rule += f" AND any of: {'; '.join(info['any_of'])}"
        t.add_row(f"{lid}\n{info['name']}", info["people"], rule)
    console.print(t)
    v = summary.get("validation")
    if v:
        t = Table(title=f"Risk model on the hold-out ({v['holdout_n']:,} patients)")
        for col in ("model", "C-statistic", "calibration slope", "PPV top 1%", "sens. top 5%"):
            t.add_column(col, justify="left" if col == "model" else "right")
        for r in v["comparison"]:
            t.add_row(
                r["model"],
                f"{r['c_statistic']:.3f}",
                f"{r['calibration_slope']:.2f}",
                f"{r['ppv_top1pct']:.3f}",
                f"{r['sensitivity_top5pct']:.3f}",
            )
        console.print(t)
        console.print("truth = the generator's true probability: the ceiling, synthetic only.")
    console.print(summary["model"]["formula"], highlight=False)
    if seconds:
        console.print("Timing: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))


def _warn_if_not_data_date(as_of: dt.date, data_as_of: dt.date) -> None:
    """Patient-level answers are as at the extract date (ARCHITECTURE principle 8): say so when
    --as-of chose the registry at another date."""
    if as_of != data_as_of:
        err.print(
            f"warning: the patients are as at {data_as_of.isoformat()} (the population's "
            f"extract date); --as-of {as_of.isoformat()} chose the practices in scope on that "
            "other date. Leave --as-of out to use the extract date for both.",
            markup=False,
            highlight=False,
        )


@population_app.command("cohort")
def cohort_cmd(
    name: str = typer.Argument(..., help=f"'{RISING_RISK}' or a case-finding list id."),
    practice: str | None = typer.Option(None, "--practice", help="Practice code."),
    pcn: str | None = typer.Option(None, "--pcn", help="PCN code (its member practices)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Registry date for --pcn members."),
    fmt: Format = typer.Option(Format.table, "--format"),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """A patient list for ONE practice or PCN (direct care): who, and why."""
    from pcnkit.population.engine import PopulationStore

    with user_errors(), PopulationStore(population_folder(workspace)) as store:
        when = date_option(as_of, store.require_as_of())
        _warn_if_not_data_date(when, store.require_as_of())
        found = patient_list(store, name, scope_practices(workspace, practice, pcn, when))
    rows, title, reason, synthetic = found.rows, found.title, found.reason, found.synthetic
    if fmt is Format.json:
        sys.stdout.write(json.dumps(rows, default=str, indent=1) + "\n")
        return
    if fmt is Format.csv:
        fields = list(rows[0]) if rows else ["pseudonym"]
        spreadsheet.write_csv(sys.stdout, fields, rows)
        return
    scope = practice or pcn
    t = Table(title=f"{title}: {scope} ({len(rows)} people){' - SYNTHETIC' if synthetic else ''}")
    for col in ("practice", "pseudonym", "age", "sex", "risk", "why"):
        t.add_column(col, justify="right" if col in ("age", "risk") else "left")
    for r in rows:
        risk = r.get("predicted_risk")
        t.add_row(
            r["practice"],
            r["pseudonym"],
            str(r["age"]),
            r["sex"],
            "" if risk is None else f"{risk:.3f}",
            r[reason],
        )
    console.print(t)


@population_app.command("pack")
def pack_cmd(
    pcn: str | None = typer.Option(None, "--pcn", help="PCN code."),
    area: str | None = typer.Option(None, "--area", help="Any organisation code."),
    as_of: str | None = typer.Option(None, "--as-of", help="Registry date (default: data's)."),
    fmt: Format = typer.Option(Format.table, "--format"),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """The population health pack (safe aggregates only) for a PCN or any area."""
    from pcnkit.population.engine import PopulationStore
    from pcnkit.population.pack import pack_for_area, pack_for_pcn

    if bool(pcn) == bool(area):
        fail(PcnkitError("name exactly one scope: --pcn CODE or --area CODE"))
    with user_errors(), PopulationStore(population_folder(workspace)) as store:
        when = date_option(as_of, store.require_as_of())
        _warn_if_not_data_date(when, store.require_as_of())
        ws = open_workspace(workspace)
        with ws.sessions() as session:
            pack = (
                pack_for_pcn(session, store, pcn, when)
                if pcn
                else pack_for_area(session, store, area, when)
            )
        ws.dispose()
    data = pack.to_dict()
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, default=str, indent=1) + "\n")
        return
    if fmt is Format.csv:
        writer = spreadsheet.SafeWriter(sys.stdout, lineterminator="\r\n")
        for table in data["tables"].values():
            rows = table["rows"]
            if not rows:
                continue
            writer.writerow([f"# {table['title']}"])
            writer.writerow(list(rows[0]))
            for r in rows:
                writer.writerow(list(r.values()))
        return
    console.print(
        f"Population health pack for {data['scope']} ({len(data['practices'])} practices, "
        f"{data['patients']} patients){' - SYNTHETIC DATA' if data['synthetic'] else ''}"
    )
    for table in data["tables"].values():
        rows = table["rows"]
        if not rows:
            continue
        t = Table(title=table["title"], caption=table["definition"])
        for col in rows[0]:
            t.add_column(col)
        for r in rows:
            t.add_row(*[str(v) for v in r.values()])
        console.print(t)


@population_app.command("check-definitions")
def check_definitions_cmd(
    as_of: str = typer.Option("2020-01-01", "--as-of"),
) -> None:
    """Run every tier rule's and case-finding list's embedded test patients."""
    from pcnkit.population import casefinding, segments

    when = date_option(as_of)
    failures = segments.check_test_patients(when) + casefinding.check_test_patients(when)
    if failures:
        for f in failures:
            err.print(styled("[red]FAIL[/] {}", f))
        raise typer.Exit(1)
    n = len(segments.TEST_PATIENTS) + sum(len(d.test_patients) for d in casefinding.LISTS)
    console.print(f"All {n} embedded test patients give the expected answer as at {when}.")


@population_app.command("definitions")
def definitions_cmd(
    fmt: Format = typer.Option(Format.table, "--format", help="table, csv or json."),
) -> None:
    """List the case-finding definitions: what each is for, its criteria as rules, and who
    wrote and reviewed it (csv: one row per criterion; json: one object per list)."""
    from pcnkit.population import casefinding

    if fmt != Format.table:
        typer.echo(casefinding.export_definitions(fmt.value), nl=False)
        return
    unreviewed = [d.id for d in casefinding.LISTS if not d.reviewed]
    for d in casefinding.LISTS:
        r = casefinding.definition_record(d)
        review = (
            f"clinical review on {r['reviewed']['date']} by {r['reviewed']['by']}"
            if d.reviewed
            else "NO CLINICAL REVIEW RECORDED"
        )
        console.print(styled("[bold]{}[/] (version {}): {}", d.id, d.version, d.title))
        # definition text comes from editable YAML: printed as written, never read as markup
        console.print(f"  {d.specification}", markup=False)
        console.print(
            f"  Authored by {d.authored_by}; {review}; next review due {r['next_review']}",
            markup=False,
        )
        for group, words in (("all_of", "all of"), ("any_of", "any of")):
            if r[group]:
                console.print(f"  {words}:")
                for c in r[group]:
                    console.print(styled("    {} [dim]({})[/]", c["label"], c["rule"]))
    if unreviewed:
        # said once more at the end, where a reader who scrolled past the lists will see it
        console.print(
            f"{len(unreviewed)} of {len(casefinding.LISTS)} definitions have no clinical review "
            f"recorded ({', '.join(unreviewed)}): a clinician should check them before the "
            "lists are used for care."
        )


@population_app.command("import")
def import_cmd(
    source: Path = typer.Argument(..., help="Folder of patients.csv, conditions.csv, ..."),
    as_of: str = typer.Option(..., "--as-of", help="The date the extract describes."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Import a pseudonymised extract (validated first; nothing is written if it is bad)."""
    when = date_option(as_of)
    with user_errors():
        report = import_population(workspace, source, when)
    console.print(
        f"Imported {', '.join(f'{t} {n:,}' for t, n in report.rows.items())} rows into "
        f"{report.store_dir}."
    )
    for w in report.warnings:
        err.print(styled("[yellow]warning:[/] {}", w))

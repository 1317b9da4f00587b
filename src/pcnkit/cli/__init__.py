"""The `pcnkit` command. Every Typer and Rich shell lives in this package, over the library:
no rule is decided here (ruff's banned-api check keeps typer and rich out of the rest)."""

import typer

from pcnkit.cli.demo import demo
from pcnkit.cli.funding import funding_app
from pcnkit.cli.funding_service import funding_iif, funding_obligations  # noqa: F401 (registers)
from pcnkit.cli.kpi import kpi_app
from pcnkit.cli.population import population_app
from pcnkit.cli.registry import registry_app
from pcnkit.cli.report import report_app
from pcnkit.cli.serve import serve_command
from pcnkit.cli.shell import close_workspaces
from pcnkit.cli.users import users_app

app = typer.Typer(help="pcnkit: primary care at scale for the English NHS.", no_args_is_help=True)


@app.callback()
def _every_command(ctx: typer.Context) -> None:
    # the workspaces a command opens are closed when it ends, error or not
    ctx.call_on_close(close_workspaces)


app.add_typer(registry_app, name="registry")
app.add_typer(funding_app, name="funding")
app.add_typer(population_app, name="population")
app.add_typer(kpi_app, name="kpi")
app.add_typer(report_app, name="report")
app.add_typer(users_app, name="users")
app.command("demo")(demo)
app.command("serve")(serve_command)

__all__ = ["app"]

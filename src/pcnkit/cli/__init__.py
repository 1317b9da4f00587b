"""The `pcnkit` command: every Typer and Rich shell lives in this package, over the library."""

from pcnkit.cli.registry import app

__all__ = ["app"]

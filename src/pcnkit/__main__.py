"""`python -m pcnkit`: the same command as `pcnkit`."""

from pcnkit.cli import app

if __name__ == "__main__":
    app(prog_name="pcnkit")

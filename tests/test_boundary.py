"""The boundary between the library and its shells is enforced by ruff (banned-api, TID251):
a domain module that imports a shell library fails the build; the CLI package may import only
Typer and Rich, the web package only FastAPI, Starlette, Jinja and Uvicorn."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "pcnkit"


def ruff_tid251(*paths: Path, cwd: Path, select: bool = True) -> subprocess.CompletedProcess[str]:
    """`ruff check --select TID251` (or, select=False, with the rules the project selects)."""
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise"]
    command += ["--select", "TID251"] if select else []
    command += map(str, paths)
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def project_copy(tmp_path: Path) -> Path:
    """The ruff configuration (pyproject.toml and the shells' ruff.toml files) and one module
    from each layer, copied into a scratch project."""
    copy = tmp_path / "project"
    (copy / "src" / "pcnkit").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for module in ("funding/money.py", "cli/shell.py", "web/tables.py"):
        target = copy / "src" / "pcnkit" / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PACKAGE / module, target)
    for shell in ("cli", "web"):
        shutil.copy(PACKAGE / shell / "ruff.toml", copy / "src" / "pcnkit" / shell / "ruff.toml")
    return copy


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


def test_the_real_tree_keeps_the_boundary():
    result = ruff_tid251(
        ROOT / "src", ROOT / "tests", ROOT / "benchmarks", ROOT / "scripts", cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unchanged_copies_pass(tmp_path):
    copy = project_copy(tmp_path)
    result = ruff_tid251(copy / "src", cwd=copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_domain_module_importing_typer_fails(tmp_path):
    copy = project_copy(tmp_path)
    add_line(copy / "src/pcnkit/funding/money.py", "import typer  # noqa: F401")
    result = ruff_tid251(copy / "src", cwd=copy)
    assert result.returncode == 1
    assert "money.py" in result.stdout
    assert "TID251 `typer` is banned" in result.stdout
    # and `ruff check` as the build runs it (the project's own rule selection) fails too
    build = ruff_tid251(copy / "src", cwd=copy, select=False)
    assert build.returncode == 1
    assert "money.py" in build.stdout and "TID251 `typer` is banned" in build.stdout


def test_a_domain_module_importing_any_shell_library_fails(tmp_path):
    copy = project_copy(tmp_path)
    banned = ["rich.table", "fastapi", "starlette.requests", "jinja2", "uvicorn"]
    for module in banned:
        add_line(copy / "src/pcnkit/funding/money.py", f"import {module}  # noqa: F401")
    result = ruff_tid251(copy / "src", cwd=copy)
    assert result.returncode == 1
    for module in banned:
        assert f"TID251 `{module.split('.')[0]}` is banned" in result.stdout


def test_each_shell_may_import_only_its_own_libraries(tmp_path):
    copy = project_copy(tmp_path)
    cli, web = copy / "src/pcnkit/cli/shell.py", copy / "src/pcnkit/web/tables.py"
    add_line(cli, "import typer.testing  # noqa: F401")
    add_line(web, "import starlette.responses  # noqa: F401")
    assert ruff_tid251(copy / "src", cwd=copy).returncode == 0
    add_line(cli, "import fastapi  # noqa: F401")
    add_line(web, "from rich.text import Text  # noqa: F401")
    result = ruff_tid251(copy / "src", cwd=copy)
    assert result.returncode == 1
    assert "shell.py" in result.stdout and "TID251 `fastapi` is banned" in result.stdout
    assert "tables.py" in result.stdout and "TID251 `rich` is banned" in result.stdout

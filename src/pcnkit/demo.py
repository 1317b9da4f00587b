"""The BHR demo: a workspace built from the real-data extract shipped with the package."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from pcnkit.errors import PcnkitError
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.importers import expand, parse_file
from pcnkit.store import Workspace, open_workspace

MARKER = ".pcnkit-demo"
DEMO_AREA = "BHR"


def demo_data() -> Path:
    return Path(str(resources.files("pcnkit") / "data" / "demo"))


def build_demo(folder: Path) -> Workspace:
    """(Re)build the demo workspace in `folder`, always on SQLite inside the folder, so that a
    PCNKIT_DATABASE_URL pointing at a real database is never touched."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise PcnkitError(
                f"{folder} exists and is not a demo workspace; choose another --workspace"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("built by `pcnkit demo`; rebuilt on every run\n")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    chosen, _ = expand([demo_data()])
    batches = [parse_file(s.path, None, s) for s in chosen]
    with ws.transaction() as session:
        apply_batches(session, batches)
    return ws

"""The BHR demo: a workspace built from the real-data extract shipped with the package."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from pcnkit.access.users import add_user
from pcnkit.errors import PcnkitError
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_registry
from pcnkit.funding.rules import rules_for
from pcnkit.registry import kinds
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.importers import expand, parse_file
from pcnkit.registry.queries import Hierarchy
from pcnkit.store import Workspace, open_workspace

MARKER = ".pcnkit-demo"
DEMO_AREA = "BHR"
DEMO_YEAR = "2019/20"
DEMO_SEED = 2019
DEMO_POPULATION_AS_OF = dt.date(2020, 1, 1)  # the QOF 2019/20 registers' list date


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


@dataclass
class DemoFunding:
    streams: list[str]
    by_place: dict[str, dict[str, Decimal]]
    pcns: dict[str, int]
    unconfirmed: str


def demo_funding(session: Session) -> DemoFunding:
    """BHR's 2019/20 entitlements by borough, from the registry (ePCN December 2019 membership,
    lists at 1 January 2019)."""
    rules = rules_for(DEMO_YEAR)
    pops = from_registry(
        session, rules.start, rules.list_reference_date, DEMO_AREA, rules.membership_from
    )
    lines = entitlements(pops, rules)
    h = Hierarchy.at(session, rules.membership_from or rules.start)
    place_of = {}
    for place in h.members(h.get(DEMO_AREA), kinds.PLACE):
        for pcn in h.members(place, kinds.PCN):
            place_of[pcn.code] = h.name(place)
    by_place: dict[str, dict[str, Decimal]] = {}
    pcns: dict[str, set[str]] = {}
    for line in lines:
        place = place_of.get(line.pcn_code, "other")
        row = by_place.setdefault(place, {})
        row[line.stream] = row.get(line.stream, Decimal(0)) + line.amount
        pcns.setdefault(place, set()).add(line.pcn_code)
    unconfirmed = sorted({f"{x.stream} ({x.status})" for x in lines if not x.confirmed})
    note = f"Not confirmed: {', '.join(unconfirmed)}." if unconfirmed else ""
    return DemoFunding(list(rules.streams), by_place, {k: len(v) for k, v in pcns.items()}, note)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    scope: str
    sees: str


# One user of each kind the web application serves, on the real BHR organisations.
DEMO_USERS = (
    (
        "nel.icb",
        "commissioner",
        "QMF",
        "North East London ICS: aggregates for every PCN and practice",
    ),
    ("havering.place", "commissioner", "PL-HAV", "Havering place: aggregates only"),
    ("havering.south", "pcn", "U00367", "Havering South PCN and its practices' patient lists"),
    ("haiderian.practice", "practice", "F82002", "Haiderian Medical Centre only"),
)
LOGINS_FILE = "demo-logins.txt"


def demo_users(session: Session, folder: Path) -> list[DemoLogin]:
    """The demo's users, with fresh random passwords on every build (printed and kept in the
    workspace's demo-logins.txt, readable by its owner only)."""
    logins = []
    for username, role, scope, sees in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        add_user(session, username, password, role, scope, dt.datetime.now())
        logins.append(DemoLogin(username, password, role, scope, sees))
    path = Path(folder) / LOGINS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        for x in logins:
            out.write(f"{x.username}\t{x.password}\t{x.role}\t{x.scope}\t{x.sees}\n")
    return logins

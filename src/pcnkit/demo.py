"""The BHR demo: a workspace built from the real-data extract shipped with the package."""

from __future__ import annotations

import csv
import datetime as dt
import os
import secrets
import shutil
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pcnkit.access.users import add_user
from pcnkit.dates import months_between
from pcnkit.errors import PcnkitError
from pcnkit.funding import ledger
from pcnkit.funding.entitlements import entitlements, total
from pcnkit.funding.populations import from_registry
from pcnkit.funding.rules import rules_for
from pcnkit.funding.summary import group_totals
from pcnkit.funding.summary import unconfirmed as unconfirmed_streams
from pcnkit.registry import kinds
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.importers import expand, parse_file
from pcnkit.registry.queries import Hierarchy
from pcnkit.store import Workspace, open_workspace
from pcnkit.store.layout import Layout
from pcnkit.store.models import PaymentLine, SourceFile

if TYPE_CHECKING:
    from pcnkit.assurance.loading import LoadResult

MARKER = ".pcnkit-demo"
# how a source cut down for the demo is titled, so its row numbers are not read as the
# publication's own
DEMO_EXTRACT = "pcnkit demo extract, BHR rows only"
DEMO_AREA = "BHR"
DEMO_YEAR = "2019/20"
DEMO_SEED = 2019
DEMO_POPULATION_AS_OF = dt.date(2020, 1, 1)  # the QOF 2019/20 registers' list date
# the assurance extract's newest figures: February 2026 (online consultation and telephony)
# and the 1 March 2026 registered lists
DEMO_ASSURANCE_AS_OF = dt.date(2026, 3, 1)


def demo_data() -> Path:
    return Path(str(resources.files("pcnkit") / "data" / "demo"))


ASSURANCE_FOLDER = "assurance"

# The Havering paper's inputs (July 2019), for `pcnkit report funding-paper --statement ...`
PAPER_FOLDER = "funding"
PAPER_INPUTS = {
    "statement": "havering-paper-2019-20-statement.csv",
    "scenario": "havering-paper-2019-20-scenario.yaml",
    "lists": "havering-paper-2019-20-lists.csv",
    "totals": "havering-paper-2019-20-totals.csv",
}


def demo_paper_inputs() -> dict[str, Path]:
    """The Havering paper's published table (`statement`), its rates (`scenario`: the clinical
    director at £0.514) and the PCN lists derived from the table (`lists`), shipped so a
    commissioner can make the funding paper from the demo and see it reproduced. The registry
    load of the demo reads the top level of the data folder only, so these are never loaded
    as registry files."""
    folder = demo_data() / PAPER_FOLDER
    return {key: folder / name for key, name in PAPER_INPUTS.items()}


DEMO_PAPER = "havering-2019-20"  # the name the web offers the paper's inputs by


def demo_published(ws: Workspace) -> None:
    """Keep the Havering paper's inputs in the workspace as a published paper
    (`pcnkit.reports.published`), so the funding paper pack can be made "as the paper"."""
    from pcnkit.reports import published

    published.install(ws, demo_data() / PAPER_FOLDER, DEMO_PAPER)


def demo_assurance_files() -> list[Path]:
    """What the demo's assurance load reads: the assurance subfolder (online consultation,
    telephony, CQC, workforce, QOF CVD, PCN data matrix) and the QOF prevalence files the
    registry also reads, shipped once at the top level."""
    return [demo_data() / ASSURANCE_FOLDER, *sorted(demo_data().glob("PREVALENCE_*.csv"))]


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
    ws = open_workspace(folder, url=Layout(folder).sqlite_url)
    chosen, _ = expand([demo_data()])
    # the registry is the top level only: the assurance subfolder is another load's
    chosen = [s for s in chosen if s.path.parent == demo_data()]
    batches = [parse_file(s.path, None, s) for s in chosen]
    with ws.transaction() as session:
        apply_batches(session, batches)
    return ws


def demo_assurance(ws: Workspace) -> LoadResult:
    """Load the demo's assurance publications into `ws` in one all-or-nothing load, after the
    registry (values are computed from the registry's membership at each period)."""
    from pcnkit.assurance.loading import load_paths

    result = load_paths(ws.transaction, demo_assurance_files())
    # Rows in the cut files are the extract's, not NHS England's: say so wherever a figure is
    # cited (the CQC file is shipped whole, so its rows are the publication's own).
    folder = str(demo_data() / ASSURANCE_FOLDER)
    with ws.transaction() as session:
        session.execute(
            update(SourceFile)
            .where(
                SourceFile.name.startswith(folder),
                ~SourceFile.name.contains("cqc_ratings"),
                ~SourceFile.publisher.contains(DEMO_EXTRACT),
            )
            .values(publisher=SourceFile.publisher + f" ({DEMO_EXTRACT})")
        )
    return result


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
    pops = from_registry(session, rules, DEMO_AREA)
    lines = entitlements(pops, rules)
    h = Hierarchy.at(session, rules.membership_from or rules.start)
    place_of = {}
    for place in h.members(h.get(DEMO_AREA), kinds.PLACE):
        for pcn in h.members(place, kinds.PCN):
            place_of[pcn.code] = h.name(place)
    groups = group_totals(lines, lambda line: place_of.get(line.pcn_code, "other"))
    by_place = {place: group.known() for place, group in groups.items()}
    pcns = {place: len(group.pcns) for place, group in groups.items()}
    unconfirmed = sorted({f"{u.name} ({u.words})" for u in unconfirmed_streams(lines)})
    note = f"Not confirmed: {'; '.join(unconfirmed)}." if unconfirmed else ""
    missing = total(lines).gaps
    if missing:
        note += f" Incomplete: {'; '.join(missing)}."
    return DemoFunding(list(rules.streams), by_place, pcns, note)


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


# --- funding demo data: an illustrative ARRS roster and a 2019/20 ledger ---------------------

# The 2019/20 DES reimbursed one post of each role per PCN, two for a PCN of over 100,000
# patients (Havering South); the paper planned on exactly that.
DEMO_ARRS_DOUBLE_ABOVE = 100_000
# The Havering paper's planning assumption (July 2019): a band 5 social prescribing link worker
# and a clinical pharmacist in post in every PCN from 1 July 2019, at these annual costs.
DEMO_ARRS_POSTS = (
    ("social_prescribing_link_worker", "34113"),
    ("clinical_pharmacist", "91868"),
)
DEMO_ARRS_START = dt.date(2019, 7, 1)
DEMO_ROSTER_LABEL = (
    "ILLUSTRATIVE: the 2019/20 ARRS staff are the Havering paper's planning assumption (a "
    "social prescribing link worker and a clinical pharmacist in every PCN from 1 July 2019), "
    "not real staff; the ARRS claims, headroom and roles in post rest on them."
)


def demo_staff(session: Session, folder: Path) -> Path:
    """Write `<folder>/funding/arrs-staff-2019-20.csv`: ILLUSTRATIVE planning posts, not real
    staff (one social prescribing link worker and one clinical pharmacist per BHR PCN from
    1 July 2019, two of each where the PCN has over 100,000 patients: Havering South), in the
    format `arrs.read_staff_csv` reads."""
    rules = rules_for(DEMO_YEAR)
    h = Hierarchy.at(session, rules.membership_from or rules.start)
    sizes = {
        pcn.code: h.area_list(h.members(pcn, kinds.PRACTICE)).total
        for pcn in h.pcns_in(h.get(DEMO_AREA))
    }
    layout = Layout(Path(folder))
    target = layout.arrs_roster(DEMO_YEAR)
    target.parent.mkdir(parents=True, exist_ok=True)
    layout.arrs_roster_label(DEMO_YEAR).write_text(DEMO_ROSTER_LABEL + "\n", encoding="utf-8")
    with open(target, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["pcn_code", "role", "wte", "start", "end", "annual_cost", "name", "planned"]
        )
        for pcn, size in sorted(sizes.items()):
            posts = 2 if size > DEMO_ARRS_DOUBLE_ABOVE else 1
            for role, cost in DEMO_ARRS_POSTS:
                for n in range(1, posts + 1):
                    writer.writerow(
                        [
                            pcn,
                            role,
                            "1.0",
                            DEMO_ARRS_START.isoformat(),
                            "",
                            cost,
                            f"illustrative post {n} (Havering paper planning assumption)",
                            "no",
                        ]
                    )
    return target


def demo_ledger(session: Session) -> int:
    """Pay every payment month of 2019/20 for BHR into the ledger, as `pcnkit funding run
    --year 2019/20 --area BHR --month ...` does month by month; the number of lines written
    (0 when the ledger already holds everything due)."""
    rules = rules_for(DEMO_YEAR)
    pops = from_registry(session, rules, DEMO_AREA)
    lines = entitlements(pops, rules)
    inputs = f"{pops.origin}; area {DEMO_AREA}; lists as at {rules.list_reference_date}"
    # A run pays everything due to date, so months are run in order and only those after the
    # last month already in the ledger (running April again after June would claw back).
    last = session.scalar(
        select(func.max(PaymentLine.payment_month)).where(PaymentLine.year == rules.year)
    )
    written = 0
    for month in months_between(rules.start, dt.date(rules.start.year + 1, 6, 1)):
        if last is None or month > last:
            written += len(ledger.run_month(session, rules, lines, month, inputs).lines)
    return written

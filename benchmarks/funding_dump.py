"""Every entitlement line and schedule cell for every contract year, as text, to compare two
versions of the funding engine (a speed-up must change nothing, to the penny and in every field).

    PYTHONPATH=<old src> .venv/bin/python benchmarks/funding_dump.py -w WORKSPACE before.txt
    PYTHONPATH=$PWD/src  .venv/bin/python benchmarks/funding_dump.py -w WORKSPACE after.txt
    cmp before.txt after.txt

Writes each line's `as_row()` with the repr and type of every value (so 47907.00 and 47907.0000
differ), its properties, every schedule-table cell in order, totals by stream and PCN, the exact
total, and the Decimal payments (`schedule`) of every seventh line. Opening a workspace may
upgrade its tables: point it at a copy of one you must not change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pcnkit.funding.entitlements import entitlements, exact_totals, totals
from pcnkit.funding.populations import from_registry
from pcnkit.funding.rules import known_years, rules_for
from pcnkit.funding.schedule import schedule, schedule_table
from pcnkit.store import open_workspace


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-w", "--workspace", type=Path, required=True)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    ws = open_workspace(args.workspace)
    with ws.sessions() as session, args.out.open("w", encoding="utf-8") as f:
        for year in known_years():
            rules = rules_for(year)
            lines = entitlements(from_registry(session, rules), rules)
            f.write(f"YEAR {year} {len(lines)} lines\n")
            for x in lines:
                row = sorted((k, repr(v), type(v).__name__) for k, v in x.as_row().items())
                f.write(f"{row!r}\n")
                f.write(f"{(x.calculated, x.gap, x.formula, x.exact, x.amount, x.population)!r}\n")
            table = schedule_table(lines, rules)
            f.write(f"TABLE {year} {len(table)} rows\n")
            for key, cells in table.items():
                f.write(f"{(key, list(cells.items()))!r}\n")
            for by in ("stream", "pcn_code"):
                f.write(f"{sorted((k, repr(v)) for k, v in totals(lines, by).items())!r}\n")
            f.write(f"{exact_totals(lines)!r}\n")
            for payment in schedule(lines[::7], rules):
                f.write(f"{payment!r}\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

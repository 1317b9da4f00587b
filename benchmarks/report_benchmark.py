"""Committee pack benchmark (issue 13 targets, reported in the closing note).

    .venv/bin/python benchmarks/report_benchmark.py --workspace pcnkit-demo [--json out.json]

On the full demo workspace (`make demo`: BHR, 15 PCNs, about 850,000 SYNTHETIC patients,
assurance figures to March 2026), times in one fresh process, as the CLI runs it:
- the place pack: the BHR assurance update at 1 March 2026, every section, built and written as
  PDF (target < 15 s), then Word and HTML from the same build;
- the PCN pack for Havering South (U00367) at 1 January 2020, built and written as PDF
  (target < 5 s);
- the Havering DES funding paper (PL-HAV, 2019/20) as PDF.
Each figure is wall time from the request to the file on disk, including reading the assurance
figures (the first pack reads them; later ones in the same process reuse nothing else).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from pcnkit.reports.output import render, write
from pcnkit.reports.packs import PackRequest, build
from pcnkit.store import open_workspace

GENERATED = dt.datetime(2026, 12, 2, 9, 0)


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True, help="a built demo workspace")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ws = open_workspace(args.workspace)
    out = Path(tempfile.mkdtemp(prefix="pcnkit-packs-"))
    figures: dict[str, float | int | str] = {}

    def timed(name: str, request: PackRequest, formats: tuple[str, ...]) -> None:
        start = time.perf_counter()
        doc = build(ws, request)
        built = time.perf_counter()
        for i, fmt in enumerate(formats):
            path = write(doc, out / f"{name}.{fmt}", fmt)
            if i == 0:
                figures[f"{name}_{fmt}_s"] = round(time.perf_counter() - start, 2)
            else:
                t = time.perf_counter()
                render(doc, fmt)
                figures[f"{name}_{fmt}_render_s"] = round(time.perf_counter() - t, 2)
            figures[f"{name}_{fmt}_bytes"] = path.stat().st_size
        figures[f"{name}_build_s"] = round(built - start, 2)
        figures[f"{name}_sections"] = len(doc.sections)
        mine = [
            f"{k.removeprefix(name + '_')}={v}" for k, v in figures.items() if k.startswith(name)
        ]
        print(f"{name}: " + ", ".join(mine), flush=True)

    timed(
        "place_pack_BHR",
        PackRequest("assurance-update", "BHR", dt.date(2026, 3, 1), generated=GENERATED),
        ("pdf", "docx", "html"),
    )
    timed(
        "pcn_pack_U00367",
        PackRequest("pcn-pack", "U00367", dt.date(2020, 1, 1), generated=GENERATED),
        ("pdf", "docx"),
    )
    timed(
        "funding_paper_PL-HAV",
        PackRequest("funding-paper", "PL-HAV", dt.date(2020, 1, 1), generated=GENERATED),
        ("pdf",),
    )
    figures["peak_mb"] = _peak_mb()
    figures["written_to"] = str(out)
    print(f"peak memory {figures['peak_mb']} MB; files in {out}")
    ok = figures["place_pack_BHR_pdf_s"] < 15 and figures["pcn_pack_U00367_pdf_s"] < 5
    print("targets:", "met" if ok else "MISSED (place pack < 15 s, PCN pack < 5 s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ws.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

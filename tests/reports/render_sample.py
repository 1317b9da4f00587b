"""A committee pack Document built by hand with every kind of block (no workspace needed), for
the renderers' tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pcnkit.charts import Series, SpcPoint, bar_chart_drawing, spc_drawing
from pcnkit.reports.document import (
    Bullets,
    Column,
    Document,
    Figure,
    Notice,
    Paragraph,
    Section,
    Source,
    Table,
    count,
    money,
    not_calculated,
    percent,
)

REGISTER = Source("NHS Digital: Patients Registered at a GP Practice", "lists at 1 January 2020")
RULES = Source("NHS England: Network Contract DES Specification 2019/20", "sections 5 and 7")
ASSURANCE = Source(
    "NHS England: Appointments in General Practice", "months April 2024 to March 2026"
)
UNCONFIRMED = "Care home premium for 2019/20 (status U: unconfirmed)"
MARKUP = "<script>alert('x')</script> & =SUM(A1:A9)"
STREAMS = (
    "Core",
    "Clinical director",
    "ARRS",
    "Extended hours",
    "IIF",
    "Care homes",
    "Participation",
    "Leadership",
    "Development",
    "Other",
    "Total",
)
SPC_LABELS = [
    f"{m} 2025" for m in ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
] + ["Jan 2026", "Feb 2026", "Mar 2026"]


def spc_points() -> list[SpcPoint]:
    values = [71.0, 73.5, 72.0, 74.2, 70.8, 75.1, 76.0, 74.4, 73.0, 79.9, 77.2, 76.5]
    return [
        SpcPoint(label, v, 74.0, 80.0, 68.0, 78.0, 70.0, "improvement" if v > 79 else None)
        for label, v in zip(SPC_LABELS, values, strict=True)
    ]


def sample_document(*, synthetic: bool = True, unconfirmed: bool = True) -> Document:
    funding = Table(
        caption="Funding by practice, 2019/20",
        columns=(Column("Practice"), Column("Registered patients", True), Column("Amount", True)),
        rows=(
            ("The Surgery (F82002)", count(7_312), money(Decimal("13640.25"))),
            (MARKUP, count(5_021), money(Decimal("-120.50"))),
            ("Mill Lane (F82006)", count(None, "list size not held"), money(None, "no list")),
            ("Total", count(12_333), money(Decimal("13519.75"))),
        ),
        sources=(REGISTER, RULES),
        notes=("Amounts are the contract year's entitlement; a negative amount is a recovery.",),
        totals=frozenset({3}),
    )
    wide_rows = []
    for i in range(1, 6):
        cells = [money(Decimal(1000 * i + j) + Decimal("0.5")) for j in range(len(STREAMS) - 1)]
        wide_rows.append((f"Practice number {i} (F8200{i})", *cells))
    wide_rows.append(("Total", *[money(Decimal("99999.99"))] * (len(STREAMS) - 1)))
    streams = Table(
        caption="Funding streams by practice",
        columns=(Column("Practice"), *(Column(s, True) for s in STREAMS[:-1])),
        rows=tuple(wide_rows),
        sources=(RULES,),
        notes=("ARRS: Additional Roles Reimbursement Scheme. IIF: Investment and Impact Fund.",),
        totals=frozenset({5}),
    )
    spc = Figure(
        caption="Appointments seen within two weeks, by month",
        svg=spc_drawing("spc-1", "Seen within two weeks", "Monthly share", spc_points(), 75.0),
        description="The share rose from 71% in April 2025 to 76.5% in March 2026; January 2026 "
        "was above the upper process limit (an improvement).",
        sources=(ASSURANCE,),
        notes=("Dashed lines: process limits. Green line: the 75% target.",),
    )
    bars = Figure(
        caption="Registered patients by practice",
        svg=bar_chart_drawing(
            "bar-1",
            "Registered patients",
            "Patients by practice",
            ["The Surgery (F82002)", "Riverside (F82004)", "Mill Lane (F82006)"],
            [Series("Patients", [7312, 5021, "[REDACTED]"])],
        ),
        description="The Surgery has 7,312 patients and Riverside 5,021; Mill Lane's count is "
        "withheld.",
        sources=(REGISTER,),
    )
    summary = Section("summary", "Summary").add(
        Paragraph(
            f"Funding for the PCN this year, and a name that looks like code: {MARKUP}", (RULES,)
        ),
        Notice("Care home funding for 2019/20 is not confirmed by the published specification."),
        Notice("Figures are as at 1 March 2026.", kind="info"),
        Bullets(
            (
                "Three practices",
                f"Recovery shown as {money(Decimal('-120.50'))}",
                f"Achievement {percent(76.5)}",
                not_calculated("the register was not loaded"),
            ),
            (REGISTER,),
        ),
    )
    money_section = Section("funding", "Funding").add(funding)
    money_section.subsections.append(Section("streams", "Funding streams").add(streams))
    charts = Section("assurance", "Assurance").add(spc, bars)
    return Document(
        kind="assurance-update",
        title="Assurance update",
        organisation="Barking and Dagenham, Havering and Redbridge (BHR)",
        as_of=dt.date(2026, 3, 1),
        generated=dt.datetime(2026, 3, 2, 9, 30),
        sections=[summary, money_section, charts],
        inputs=[
            ("Organisation", "BHR"),
            ("As at", "1 March 2026"),
            ("Contract year", "2019/20"),
            ("Note", MARKUP),
        ],
        unconfirmed=[UNCONFIRMED] if unconfirmed else [],
        synthetic=synthetic,
    )

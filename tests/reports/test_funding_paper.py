"""The funding paper pack reproduces the 2019/20 table of "Primary Care Network Development in
Havering" (July 2019) from the demo's shipped inputs: every PCN's figure to the penny except
Havering Marshall's extended hours and clinical director, which the published section explains
as the table's own inconsistency; the borough subtotals as published; what is not confirmed;
and a schedule that pays exactly the entitlement. Without inputs, the figures are the engine's
from the registry."""

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.demo import demo_paper_inputs
from pcnkit.funding import arrs
from pcnkit.funding.entitlements import entitlements, exact_totals, total
from pcnkit.funding.populations import from_csv, from_registry
from pcnkit.funding.rules import apply_scenario, rules_for
from pcnkit.reports.document import Bullets, Notice, Paragraph, Table, money
from pcnkit.reports.packs import PackRequest, build

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "funding"
STREAMS = ("core_pcn_funding", "clinical_director", "extended_hours", "network_participation")
MARSHALL = "U50107"
INCONSISTENT = {(MARSHALL, "extended_hours"), (MARSHALL, "clinical_director")}
PLACES = {"Redbridge": "Redbridge", "Barking & Dagenham": "Barking and Dagenham",
          "Havering": "Havering"}  # fmt: skip
SECTIONS = ("table", "rates", "schedule", "published")
AS_OF = dt.date(2020, 1, 1)


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _pounds(cell: str) -> Decimal:
    return Decimal(cell.replace("£", "").replace(",", ""))


def _section(doc, key):
    return next(s for s in doc.sections if s.key == key)


def _table(section, starts: str) -> Table:
    return next(b for b in section.walk() if isinstance(b, Table) and b.caption.startswith(starts))


def _by_pcn(t: Table) -> dict[str, tuple[str, ...]]:
    """Rows keyed by the PCN code at the end of the PCN label ("CRANBROOK PCN (U51307)")."""
    return {r[1].rsplit("(", 1)[1].rstrip(")"): r for r in t.rows if r[1].endswith(")")}


def _column(t: Table, stream: str, rules) -> int:
    name = rules.streams[stream].name
    return next(i for i, c in enumerate(t.columns) if c.heading.startswith(name + " ["))


@pytest.fixture(scope="module")
def inputs():
    return demo_paper_inputs()


@pytest.fixture(scope="module")
def paper(pack_demo, inputs):
    request = PackRequest(
        "funding-paper",
        "BHR",
        AS_OF,
        year="2019/20",
        sections=SECTIONS,
        generated=dt.datetime(2020, 1, 1),
        statement=inputs["statement"],
        scenario=inputs["scenario"],
        lists=inputs["lists"],
        totals=inputs["totals"],
    )
    return build(pack_demo.ws, request)


@pytest.fixture(scope="module")
def paper_rules(inputs):
    return apply_scenario(rules_for("2019/20"), inputs["scenario"])


def test_the_demo_ships_the_papers_inputs(inputs):
    """The statement and scenario are the paper's; the lists are derived from its table as the
    engine's acceptance test derives them (core / £1.50; network participation / £1.761)."""
    assert inputs["statement"].read_bytes() == (FIXTURES / "bhr_2019_20_paper.csv").read_bytes()
    assert inputs["scenario"].read_text() == (FIXTURES / "havering-paper-2019-20.yaml").read_text()
    derived = {
        r["pcn_code"]: (
            Decimal(r["core_pcn_funding"]) / Decimal("1.50"),
            (Decimal(r["network_participation"]) / Decimal("1.761")).quantize(Decimal("0.0001")),
        )
        for r in _rows(FIXTURES / "bhr_2019_20_paper.csv")
    }
    shipped = {
        r["pcn_code"]: (Decimal(r["registered"]), Decimal(r["weighted"]))
        for r in _rows(inputs["lists"])
    }
    assert shipped == derived
    # the place subtotals are the paper's, as the engine's paper test reads them
    assert inputs["totals"].read_bytes() == (FIXTURES / "bhr_2019_20_paper_totals.csv").read_bytes()


def test_the_papers_place_subtotals_agree_or_are_traced_to_marshall(paper):
    """Seed 003's place subtotals beside the engine's: Redbridge's and Barking and Dagenham's
    all agree to the penny, and so do Havering's core and network participation; Havering's
    extended hours and clinical director differ by exactly Marshall's two figures (its own
    columns computed on another list), within a penny of rounding."""
    section = _section(paper, "published")
    table = next(
        b for b in section.blocks if isinstance(b, Table) and "place subtotals" in b.caption
    )
    verdicts = {(r[0], r[1]): r[5] for r in table.rows}
    assert len(verdicts) == 12
    explained = sorted(k for k, v in verdicts.items() if v != "agrees")
    assert [place for place, _ in explained] == ["Havering", "Havering"]
    assert {verdicts[k] for k in explained} == {"explained"}
    assert {stream.split(" ")[0] for _, stream in explained} == {"Clinical", "Extended"}
    assert any(
        isinstance(b, Paragraph) and b.text.startswith("10 of 12 published place subtotals")
        for b in section.blocks
    )


def test_every_pcn_figure_is_the_papers(paper, paper_rules):
    t = _table(_section(paper, "table"), "Network Contract DES entitlement")
    rows = _by_pcn(t)
    published = _rows(FIXTURES / "bhr_2019_20_paper.csv")
    assert len(published) == 15 and set(rows) == {r["pcn_code"] for r in published}
    for r in published:
        for stream in STREAMS:
            cell = rows[r["pcn_code"]][_column(t, stream, paper_rules)]
            figure = money(Decimal(r[stream]))
            if (r["pcn_code"], stream) in INCONSISTENT:
                assert cell != figure, (r["pcn_name"], stream)
            else:
                assert cell == figure, (r["pcn_name"], stream)


def test_borough_subtotals_are_the_papers(paper, paper_rules):
    """Subtotals add unrounded amounts and round once, as the paper's do. Havering's extended
    hours and clinical director differ by exactly Marshall's difference (the paper's own
    inconsistency), to the penny of rounding."""
    t = _table(_section(paper, "table"), "Network Contract DES entitlement")
    subtotal = {r[1]: r for r in t.rows if r[1].endswith(" total")}
    marshall = _by_pcn(t)[MARSHALL]
    published = {r["pcn_code"]: r for r in _rows(FIXTURES / "bhr_2019_20_paper.csv")}
    for row in _rows(FIXTURES / "bhr_2019_20_paper_totals.csv"):
        mine = subtotal[f"{PLACES[row['borough']]} total"]
        for stream in STREAMS:
            i = _column(t, stream, paper_rules)
            if row["borough"] == "Havering" and (MARSHALL, stream) in INCONSISTENT:
                gap = _pounds(mine[i]) - Decimal(row[stream])
                marshall_gap = _pounds(marshall[i]) - Decimal(published[MARSHALL][stream])
                assert gap != 0 and abs(gap - marshall_gap) <= Decimal("0.01")
            else:
                assert mine[i] == money(Decimal(row[stream])), (row["borough"], stream)
    assert any(i in t.totals for i, r in enumerate(t.rows) if r[1] == "Havering total")


def test_the_published_section_explains_marshall(paper):
    section = _section(paper, "published")
    summary = next(b for b in section.blocks if isinstance(b, Paragraph))
    assert summary.text.startswith("58 of 60 published figures")
    bullets = next(b for b in section.blocks if isinstance(b, Bullets))  # then the subtotals
    assert len(bullets.items) == 2
    for item in bullets.items:
        assert item.startswith("HAVERING MARSHALL PCN (U50107)")
        assert "inconsistent" in item and "Core PCN funding" in item and "implies 48,242" in item
    assert any("45,614" in item for item in bullets.items)
    t = _table(section, "Published figures")
    verdicts = {(r[0], r[1]): r[5] for r in t.rows}
    assert len(verdicts) == 60
    assert sorted(v for v in verdicts.values() if v != "agrees") == ["inconsistent"] * 2
    # the ARRS columns of the published table are named, not silently dropped
    assert any("social prescriber" in b.text for b in section.blocks if isinstance(b, Paragraph))


def test_the_scenario_and_what_is_not_confirmed_are_stated(paper):
    table = _section(paper, "table")
    notices = [b.text for b in table.blocks if isinstance(b, Notice)]
    assert any("Havering paper, July 2019" in n and "£0.51430" in n for n in notices)
    assert any("Extended hours access" in n and "Network participation" in n for n in notices)
    assert any("Extended hours access 2019/20" in u for u in paper.unconfirmed)
    assert any("Network participation payment 2019/20" in u for u in paper.unconfirmed)
    assert not any(u.startswith("Core PCN funding") for u in paper.unconfirmed)
    rates = _table(_section(paper, "rates"), "Network Contract DES streams")
    cd = next(r for r in rates.rows if r[0] == "Clinical director contribution")
    assert cd[1].startswith("£0.514 per registered patient") and cd[2] == "£0.51430"
    assert any(n.startswith("[U]") for n in rates.notes)


def test_the_lists_used_are_named_by_file_only(paper, inputs):
    words = [b.text for b in _section(paper, "table").blocks if isinstance(b, Paragraph)]
    assert any(f"Lists supplied by the user: {inputs['lists'].name}" in w for w in words)
    for source in paper.footnotes():
        assert "/" not in source.words.replace("2019/20", ""), source


def test_the_schedule_pays_the_entitlement(paper, paper_rules, inputs):
    lines = entitlements(
        from_csv(inputs["lists"], paper_rules.start, paper_rules.list_reference_date),
        paper_rules,
    )
    t = _table(_section(paper, "schedule"), "Payments by month")
    *months, last = t.rows
    assert last[0] == "2019/20 total"
    for stream in STREAMS:
        i = _column(t, stream, paper_rules)
        mine = [x for x in lines if x.stream == stream]
        assert last[i] == money(total(mine).amount)
        assert sum(_pounds(r[i]) for r in months if r[i] != "—") == total(mine).amount
    assert last[-1] == money(total(lines).amount)
    assert sum(_pounds(r[-1]) for r in months) == total(lines).amount
    assert months[0][0] == "July 2019" and months[0][1] == "Apr 2019 to Jul 2019"


def test_the_registry_version_is_the_engines(pack_demo):
    """No inputs: Havering's figures from the registry's lists, as the engine makes them; the
    ledger as at the date; no published figures, said so."""
    doc = build(
        pack_demo.ws,
        PackRequest("funding-paper", "PL-HAV", AS_OF, year="2019/20", sections=SECTIONS,
                    generated=dt.datetime(2020, 1, 1)),
    )  # fmt: skip
    rules = rules_for("2019/20")
    with pack_demo.ws.sessions() as session:
        lines = entitlements(from_registry(session, rules, "PL-HAV"), rules)
        pops = from_registry(session, rules, "PL-HAV")
        staff = arrs.read_staff_csv(pack_demo.ws.layout.arrs_roster("2019/20"))
        south = arrs.reimbursement(rules, staff, "U00367", pops)
    table = _section(doc, "table")
    t = _table(table, "Network Contract DES entitlement")
    rows = _by_pcn(t)
    assert set(rows) == {x.pcn_code for x in lines} and len(rows) == 4
    for code, row in rows.items():
        for stream in STREAMS:
            mine = [x for x in lines if x.pcn_code == code and x.stream == stream]
            assert row[_column(t, stream, rules)] == money(total(mine).amount)
    (grand,) = [r for r in t.rows if r[1] == "Havering total"]
    for stream in STREAMS:
        mine = [x for x in lines if x.stream == stream]
        assert grand[_column(t, stream, rules)] == money(exact_totals(mine))
    words = " ".join(b.text for b in table.blocks if isinstance(b, Paragraph))
    assert "Lists from the registry" in words and "1 January 2019" in words
    assert not any(isinstance(b, Notice) and "scenario" in b.text for b in table.blocks)
    arrs_table = _table(table, "ARRS 2019/20")
    south_row = _by_pcn(arrs_table)["U00367"]
    assert south_row[2] == money(south.budget.amount) and south_row[-2] == money(south.total)
    ledger = _table(_section(doc, "schedule"), "Due and paid as at 1 January 2020")
    assert ledger.rows[-1][1] == money(total(lines).amount)
    published = _section(doc, "published")
    assert "No published figures were given" in published.blocks[0].text


def test_a_pcn_missing_from_the_lists_says_so(pack_demo, tmp_path):
    """A PCN of the place that the user's lists leave out is not calculated, and says why (never
    £0.00)."""
    lists = tmp_path / "crest-only.csv"
    lists.write_text("pcn_code,registered,weighted\nU29424,42629,41730.3294\n")
    doc = build(
        pack_demo.ws,
        PackRequest("funding-paper", "PL-HAV", AS_OF, year="2019/20", sections=("table",),
                    generated=dt.datetime(2020, 1, 1), lists=lists),
    )  # fmt: skip
    t = _table(_section(doc, "table"), "Network Contract DES entitlement")
    rows = _by_pcn(t)
    assert rows["U29424"][2] == "£63,943.50"
    key = next(n for n in t.notes if n.endswith("the PCN is not in the lists supplied."))
    mark = f"not calculated {key.split(' ')[0]}"
    for code in ("U00367", "U50107", "U55939"):
        assert all(c == mark for c in rows[code][2:])
    assert "£0.00" not in {c for r in t.rows for c in r}


def test_the_same_inputs_give_the_same_paper(pack_demo, inputs, paper):
    again = build(
        pack_demo.ws,
        PackRequest("funding-paper", "BHR", AS_OF, year="2019/20", sections=SECTIONS,
                    generated=dt.datetime(2020, 1, 1), statement=inputs["statement"],
                    scenario=inputs["scenario"], lists=inputs["lists"], totals=inputs["totals"]),
    )  # fmt: skip
    assert again == paper

"""The assurance update's structure, assurance, watch-list and changes sections, and the PCN
pack's assurance tiles: every figure is the engine's (compared with `summary.tile`,
`watchlist.watchlist` and `run_checks` directly), the aspirations appear with their targets,
each targeted indicator has its SPC chart, and nothing is shown without a source."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pcnkit.assurance import definitions, summary, watchlist
from pcnkit.assurance.values import Assurance
from pcnkit.registry import checks, kinds
from pcnkit.registry.queries import Hierarchy
from pcnkit.reports.document import Bullets, Figure, Paragraph, Section, Table, percent
from pcnkit.reports.packs import PackRequest, build
from pcnkit.reports.sections import watchlist as wl_section

AS_OF = dt.date(2026, 3, 1)
PREVIOUS = dt.date(2025, 12, 1)
KEYS = ("structure", "assurance", "watchlist", "changes")
CODES = ("BHR", "U00367", "F82002")
ASPIRATIONS = {"cqc_good_outstanding_practices": "95.0%", "oc_patients_with_access": "75.0%"}


@pytest.fixture(scope="module")
def assurance(pack_demo) -> Assurance:
    with pack_demo.ws.transaction() as session:
        return Assurance.load(session, snapshot=pack_demo.ws.layout.assurance_snapshot)


@pytest.fixture(scope="module")
def docs(pack_demo, assurance):
    out = {}
    for code in CODES:
        request = PackRequest(
            "assurance-update",
            code,
            AS_OF,
            sections=KEYS,
            previous_as_of=PREVIOUS,
            generated=dt.datetime(2026, 3, 2, 9, 0),
        )
        out[code] = build(pack_demo.ws, request, assurance)
    return out


@pytest.fixture(scope="module")
def tiles(pack_demo, assurance):
    with pack_demo.ws.transaction() as session:
        h = Hierarchy.at(session, AS_OF)
        return {code: summary.tiles(assurance, h, code, AS_OF) for code in CODES}


def _section(doc, key: str) -> Section:
    return next(s for s in doc.sections if s.key == key)


def _tables(section: Section) -> list[Table]:
    return [b for b in section.walk() if isinstance(b, Table)]


def _text(section: Section) -> str:
    parts = []
    for b in section.walk():
        if isinstance(b, Paragraph):
            parts.append(b.text)
        elif isinstance(b, Bullets):
            parts.extend(b.items)
    return "\n".join(parts)


def _summary_rows(doc) -> dict[str, tuple[str, ...]]:
    table = _tables(_section(doc, "assurance"))[0]
    assert table.caption.startswith("Assurance indicators for")
    return {row[0]: row for row in table.rows}


@pytest.mark.parametrize("code", CODES)
def test_summary_table_values_are_the_engines(docs, tiles, code):
    rows = _summary_rows(docs[code])
    with_value = [t for t in tiles[code] if t.figure is not None and t.figure.value is not None]
    assert with_value and len(rows) == len(with_value)
    for t in with_value:
        row = rows[t.indicator.title]
        assert row[1] == summary.period_words(t.figure)
        if t.indicator.unit == "percent":
            assert row[2] == percent(t.figure.value)
        else:
            assert row[2].startswith(f"{t.figure.value:,.1f}")
    # an indicator without a figure is listed with the engine's reason, not left out
    text = _text(_section(docs[code], "assurance"))
    for t in tiles[code]:
        if t.figure is None:
            reason = t.reason[:1].upper() + t.reason[1:] + " ("
            line = next(x for x in text.splitlines() if x.startswith(reason))
            assert t.indicator.title in line


def test_bhr_cqc_and_online_access_against_the_aspirations(docs, tiles):
    rows = _summary_rows(docs["BHR"])
    by_id = {t.indicator.id: t for t in tiles["BHR"]}
    cqc = by_id["cqc_good_outstanding_practices"]
    assert percent(cqc.figure.value) == "85.5%"
    assert rows[cqc.indicator.title][2] == "85.5%"
    for indicator_id, target in ASPIRATIONS.items():
        t = by_id[indicator_id]
        row = rows[t.indicator.title]
        assert row[2] == percent(t.figure.value)
        assert row[3].startswith(target)
        status = summary.compare.TARGETS[t.target_status].lower()
        assert status in row[3]
        # the aspiration's own section, citing the committee paper the target comes from
        sub = next(s for s in _section(docs["BHR"], "assurance").subsections
                   if s.key == f"assurance-{indicator_id}")  # fmt: skip
        assert f"Aspiration: {target}" in sub.blocks[0].text
        cited = {s.title for b in sub.walk() for s in getattr(b, "sources", ())}
        assert t.target.source in cited
    assert rows[cqc.indicator.title][3] == "95.0% (target not met)"


@pytest.mark.parametrize("code", CODES)
def test_spc_chart_for_each_targeted_indicator(docs, tiles, code):
    section = _section(docs[code], "assurance")
    for t in tiles[code]:
        if t.target is None or t.figure is None or t.figure.value is None:
            continue
        sub = next(s for s in section.subsections if s.key == f"assurance-{t.indicator.id}")
        figures = [b for b in sub.blocks if isinstance(b, Figure)]
        if t.chart is None:
            assert not figures
            assert "No SPC chart" in _text(sub)
        else:
            assert len(figures) == 1
            assert f'id="spc-{t.indicator.id}"' in figures[0].svg
            assert figures[0].sources and figures[0].description
    ids = re.findall(r'<svg id="([^"]+)"', "".join(
        b.svg for b in docs[code].blocks() if isinstance(b, Figure)))  # fmt: skip
    assert len(ids) == len(set(ids))


def test_oc_access_chart_is_drawn_for_bhr(docs, tiles):
    t = next(t for t in tiles["BHR"] if t.indicator.id == "oc_patients_with_access")
    assert t.chart is not None
    sub = next(s for s in _section(docs["BHR"], "assurance").subsections
               if s.key == "assurance-oc_patients_with_access")  # fmt: skip
    assert any(isinstance(b, Figure) for b in sub.blocks)


def test_needs_attention_and_members_pulling_down(docs, tiles, pack_demo, assurance):
    section = _section(docs["BHR"], "assurance")
    flagged = summary.needs_attention(tiles["BHR"])
    attention = next(b for b in section.blocks if isinstance(b, Bullets) and b.items
                     and " — " in b.items[0])  # fmt: skip
    assert len(attention.items) == len(flagged)
    for t in flagged:
        assert any(s.key == f"assurance-{t.indicator.id}" for s in section.subsections)
    # the members table is summary.detail's members, worst pull first, the top 10
    t = next(t for t in flagged if t.indicator.polarity != "neither")
    with pack_demo.ws.transaction() as session:
        d = summary.detail(assurance, Hierarchy.at(session, AS_OF), t.indicator, "BHR", AS_OF)
    down = [m for m in d.members if m.pull is not None and (
        m.pull > 0 if t.indicator.polarity == "lower" else m.pull < 0)]  # fmt: skip
    sub = next(s for s in section.subsections if s.key == f"assurance-{t.indicator.id}")
    table = next(b for b in sub.blocks if isinstance(b, Table))
    assert [r[0] for r in table.rows] == [f"{m.name} ({m.figure.org})" for m in down[:10]]
    if len(down) > 10:
        assert any(f"{len(down) - 10} more" in n for n in table.notes)


def test_watchlist_section_flags_the_engines_practices(docs, pack_demo, assurance):
    for code in CODES:
        with pack_demo.ws.transaction() as session:
            h = Hierarchy.at(session, AS_OF)
            org = h.get(code)
            found = [org] if org.kind == kinds.PRACTICE else h.descendants(org, kinds.PRACTICE)
            entries = watchlist.watchlist(assurance.frame, [o.code for o in found], AS_OF)
        flagged = [e for e in entries if e.flags]
        section = _section(docs[code], "watchlist")
        tables = _tables(section)
        if not flagged:
            assert not tables
            assert "No practice of" in _text(section) or "is not flagged" in _text(section)
            continue
        summary_rows = tables[0].rows
        shown = [re.search(r"\((\w+)\)$", r[1]).group(1) for r in summary_rows]
        assert shown == [e.practice for e in flagged]
        assert [int(r[2]) for r in summary_rows] == [e.score for e in flagged]
        # the evidence of the most flagged practices, each flag saying whose threshold it is:
        # only the CQC criterion is NHS England's
        rows = tables[1].rows
        evidenced = flagged[: wl_section.EVIDENCE_FOR]
        assert len(rows) == sum(e.score for e in evidenced)
        for row in rows:
            if row[1].startswith("CQC"):
                assert row[3].endswith("(NHS England's criterion)")
            else:
                assert row[3].endswith(f"({watchlist.NOT_NHS_ENGLAND})")
                assert row[3].count(watchlist.NOT_NHS_ENGLAND) == 1
        for row, e in zip(summary_rows, flagged, strict=True):
            marks = row[3].count(wl_section.MARK)
            assert marks == sum(not f.confirmed for f in e.flags)
        assert tables[0].sources


def test_changes_show_indicator_movement(docs, pack_demo, assurance):
    section = _section(docs["BHR"], "changes")
    table = next(t for t in _tables(section) if t.caption.startswith("Assurance indicators"))
    rows = {r[0]: r for r in table.rows}
    indicator = definitions.get("oc_submissions_per_1000")
    with pack_demo.ws.transaction() as session:
        h = Hierarchy.at(session, PREVIOUS)
        before = summary.tile(assurance, h, indicator, "BHR", PREVIOUS)
    title = indicator.title
    assert rows[title][1].startswith(f"{before.figure.value:,.1f}")
    assert rows[title][3].startswith(("higher", "lower", "unchanged"))
    cqc = rows[definitions.get("cqc_good_outstanding_practices").title]
    assert cqc[3] == "no new figure since the last pack"
    assert any(r[3].startswith(("better", "worse")) for r in table.rows)
    # the watch-list's movement and the registry's are each said, even when nothing moved
    text = _text(section)
    assert "watch-list" in text or any("watch-list" in t.caption for t in _tables(section))
    assert "registry" in text.lower() or any("Registry" in t.caption for t in _tables(section))


def test_changes_over_years_name_registry_moves(pack_demo, assurance):
    request = PackRequest("assurance-update", "U00367", AS_OF, sections=("changes",),
                          previous_as_of=dt.date(2021, 1, 1))  # fmt: skip
    doc = build(pack_demo.ws, request, assurance)
    table = next(t for t in _tables(doc.sections[0]) if t.caption.startswith("Registry"))
    changes = {(r[0], r[1]) for r in table.rows}
    assert any(c.startswith("Practice left") and "(F82002)" in o for c, o in changes)
    assert table.sources


def test_structure_is_the_configuration_checks(docs, pack_demo):
    with pack_demo.ws.transaction() as session:
        result = checks.run_checks(session, AS_OF, "BHR")
    section = _section(docs["BHR"], "structure")
    pcns, findings = _tables(section)
    assert len(pcns.rows) == len(result.pcns)
    by_code = {re.search(r"\((\w+)\)$", r[1]).group(1): r for r in pcns.rows}
    for line in result.pcns:
        assert by_code[line.code][3] == line.registered
        assert by_code[line.code][5] == line.status
    assert len(findings.rows) == len(result.findings)
    assert {r[1] for r in findings.rows} <= set(checks.OUTCOME_LABELS.values())
    assert any("Rule breached" in n for n in findings.notes)
    practice = _text(_section(docs["F82002"], "structure"))
    assert "member of" in practice and "registered patients" in practice


def test_every_table_and_figure_has_sources_and_rows(docs):
    for doc in docs.values():
        for b in doc.blocks():
            if isinstance(b, Table | Figure):
                assert b.sources, getattr(b, "caption", "")
                assert all("/" not in s.title or " " in s.title for s in b.sources)
            if isinstance(b, Table):
                assert b.rows, b.caption


def test_pcn_pack_tiles(pack_demo, assurance, tiles):
    request = PackRequest("pcn-pack", "U00367", AS_OF, sections=("assurance",))
    doc = build(pack_demo.ws, request, assurance)
    section = doc.sections[0]
    assert section.title == "Assurance" and not section.subsections
    rows = {r[0]: r for r in _tables(section)[0].rows}
    for t in tiles["U00367"]:
        if t.figure is not None and t.figure.value is not None and t.indicator.unit == "percent":
            assert rows[t.indicator.title][2] == percent(t.figure.value)
    assert not [b for b in section.walk() if isinstance(b, Figure)]

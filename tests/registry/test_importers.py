"""Every registry importer on its tiny real-format fixture (tests/fixtures/registry): the values it
reads, recognising each file from its content alone, and the memberships they give together."""

from __future__ import annotations

import codecs
import datetime as dt
import importlib.util
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import load
from pcnkit.errors import InputError
from pcnkit.registry import kinds, queries
from pcnkit.registry.importers import parse_file, sniff
from pcnkit.registry.importers.base import Batch

D = dt.date
HAVERING = {"F82008", "F82031", "F82614", "F82649", "F82675", "Y00312"}


@pytest.fixture(scope="session")
def reg(fixtures) -> Path:
    return fixtures / "registry"


def of_kind(batch: Batch, kind: str) -> set[str]:
    return {code for code, org in batch.organisations.items() if org.kind == kind}


def links(batch: Batch, parent_kind: str) -> dict[str, str]:
    """child -> parent for the batch's facts whose parent is of `parent_kind`."""
    out = {}
    for f in batch.facts:
        if batch.organisations[f.parent].kind == parent_kind:
            assert f.child not in out, f"{f.child} has two {parent_kind} parents"
            out[f.child] = f.parent
    return out


def lists(batch: Batch, measure: str) -> dict[str, Decimal]:
    return {r.practice: r.value for r in batch.list_sizes if r.measure == measure}


# ---- one importer at a time -------------------------------------------------------------------


def test_epraccur(reg):
    b = parse_file(reg / "epraccur_2019-11.csv")
    assert (b.file_type, b.extract_date, b.rows) == ("epraccur", D(2019, 11, 1), 8)
    # Y04684 (Havering Health, prescribing setting 0) is a cost centre, not a GP practice.
    assert of_kind(b, kinds.PRACTICE) == HAVERING | {"F82052"}
    assert "Y04684" not in b.organisations
    assert of_kind(b, kinds.SUB_ICB) == {"08F"}
    mungo = b.organisations["F82614"]
    assert (mungo.name, mungo.postcode, mungo.open_date, mungo.close_date) == (
        "MUNGO PARK SURGERY", "RM13 7XR", D(1985, 11, 29), None,
    )  # fmt: skip
    assert b.organisations["Y00312"].name == "THE ROBINS SURGERY, HAROLD HILL HEALTH C"
    assert b.organisations["F82052"].close_date == D(2016, 7, 31)
    facts = {f.child: f for f in b.facts}
    assert {f.parent for f in b.facts} == {"08F"} and all(f.dated for f in b.facts)
    assert (facts["F82008"].start, facts["F82008"].end) == (D(2013, 4, 1), None)
    assert (facts["F82052"].start, facts["F82052"].end) == (D(2013, 4, 1), D(2016, 7, 31))


def test_gp_reg_takes_its_date_from_extract_date_not_the_name(reg, tmp_path):
    neutral = tmp_path / "data.csv"
    shutil.copy(reg / "gp-reg-pat-prac-all_2021-01.csv", neutral)
    b = parse_file(neutral)
    assert (b.file_type, b.extract_date, b.rows) == ("gp-reg-pat-prac-all", D(2021, 1, 1), 5)
    assert lists(b, "registered") == {
        "F82008": 14610, "F82031": 4620, "F82649": 4719, "F82675": 3666, "Y00312": 4863,
    }  # fmt: skip
    assert all(isinstance(r.value, Decimal) and r.as_of == D(2021, 1, 1) for r in b.list_sizes)
    assert b.organisations["F82649"].postcode == "RM13 9QU"
    assert links(b, kinds.SUB_ICB) == dict.fromkeys(HAVERING - {"F82614"}, "08F")
    assert not any(f.dated for f in b.facts)


def test_payments_18_19_keeps_fractional_lists_as_decimals(reg):
    b = parse_file(reg / "nhs_payments_gp_18-19.csv")
    assert b.description == "NHS Payments to General Practice 2018/19"
    assert b.extract_date == D(2019, 3, 31)
    registered, weighted = lists(b, "registered"), lists(b, "weighted")
    assert registered == {
        "F82008": Decimal("14631.25"), "F82031": Decimal("4848.25"), "F82614": Decimal("3190.75"),
        "F82649": Decimal("4696"), "F82675": Decimal("3809.25"), "Y00312": Decimal("4647.5"),
    }  # fmt: skip
    assert weighted["F82008"] == Decimal("14174.83") and weighted["Y00312"] == Decimal("4454.69")
    assert all(type(v) is Decimal for v in registered.values())
    # The "last known figure" is an average over the final quarter, dated its first day.
    assert {r.as_of for r in b.list_sizes} == {D(2019, 1, 1)}
    # 2018/19 has no PCN column.
    assert of_kind(b, kinds.PCN) == set()
    maylands = b.organisations["F82008"]
    assert (maylands.name, maylands.open_date) == ("DR KENDALL & PARTNERS", D(1999, 4, 1))
    assert b.organisations["08F"].name == "NHS HAVERING CCG"
    # Payments files pad postcodes to 8 characters ("RM7  0XR"); they are stored as elsewhere.
    assert b.organisations["F82031"].postcode == "RM7 0XR"


def test_payments_22_23_reads_the_pcn_from_code_and_ccg_name(reg):
    raw = (reg / "nhs_payments_gp_22-23.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    b = parse_file(reg / "nhs_payments_gp_22-23.csv")
    assert (b.description, b.extract_date) == (
        "NHS Payments to General Practice 2022/23", D(2023, 3, 31),
    )  # fmt: skip
    assert links(b, kinds.PCN) == {
        "F82008": "U00367", "F82031": "U29424", "F82649": "U00367", "Y00312": "U55939",
    }  # fmt: skip
    # F82675 says "Unknown or no PCN": no membership, and no organisation of that name.
    assert of_kind(b, kinds.PCN) == {"U00367", "U29424", "U55939"}
    assert b.organisations["U00367"].name == "HAVERING SOUTH PCN"
    # The sub-ICB is in 'CCG Code' / 'Sub ICB NAME'.
    assert links(b, kinds.SUB_ICB) == dict.fromkeys(HAVERING - {"F82614"}, "A3A8R")
    assert b.organisations["A3A8R"].name == "NHS NORTH EAST LONDON ICB - A3A8R"
    assert b.organisations["Y00312"].name == "THE ROBINS SURGERY, HAROLD HILL HEALTH C"
    assert lists(b, "registered")["F82008"] == Decimal("13782.75")
    assert lists(b, "weighted")["F82675"] == Decimal("3341.24")
    assert {r.as_of for r in b.list_sizes} == {D(2023, 1, 1)}


@pytest.mark.parametrize(
    ("name", "year_end"),
    [("nhs_payments_gp_18-19.csv", D(2019, 3, 31)), ("nhs_payments_gp_22-23.csv", D(2023, 3, 31))],
)
def test_payments_year_is_read_from_the_columns_when_the_name_has_none(reg, tmp_path, name,
                                                                       year_end):  # fmt: skip
    neutral = tmp_path / "data.csv"
    shutil.copy(reg / name, neutral)
    assert parse_file(neutral).extract_date == year_end


def test_qof_geographies(reg, tmp_path):
    b = parse_file(reg / "MAPPING_NHS_GEOGRAPHIES_1920.csv")
    assert b.description == "QOF NHS geographies mapping 2019/20"
    assert b.extract_date == D(2020, 3, 31)
    named = {code: (o.kind, o.name) for code, o in b.organisations.items()}
    assert named["ENG"] == (kinds.NATION, "England")
    assert named["Y56"] == (kinds.REGION, "London")
    assert named["QMF"] == (kinds.ICB, "East London Health and Care Partnership (STP)")
    assert named["08F"] == (kinds.SUB_ICB, "NHS Havering CCG")
    assert named["U29424"] == (kinds.PCN, "Havering Crest PCN")
    assert named["Y00312"] == (kinds.PRACTICE, "The Robins Surgery Harold Hill Health C")
    assert links(b, kinds.PCN) == {
        "F82008": "U00367", "F82031": "U29424", "F82649": "U00367", "F82675": "U29424",
        "Y00312": "U55939",
    }  # fmt: skip
    # The CCG -> STP -> region -> nation chain repeats on every row but is asserted once.
    upper = [(f.child, f.parent) for f in b.facts if f.child in {"08F", "QMF", "Y56"}]
    assert upper == [("08F", "QMF"), ("QMF", "Y56"), ("Y56", "ENG")]
    assert len(b.facts) == 13 and not any(f.dated for f in b.facts)
    # The year comes only from the file name.
    neutral = tmp_path / "data.csv"
    shutil.copy(reg / "MAPPING_NHS_GEOGRAPHIES_1920.csv", neutral)
    with pytest.raises(InputError, match="which QOF year"):
        parse_file(neutral)


def test_gpad_mapping_merges_a_practice_repeated_per_supplier(reg, tmp_path):
    text = (reg / "gpad_practice_mapping_2025-08.csv").read_text()
    assert text.count("F84749,CARPENTERS PRACTICE,") == 2  # EMIS and EMIS/EVERGREENLIFE
    b = parse_file(reg / "gpad_practice_mapping_2025-08.csv")
    assert (b.extract_date, b.rows) == (D(2025, 8, 1), 9)
    assert [(f.child, f.parent) for f in b.facts if f.child == "F84749"] == [
        ("F84749", "U11373"), ("F84749", "A3A8R"),
    ]  # fmt: skip
    assert of_kind(b, kinds.PRACTICE) == HAVERING - {"F82614"} | {"F81014", "F84749", "Y08371"}
    assert links(b, kinds.PCN) == {
        "F82008": "U24998", "F82031": "U29424", "F82649": "U00367", "F82675": "U00367",
        "F84749": "U11373", "Y00312": "U55939", "Y08371": "U00367",
    }  # fmt: skip
    # F81014's PCN is "U" / UNALLOCATED: no PCN, but still placed in its sub-ICB.
    assert "U" not in b.organisations and links(b, kinds.SUB_ICB)["F81014"] == "06Q"
    assert b.organisations["U24998"].name == "HAVERING LIBERTY PCN"
    assert b.organisations["QMF"].name == "NHS North East London Integrated Care Board"
    assert links(b, kinds.ICB) == {"A3A8R": "QMF", "06Q": "QH8"}
    assert links(b, kinds.REGION) == {"QMF": "Y56", "QH8": "Y61"}
    assert b.organisations["Y00312"].name == "THE ROBINS SURGERY, HAROLD HILL HEALTH C"

    # A repeat that disagrees is not merged but rejected, naming both rows.
    conflicting = tmp_path / "gpad_practice_mapping_2025-08.csv"
    conflicting.write_text(
        text.replace("EMIS/EVERGREENLIFE,U11373,NEWHAM CENTRAL PCN", "EMIS/EVERGREENLIFE,"
                     "U00367,HAVERING SOUTH PCN"), newline="")  # fmt: skip
    with pytest.raises(InputError) as err:
        parse_file(conflicting)
    assert (err.value.row, err.value.column) == (8, "PCN_CODE")
    assert "F84749" in err.value.problem and "row 7" in err.value.problem
    # The month comes only from the name.
    neutral = tmp_path / "data.csv"
    shutil.copy(reg / "gpad_practice_mapping_2025-08.csv", neutral)
    with pytest.raises(InputError, match="YYYY-MM"):
        parse_file(neutral)


def test_nhs_choices_is_decoded_as_a_single_byte_file(reg):
    path = reg / "nhs_choices_GP_2014-02.csv"
    raw = path.read_bytes()
    assert b"\xac" in raw and b"St Martin\x92s Practice" in raw  # '¬' and a curly apostrophe
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    found = sniff(path)
    assert found.file_type == "nhs-choices-coordinates"
    assert "\u00acB86100\u00acGP\u00ac" in found.text
    assert "St Martin’s Practice" in found.text
    b = parse_file(path)
    assert (b.extract_date, b.rows) == (D(2014, 2, 1), 10)
    coords = {c.code: c for c in b.coordinates}
    # Y02622_new is not an ODS code; F82666's branch site repeats its code: the first row wins.
    assert list(coords) == ["B86100", *sorted(HAVERING | {"F82666"})]
    leeds = coords["B86100"]
    assert (leeds.postcode, leeds.latitude, leeds.longitude) == (
        "LS7 3JT", 53.821170806884766, -1.5336087942123413,
    )  # fmt: skip
    assert (coords["F82666"].postcode, coords["F82666"].row) == ("RM12 5PA", 7)
    # F82614's row has a quoted field; the columns after it are still in place.
    mungo = coords["F82614"]
    assert (mungo.postcode, mungo.latitude, mungo.longitude) == (
        "RM13 7XJ", 51.532466888427734, 0.19122794270515442,
    )  # fmt: skip


def test_ccg_icb_lookup_skips_the_note_row(reg):
    assert (reg / "ccg_to_icb_2022_heec.csv").read_bytes().startswith(codecs.BOM_UTF8)
    b = parse_file(reg / "ccg_to_icb_2022_heec.csv")
    assert (b.extract_date, b.rows) == (D(2022, 7, 1), 6)
    assert links(b, kinds.ICB) == dict.fromkeys(["A3A8R", "07L", "07T", "08F", "08M"], "QMF")
    assert "QOP" not in b.organisations  # only named on the "n/a not SBS client" note row
    assert b.organisations["QMF"].name == "NHS North East London Integrated Care Board"


def test_epcn_2019_layout(reg):
    path = reg / "ePCN_2019-12.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["PCN Details", "PCN Core Partner Details"]
    partner = wb["PCN Core Partner Details"]
    assert partner["F2"].value == "=VLOOKUP(E2,'PCN Details'!A:B,2,FALSE)"
    assert partner["I2"].value == 20191001
    b = parse_file(path)
    assert (b.file_type, b.extract_date, b.rows) == ("epcn", D(2019, 12, 1), 9)
    south = b.organisations["U00367"]
    assert (south.kind, south.name, south.postcode, south.open_date) == (
        kinds.PCN, "HAVERING SOUTH PCN", "RM7 0JU", D(2019, 10, 1),
    )  # fmt: skip
    assert not any(o.name and o.name.startswith("=") for o in b.organisations.values())
    dated = {f.child: (f.parent, f.start, f.end) for f in b.facts if f.dated}
    assert dated == {
        "F82008": ("U00367", D(2019, 10, 1), None), "F82031": ("U29424", D(2019, 10, 1), None),
        "F82614": ("U00367", D(2019, 10, 1), None), "F82649": ("U00367", D(2019, 10, 1), None),
        "F82675": ("U29424", D(2019, 10, 1), None), "Y00312": ("U55939", D(2019, 10, 1), None),
    }  # fmt: skip
    assert links(b, kinds.SUB_ICB) == dict.fromkeys(
        HAVERING | {"U00367", "U29424", "U55939"}, "08F"
    )
    assert b.organisations["Y00312"].name == "THE ROBINS SURGERY, HAROLD HILL HEALTH C"


def test_epcn_2022_layout_keeps_ended_relationships(reg):
    path = reg / "ePCN_2022-05.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["PCNDetails", "PCN Core Partner Details"]
    assert wb["PCNDetails"]["C1"].value == "Current Clinical \nCommissioning \nGroup Code"
    assert wb["PCN Core Partner Details"]["J5"].value == "20200331"
    b = parse_file(path)
    assert (b.extract_date, b.rows) == (D(2022, 5, 1), 9)
    assert of_kind(b, kinds.PCN) == {"U00367", "U29424", "U55939"}
    mungo = [f for f in b.facts if f.child == "F82614"]
    assert [(f.parent, f.start, f.end, f.row) for f in mungo] == [
        ("U00367", D(2019, 10, 1), D(2020, 3, 31), 5),
    ]  # fmt: skip
    # Current members are placed in the practice's CCG as at the extract; F82614 is not.
    assert links(b, kinds.SUB_ICB) == dict.fromkeys(
        HAVERING - {"F82614"} | {"U00367", "U29424", "U55939"}, "A3A8R"
    )
    assert b.organisations["A3A8R"].name == "NHS NORTH EAST LONDON CCG"


@pytest.mark.parametrize(
    ("name", "extract"),
    [("ePCN_2019-12.xlsx", D(2019, 10, 1)), ("ePCN_2022-05.xlsx", D(2020, 3, 31))],
)
def test_epcn_without_a_dated_name_is_dated_by_its_latest_date(reg, tmp_path, name, extract):
    neutral = tmp_path / "data.csv"  # not even an Excel extension: content decides
    shutil.copy(reg / name, neutral)
    b = parse_file(neutral)
    assert (b.file_type, b.extract_date) == ("epcn", extract)


DEFINITIONS = """\
pcnkit: definitions
publisher: BHR CCGs primary care team
as_of: 2019-10-01
organisations:
  - {code: FED-HAV, kind: federation, name: Havering Health Limited,
     members: [{code: U00367, from: 2019-07-01}]}
roles:
  - {pcn: U00367, role: clinical_director, holder: Dr A Example, from: 2019-07-01}
  - {pcn: U00367, role: nominated_payee, payee: F82008, from: 2019-07-01}
exceptions:
  - {org: U29424, rule: list_size_minimum, reason: rural waiver, from: 2019-07-01}
"""


def test_definitions(tmp_path):
    path = tmp_path / "havering.yaml"
    path.write_text(DEFINITIONS)
    b = parse_file(path)
    assert (b.file_type, b.extract_date, b.publisher, b.rows) == (
        "definitions", D(2019, 10, 1), "BHR CCGs primary care team", 5,
    )  # fmt: skip
    fed = b.organisations["FED-HAV"]
    assert (fed.kind, fed.name, fed.row) == (kinds.FEDERATION, "Havering Health Limited", 5)
    assert [(f.child, f.parent, f.dated, f.start, f.end) for f in b.facts] == [
        ("U00367", "FED-HAV", True, D(2019, 7, 1), None),
    ]  # fmt: skip
    assert [(r.role, r.holder, r.payee, r.row) for r in b.roles] == [
        ("clinical_director", "Dr A Example", None, 8),
        ("nominated_payee", "F82008", "F82008", 9),
    ]  # fmt: skip
    assert [(e.org, e.rule, e.reason) for e in b.exceptions] == [
        ("U29424", "list_size_minimum", "rural waiver"),
    ]  # fmt: skip


# ---- recognising files ------------------------------------------------------------------------

FIXTURE_TYPES = [
    ("epraccur_2019-11.csv", "epraccur"),
    ("gp-reg-pat-prac-all_2021-01.csv", "gp-reg-pat-prac-all"),
    ("nhs_payments_gp_18-19.csv", "nhs-payments"),
    ("nhs_payments_gp_22-23.csv", "nhs-payments"),
    ("MAPPING_NHS_GEOGRAPHIES_1920.csv", "qof-geographies"),
    ("gpad_practice_mapping_2025-08.csv", "gpad-practice-mapping"),
    ("nhs_choices_GP_2014-02.csv", "nhs-choices-coordinates"),
    ("ccg_to_icb_2022_heec.csv", "ccg-icb-lookup"),
    ("ePCN_2019-12.xlsx", "epcn"),
    ("ePCN_2022-05.xlsx", "epcn"),
]


@pytest.mark.parametrize(("name", "file_type"), FIXTURE_TYPES)
def test_sniff_recognises_each_file_from_its_content_alone(reg, tmp_path, name, file_type):
    neutral = tmp_path / "data.csv"
    shutil.copy(reg / name, neutral)
    assert sniff(neutral).file_type == file_type


def test_sniff_recognises_definitions_and_names_lookalikes(tmp_path):
    yaml_file = tmp_path / "data.csv"
    yaml_file.write_text(DEFINITIONS)
    assert sniff(yaml_file).file_type == "definitions"
    quin_age = tmp_path / "other.csv"  # the head of gp-reg-pat-prac-quin-age (format sample)
    quin_age.write_bytes(
        b"PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,"
        b"NUMBER_OF_PATIENTS\r\nGP_PRAC_PAT_LIST,01-Apr-17,GP,N84014,,PR8 3LB,ALL,ALL,40\r\n"
    )
    found = sniff(quin_age)
    assert (found.file_type, found.looks_like) == (
        None, "gp-reg-pat-prac-quin-age (list sizes by age band)",
    )  # fmt: skip


def test_every_fixture_is_covered(reg):
    data_files = {p.name for p in reg.iterdir() if p.suffix in (".csv", ".xlsx")}
    assert data_files == {name for name, _ in FIXTURE_TYPES}


def test_csv_fixtures_are_cut_byte_for_byte_from_the_real_files(reg, shared_data):
    spec = importlib.util.spec_from_file_location("make_fixtures", reg / "make_fixtures.py")
    make_fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_fixtures)
    assert set(make_fixtures.CSV_LINES) == {n for n, _ in FIXTURE_TYPES if n.endswith(".csv")}
    for name, (source, keep) in make_fixtures.CSV_LINES.items():
        assert (reg / name).read_bytes() == make_fixtures.cut_lines(shared_data / source, keep)


# ---- all of them together ---------------------------------------------------------------------


def members(session, pcn: str, day: dt.date) -> set[str]:
    return {p.organisation.code for p in queries.members_at(session, pcn, day, kinds.PRACTICE)}


def pcn_of(session, practice: str, day: dt.date) -> str | None:
    found = queries.parent_at(session, practice, kinds.PCN, day)
    return found.organisation.code if found else None


def test_loading_every_fixture_gives_the_havering_memberships(workspace, reg, tmp_path):
    reports = load(workspace, reg)
    assert [r.file_type for r in reports] == [
        "epraccur", "epcn", "epcn", "qof-geographies", "nhs-payments", "nhs-payments",
        "gp-reg-pat-prac-all", "gpad-practice-mapping", "ccg-icb-lookup",
        "nhs-choices-coordinates",
    ]  # fmt: skip
    assert {r.status for r in reports} == {"loaded"}
    choices = reports[-1]
    assert (choices.coordinates, choices.coordinates_unmatched) == (6, 2)  # B86100, F82666

    with workspace.sessions() as s:
        # Havering South: Mungo Park Surgery (F82614) left on 31 March 2020 (ePCN 2022).
        assert members(s, "U00367", D(2019, 12, 1)) == {"F82008", "F82614", "F82649"}
        assert members(s, "U00367", D(2020, 6, 1)) == {"F82008", "F82649"}
        assert members(s, "U29424", D(2020, 6, 1)) == {"F82031", "F82675"}
        mungo = queries.parent_at(s, "F82614", kinds.PCN, D(2020, 1, 1))
        assert (mungo.organisation.code, mungo.start, mungo.end) == (
            "U00367", D(2019, 10, 1), D(2020, 3, 31),
        )  # fmt: skip
        assert "(ePCN), May 2022, row 5" in mungo.basis
        assert pcn_of(s, "F82614", D(2020, 6, 1)) is None
        # By August 2025 (GPAD): Billet Lane has moved to Havering South, Maylands to Havering
        # Liberty, and Beam Park (Y08371, first seen then) has joined Havering South.
        assert pcn_of(s, "F82675", D(2023, 3, 31)) == "U29424"
        assert pcn_of(s, "F82675", D(2025, 8, 1)) == "U00367"
        assert pcn_of(s, "F82008", D(2025, 8, 1)) == "U24998"
        assert members(s, "U00367", D(2025, 8, 1)) == {"F82649", "F82675", "Y08371"}
        assert pcn_of(s, "Y08371", D(2024, 1, 1)) is None
        assert pcn_of(s, "F84749", D(2025, 8, 1)) == "U11373"
        assert pcn_of(s, "F81014", D(2025, 8, 1)) is None
        # Havering CCG, then North East London; both in the QMF STP/ICB, in London.
        sub_icb = queries.parent_at(s, "F82008", kinds.SUB_ICB, D(2019, 12, 1))
        assert (sub_icb.organisation.code, sub_icb.start) == ("08F", D(2013, 4, 1))
        assert queries.parent_at(s, "F82008", kinds.SUB_ICB, D(2023, 1, 1)).organisation.code == (
            "A3A8R"
        )
        assert queries.parent_at(s, "F82052", kinds.SUB_ICB, D(2019, 12, 1)) is None  # closed
        assert queries.parent_at(s, "08F", kinds.ICB, D(2019, 12, 1)).organisation.code == "QMF"
        assert queries.parent_at(s, "QMF", kinds.REGION, D(2019, 12, 1)).organisation.code == "Y56"

        # Lists: each figure with its date and source.
        jan_2021 = queries.list_size_at(s, "F82008", D(2021, 6, 1))
        assert (jan_2021.value, jan_2021.as_of, jan_2021.source, jan_2021.source_row) == (
            Decimal(14610), D(2021, 1, 1), "gp-reg-pat-prac-all_2021-01.csv", 2,
        )  # fmt: skip
        weighted = queries.list_size_at(s, "F82008", D(2019, 12, 1), "weighted")
        assert (weighted.value, weighted.as_of) == (Decimal("14174.83"), D(2019, 1, 1))
        assert queries.list_size_at(s, "F82008", D(2023, 6, 1)).value == Decimal("13782.75")

        # Details come from the newest source; coordinates from NHS Choices.
        mungo_org = queries.organisation(s, "F82614")
        assert (mungo_org.name, mungo_org.open_date) == ("MUNGO PARK SURGERY", D(1985, 11, 29))
        assert (mungo_org.latitude, mungo_org.longitude) == pytest.approx((51.5324669, 0.1912279))
        assert queries.organisation(s, "F82031").postcode == "RM7 0XR"
        assert queries.organisation(s, "U24998").name == "HAVERING LIBERTY PCN"

    # Local definitions add to what the national files say.
    definitions = tmp_path / "havering.yaml"
    definitions.write_text(DEFINITIONS)
    load(workspace, definitions)
    with workspace.sessions() as s:
        fed = queries.members_at(s, "FED-HAV", D(2020, 1, 1))
        assert [(p.organisation.code, p.start) for p in fed] == [("U00367", D(2019, 7, 1))]
        south = queries.organisation(s, "U00367")
        roles = queries.roles_at(s, [south.id], D(2020, 1, 1))[south.id]
        assert sorted(r.role for r in roles) == ["clinical_director", "nominated_payee"]

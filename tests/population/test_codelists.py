"""The code lists shipped with pcnkit: every list loads, each matches the research note
(shared/domain/population-health.md §1.2, §2.1, §4.1, §6.2), and a broken file fails with an
error that names the file and the key."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from pcnkit.errors import InputError
from pcnkit.population.codelists import (
    CODING_SYSTEMS,
    STATUSES,
    CodeList,
    available,
    codelists_folder,
    load,
    load_file,
)

DOMAIN = Path(__file__).resolve().parents[3] / "shared" / "domain"
LISTS = [
    "cms_conditions",
    "efi_deficits",
    "qof_registers",
    "smr_addictive_medicines",
    "smr_high_risk_medicines",
]


def test_available_lists_every_file() -> None:
    assert available() == LISTS


@pytest.mark.parametrize("list_id", LISTS)
def test_every_list_loads_with_its_provenance(list_id: str) -> None:
    codelist = load(list_id)
    assert isinstance(codelist, CodeList)
    assert codelist.id == list_id
    assert codelist.version >= 1
    assert codelist.name and codelist.source
    assert codelist.status in STATUSES
    assert codelist.confirmed == (codelist.status == "confirmed")
    assert codelist.coding_system in CODING_SYSTEMS
    # A partial list says what is missing, on the list and on every group without codes.
    if not codelist.confirmed:
        assert codelist.note
        assert all(g.note for g in codelist.groups if not g.codes)


def test_efi_has_36_deficits_in_the_order_of_the_note() -> None:
    efi = load("efi_deficits")
    assert len(efi.groups) == 36
    assert efi.groups[0].name == "Activity limitation"
    assert efi.groups[25].id == "polypharmacy"
    assert efi.groups[35].name == "Weight loss & anorexia"
    assert efi.group("ckd").value_rule.startswith("eGFR <60")
    # The note counts the codes but does not give them: none are invented.
    assert efi.status == "partial"
    assert efi.all_codes == ()
    coded = [g for g in efi.groups if g.source_set]
    assert len(coded) == 35
    assert efi.group("polypharmacy").source_code_counts == {}
    assert sum(g.source_code_counts["readv2"] for g in coded) == 1547


def test_cms_has_20_conditions_with_decimal_weights() -> None:
    cms = load("cms_conditions")
    assert len(cms.groups) == 20
    assert cms.weight_variants == ("general", "mortality", "unplanned_admission", "gp_consultation")
    for condition in cms.groups:
        assert isinstance(condition.weights["general"], Decimal)
        assert isinstance(condition.weights["mortality"], Decimal)
        # Not given in the research note: recorded as not obtained, not guessed.
        assert condition.weights["unplanned_admission"] is None
        assert condition.weights["gp_consultation"] is None
    assert cms.group("dementia").weights["general"] == Decimal("2.50")
    assert cms.group("dementia").weights["mortality"] == Decimal("124.42")
    assert cms.group("hypertension").weights["mortality"] == Decimal("-2.09")
    general = [c.weights["general"] for c in cms.groups]
    assert general == sorted(general, reverse=True)  # the note's table is in weight order
    assert sum(general) == Decimal("16.33")


def note_table(heading: str) -> list[list[str]]:
    """The rows of the first markdown table after a heading of the research note."""
    text = (DOMAIN / "population-health.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # skip the header and the |---| line


def test_cms_weights_match_the_research_note() -> None:
    table = note_table("### 2.1 Cambridge Multimorbidity Score")
    cms = load("cms_conditions")
    assert len(table) == len(cms.groups) == 20
    for (_, general, mortality), condition in zip(table, cms.groups, strict=True):
        assert condition.weights["general"] == Decimal(general)
        assert condition.weights["mortality"] == Decimal(mortality.replace("\u2212", "-"))


def test_efi_deficits_match_the_research_note() -> None:
    table = note_table("### 1.2 The 36 deficits")
    efi = load("efi_deficits")
    assert len(table) == 36
    for (number, name, code_set, counts, _), deficit in zip(table, efi.groups, strict=True):
        assert deficit.name == name, number
        if code_set.startswith("efi-"):
            assert deficit.source_set == code_set
            r2, ctv3, sct = (int(n) for n in counts.split("/"))
            assert deficit.source_code_counts == {"readv2": r2, "ctv3": ctv3, "snomedct": sct}


def test_qof_registers_match_the_england_prevalence_table() -> None:
    with (DOMAIN / "PHM-qof-prevalence-england.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    groups_2020 = {r["qof_group"] for r in rows if r["year"] == "2020-21"}
    qof = load("qof_registers")
    codes = [c.code for c in qof.codes]
    assert len(codes) == 21
    assert set(codes) == groups_2020
    # CVDPP (2019-20 only) is a treatment indicator group, not a register.
    assert {r["qof_group"] for r in rows} - set(codes) == {"CVDPP"}
    assert qof.confirmed
    assert qof.coding_system == "qof_group"


def test_smr_medicine_groups_are_named_without_invented_codes() -> None:
    high_risk = load("smr_high_risk_medicines")
    addictive = load("smr_addictive_medicines")
    assert [g.id for g in high_risk.groups] == [
        "anticoagulants",
        "antiplatelets",
        "nsaids",
        "methotrexate",
        "lithium",
        "amiodarone",
    ]
    assert [g.id for g in addictive.groups] == [
        "opioids",
        "gabapentinoids",
        "benzodiazepines",
        "z_drugs",
    ]
    assert not high_risk.confirmed and not addictive.confirmed
    assert high_risk.all_codes == () and addictive.all_codes == ()


def test_unknown_list_is_an_input_error() -> None:
    with pytest.raises(InputError, match="Known code lists"):
        load("no_such_list")


# --- broken files -------------------------------------------------------------------------------

GOOD = {
    "id": "example",
    "name": "Example",
    "version": 1,
    "source": "a test",
    "status": "confirmed",
    "coding_system": "snomedct",
    "codes": [{"code": "123", "term": "One"}, {"code": "456", "term": "Two"}],
}


def write(tmp_path: Path, doc: dict, name: str = "example") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def broken(tmp_path: Path, doc: dict) -> InputError:
    path = write(tmp_path, doc)
    with pytest.raises(InputError) as info:
        load_file(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value)
    return info.value


def test_a_good_file_loads(tmp_path: Path) -> None:
    codelist = load_file(write(tmp_path, GOOD))
    assert [c.code for c in codelist.all_codes] == ["123", "456"]


def test_duplicate_code(tmp_path: Path) -> None:
    doc = {**GOOD, "codes": [{"code": "123", "term": "One"}, {"code": "123", "term": "Again"}]}
    error = broken(tmp_path, doc)
    assert error.column == "codes[1].code"
    assert "listed twice" in error.problem


@pytest.mark.parametrize("key", ["id", "name", "version", "source", "status", "coding_system"])
def test_missing_key(tmp_path: Path, key: str) -> None:
    doc = {k: v for k, v in GOOD.items() if k != key}
    error = broken(tmp_path, doc)
    assert error.column == f"codelist.{key}"
    assert "missing" in error.problem


def test_missing_term(tmp_path: Path) -> None:
    error = broken(tmp_path, {**GOOD, "codes": [{"code": "123"}]})
    assert error.column == "codes[0].term"


def test_unknown_coding_system(tmp_path: Path) -> None:
    error = broken(tmp_path, {**GOOD, "coding_system": "read5"})
    assert error.column == "codelist.coding_system"
    assert "read5" in error.problem


def test_unknown_status(tmp_path: Path) -> None:
    error = broken(tmp_path, {**GOOD, "status": "probably"})
    assert error.column == "codelist.status"


def test_unknown_key_is_a_typo(tmp_path: Path) -> None:
    error = broken(tmp_path, {**GOOD, "sorce": "x"})
    assert error.column == "codelist.sorce"


def test_unquoted_code_is_refused(tmp_path: Path) -> None:
    # YAML reads an unquoted 0101 as a number and drops its leading 0.
    doc = {k: v for k, v in GOOD.items() if k != "codes"}
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(doc) + "codes:\n  - {code: 0101, term: A}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_file(path)
    assert info.value.column == "codes[0].code"
    assert "quotes" in info.value.problem


def grouped(**group) -> dict:
    doc = {k: v for k, v in GOOD.items() if k != "codes"}
    return {
        **doc,
        "weight_variants": ["general"],
        "groups": [{"id": "a", "name": "A", "weights": {"general": "1.5"}, "codes": [], **group}],
    }


def test_grouped_weights_are_decimal(tmp_path: Path) -> None:
    codelist = load_file(write(tmp_path, grouped()))
    assert codelist.group("a").weights == {"general": Decimal("1.5")}


def test_float_weight_is_refused(tmp_path: Path) -> None:
    error = broken(tmp_path, grouped(weights={"general": 1.5}))
    assert error.column == "groups[0].weights.general"


def test_missing_weight_variant(tmp_path: Path) -> None:
    error = broken(tmp_path, grouped(weights={}))
    assert error.column == "groups[0].weights"


def test_duplicate_group(tmp_path: Path) -> None:
    doc = grouped()
    doc["groups"].append(dict(doc["groups"][0]))
    error = broken(tmp_path, doc)
    assert error.column == "groups[1].id"


def test_duplicate_code_in_a_group(tmp_path: Path) -> None:
    codes = [{"code": "1", "term": "x"}, {"code": "1", "term": "y"}]
    error = broken(tmp_path, grouped(codes=codes))
    assert error.column == "groups[0].codes[1].code"


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, name="other")
    with pytest.raises(InputError) as info:
        load_file(path)
    assert info.value.column == "codelist.id"


def test_every_shipped_file_loads_by_path() -> None:
    # load() is cached; this reads each file afresh, as a reviewer editing one would.
    for path in sorted(codelists_folder().glob("*.yaml")):
        assert load_file(path).file == str(path)

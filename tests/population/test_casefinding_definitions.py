"""The case-finding definitions as data: the YAML files give exactly the lists the Python
lambdas they replaced gave (kept below as the reference), they carry their review metadata, the
loader refuses what the engine cannot evaluate, and they can be listed and exported."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from pcnkit.errors import InputError, PcnkitError
from pcnkit.population import casefinding, features
from pcnkit.population.casefinding import working_days_before
from pcnkit.population.engine import PopulationStore
from pcnkit.population.synthetic import generate

AS_OF = dt.date(2020, 1, 1)


# --- the lambdas the definition files replaced (pcnkit before issue 11), as the reference -----
# If a definition is changed on purpose, change its reference here in the same commit.


def _frail(t, *levels):
    return t.efi_approx_category.isin(list(levels)).fill_null(False)


_NO_SMR = lambda t, d: ~t.smr_12m  # noqa: E731
LEGACY = {
    "smr": {
        "no_smr_12m": _NO_SMR,
        "care_home": lambda t, d: t.care_home,
        "learning_disability": lambda t, d: t.on_ld,
        "polypharmacy_10": lambda t, d: t.medicine_groups_12m >= 10,
        "pincer_nsaid_65_no_ppi": lambda t, d: (t.age >= 65) & t.med_nsaids & ~t.med_ppis,
        "pincer_anticoagulant_nsaid": lambda t, d: t.med_anticoagulants & t.med_nsaids,
        "pincer_anticoagulant_antiplatelet_no_ppi": lambda t, d: (
            t.med_anticoagulants & t.med_antiplatelets & ~t.med_ppis
        ),
        "pincer_hf_nsaid": lambda t, d: t.on_hf & t.med_nsaids,
        "pincer_ckd_nsaid": lambda t, d: t.on_ckd & t.med_nsaids,
        "high_risk_monitored": lambda t, d: t.med_methotrexate | t.med_lithium | t.med_amiodarone,
        "severe_frailty_and_risk": lambda t, d: (
            _frail(t, "severe") & (t.housebound | (t.emergency_admissions_12m >= 1) | t.falls_12m)
        ),
        "addictive_medicines": lambda t, d: (
            t.med_opioids | t.med_gabapentinoids | t.med_benzodiazepines | t.med_z_drugs
        ),
    },
    "ehch": {
        "care_home": lambda t, d: t.care_home,
        "new_admission_no_assessment": lambda t, d: (
            (t.care_home_since >= working_days_before(d, 7)) & ~t.assessed_since_admission
        ),
        "no_pcsp": lambda t, d: ~t.pcsp_since_admission,
        "no_smr_12m": _NO_SMR,
    },
    "proactive_care": {
        "at_home": lambda t, d: ~t.care_home,
        "moderate_frailty": lambda t, d: _frail(t, "moderate"),
        "severe_frailty": lambda t, d: _frail(t, "severe"),
    },
    "cvd_hypertension": {
        "adult": lambda t, d: t.age >= 18,
        "not_on_hyp": lambda t, d: ~t.on_hyp,
        "not_palliative": lambda t, d: ~t.on_pc,
        "latest_bp_raised": lambda t, d: (t.latest_sbp >= 140) | (t.latest_dbp >= 90),
    },
    "cancer_lgi_no_fit": {
        "lgi_referral_without_fit": lambda t, d: t.lgi_referrals_without_fit_12m >= 1,
    },
}


@dataclasses.dataclass(frozen=True)
class _Lambda:
    id: str
    label: str
    condition: object


def _legacy(definition: casefinding.CaseFindingList) -> casefinding.CaseFindingList:
    """The same list with each criterion's condition the old lambda."""
    old = LEGACY[definition.id]

    def swap(group):
        return tuple(_Lambda(c.id, c.label, old[c.id]) for c in group)

    return dataclasses.replace(
        definition, required=swap(definition.required), any_of=swap(definition.any_of)
    )


@pytest.fixture(scope="module")
def synthetic_features(bhr_specs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("casefinding") / "pop"
    generate(bhr_specs, folder, seed=11, as_of=AS_OF)
    with PopulationStore(folder) as store:
        yield features.patient_features(store, AS_OF)


def _rows(definition, table, as_of=AS_OF):
    rows = casefinding.all_members(definition, table, as_of).to_pyarrow().to_pylist()
    return sorted((r["pseudonym"], r["criteria_ids"], r["criteria_met"]) for r in rows)


def test_every_lambda_has_a_definition_and_back():
    assert set(LEGACY) == set(casefinding.LIST_BY_ID)
    for definition in casefinding.LISTS:
        assert [c.id for c in definition.criteria] == list(LEGACY[definition.id]), definition.id


@pytest.mark.parametrize("list_id", list(LEGACY))
def test_definition_gives_the_same_people_and_reasons_as_its_lambdas(synthetic_features, list_id):
    definition = casefinding.get(list_id)
    new = _rows(definition, synthetic_features)
    assert new == _rows(_legacy(definition), synthetic_features)
    assert new, f"{list_id} is empty on the synthetic population: the comparison proves nothing"


@pytest.mark.parametrize("list_id", list(LEGACY))
def test_each_criterion_holds_for_the_same_people_as_its_lambda(synthetic_features, list_id):
    t = synthetic_features
    for c in casefinding.get(list_id).criteria:
        for as_of in (AS_OF, dt.date(2019, 12, 27)):  # working days cross a weekend
            mine = t.filter(c.condition(t, as_of).fill_null(False)).pseudonym
            theirs = t.filter(LEGACY[list_id][c.id](t, as_of).fill_null(False)).pseudonym
            got = set(mine.to_pyarrow().to_pylist())
            assert got == set(theirs.to_pyarrow().to_pylist()), (list_id, c.id)


def test_definitions_carry_review_metadata():
    for d in casefinding.LISTS:
        assert d.title and d.description and d.specification.startswith("Network Contract DES")
        assert d.authored_by and isinstance(d.next_review, dt.date)
        assert d.reviewed is None or (d.reviewed.by and isinstance(d.reviewed.date, dt.date))
        assert d.version >= 1


def test_rule_text_reads_the_condition():
    smr = casefinding.get("smr")
    rules = {c.id: c.rule for c in smr.criteria}
    assert rules["pincer_nsaid_65_no_ppi"] == "age >= 65 and med_nsaids and not med_ppis"
    assert rules["severe_frailty_and_risk"] == (
        "efi_approx_category in (severe) and "
        "(housebound or emergency_admissions_12m >= 1 or falls_12m)"
    )
    assert casefinding.rule_text({"not": {"any": ["a", "b"]}}) == "not (a or b)"
    assert casefinding.rule_text({"field": "age", "at_most": 17}) == "age <= 17"


def test_export_csv_has_a_row_per_criterion():
    text = casefinding.export_definitions("csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(len(d.criteria) for d in casefinding.LISTS)
    cvd = [r for r in rows if r["list_id"] == "cvd_hypertension"]
    assert [r["criterion_id"] for r in cvd] == [
        "adult",
        "not_on_hyp",
        "not_palliative",
        "latest_bp_raised",
    ]
    assert cvd[0]["criterion_group"] == "all_of" and cvd[0]["criterion_rule"] == "age >= 18"
    assert cvd[0]["next_review"] and cvd[0]["authored_by"]
    assert tuple(rows[0]) == casefinding.EXPORT_COLUMNS


def test_export_json_is_one_object_per_list():
    records = json.loads(casefinding.export_definitions("json"))
    assert [r["id"] for r in records] == [d.id for d in casefinding.LISTS]
    ehch = records[1]
    assert ehch["any_of"][0]["when"]["all"][0] == {
        "field": "care_home_since",
        "within_working_days": 7,
    }
    assert ehch["test_patients"] == len(casefinding.EHCH.test_patients)
    assert set(ehch) >= {"authored_by", "reviewed", "next_review", "description", "version"}
    with pytest.raises(PcnkitError, match="csv or json"):
        casefinding.export_definitions("xml")


def _write(tmp_path: Path, **changes) -> Path:
    import yaml

    doc = yaml.safe_load((casefinding.definitions_folder() / "cvd_hypertension.yaml").read_text())
    doc.update(changes)
    path = tmp_path / "cvd_hypertension.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_loader_reads_a_copy_and_refuses_what_it_cannot_evaluate(tmp_path):
    assert casefinding.load_file(_write(tmp_path)) == casefinding.CVD
    reviewed = casefinding.load_file(
        _write(tmp_path, reviewed={"date": "2027-01-05", "by": "Dr A. Reviewer"})
    )
    assert reviewed.reviewed == casefinding.Review(dt.date(2027, 1, 5), "Dr A. Reviewer")
    bad_when = [{"id": "x", "label": "x", "when": {"field": "age", "more_than": 3}}]
    with pytest.raises(PcnkitError, match=r"criterion x: .* is not a condition"):
        casefinding.load_file(_write(tmp_path, all_of=bad_when))
    with pytest.raises(PcnkitError, match="not a condition"):
        casefinding.load_file(_write(tmp_path, all_of=[{"id": "y", "label": "y", "when": {}}]))
    for test, value in (("at_least", "ten"), ("one_of", "severe"), ("within_working_days", 1.5)):
        bad = [{"id": "z", "label": "z", "when": {"field": "age", test: value}}]
        with pytest.raises(PcnkitError, match=f"criterion z: {test} needs"):
            casefinding.load_file(_write(tmp_path, all_of=bad))
    with pytest.raises(PcnkitError, match="sources name entries"):
        casefinding.load_file(_write(tmp_path, sources=["NO_SUCH_SOURCE"]))
    with pytest.raises(PcnkitError, match="reviewed is"):
        casefinding.load_file(_write(tmp_path, reviewed="yes"))
    with pytest.raises(PcnkitError, match="not the file's name"):
        casefinding.load_file(_write(tmp_path, id="other"))
    path = _write(tmp_path)
    text = path.read_text().replace("next_review:", "next_reviewed:")
    path.write_text(text)
    with pytest.raises(PcnkitError, match="missing next_review"):
        casefinding.load_file(path)


def test_a_broken_definition_file_names_its_file_and_line(tmp_path):
    path = tmp_path / "cvd.yaml"
    path.write_text("id: cvd\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        casefinding.load_file(path)
    assert caught.value.file == str(path) and caught.value.row is not None
    assert "Fix the YAML syntax" in str(caught.value)
    path.write_text("- a list, not a definition\n", encoding="utf-8")
    with pytest.raises(PcnkitError, match="is not a mapping"):
        casefinding.load_file(path)


def test_export_csv_neutralises_text_that_would_run_as_a_formula(tmp_path):
    import yaml

    doc = yaml.safe_load((casefinding.definitions_folder() / "cvd_hypertension.yaml").read_text())
    doc["all_of"][0]["label"] = '=HYPERLINK("http://x","adult")'
    doc["authored_by"] = "@clinical lead"
    definition = casefinding.load_file(_write(tmp_path, **doc))
    rows = list(csv.DictReader(io.StringIO(casefinding.export_definitions("csv", [definition]))))
    assert rows[0]["criterion_label"] == '\'=HYPERLINK("http://x","adult")'
    assert {r["authored_by"] for r in rows} == {"'@clinical lead"}

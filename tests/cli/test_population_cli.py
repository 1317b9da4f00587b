"""`pcnkit demo` with its synthetic population, and `pcnkit population ...` end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pcnkit.cli import app
from pcnkit.population import casefinding
from pcnkit.population.disclosure import REDACTED

runner = CliRunner()
HAVERING_SOUTH = "U00367"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def cohort(folder, list_id: str, *where) -> list[dict]:
    """`pcnkit population cohort` as JSON rows (the command must succeed)."""
    result = invoke("population", "cohort", list_id, *where, "--format", "json", "-w", folder)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("popcli") / "demo"
    result = invoke("demo", "-w", folder, "--patients", 25000, "--no-serve")
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_demo_reports_calibration_tiers_cohort_lists_and_model(demo):
    _, output = demo
    assert "SYNTHETIC population for BHR" in output
    assert "Register prevalence against NHS Digital QOF PREVALENCE_1920.csv" in output
    assert "Triangle of care" in output
    assert "Rising-risk cohort:" in output and "UNCONFIRMED" in output
    for list_id in ("smr", "ehch", "proactive_care", "cvd_hypertension", "cancer_lgi_no_fit"):
        assert list_id in output
    assert "logit(p) =" in output


def test_cohort_for_a_pcn_lists_its_practices_people_with_reasons(demo):
    folder, _ = demo
    rows = cohort(folder, "rising-risk", "--pcn", HAVERING_SOUTH)
    assert rows
    members = invoke("registry", "show", HAVERING_SOUTH, "--as-of", "2020-01-01", "-w", folder)
    for r in rows:
        assert r["practice"] in members.output
        assert r["rising_risk_reasons"]
    per_practice: dict[str, list[int]] = {}
    for r in rows:
        per_practice.setdefault(r["practice"], []).append(r["cohort_rank"])
    for ranks in per_practice.values():
        assert ranks == list(range(1, len(ranks) + 1))


def test_case_finding_list_for_one_practice(demo):
    folder, _ = demo
    rows = cohort(folder, "cvd_hypertension", "--practice", "F82002")
    assert rows and {r["practice"] for r in rows} == {"F82002"}
    assert all("not on the hypertension register" in r["criteria_met"] for r in rows)


@pytest.mark.parametrize(
    "args, message",
    [
        (("cohort", "rising-risk"), "exactly one scope"),
        (("cohort", "nope", "--practice", "F82002"), "unknown case-finding list"),
        (("stratify", "--engine", "oracle"), "unknown population backend"),
    ],
)
def test_bad_requests_fail_clearly(demo, args, message):
    folder, _ = demo
    result = invoke("population", *args, "-w", folder)
    assert result.exit_code == 2
    assert message in result.output


def test_generate_refuses_to_overwrite_without_replace(demo):
    folder, _ = demo
    result = invoke("population", "generate", "--area", "BHR", "--seed", 1, "-w", folder)
    assert result.exit_code == 2
    assert "--replace" in result.output


def test_stratify_needs_a_population(tmp_path):
    result = invoke("population", "stratify", "-w", tmp_path / "empty")
    assert result.exit_code == 2
    assert "holds no Parquet files" in result.output


def test_pack_shows_only_safe_counts(demo):
    folder, _ = demo
    result = invoke("population", "pack", "--pcn", HAVERING_SOUTH, "--format", "json", "-w", folder)
    assert result.exit_code == 0, result.output
    pack = json.loads(result.output)
    assert pack["synthetic"] is True
    assert {"tiers", "efi", "lists", "prevalence", "age_sex"} <= set(pack["tables"])
    for table in pack["tables"].values():
        for row in table["rows"]:
            for key in ("patients", "on_list"):
                if key in row:
                    assert row[key] == REDACTED or int(row[key]) % 5 == 0


def test_check_definitions_passes():
    result = invoke("population", "check-definitions")
    assert result.exit_code == 0, result.output
    assert "embedded test patients give the expected answer" in result.output


def test_definitions_lists_and_exports_the_case_finding_definitions():
    result = invoke("population", "definitions")
    assert result.exit_code == 0, result.output
    assert "cvd_hypertension (version 1)" in result.output
    assert "age >= 18" in result.output and "next review" in result.output
    # the shipped definitions have had no clinical review: the listing says so plainly
    unreviewed = [d for d in casefinding.LISTS if not d.reviewed]
    assert result.output.count("NO CLINICAL REVIEW RECORDED") == len(unreviewed) > 0
    assert f"{len(unreviewed)} of {len(casefinding.LISTS)} definitions have no clinical" in (
        " ".join(result.output.split())
    )
    as_json = invoke("population", "definitions", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert [d["id"] for d in json.loads(as_json.output)][:2] == ["smr", "ehch"]
    as_csv = invoke("population", "definitions", "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.output.startswith("list_id,list_title,version,")
    assert "cancer_lgi_no_fit" in as_csv.output


def _snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "args, message",
    [
        (("--area", "NOPE1"), "NOPE1"),
        (("--area", "BHR", "--qof", "missing.csv"), "no such QOF prevalence file"),
        (("--area", "BHR", "--patients", 0), "at least 1"),
    ],
)
def test_a_failed_replace_leaves_the_population_as_it_was(demo, args, message):
    folder, _ = demo
    population = folder / "population"
    before = _snapshot(population)
    result = invoke("population", "generate", *args, "--seed", 1, "--replace", "-w", folder)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _snapshot(population) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (("--quota", -1), "cannot be negative"),
        (("--model", "model.json"), "not a saved risk model"),
    ],
)
def test_a_failed_stratify_leaves_the_results_as_they_were(demo, tmp_path, args, message):
    folder, _ = demo
    results = folder / "population" / "results"
    before = _snapshot(results)
    if args[0] == "--model":
        bad = tmp_path / "model.json"
        bad.write_text('{"intercept": 1}')
        args = ("--model", bad)
    result = invoke("population", "stratify", *args, "-w", folder)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _snapshot(results) == before
    assert not (folder / "population" / ".results-staging").exists()


def test_pack_splits_every_list_by_deprivation_and_ethnic_group(demo):
    folder, _ = demo
    result = invoke("population", "pack", "--pcn", HAVERING_SOUTH, "--format", "json", "-w", folder)
    pack = json.loads(result.output)
    lists = {r["list"]: r["patients"] for r in pack["tables"]["lists"]["rows"]}
    for by, groups in (("imd_quintile", {1, 2, 3, 4, 5}), ("ethnic_group", {"white", "asian"})):
        rows = pack["tables"][f"inequalities_{by}"]["rows"]
        for list_id in ("smr", "ehch", "proactive_care", "cvd_hypertension", "cancer_lgi_no_fit"):
            mine = [r for r in rows if r["list"] == list_id]
            assert groups <= {r[by] for r in mine}
            for r in mine:
                for key in ("on_list", "registered"):
                    assert r[key] == REDACTED or int(r[key]) % 5 == 0
            total = next(r for r in mine if r[by] == "total")
            shown = [
                int(r["on_list"]) for r in mine if r[by] != "total" and r["on_list"] != REDACTED
            ]
            if total["on_list"] != REDACTED:
                assert int(total["on_list"]) == sum(shown)  # totals from the safe cells
            assert lists[list_id] != "0" or total["on_list"] == "0"
        registered = [r for r in rows if r["list"] == "smr" and r[by] != "total"]
        assert sum(int(r["registered"]) for r in registered if r["registered"] != REDACTED) > 0


def test_a_redacted_cohort_has_no_rate_rather_than_none():
    from pcnkit.cli.population import cohort_sentence

    rr = {"cohort": REDACTED, "per_10000": None, "quota_per_10000": 50, "quota_source": "NWL"}
    line = cohort_sentence(rr)
    assert "None" not in line and "rate not shown (the count is redacted)" in line
    assert "= 52.3 per 10,000" in cohort_sentence({**rr, "cohort": "105", "per_10000": 52.3})

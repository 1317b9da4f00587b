"""Tiers, the rising-risk cohort, the case-finding lists and the stratification pipeline.

The embedded test patients of every definition are checked at several index dates; the
pipeline is checked on a synthetic BHR population against independent computations on its
own output (quota per practice, one tier per person, every listed person meeting the list's
rule, safe summary counts)."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest

from pcnkit.errors import PcnkitError
from pcnkit.population import casefinding, disclosure, segments, stratify
from pcnkit.population.engine import PopulationStore
from pcnkit.population.synthetic import generate
from pcnkit.population.testpatients import TestPatient, build_store

AS_OF = dt.date(2020, 1, 1)


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2021, 3, 1), dt.date(2024, 2, 29)])
def test_every_tier_rule_puts_its_test_patients_where_expected(as_of):
    assert segments.check_test_patients(as_of) == []


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2021, 3, 1), dt.date(2024, 2, 29)])
def test_every_case_finding_list_includes_and_excludes_its_test_patients(as_of):
    assert casefinding.check_test_patients(as_of) == []


def test_every_rule_and_list_has_test_patients():
    ruled = {c.rule for c in segments.TEST_PATIENTS}
    assert ruled == {r.id for r in segments.ALL_RULES}
    for definition in casefinding.LISTS:
        assert any(c.expect for c in definition.test_patients), definition.id
        assert any(not c.expect for c in definition.test_patients), definition.id


def test_a_broken_expectation_is_reported():
    wrong = TestPatient("healthy-but-expected-in", True, age=30)
    store = build_store([wrong], AS_OF)
    from pcnkit.population import features

    table = features.patient_features(store, AS_OF)
    rows = casefinding.all_members(casefinding.CVD, table, AS_OF).to_pyarrow()
    assert rows.num_rows == 0  # so check_test_patients would report it


def test_working_days_skip_weekends():
    # Wed 1 January 2020: 7 working days back (31, 30, 27, 26, 25, 24, 23) is Mon 23 December
    assert casefinding.working_days_before(dt.date(2020, 1, 1), 7) == dt.date(2019, 12, 23)
    assert casefinding.working_days_before(dt.date(2020, 1, 6), 1) == dt.date(2020, 1, 3)


def test_quota_rounds_half_up():
    assert segments.quota_for(10000) == 50
    assert segments.quota_for(8100) == 41  # 40.5 -> 41
    assert segments.quota_for(8099) == 40
    assert segments.quota_for(8100, 100) == 81
    assert segments.quota_for(0) == 0


def test_lists_need_a_scope():
    store = build_store(list(casefinding.CVD.test_patients), AS_OF)
    from pcnkit.population import features

    table = features.patient_features(store, AS_OF)
    with pytest.raises(PcnkitError, match="direct-care"):
        casefinding.case_finding_list("cvd_hypertension", table, AS_OF, [])
    with pytest.raises(PcnkitError, match="unknown case-finding list"):
        casefinding.get("nope")
    rows = casefinding.case_finding_list("cvd_hypertension", table, AS_OF, ["t00001"])
    assert {r["pseudonym"] for r in rows.to_pyarrow().to_pylist()} == {"cvd-150-85", "cvd-130-90"}


# --- the pipeline on a synthetic population ----------------------------------------------


@pytest.fixture(scope="module")
def stratified(bhr_specs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stratify") / "pop"
    # triple the 2% specs' lists so practices have quotas of a few people
    generate(bhr_specs, folder, seed=11, as_of=AS_OF)
    with PopulationStore(folder) as store:
        result = stratify.stratify(store)
        yield store, result


def _read(result, *parts):
    return pq.read_table(result.results.joinpath(*parts)).to_pylist()


def test_every_patient_is_in_exactly_one_tier_with_its_rule(stratified):
    store, result = stratified
    rows = _read(result, "stratified", "stratified.parquet")
    patients = store.patients.count().to_pyarrow().as_py()
    assert len(rows) == patients
    assert len({r["pseudonym"] for r in rows}) == patients
    for r in rows:
        assert r["tier"] == segments.RULE_BY_ID[r["tier_rule"]].tier
    assert {r["tier"] for r in rows} == set(segments.TIERS)


def test_rising_risk_cohort_fills_each_practice_quota_by_risk(stratified):
    _, result = stratified
    rows = _read(result, "stratified", "stratified.parquet")
    cohort = _read(result, "cohort", "rising_risk.parquet")
    by_practice: dict[str, list[dict]] = {}
    for r in rows:
        by_practice.setdefault(r["practice"], []).append(r)
    chosen: dict[str, list[str]] = {}
    for r in cohort:
        chosen.setdefault(r["practice"], []).append(r["pseudonym"])
    for practice, people in by_practice.items():
        quota = segments.quota_for(len(people))
        pool = sorted(
            (p for p in people if p["tier"] == segments.RISING),
            key=lambda p: (-p["predicted_risk"], p["pseudonym"]),
        )
        expected = [p["pseudonym"] for p in pool[:quota]]
        assert chosen.get(practice, []) == expected, practice
    assert all(r["rising_risk_reasons"] for r in cohort)


def test_listed_people_meet_their_list_and_carry_reasons(stratified):
    _, result = stratified
    everyone = {r["pseudonym"]: r for r in _read(result, "stratified", "stratified.parquet")}
    for definition in casefinding.LISTS:
        rows = _read(result, "lists", f"{definition.id}.parquet")
        for r in rows:
            person = everyone[r["pseudonym"]]
            assert r["criteria_met"], definition.id
            ids = set(r["criteria_ids"].split(","))
            assert {c.id for c in definition.required} <= ids
            if definition.any_of:
                assert ids & {c.id for c in definition.any_of}
            assert person["practice"] == r["practice"]
    cvd = _read(result, "lists", "cvd_hypertension.parquet")
    assert cvd and all(r["latest_sbp"] >= 140 or r["latest_dbp"] >= 90 for r in cvd)
    expected_cvd = {
        p
        for p, r in everyone.items()
        if r["age"] >= 18
        and not r["on_hyp"]
        and not r["on_pc"]
        and r["latest_sbp"] is not None
        and (r["latest_sbp"] >= 140 or r["latest_dbp"] >= 90)
    }
    assert {r["pseudonym"] for r in cvd} == expected_cvd


def test_summary_counts_are_safe_and_model_is_reported(stratified):
    _, result = stratified
    summary = json.loads((result.results / "summary.json").read_text())
    assert summary["synthetic"] is True
    for practice in summary["practices"].values():
        for value in [
            practice["patients"],
            *practice["tiers"].values(),
            *practice["lists"].values(),
        ]:
            assert value == disclosure.REDACTED or int(value) % 5 == 0
    assert "UNCONFIRMED" in summary["rising_risk"]["quota_source"]
    models = {r["model"] for r in summary["validation"]["comparison"]}
    assert {"age_sex", "cms", "efi", "full", "truth"} <= models
    full = next(r for r in summary["validation"]["comparison"] if r["model"] == "full")
    age_sex = next(r for r in summary["validation"]["comparison"] if r["model"] == "age_sex")
    assert full["c_statistic"] > age_sex["c_statistic"]
    assert summary["model"]["formula"].startswith("logit(p)")


def test_results_are_readable_by_scope(stratified):
    store, result = stratified
    practice = next(iter(result.summary["practices"]))
    rows = stratify.list_for(store, "smr", [practice]).to_pyarrow().to_pylist()
    assert rows and {r["practice"] for r in rows} == {practice}
    with pytest.raises(PcnkitError, match="direct-care"):
        stratify.list_for(store, "smr", [])
    cohort = stratify.cohort_for(store, [practice]).to_pyarrow().to_pylist()
    assert [r["cohort_rank"] for r in cohort] == list(range(1, len(cohort) + 1))


def test_precomputed_packs_equal_packs_counted_from_the_store(stratified):
    """stratify writes every practice's raw pack counts; a pack built from them (the fast
    path) equals the pack counted directly from the patient tables, for one practice, several
    practices and every practice, and a practice outside the store has no patients."""
    from pcnkit.population import pack

    store, result = stratified
    path = result.results / pack.PACK_COUNTS
    assert path.exists()
    practices = sorted(
        r["practice"] for r in store.patients.select("practice").distinct().to_pyarrow().to_pylist()
    )
    scopes = [practices[:1], practices[1:4], practices, [practices[0], "Z99999"]]
    fast = [pack.population_pack(store, codes, as_of=AS_OF).to_dict() for codes in scopes]
    assert pack.read_practice_counts(store, practices) is not None
    aside = path.with_name("aside.parquet")
    path.rename(aside)
    try:
        assert pack.read_practice_counts(store, practices) is None
        slow = [pack.population_pack(store, codes, as_of=AS_OF).to_dict() for codes in scopes]
    finally:
        aside.rename(path)
    assert fast == slow
    assert fast[3]["practices_without_patients"] == ["Z99999"]
    assert {"tiers", "efi", "lists", "inequalities_imd_quintile"} <= set(fast[2]["tables"])


def test_pack_counts_are_read_by_row_group(stratified, monkeypatch, tmp_path):
    """With many small row groups, a pack reads only the groups its practices fall in and
    still equals the pack counted from the store."""
    import pyarrow.parquet as pq

    from pcnkit.population import pack

    store, result = stratified
    path = result.results / pack.PACK_COUNTS
    practices = sorted(
        r["practice"] for r in store.patients.select("practice").distinct().to_pyarrow().to_pylist()
    )
    scopes = [practices[:1], practices[2:5], [practices[0], practices[-1]]]
    expected = [pack.population_pack(store, codes, as_of=AS_OF).to_dict() for codes in scopes]
    kept = tmp_path / "kept.parquet"
    path.rename(kept)
    try:
        monkeypatch.setattr(pack, "PACK_COUNTS_ROW_GROUP", 50)
        pack.write_practice_counts(store, result.results, path)
        assert pq.ParquetFile(path).metadata.num_row_groups > 10
        got = [pack.population_pack(store, codes, as_of=AS_OF).to_dict() for codes in scopes]
    finally:
        path.unlink(missing_ok=True)
        kept.rename(path)
    assert got == expected


def test_a_store_connects_to_its_engine_only_when_a_table_is_read(stratified):
    """Opening a store reads file footers only; the DuckDB connection is made on first use,
    and a store closed before any use closes cleanly."""
    store, _ = stratified
    fresh = PopulationStore(store.path)
    assert fresh._con is None
    assert fresh.synthetic and fresh.require_as_of() == AS_OF
    fresh.close()
    again = PopulationStore(store.path)
    assert again.patients.count().to_pyarrow().as_py() > 0
    assert again._con is not None
    again.close()

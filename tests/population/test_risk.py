"""The emergency-admission risk model (pcnkit.population.risk): metrics on hand-made cases,
the logistic fit on simulated data, the hashed split, and an honest end-to-end validation on
the synthetic BHR population at 2% (history before the index date, outcome after it)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pcnkit.dates import add_months
from pcnkit.population import risk
from pcnkit.population.engine import PopulationStore
from pcnkit.population.risk import RiskError
from pcnkit.population.synthetic import generate

AS_OF = dt.date(2020, 1, 1)

# --- C-statistic -----------------------------------------------------------------------------


def test_c_statistic_perfect_reversed_and_ties():
    y = np.array([0, 0, 0, 1, 1])
    assert risk.c_statistic(np.array([0.1, 0.2, 0.3, 0.8, 0.9]), y) == 1.0
    assert risk.c_statistic(np.array([0.9, 0.8, 0.7, 0.2, 0.1]), y) == 0.0
    assert risk.c_statistic(np.full(5, 0.3), y) == 0.5


def test_c_statistic_known_small_examples():
    # 3 of the 4 event/non-event pairs are ordered correctly
    assert risk.c_statistic(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    # pairs: (0.5 v 0.5) tie = 1/2, (0.5 v 0.2), (0.9 v 0.5), (0.9 v 0.2) -> 3.5 / 4
    assert risk.c_statistic(np.array([0.5, 0.5, 0.2, 0.9]), np.array([1, 0, 0, 1])) == 0.875
    # no events, or no non-events: undefined
    assert math.isnan(risk.c_statistic(np.array([0.1, 0.2]), np.array([0, 0])))


def test_c_statistic_matches_pairwise_count():
    rng = np.random.default_rng(3)
    p = rng.integers(0, 20, 300) / 20  # many ties
    y = rng.random(300) < p
    pos, neg = p[y], p[~y]
    diff = pos[:, None] - neg[None, :]
    expected = ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size
    assert risk.c_statistic(p, y) == pytest.approx(expected, abs=1e-12)


# --- PPV and sensitivity at the top k% ---------------------------------------------------------


def test_top_k_on_a_hand_made_vector():
    # 200 patients, risk descending with the row; events at rows 0, 1, 3, 10, 50, 150
    p = np.linspace(1.0, 0.0, 200, endpoint=False)
    y = np.zeros(200)
    y[[0, 1, 3, 10, 50, 150]] = 1
    one = risk.top_k(p, y, 0.01)  # top 2
    assert (one.flagged, one.ppv, one.sensitivity) == (2, 1.0, 2 / 6)
    two = risk.top_k(p, y, 0.02)  # top 4: rows 0-3
    assert (two.flagged, two.ppv, two.sensitivity) == (4, 0.75, 3 / 6)
    half = risk.top_k(p, y, 0.005)  # ceil(1) = top 1
    assert (half.flagged, half.ppv) == (1, 1.0)
    five = risk.top_k(p, y, 0.05)  # top 10: rows 0-9
    assert (five.flagged, five.ppv, five.sensitivity) == (10, 0.3, 0.5)
    ev = risk.evaluate(p, y)
    assert [t.fraction for t in ev.top] == [0.005, 0.01, 0.02, 0.05]


def test_top_k_ties_at_the_cut_count_by_their_average():
    # top 2 of 4: one clear top (an event) and three tied at 0.5 of which one is an event
    p = np.array([0.9, 0.5, 0.5, 0.5])
    y = np.array([1, 1, 0, 0])
    t = risk.top_k(p, y, 0.5)
    assert t.flagged == 2
    assert t.true_positives == pytest.approx(1 + 1 / 3)
    assert t.ppv == pytest.approx((1 + 1 / 3) / 2)
    assert t.sensitivity == pytest.approx((1 + 1 / 3) / 2)
    # and it does not depend on row order
    assert risk.top_k(p[::-1], y[::-1], 0.5) == t


# --- calibration -----------------------------------------------------------------------------


def test_calibration_on_perfectly_calibrated_probabilities():
    rng = np.random.default_rng(20200101)
    p = rng.beta(1.2, 8, 200_000)  # skewed like admission risks (mean ~0.13)
    y = (rng.random(p.size) < p).astype(float)
    ev = risk.evaluate(p, y)
    assert len(ev.deciles) == 10
    for d in ev.deciles:
        assert d["observed"] == pytest.approx(d["mean_predicted"], abs=0.01)
    assert ev.observed_rate == pytest.approx(ev.mean_predicted, abs=0.003)
    assert abs(ev.calibration_in_the_large) < 0.03
    assert ev.calibration_slope == pytest.approx(1.0, abs=0.05)
    # the expected Brier score of calibrated risks is mean(p(1-p))
    assert ev.brier == pytest.approx(float(np.mean(p * (1 - p))), abs=0.002)


def test_calibration_detects_over_prediction_and_overfitting():
    rng = np.random.default_rng(7)
    p = rng.beta(1.2, 8, 100_000)
    y = (rng.random(p.size) < p).astype(float)
    doubled = risk.evaluate(np.clip(p * 2, 0, 0.999), y)
    assert doubled.calibration_in_the_large < -0.3  # predicts too high
    lp = np.log(p / (1 - p))
    stretched = 1 / (1 + np.exp(-(lp * 2 + np.log(p.mean() / (1 - p.mean())))))
    assert risk.evaluate(stretched, y).calibration_slope == pytest.approx(0.5, abs=0.05)


# --- logistic fit ----------------------------------------------------------------------------


def test_fit_logistic_recovers_known_coefficients():
    rng = np.random.default_rng(42)
    n = 20_000
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.poisson(1.5, n)])
    intercept, beta = -2.0, np.array([0.8, -0.5, 0.3])
    y = (rng.random(n) < 1 / (1 + np.exp(-(intercept + X @ beta)))).astype(float)
    m = risk.fit_logistic(X, y, ["x", "flag", "count"])
    assert m.intercept == pytest.approx(intercept, abs=0.1)
    # tolerance ~3 standard errors at n = 20,000 (the binary term's SE is about 0.04)
    np.testing.assert_allclose(m.coefficients, beta, atol=0.12)
    # deterministic
    again = risk.fit_logistic(X, y, ["x", "flag", "count"])
    assert again.intercept == m.intercept
    assert np.array_equal(again.coefficients, m.coefficients)
    # readable
    d = m.to_dict()
    assert [f["name"] for f in d["features"]] == ["x", "flag", "count"]
    assert d["features"][0]["odds_ratio"] == pytest.approx(math.exp(m.coefficients[0]))
    assert d["formula"].startswith("logit(p) = -")
    assert "+ 0.7809 x x - 0.4147 x flag" in m.formula
    p = m.predict(X)
    assert p.shape == (n,) and ((p > 0) & (p < 1)).all()


def test_fit_logistic_stays_finite_under_separation():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    m = risk.fit_logistic(X, y, ["x"], l2=1e-3)
    assert np.isfinite(m.coefficients).all() and m.coefficients[0] > 0
    with pytest.raises(RiskError):
        risk.fit_logistic(X, np.array([0, 2, 1, 1]), ["x"])


def test_design_matrix_age_bands_sex_and_caps():
    frame = pa.table(
        {
            "age": [2, 30, 50, 70, 80, 95, 10],
            "sex": ["F", "M", "F", "M", "F", "M", "F"],
            "ltc_count": [0, 0, 1, 3, 4, 6, 0],
            "polypharmacy": [0, 0, 0, 1, 1, 1, 0],
            "prior_ae": [0, 1, 0, 7, 0, 2, 0],
            "prior_admissions": [0, 0, 0, 0, 5, 1, 0],
            "care_home": [False, False, False, False, True, False, False],
            "housebound": [False, False, False, True, False, False, False],
            "imd_decile": [1, 2, 3, 4, 5, 6, 7],
        }
    )
    X, names = risk.design_matrix(frame, "full")
    assert names[:7] == ["age_0-4", "age_5-17", "age_45-64", "age_65-74", "age_75-84", "age_85+",
                         "female"]  # fmt: skip
    assert X[:, :6].sum(axis=1).tolist() == [1, 0, 1, 1, 1, 1, 1]  # 30 is the reference band
    assert X[:, names.index("prior_ae")].tolist() == [0, 1, 0, 3, 0, 2, 0]  # capped at 3
    assert risk.available_feature_sets(frame) == ["age_sex", "full"]
    assert "cms" in risk.available_feature_sets(frame.append_column("cms", pa.array([0.0] * 7)))
    with pytest.raises(RiskError, match="missing"):
        risk.design_matrix(frame.set_column(8, "imd_decile", pa.array([1, None] * 3 + [1])), "full")
    with pytest.raises(RiskError, match="unknown feature set"):
        risk.design_matrix(frame, "nope")


# --- split and dates -------------------------------------------------------------------------


def test_holdout_split_is_deterministic_and_about_30_percent():
    ids = [f"pt{i:05d}" for i in range(20_000)]
    mask = risk.holdout_mask(ids)
    assert 0.28 < mask.mean() < 0.32
    assert np.array_equal(risk.holdout_mask(ids), mask)
    assert np.array_equal(risk.holdout_mask(ids[::-1])[::-1], mask)  # order-free
    assert not np.array_equal(risk.holdout_mask(ids, salt="other"), mask)
    with pytest.raises(RiskError):
        risk.holdout_mask(ids, fraction=1.5)


def test_compare_adds_a_labelled_ceiling_row():
    rng = np.random.default_rng(1)
    truth = rng.beta(1, 9, 5000)
    y = rng.random(5000) < truth
    rows = risk.compare({"noisy": truth + rng.normal(0, 0.05, 5000).clip(-0.09)}, y, truth=truth)
    assert [r["model"] for r in rows] == ["noisy", "truth"]
    assert rows[1]["kind"] == risk.CEILING_LABEL
    assert "synthetic" in risk.CEILING_LABEL
    assert {"ppv_top0_5pct", "sensitivity_top5pct", "calibration_slope"} <= set(rows[0])
    assert "only possible on synthetic data" in risk.format_comparison(rows)


# --- end to end on the synthetic population --------------------------------------------------


@pytest.fixture(scope="module")
def store_path(bhr_specs, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("risk") / "pop"
    generate(bhr_specs, folder, seed=5, as_of=AS_OF)
    return folder


def _read(folder: Path, name: str) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in sorted((folder / name).glob("*.parquet")))


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def build_predictors(folder: Path, index: dt.date) -> pa.Table:
    """Per-patient predictors known at `index`, straight from the Parquet files: age at the
    index, sex, LTCs diagnosed before it, A&E and admissions in the 12 months before it,
    care home, housebound, IMD decile, and polypharmacy (5+ distinct medicine groups; the
    generator writes medicines only in the 12 months before as_of, see risk.py)."""
    start = add_months(index, -12)
    pts = _read(folder, "patients").to_pylist()
    ltcs: dict[str, set[str]] = defaultdict(set)
    for r in _read(folder, "conditions").to_pylist():
        if r["diagnosis_date"] < index:
            ltcs[r["pseudonym"]].add(r["qof_group"])
    meds: dict[str, set[str]] = defaultdict(set)
    for r in _read(folder, "medications").to_pylist():
        meds[r["pseudonym"]].add(r["medicine_group"])
    prior: dict[tuple[str, str], int] = defaultdict(int)
    for r in _read(folder, "hospital").to_pylist():
        if start <= r["date"] < index:
            prior[r["pseudonym"], r["kind"]] += 1
    pts = [r for r in pts if r["month_of_birth"] <= index]
    ids = [r["pseudonym"] for r in pts]
    return pa.table(
        {
            "pseudonym": ids,
            "age": [_age(r["month_of_birth"], index) for r in pts],
            "sex": [r["sex"] for r in pts],
            "ltc_count": [len(ltcs[p]) for p in ids],
            "polypharmacy": [int(len(meds[p]) >= 5) for p in ids],
            "prior_ae": [prior[p, "ae"] for p in ids],
            "prior_admissions": [prior[p, "emergency_admission"] for p in ids],
            "care_home": [r["care_home"] for r in pts],
            "housebound": [r["housebound"] for r in pts],
            "imd_decile": [r["lsoa_imd_decile"] for r in pts],
        }
    )


@pytest.fixture(scope="module")
def validation(store_path):
    with PopulationStore(store_path) as store:
        index = risk.default_index_date(store)
        frame = build_predictors(store_path, index)
        yield store, index, frame, risk.validate(store, frame, feature_sets=["age_sex", "full"])


def test_outcome_is_after_the_index_date(validation, store_path):
    store, index, frame, _ = validation
    assert index == dt.date(2019, 1, 1)
    out = risk.outcome_after(store, index)
    assert out.column_names == ["pseudonym", "emergency_admission"]
    assert out.num_rows == frame.num_rows
    hosp = _read(store_path, "hospital").to_pylist()
    after = {
        r["pseudonym"]
        for r in hosp
        if r["kind"] == "emergency_admission" and index <= r["date"] < AS_OF
    } & set(frame.column("pseudonym").to_pylist())  # patients born after the index are out
    flagged = {p for p, a in zip(*out.to_pydict().values(), strict=True) if a}
    assert flagged == after
    # about 8-10% of people have an emergency admission in a year at these anchors
    assert 0.04 < len(flagged) / out.num_rows < 0.15


def test_full_model_beats_age_sex_and_stays_under_the_truth(validation):
    _, _, _, v = validation
    print("\n" + v.table())
    for name, m in v.models.items():
        print(name, m.formula)
    rows = {r["model"]: r for r in v.rows}
    assert set(rows) == {"age_sex", "full", "truth"}
    assert rows["truth"]["kind"] == risk.CEILING_LABEL
    age_sex, full, truth = (rows[k]["c_statistic"] for k in ("age_sex", "full", "truth"))
    assert 0.6 < truth < 0.85  # the ceiling on this data (docstring: about 0.73)
    assert full > age_sex
    assert full <= truth + 0.02
    assert 0.7 < rows["full"]["calibration_slope"] < 1.3
    assert abs(rows["full"]["calibration_in_the_large"]) < 0.3
    assert v.holdout_n / (v.holdout_n + v.train_n) == pytest.approx(0.3, abs=0.02)
    # the fitted model is readable: prior admissions raise the odds
    full_model = v.models["full"].to_dict()
    ors = {f["name"]: f["odds_ratio"] for f in full_model["features"]}
    assert ors["prior_admissions"] > 1 and ors["ltc_count"] > 1 and ors["care_home"] > 1


def test_validation_is_deterministic(validation):
    store, _, frame, v = validation
    again = risk.validate(store, frame, feature_sets=["age_sex", "full"])
    assert again.rows == v.rows


def test_truth_is_not_a_feature(validation):
    store, _, frame, _ = validation
    assert "truth" not in store.table_names()
    assert "p_emergency_admission_12m" not in frame.column_names


def test_pandas_and_mapping_frames_give_the_same_design():
    pd = pytest.importorskip("pandas")
    data = {"age": [3, 40, 88], "sex": ["M", "F", "F"], "cms": [0.0, 1.5, 4.2]}
    X_map, names = risk.design_matrix(data, "age_sex")
    X_pd, _ = risk.design_matrix(pd.DataFrame(data), "age_sex")
    X_pa, _ = risk.design_matrix(pa.table(data), "age_sex")
    assert np.array_equal(X_map, X_pd) and np.array_equal(X_map, X_pa)
    assert names[-1] == "female" and X_map[:, -1].tolist() == [0, 1, 1]
    assert risk.available_feature_sets(data) == ["age_sex", "cms"]


def test_in_engine_scoring_equals_the_numpy_model():
    """risk.score_expression (Ibis, used by stratify) and LogisticModel.predict_frame (numpy,
    used when fitting) give the same risk for every feature at every boundary."""
    import ibis

    names = risk.FEATURE_SETS["full"]
    model = risk.LogisticModel(tuple(names), np.linspace(-0.5, 0.8, len(names)), -2.5, "full")
    ages = [0, 4, 5, 17, 18, 44, 45, 64, 65, 74, 75, 84, 85, 101]
    frame = pa.table(
        {
            "age": ages,
            "sex": ["F", "M"] * 7,
            "ltc_count": list(range(14)),
            "polypharmacy": [0, 1] * 7,
            "prior_ae": [0, 1, 2, 3, 4, 9, 0, 1, 2, 3, 4, 9, 0, 5],
            "prior_admissions": [9, 4, 3, 2, 1, 0, 9, 4, 3, 2, 1, 0, 7, 3],
            "care_home": [0, 0, 1] * 4 + [0, 1],
            "housebound": [1, 0] * 7,
            "imd_decile": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 5, 10, 3],
        }
    )
    table = ibis.memtable(frame)
    in_engine = table.select(p=risk.score_expression(model, table)).to_pyarrow()
    assert np.allclose(in_engine.column("p").to_numpy(), model.predict_frame(frame), rtol=1e-12)


def test_grouped_fit_equals_the_per_patient_newton_fit():
    """fit_logistic fits patients with the same predictors as one binomial row: the
    coefficients must be those of plain per-patient Newton steps (with the same ridge)."""
    rng = np.random.default_rng(11)
    n = 4000
    X = np.column_stack(
        [rng.integers(0, 2, n), rng.integers(0, 5, n), rng.integers(1, 11, n), rng.random(n)]
    ).astype(float)
    X[:, 3] = np.round(X[:, 3], 1)  # a float column with ties
    y = (rng.random(n) < 1 / (1 + np.exp(2 - 0.5 * X[:, 0] - 0.2 * X[:, 1]))).astype(float)
    l2 = 1e-3
    A = np.column_stack([np.ones(n), X])
    penalty = np.full(A.shape[1], l2 * n)
    penalty[0] = 0.0
    beta = np.zeros(A.shape[1])
    for _ in range(50):  # plain Newton on every patient
        p = 1 / (1 + np.exp(-(A @ beta)))
        hess = (A * (p * (1 - p))[:, None]).T @ A + np.diag(penalty)
        beta = beta + np.linalg.solve(hess, A.T @ (y - p) - penalty * beta)
    m = risk.fit_logistic(X, y, ["a", "b", "c", "d"], l2=l2)
    assert m.intercept == pytest.approx(beta[0], abs=1e-8)
    np.testing.assert_allclose(m.coefficients, beta[1:], atol=1e-8)
    # with an offset (calibration-in-the-large), grouping keeps distinct offsets apart
    off = np.round(rng.normal(0, 1, n), 2)
    got = risk._newton(np.ones((n, 1)), y, l2=0.0, offset=off)[0]
    b0 = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(b0 + off)))
        b0 += (y - p).sum() / (p * (1 - p)).sum()
    assert got == pytest.approx(b0, abs=1e-8)

"""A transparent 12-month emergency-admission risk model, and its honest validation.

The model is a plain logistic regression, fitted by Newton's method (IRLS) in numpy, so every
coefficient can be read as an odds ratio and the whole model written down as one formula
(``LogisticModel.formula``). It is deterministic: the same rows give the same coefficients.

Predictors come from the caller as a per-patient table (a pyarrow Table, a pandas DataFrame or
a mapping of column name to array) with one row per patient. This module does not compute
them, so it stays independent of how the measures are built (``pcnkit.population.measures``
or an extract). The columns a feature set reads (``FEATURE_SETS``):

=================  =================================================================
``age``            whole years at the index date
``sex``            ``"F"`` or ``"M"`` (anything but ``"F"`` counts as not female)
``ltc_count``      number of long-term conditions (QOF groups) diagnosed before the index
``polypharmacy``   0/1 (or a count of distinct medicine groups) in the 12 months before
``prior_ae``       A&E attendances in the 12 months before the index date
``prior_admissions``  emergency admissions in the 12 months before the index date
``care_home``      0/1
``housebound``     0/1
``imd_decile``     1 (most deprived) to 10
``cms``, ``efi``   single scores (Cambridge Multimorbidity Score, electronic Frailty Index),
                   used only when present
=================  =================================================================

Prior counts are capped at ``PRIOR_CAP`` (3, meaning "3 or more") so one very heavy user
cannot pull a linear term. Nulls are refused: fill or drop them before fitting.

Honest validation (population-health.md 3.4)
--------------------------------------------
The outcome is an emergency admission in the 12 months AFTER an index date; predictors use
only what is known BEFORE it. The synthetic generator writes 24 months of hospital activity
before its ``as_of`` (dates in [as_of - 730 days, as_of)), so ``default_index_date`` is
``as_of`` minus 12 calendar months: predictors (prior A&E, prior admissions) come from the
12 months before the index, and the outcome (``outcome_after``) from [index, index + 12
months), which ends at ``as_of``. Patients born after the index date are left out. The model
is fitted on a training part and scored on a hold-out part chosen by hashing the pseudonym
(``holdout_mask``, 30% by default): stable across runs and machines, and independent of row
order.

On synthetic data the generator's true probability (``store.truth()``; 1 - exp(-rate) for a
constant rate, so also the probability for the 12 months after the index) gives a ceiling:
``compare`` reports the same metrics for it, labelled as possible only on synthetic data.
Caveat: the synthetic medicines exist only in the 12 months before ``as_of`` (after the
index); they are patient attributes drawn independently of the admission dates, so using them
as the polypharmacy predictor leaks no outcome, but on real data use the 12 months before the
index.

Metrics (``evaluate``): C-statistic (AUC by average ranks, ties count a half), Brier score,
calibration by deciles of predicted risk (mean predicted vs observed), calibration-in-the-large
(the intercept of a logistic recalibration with logit(p) as an offset; 0 is ideal) and the
calibration slope (target 0.9-1.1), and PPV and sensitivity at the top 0.5%, 1%, 2% and 5%.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pcnkit.dates import add_months
from pcnkit.errors import PcnkitError

if TYPE_CHECKING:  # pragma: no cover
    from pcnkit.population.engine import PopulationStore


class RiskError(PcnkitError, ValueError):
    """Bad input to the risk model (a missing column, nulls, mismatched arrays)."""


# Age bands of the one-hot age terms (the generator's activity bands); 18-44 is the reference.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-4", 0, 4),
    ("5-17", 5, 17),
    ("18-44", 18, 44),
    ("45-64", 45, 64),
    ("65-74", 65, 74),
    ("75-84", 75, 84),
    ("85+", 85, None),
)
REFERENCE_AGE_BAND = "18-44"
PRIOR_CAP = 3
TOP_FRACTIONS = (0.005, 0.01, 0.02, 0.05)
CEILING_LABEL = "TRUE probability (ceiling; only possible on synthetic data)"

_AGE_SEX = (*(f"age_{b}" for b, _, _ in AGE_BANDS if b != REFERENCE_AGE_BAND), "female")
# feature set -> derived feature names (see `design_matrix` for how each is derived)
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "age_sex": _AGE_SEX,
    "full": (
        *_AGE_SEX,
        "ltc_count",
        "polypharmacy",
        "prior_ae",
        "prior_admissions",
        "care_home",
        "housebound",
        "imd_decile",
    ),
    "cms": ("cms",),
    "efi": ("efi",),
}
# derived feature -> source column it needs
_SOURCE = {name: "age" for name in _AGE_SEX if name.startswith("age_")} | {"female": "sex"}


# --- columns and design matrices -------------------------------------------------------------


def _columns(frame: Any) -> dict[str, np.ndarray]:
    """A pyarrow Table, pandas DataFrame or mapping as {column: numpy array}."""
    if hasattr(frame, "column_names") and hasattr(frame, "column"):  # pyarrow Table
        return {n: frame.column(n).to_numpy(zero_copy_only=False) for n in frame.column_names}
    if hasattr(frame, "columns") and hasattr(frame, "to_numpy"):  # pandas DataFrame
        return {str(c): frame[c].to_numpy() for c in frame.columns}
    if isinstance(frame, Mapping):
        return {str(k): np.asarray(v) for k, v in frame.items()}
    raise RiskError(f"expected a pyarrow Table, pandas DataFrame or mapping, not {type(frame)}")


def _numeric(cols: dict[str, np.ndarray], name: str) -> np.ndarray:
    if name not in cols:
        raise RiskError(f"the predictor table has no column '{name}'")
    values = cols[name]
    if values.dtype == object and any(v is None for v in values):
        raise RiskError(f"column '{name}' has missing values; fill or drop them first")
    out = values.astype(float)
    if np.isnan(out).any():
        raise RiskError(f"column '{name}' has missing values; fill or drop them first")
    return out


def available_feature_sets(frame: Any) -> list[str]:
    """The names in FEATURE_SETS whose source columns the frame has."""
    cols = set(_columns(frame))
    return [
        name
        for name, features in FEATURE_SETS.items()
        if all(_SOURCE.get(f, f) in cols for f in features)
    ]


def design_matrix(frame: Any, feature_set: str | Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The feature matrix (rows = patients) and feature names for a named feature set (or a
    list of derived feature names). Age bands are one-hot with 18-44 as the reference; prior
    counts are capped at PRIOR_CAP; everything else is used as a number."""
    if isinstance(feature_set, str) and feature_set not in FEATURE_SETS:
        raise RiskError(f"unknown feature set '{feature_set}'; choose one of {list(FEATURE_SETS)}")
    names = list(FEATURE_SETS[feature_set] if isinstance(feature_set, str) else feature_set)
    cols = _columns(frame)
    out = []
    age = _numeric(cols, "age") if any(n.startswith("age_") for n in names) else None
    for name in names:
        if name.startswith("age_"):
            band = name.removeprefix("age_")
            lo, hi = next((lo, hi) for b, lo, hi in AGE_BANDS if b == band)
            col = (age >= lo) & (age <= (hi if hi is not None else np.inf))
        elif name == "female":
            if "sex" not in cols:
                raise RiskError("the predictor table has no column 'sex'")
            col = np.asarray(cols["sex"]).astype(str) == "F"
        elif name in ("prior_ae", "prior_admissions"):
            col = np.minimum(_numeric(cols, name), PRIOR_CAP)
        else:
            col = _numeric(cols, name)
        out.append(np.asarray(col, dtype=float))
    n = len(next(iter(cols.values()))) if cols else 0
    return (np.column_stack(out) if out else np.empty((n, 0))), names


# --- logistic regression ---------------------------------------------------------------------


def _expit(z: np.ndarray) -> np.ndarray:
    return np.where(
        z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z)))
    )


def _logit(p: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return np.log(p / (1 - p))


def _codes(column: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's code (0..k-1) and k: small whole numbers are their own code (no sort)."""
    low, high = column.min(), column.max()
    if high - low < 1_000_000 and np.array_equal(column, np.floor(column)):
        return (column - low).astype(np.int64), int(high - low) + 1
    _, inverse = np.unique(column, return_inverse=True)
    return inverse.ravel().astype(np.int64), int(inverse.max()) + 1


def _grouped(
    X: np.ndarray, y: np.ndarray, offset: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """The distinct rows of X with how many patients share each and how many of them had the
    event. The predictors are mostly small whole numbers and bands, so a million patients
    collapse to a few thousand rows, and the binomial likelihood on them is exactly the
    Bernoulli likelihood on the patients (the same maximum, far less arithmetic). Rows with
    the same predictors but another `offset` stay apart."""
    n = len(y)
    columns = list(np.asfortranarray(X).T) + ([] if offset is None else [offset])
    key, size = np.zeros(n, dtype=np.int64), 1
    for column in columns:
        codes, k = _codes(column)
        if size * k >= 2**62:  # renumber the key densely before it could overflow
            _, key = np.unique(key, return_inverse=True)
            key, size = key.ravel().astype(np.int64), int(key.max()) + 1
        key, size = key * k + codes, size * k
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    return (
        X[first],
        None if offset is None else offset[first],
        np.bincount(inverse).astype(float),
        np.bincount(inverse, weights=y),
    )


def _newton(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l2: float,
    offset: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> np.ndarray:
    """Penalised maximum likelihood by Newton steps with step halving. X includes the
    intercept column first (not penalised). Returns the coefficient vector.

    Patients with the same predictors (and offset) are fitted as one binomial row
    (`_grouped`); convergence is stated as every coefficient moving less than `tol` in a
    step (at most `max_iter` steps)."""
    n, k = X.shape
    y = np.asarray(y, dtype=float)
    off = None if offset is None else np.asarray(offset, dtype=float)
    X, off, counts, events = _grouped(X, y, off)
    off = np.zeros(len(X)) if off is None else off
    penalty = np.full(k, l2 * n)
    penalty[0] = 0.0
    beta = np.zeros(k)
    mean = float(np.clip(events.sum() / n, 1e-6, 1 - 1e-6))
    beta[0] = math.log(mean / (1 - mean)) - float(counts @ off / n) * (offset is not None)

    def objective(z: np.ndarray, b: np.ndarray) -> float:
        # log-likelihood: y*z - log(1 + e^z), summed over the patients of each row
        return float(events @ z - counts @ np.logaddexp(0, z) - 0.5 * np.sum(penalty * b * b))

    z = X @ beta + off
    current = objective(z, beta)
    for _ in range(max_iter):
        p = _expit(z)
        grad = X.T @ (events - counts * p) - penalty * beta
        w = counts * p * (1 - p)
        hess = (X * w[:, None]).T @ X + np.diag(penalty)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-8:
            candidate = beta + t * step
            z_candidate = X @ candidate + off
            value = objective(z_candidate, candidate)
            if value >= current - 1e-12:
                break
            t /= 2
        beta, current, z = candidate, value, z_candidate
        if np.max(np.abs(t * step)) < tol:
            break
    return beta


@dataclass(frozen=True)
class LogisticModel:
    """logit(p) = intercept + sum(coefficient x feature). `feature_set` (when fitted by
    `validate`) names the FEATURE_SETS entry the features were built from."""

    names: tuple[str, ...]
    coefficients: np.ndarray
    intercept: float
    feature_set: str | None = None

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(self.names):
            raise RiskError(f"expected {len(self.names)} feature columns ({', '.join(self.names)})")
        return _expit(self.intercept + X @ self.coefficients)

    def predict_frame(self, frame: Any) -> np.ndarray:
        X, _ = design_matrix(frame, list(self.names))
        return self.predict(X)

    @property
    def formula(self) -> str:
        terms = [f"{self.intercept:.4f}"]
        for name, c in zip(self.names, self.coefficients, strict=True):
            terms.append(f"{'-' if c < 0 else '+'} {abs(c):.4f} x {name}")
        return "logit(p) = " + " ".join(terms)

    def to_dict(self) -> dict[str, Any]:
        """Readable by a person: each feature's coefficient and odds ratio (the multiplier
        on the odds of an admission per unit of the feature, other features held fixed)."""
        return {
            "feature_set": self.feature_set,
            "intercept": float(self.intercept),
            "baseline_risk": float(_expit(np.array([self.intercept]))[0]),
            "features": [
                {"name": n, "coefficient": float(c), "odds_ratio": float(math.exp(c))}
                for n, c in zip(self.names, self.coefficients, strict=True)
            ],
            "formula": self.formula,
        }


def model_from_dict(data: Mapping[str, Any]) -> LogisticModel:
    """A model saved with `LogisticModel.to_dict` (so users can keep and reuse a retrained
    model)."""
    try:
        features = list(data["features"])
        return LogisticModel(
            tuple(str(f["name"]) for f in features),
            np.array([float(f["coefficient"]) for f in features]),
            float(data["intercept"]),
            data.get("feature_set"),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise RiskError(f"not a saved risk model ({e}); save one with LogisticModel.to_dict") from e


def score_expression(model: LogisticModel, table: Any) -> Any:
    """The model's predicted risk as an Ibis expression over a predictor table with the
    columns ``design_matrix`` reads (age, sex, ltc_count, ...), so scoring runs inside the
    engine (DuckDB or Spark) with the same formula as `LogisticModel.predict`."""
    import ibis

    z = ibis.literal(float(model.intercept))
    for name, coefficient in zip(model.names, model.coefficients, strict=True):
        if name.startswith("age_"):
            band = name.removeprefix("age_")
            lo, hi = next((lo, hi) for b, lo, hi in AGE_BANDS if b == band)
            inside = table.age >= lo
            if hi is not None:
                inside = inside & (table.age <= hi)
            value = ibis.ifelse(inside, 1.0, 0.0)
        elif name == "female":
            value = ibis.ifelse(table.sex == "F", 1.0, 0.0)
        elif name in ("prior_ae", "prior_admissions"):
            value = ibis.least(table[name], PRIOR_CAP).cast("float64")
        else:
            value = table[name].cast("float64")
        z = z + float(coefficient) * value
    return 1.0 / (1.0 + (-z).exp())


def fit_logistic(
    X: np.ndarray, y: np.ndarray, names: Sequence[str], l2: float = 1e-4
) -> LogisticModel:
    """Fit a logistic regression with an intercept by Newton/IRLS. `l2` is a small ridge
    penalty per observation (l2 x n x sum(beta^2) / 2; the intercept is not penalised) that
    keeps the fit finite under separation or a feature with no variation."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[1] != len(names):
        raise RiskError("X must be n x len(names) and y must have n values")
    if not np.isin(y, (0.0, 1.0)).all():
        raise RiskError("y must be 0/1")
    beta = _newton(np.column_stack([np.ones(len(y)), X]), y, l2=l2)
    return LogisticModel(tuple(names), beta[1:].copy(), float(beta[0]))


# --- metrics ---------------------------------------------------------------------------------


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given their average rank."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average = ends - (counts - 1) / 2
    return average[inverse]


def c_statistic(p: np.ndarray, y: np.ndarray) -> float:
    """AUC (Mann-Whitney): the chance a random event scores above a random non-event, ties
    counting a half. NaN without both events and non-events."""
    p, y = np.asarray(p, dtype=float), np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = _ranks(p)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass(frozen=True)
class TopK:
    fraction: float
    flagged: int
    threshold: float
    true_positives: float
    ppv: float
    sensitivity: float


def top_k(p: np.ndarray, y: np.ndarray, fraction: float) -> TopK:
    """PPV and sensitivity when the ceil(fraction x n) highest-risk patients are flagged. If
    the cut falls inside a group of tied scores, the tied patients count by their average
    (the expected value under random tie-breaking), so the result does not depend on row
    order."""
    p, y = np.asarray(p, dtype=float), np.asarray(y).astype(float)
    n = len(p)
    k = min(n, max(1, math.ceil(fraction * n - 1e-9)))
    threshold = float(np.sort(p)[::-1][k - 1])
    above = p > threshold
    tied = p == threshold
    take = k - int(above.sum())
    tp = float(y[above].sum()) + take * float(y[tied].mean())
    events = float(y.sum())
    return TopK(
        fraction=fraction,
        flagged=k,
        threshold=threshold,
        true_positives=tp,
        ppv=tp / k,
        sensitivity=tp / events if events else float("nan"),
    )


@dataclass(frozen=True)
class Evaluation:
    n: int
    events: int
    observed_rate: float
    mean_predicted: float
    c_statistic: float
    brier: float
    calibration_in_the_large: float  # recalibration intercept with logit(p) as offset; 0 ideal
    calibration_slope: float  # 1 ideal
    deciles: list[dict[str, float]] = field(default_factory=list)  # n, mean_predicted, observed
    top: list[TopK] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        """The headline metrics as one flat row (for `compare`)."""
        out: dict[str, float] = {
            "n": self.n,
            "events": self.events,
            "observed_rate": self.observed_rate,
            "mean_predicted": self.mean_predicted,
            "c_statistic": self.c_statistic,
            "brier": self.brier,
            "calibration_in_the_large": self.calibration_in_the_large,
            "calibration_slope": self.calibration_slope,
        }
        for t in self.top:
            pct = f"{t.fraction * 100:g}".replace(".", "_")
            out[f"ppv_top{pct}pct"] = t.ppv
            out[f"sensitivity_top{pct}pct"] = t.sensitivity
        return out


def calibration_deciles(p: np.ndarray, y: np.ndarray, groups: int = 10) -> list[dict[str, float]]:
    """Patients sorted by predicted risk and cut into `groups` near-equal groups: each
    group's size, mean predicted risk and observed event rate."""
    p, y = np.asarray(p, dtype=float), np.asarray(y).astype(float)
    order = np.argsort(p, kind="stable")
    out = []
    for i, idx in enumerate(np.array_split(order, groups), start=1):
        if len(idx):
            out.append(
                {
                    "group": i,
                    "n": len(idx),
                    "mean_predicted": float(p[idx].mean()),
                    "observed": float(y[idx].mean()),
                }
            )
    return out


def evaluate(
    p: np.ndarray, y: np.ndarray, fractions: Sequence[float] = TOP_FRACTIONS
) -> Evaluation:
    """Discrimination, calibration and top-k% performance of predicted risks p against the
    0/1 outcome y."""
    p, y = np.asarray(p, dtype=float), np.asarray(y).astype(float)
    if p.shape != y.shape or p.ndim != 1 or len(p) == 0:
        raise RiskError("p and y must be non-empty 1-d arrays of the same length")
    lp = _logit(p)
    if 0 < y.sum() < len(y):
        citl = float(_newton(np.ones((len(y), 1)), y, l2=0.0, offset=lp)[0])
        slope = float(_newton(np.column_stack([np.ones(len(y)), lp]), y, l2=0.0)[1])
    else:
        citl = slope = float("nan")
    return Evaluation(
        n=len(y),
        events=int(y.sum()),
        observed_rate=float(y.mean()),
        mean_predicted=float(p.mean()),
        c_statistic=c_statistic(p, y),
        brier=float(np.mean((p - y) ** 2)),
        calibration_in_the_large=citl,
        calibration_slope=slope,
        deciles=calibration_deciles(p, y),
        top=[top_k(p, y, f) for f in fractions],
    )


def compare(
    predictions: Mapping[str, np.ndarray], y: np.ndarray, *, truth: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """One row of metrics per model (name -> predicted risks on the same patients as y), plus,
    when the true probabilities are given (synthetic data only), a last row for them, labelled
    CEILING_LABEL: the best any model could do on this data."""
    rows = [
        {"model": name, "kind": "model", **evaluate(p, y).row()} for name, p in predictions.items()
    ]
    if truth is not None:
        rows.append({"model": "truth", "kind": CEILING_LABEL, **evaluate(truth, y).row()})
    return rows


def format_comparison(rows: Sequence[Mapping[str, Any]]) -> str:
    """A plain-text table of `compare`'s rows (aggregate metrics only)."""
    cols = [
        "model",
        "n",
        "events",
        "c_statistic",
        "calibration_in_the_large",
        "calibration_slope",
        "brier",
    ] + [c for c in (rows[0] if rows else {}) if c.startswith(("ppv_", "sensitivity_"))]

    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    table = [cols] + [[cell(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in table]
    if any(r.get("kind") == CEILING_LABEL for r in rows):
        lines.append(f"truth = {CEILING_LABEL}")
    return "\n".join(lines)


# --- index date, outcome, split --------------------------------------------------------------


def default_index_date(store: PopulationStore) -> dt.date:
    """The store's as_of minus 12 months: history before it, the outcome after it."""
    return add_months(store.require_as_of(), -12)


def outcome_after(store: PopulationStore, index_date: dt.date, months: int = 12):
    """Per patient (born on or before `index_date`): whether they had an emergency admission
    with index_date <= date < index_date + `months` months, from store.table('hospital').
    A pyarrow Table (pseudonym, emergency_admission) sorted by pseudonym; patient-level, so
    keep it inside the analysis."""
    import ibis

    end = add_months(index_date, months)
    hosp = store.table("hospital")
    admitted = (
        hosp.filter(
            (hosp.kind == "emergency_admission")
            & (hosp.date >= ibis.literal(index_date))
            & (hosp.date < ibis.literal(end))
        )
        .select("pseudonym")
        .distinct()
        .mutate(emergency_admission=ibis.literal(True))
    )
    pts = store.patients
    pts = pts.filter(pts.month_of_birth <= ibis.literal(index_date)).select("pseudonym")
    joined = pts.left_join(admitted, "pseudonym").select(
        "pseudonym", emergency_admission=admitted.emergency_admission.fill_null(False)
    )
    return joined.order_by("pseudonym").to_pyarrow()


def true_probabilities(store: PopulationStore, pseudonyms: Sequence[str]) -> np.ndarray | None:
    """The synthetic generator's true 12-month probabilities for `pseudonyms`, in their order;
    None when the store has no truth table (real data). Validation only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        table = store.truth().select("pseudonym", "p_emergency_admission_12m").to_pyarrow()
    except PcnkitError:
        return None
    at = pc.index_in(pa.array(list(pseudonyms), pa.string()), table.column("pseudonym"))
    if at.null_count:
        raise RiskError(f"{at.null_count} patients have no true probability")
    values = table.column("p_emergency_admission_12m").take(at)
    return values.to_numpy().astype(float)


def holdout_mask(
    pseudonyms: Sequence[str], fraction: float = 0.3, salt: str = "pcnkit-risk"
) -> np.ndarray:
    """True for the hold-out patients: SHA-256 of (salt, pseudonym) read as a number in [0, 1)
    below `fraction`. Deterministic and independent of row order."""
    if not 0 < fraction < 1:
        raise RiskError("the hold-out fraction must be between 0 and 1")
    prefix = f"{salt}\x1f".encode()
    sha256 = hashlib.sha256
    digests = b"".join(sha256(prefix + str(p).encode()).digest()[:8] for p in pseudonyms)
    # the first 8 bytes as a big-endian number over 2**64 (a power of two: exact in float)
    return np.frombuffer(digests, dtype=">u8").astype(float) / 2**64 < fraction


@dataclass
class Validation:
    """The result of `validate`: fitted models (on the training part) and hold-out metrics."""

    index_date: dt.date
    models: dict[str, LogisticModel]
    rows: list[dict[str, Any]]
    train_n: int
    holdout_n: int

    def table(self) -> str:
        return format_comparison(self.rows)


def validate(
    store: PopulationStore,
    predictors: Any,
    *,
    feature_sets: Sequence[str] | None = None,
    index_date: dt.date | None = None,
    holdout: float = 0.3,
    l2: float = 1e-4,
) -> Validation:
    """Fit each feature set on the training patients and compare them on the hold-out.

    `predictors` holds one row per patient with a ``pseudonym`` column and predictors measured
    before `index_date` (default: as_of - 12 months). Patients are joined to
    `outcome_after(store, index_date)`; those without an outcome row (born after the index)
    are dropped. The truth row is added when the store has one (synthetic data)."""
    index_date = index_date or default_index_date(store)
    import pyarrow as pa
    import pyarrow.compute as pc

    if hasattr(predictors, "column_names") and "pseudonym" in predictors.column_names:
        # a pyarrow Table: keep the pseudonyms as Arrow strings, not Python objects
        ids_all = predictors.column("pseudonym").combine_chunks().cast(pa.string())
        cols = _columns(predictors.drop_columns(["pseudonym"]))
    else:
        cols = _columns(predictors)
        if "pseudonym" not in cols:
            raise RiskError("the predictor table needs a 'pseudonym' column")
        ids_all = pa.array([str(p) for p in cols.pop("pseudonym")], pa.string())
    outcome = outcome_after(store, index_date)
    at = pc.index_in(ids_all, outcome.column("pseudonym"))
    keep = pc.is_valid(at).to_numpy(zero_copy_only=False)
    cols = {k: v[keep] for k, v in cols.items()}
    ids = ids_all.filter(pa.array(keep)).to_pylist()
    y = outcome.column("emergency_admission").take(at.filter(pa.array(keep)))
    y = y.to_numpy(zero_copy_only=False).astype(float)
    test = holdout_mask(ids, holdout)
    sets = list(feature_sets or available_feature_sets(cols))
    models, predictions = {}, {}
    for name in sets:
        X, names = design_matrix(cols, name)
        m = fit_logistic(X[~test], y[~test], names, l2=l2)
        models[name] = LogisticModel(m.names, m.coefficients, m.intercept, name)
        predictions[name] = models[name].predict(X[test])
    truth = true_probabilities(store, [p for p, t in zip(ids, test, strict=True) if t])
    return Validation(
        index_date=index_date,
        models=models,
        rows=compare(predictions, y[test], truth=truth),
        train_n=int((~test).sum()),
        holdout_n=int(test.sum()),
    )

"""The synthetic generator's activity tables (medicines, blood pressure, hospital use, truth,
coded events), on the BHR demo practices scaled to 2%. See synthetic.py docstring sections
7-10."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pcnkit.population import codelists, measures, synthetic
from pcnkit.population.engine import PopulationStore
from pcnkit.population.synthetic import PracticeSpec, generate

AS_OF = dt.date(2020, 1, 1)
SCALE = 0.02
ACTIVITY = ("medications", "observations", "hospital", "truth", "events")
ANTIHYPERTENSIVES = {
    "acei_arbs",
    "calcium_channel_blockers",
    "thiazide_diuretics",
    "beta_blockers",
    "alpha_blockers",
}


@pytest.fixture(scope="module")
def specs(bhr_specs) -> list[PracticeSpec]:
    return bhr_specs


@pytest.fixture(scope="module")
def out(specs, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("act") / "out"
    generate(specs, folder, seed=11, as_of=AS_OF)
    return folder


def _table(out: Path, name: str):
    return pa.concat_tables(pq.read_table(p) for p in sorted((out / name).glob("*.parquet")))


def _rows(out: Path, name: str) -> list[tuple]:
    return sorted(tuple(r.values()) for r in _table(out, name).to_pylist())


def _bytes(out: Path, names) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for name in names
        for p in sorted((out / name).glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def world(out):
    """Per-patient facts gathered from the tables (ages, LTCs, medicines, latest BP, events)."""
    patients = _table(out, "patients").to_pylist()
    months = AS_OF.year * 12 + AS_OF.month
    age = {
        p["pseudonym"]: (months - (p["month_of_birth"].year * 12 + p["month_of_birth"].month)) // 12
        for p in patients
    }
    ltc: dict[str, set] = defaultdict(set)
    for c in _table(out, "conditions").to_pylist():
        ltc[c["pseudonym"]].add(c["qof_group"])
    meds: dict[str, set] = defaultdict(set)
    for m in _table(out, "medications").to_pylist():
        meds[m["pseudonym"]].add(m["medicine_group"])
    latest: dict[str, dict] = {}
    for o in sorted(_table(out, "observations").to_pylist(), key=lambda o: o["date"]):
        latest.setdefault(o["pseudonym"], {})[o["concept"]] = o["value"]
    admissions: Counter = Counter()
    for e in _table(out, "hospital").to_pylist():
        if e["kind"] == "emergency_admission" and e["date"] >= AS_OF - dt.timedelta(days=365):
            admissions[e["pseudonym"]] += 1
    truth = {
        t["pseudonym"]: t["p_emergency_admission_12m"] for t in _table(out, "truth").to_pylist()
    }
    return {
        "patients": patients,
        "age": age,
        "ltc": ltc,
        "meds": meds,
        "latest": latest,
        "admissions": admissions,
        "truth": truth,
    }


def _band(age: int) -> str:
    return synthetic.ACTIVITY_BAND_NAMES[synthetic.activity_band(age)]


def test_same_seed_identical_bytes_and_batches_do_not_matter(specs, out, tmp_path):
    generate(specs, tmp_path / "again", seed=11, as_of=AS_OF)
    assert _bytes(out, ACTIVITY) == _bytes(tmp_path / "again", ACTIVITY)
    some = list(reversed(specs[:10]))
    generate(some, tmp_path / "one", seed=11, as_of=AS_OF, batch_practices=1)
    generate(some, tmp_path / "all", seed=11, as_of=AS_OF, batch_practices=50)
    codes = {s.code for s in some}
    mine = {
        p["pseudonym"]
        for p in _table(tmp_path / "one", "patients").to_pylist()
        if p["practice"] in codes
    }
    for name in ACTIVITY:
        assert _rows(tmp_path / "one", name) == _rows(tmp_path / "all", name), name
        # and a practice's rows do not depend on the other practices in the run
        whole = [r for r in _rows(out, name) if r[0] in mine]
        assert whole == _rows(tmp_path / "one", name), name


def test_patients_and_conditions_are_unchanged_by_the_activity_stage(specs, out, tmp_path):
    generate(specs, tmp_path / "bare", seed=11, as_of=AS_OF, activity=False)
    names = ("patients", "conditions")
    assert _bytes(out, names) == _bytes(tmp_path / "bare", names)
    assert not (tmp_path / "bare" / "truth").exists()
    assert generate(specs[:2], tmp_path / "x", seed=1, as_of=AS_OF).medications > 0


def test_medicines_are_consistent_with_conditions(world, out):
    ltc, meds = world["ltc"], world["meds"]

    def share(group: str, wanted: set[str]) -> float:
        people = [p for p in world["age"] if group in ltc[p]]
        assert len(people) > 20, group
        return sum(bool(meds[p] & wanted) for p in people) / len(people)

    assert share("HYP", ANTIHYPERTENSIVES) > 0.82  # the model gives about 0.89
    assert share("DM", {"metformin", "other_glucose_lowering"}) > 0.85
    assert 0.6 < share("AF", {"anticoagulants"}) < 0.95
    assert share("CHD", {"antiplatelets"}) > 0.75 and share("CHD", {"statins"}) > 0.75
    assert share("AST", {"inhaled_relievers"}) > 0.8
    # condition-specific medicines are rare without the condition
    no_dm = [p for p in world["age"] if "DM" not in ltc[p]]
    assert not any({"metformin", "insulins"} & meds[p] for p in no_dm)
    table = _table(out, "medications").to_pylist()
    assert table
    starts = {p["pseudonym"]: p["registration_start"] for p in world["patients"]}
    for row in table:
        assert row["bnf_chapter"] == synthetic.MEDICINE_CHAPTERS[row["medicine_group"]]
        assert AS_OF - dt.timedelta(days=365) <= row["issue_date"] < AS_OF
        assert row["issue_date"] >= starts[row["pseudonym"]]


def test_smr_medicine_groups_use_the_code_lists_ids():
    for list_id in ("smr_high_risk_medicines", "smr_addictive_medicines"):
        for group in codelists.load(list_id).groups:
            assert group.id in synthetic.MEDICINE_CHAPTERS, group.id


def test_polypharmacy_rises_with_age(world):
    by_band: dict[str, list[int]] = defaultdict(list)
    for p, a in world["age"].items():
        by_band[_band(a)].append(len(world["meds"][p]))
    five = {b: sum(n >= 5 for n in v) / len(v) for b, v in by_band.items()}
    assert five["5-17"] < five["18-44"] < five["45-64"] < five["65-74"] < five["75-84"]
    assert five["85+"] > five["65-74"]
    older = [n for b in ("65-74", "75-84", "85+") for n in by_band[b]]
    ten = sum(n >= 10 for n in older) / len(older)
    assert 0.03 < ten < 0.15, ten  # section 7: about 7%
    assert 0.3 < sum(n >= 5 for n in older) / len(older) < 0.65


def test_blood_pressure_is_higher_on_the_register_and_case_finding_is_non_empty(world, out):
    latest, ltc, age = world["latest"], world["ltc"], world["age"]
    assert all(age[p] >= 18 for p in latest)
    assert all(set(v) == {"systolic_bp", "diastolic_bp"} for v in latest.values())

    def high(v: dict) -> bool:
        return v["systolic_bp"] >= 140 or v["diastolic_bp"] >= 90

    on = [high(v) for p, v in latest.items() if "HYP" in ltc[p]]
    off = [high(v) for p, v in latest.items() if "HYP" not in ltc[p]]
    assert sum(on) / len(on) > sum(off) / len(off) + 0.1
    case_finding = sum(off)
    adults = sum(a >= 18 for a in age.values())
    assert case_finding > 0 and 0.04 < case_finding / adults < 0.2
    hyp = [p for p in age if "HYP" in ltc[p]]
    assert sum(p in latest for p in hyp) / len(hyp) > 0.85
    values = _table(out, "observations").column("value").to_pylist()
    assert min(values) >= 40 and max(values) <= 240


def test_admissions_rise_with_age_and_ltc_count(world):
    people: Counter = Counter()
    events: Counter = Counter()
    by_ltc_people: Counter = Counter()
    by_ltc_events: Counter = Counter()
    for p, a in world["age"].items():
        people[_band(a)] += 1
        events[_band(a)] += world["admissions"][p]
        k = min(len(world["ltc"][p]), 3)
        by_ltc_people[k] += 1
        by_ltc_events[k] += world["admissions"][p]
    rate = {b: events[b] / people[b] for b in people}
    assert rate["18-44"] < rate["65-74"] < rate["75-84"] < rate["85+"], rate
    by_ltc = [by_ltc_events[k] / by_ltc_people[k] for k in range(4)]
    assert by_ltc == sorted(by_ltc) and by_ltc[3] > 2 * by_ltc[0], by_ltc


def test_truth_matches_the_stated_model(world, out):
    truth = world["truth"]
    assert set(truth) == set(world["age"])
    assert all(0 < p < 1 for p in truth.values())
    rates: dict[str, list[float]] = defaultdict(list)
    for p, a in world["age"].items():
        rates[_band(a)].append(-math.log(1 - truth[p]))
    for i, band in enumerate(synthetic.ACTIVITY_BAND_NAMES):
        mean = sum(rates[band]) / len(rates[band])
        anchor = synthetic.EMERGENCY_RATE_ANCHORS[i]
        assert abs(mean / anchor - 1) < 0.2, (band, mean, anchor)
    # the events were drawn from the truth: observed admissions in the last 12 months agree
    expected = sum(-math.log(1 - p) for p in truth.values())
    observed = sum(world["admissions"].values())
    assert abs(observed / expected - 1) < 0.15
    with_any = sum(1 for n in world["admissions"].values() if n)
    assert abs(with_any / sum(truth.values()) - 1) < 0.15
    # the truth ranks the people admitted above the others (c well above chance)
    admitted = sorted(truth[p] for p in truth if world["admissions"][p])
    others = sorted(truth[p] for p in truth if not world["admissions"][p])
    assert _c_statistic(admitted, others) > 0.65
    for path in sorted((out / "truth").glob("*.parquet")):
        assert path.name.startswith("synthetic-truth-")
        assert pq.read_schema(path).metadata[b"pcnkit.synthetic"] == b"true"


def _c_statistic(positives: list[float], negatives: list[float]) -> float:
    """Mann-Whitney: the share of (positive, negative) pairs ranked correctly (both sorted)."""
    import bisect

    wins = 0.0
    for x in positives:
        below = bisect.bisect_left(negatives, x)
        ties = bisect.bisect_right(negatives, x) - below
        wins += below + ties / 2
    return wins / (len(positives) * len(negatives))


# --- coded events (docstring section 10) ----------------------------------------------------


@pytest.fixture(scope="module")
def events(out) -> list[dict]:
    return _table(out, "events").to_pylist()


def test_events_schema_pseudonyms_dates_and_codes(world, out, events):
    schema = _table(out, "events").schema
    assert schema.names == ["pseudonym", "concept", "code", "date", "value", "synthetic"]
    assert [str(t) for t in schema.types] == [
        "string",
        "string",
        "string",
        "date32[day]",
        "double",
        "bool",
    ]
    assert schema.metadata[b"pcnkit.table"] == b"events"
    known = {p["pseudonym"] for p in world["patients"]}
    born = {p["pseudonym"]: p["month_of_birth"] for p in world["patients"]}
    assert events and all(e["pseudonym"] in known for e in events)
    assert all(born[e["pseudonym"]] <= e["date"] < AS_OF for e in events)
    concepts = Counter(e["concept"] for e in events)
    efi = {d for d, _ in synthetic.EFI_EVENT_DEFICITS}
    other = {
        "lgi_urgent_referral",
        "fit_test",
        "structured_medication_review",
        "lives_in_care_home",
        "care_home_assessment",
        "pcsp",
    }
    assert set(concepts) == efi | other
    # the eFI event deficits are exactly the code list's deficits that measures reads from
    # events, and real SNOMED codes appear only where the repository documents them
    assert efi == set(measures.EFI_FROM_EVENTS)
    assert efi <= {g.id for g in codelists.load("efi_deficits").groups}
    for e in events:
        assert e["code"] == synthetic.EVENT_CODES.get(e["concept"])
        assert (e["value"] is not None) == (e["concept"] == "fit_test")
    assert synthetic.EVENT_CODES == {
        "structured_medication_review": "1239511000000100",
        "lives_in_care_home": "248171000000108",
    }


def test_lower_gi_referrals_and_fit(world, events):
    year_ago = AS_OF - dt.timedelta(days=365)
    referrals = [e for e in events if e["concept"] == "lgi_urgent_referral"]
    fits: dict[str, list] = defaultdict(list)
    for e in events:
        if e["concept"] == "fit_test":
            fits[e["pseudonym"]].append(e)
            assert 0 <= e["value"] <= 600
    assert all(world["age"][r["pseudonym"]] >= 40 and r["date"] >= year_ago for r in referrals)
    adults40 = sum(a >= 40 for a in world["age"].values())
    assert 0.008 < len(referrals) / adults40 < 0.025  # ~1.5% a year
    with_fit = [
        r
        for r in referrals
        if any(1 <= (r["date"] - f["date"]).days <= 21 for f in fits[r["pseudonym"]])
    ]
    assert 0.6 < len(with_fit) / len(referrals) < 0.8  # FIT_BEFORE_REFERRAL = 0.70
    referred = {r["pseudonym"] for r in referrals}
    unreferred = [f for p, fs in fits.items() if p not in referred for f in fs]
    assert unreferred  # FITs without a referral
    assert sum(f["value"] < 10 for f in unreferred) / len(unreferred) > 0.8


def test_structured_medication_reviews_follow_polypharmacy(world, events):
    reviewed = {e["pseudonym"] for e in events if e["concept"] == "structured_medication_review"}
    assert all(len(world["meds"][p]) >= 5 for p in reviewed)
    many = [p for p, g in world["meds"].items() if len(g) >= 10]
    share = sum(p in reviewed for p in many) / len(many)
    assert 0.15 < share < 0.45  # SMR_10PLUS = 0.30


def test_care_home_events_come_after_admission(world, events):
    since = {p["pseudonym"]: p["care_home_since"] for p in world["patients"] if p["care_home"]}
    done: dict[str, set] = defaultdict(set)
    for e in events:
        if e["concept"] in ("care_home_assessment", "pcsp", "lives_in_care_home"):
            assert e["pseudonym"] in since and e["date"] >= since[e["pseudonym"]]
            done[e["pseudonym"]].add(e["concept"])
    assert all("lives_in_care_home" in done[p] for p in since)
    settled = [p for p, d in since.items() if (AS_OF - d).days > 7]
    assert sum("care_home_assessment" in done[p] for p in settled) / len(settled) > 0.8
    assert sum("pcsp" in done[p] for p in settled) / len(settled) > 0.75


def test_recent_care_home_admissions_half_without_assessment():
    # many residents, so that the 7-day group is big enough to check the share
    spec = PracticeSpec("Z00009", 60_000, {"DEM": 600})
    rows, _, _, latent = synthetic._practice_rows(spec, 3, AS_OF)
    conditions = {"pseudonym": [], "qof_group": []}
    *_, events = synthetic._activity_rows(spec, 3, AS_OF, rows, conditions, latent)
    since = {p: d for p, d in zip(rows["pseudonym"], rows["care_home_since"], strict=True) if d}
    recent = {p for p, d in since.items() if (AS_OF - d).days <= 7}
    assessed = {
        p
        for p, c in zip(events["pseudonym"], events["concept"], strict=True)
        if c in ("care_home_assessment", "pcsp")
    }
    assert len(since) == 360 and len(recent) >= 5
    assert 0.2 <= len(recent - assessed) / len(recent) <= 0.8


def test_falls_some_in_the_last_12_months(events):
    year_ago = AS_OF - dt.timedelta(days=365)
    falls = [e for e in events if e["concept"] == "falls"]
    recent = {e["pseudonym"] for e in falls if e["date"] >= year_ago}
    fallers = {e["pseudonym"] for e in falls}
    assert 0.3 < len(recent) / len(fallers) < 0.6  # FALLS_RECENT_SHARE 0.4 + first codes


def test_efi_categories_in_65_plus_match_the_expected_split(out):
    """population-health.md 1.1 / 6.4 step 3: fit ~50%, mild ~35%, moderate ~12%, severe ~3%
    in people 65+. Measured at 2% of BHR: about 51 / 35 / 11 / 3."""
    with PopulationStore(out) as store:
        rows = measures.efi_approx(store, AS_OF).to_pyarrow().to_pylist()
    cats = Counter(r["efi_approx_category"] for r in rows if r["efi_approx_category"])
    total = sum(cats.values())
    assert total > 2500
    share = {k: v / total for k, v in cats.items()}
    for name, want, tolerance in (
        ("fit", 0.50, 0.06),
        ("mild", 0.35, 0.05),
        ("moderate", 0.12, 0.04),
        ("severe", 0.03, 0.02),
    ):
        assert abs(share[name] - want) <= tolerance, (name, share)

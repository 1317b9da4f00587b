"""What NHS England actually paid, from the PCN columns of NHS Payments to General Practice: the
payments kept with their rows, the nominated payees they reveal, entitlement set against them
with one explanation each, and the command that prints it (BHR's real 2019/20-2022/23 files)."""

import csv
import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import load
from pcnkit.cli import app
from pcnkit.demo import demo_data
from pcnkit.errors import InputError
from pcnkit.funding import actuals, against_actuals
from pcnkit.registry import queries
from pcnkit.store import open_workspace
from pcnkit.store.models import ActualPayment, Organisation, PcnRole

runner = CliRunner()
PAYMENTS_21 = "nhs_payments_gp_21-22.csv"


@pytest.fixture(scope="module")
def bhr(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bhr-actuals")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    load(ws, demo_data())
    local = folder / "payees.yaml"
    local.write_text(
        "pcnkit: definitions\nas_of: 2019-10-01\nroles:\n"
        "  - {pcn: U00367, role: nominated_payee, payee: F82008, from: 2019-07-01}\n",
        encoding="utf-8",
    )
    load(ws, local)
    yield ws
    ws.dispose()


def _file_rows(name: str) -> list[dict]:
    with open(demo_data() / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _roles(ws, pcn: str, day: dt.date) -> list[PcnRole]:
    with ws.sessions() as s:
        org = s.scalar(select(Organisation).where(Organisation.code == pcn))
        roles = queries.roles_at(s, [org.id], day).get(org.id, [])
        s.expunge_all()
        return [r for r in roles if r.role == "nominated_payee"]


def test_each_pcn_column_is_kept_as_paid_with_its_file_row(bhr):
    rows = _file_rows(PAYMENTS_21)
    expected: dict[str, Decimal] = {}
    for r in rows:
        if r["PCN Code"] == "U26744":
            for heading in ("PCN Leadership", "PCN Participation", "PCN Workforce"):
                expected[heading] = expected.get(heading, Decimal(0)) + Decimal(r[heading] or 0)
    with bhr.sessions() as s:
        found = actuals.load(s, "2021/22")
        assert found.title == "NHS Digital, NHS Payments to General Practice 2021/22"
        for heading, amount in expected.items():
            assert found.amount("U26744", heading) == amount
        # each payment names the file's row (row 1 is the header)
        number = next(i for i, r in enumerate(rows, 2) if r["Practice Code"] == "F82625")
        row = s.scalar(
            select(ActualPayment.source_row).where(
                ActualPayment.practice_code == "F82625",
                ActualPayment.heading == "PCN Leadership",
                ActualPayment.year_start == dt.date(2021, 4, 1),
            )
        )
        assert row == number
        # nothing paid is not stored as a payment of £0.00
        assert s.scalar(select(func.count()).where(ActualPayment.amount == 0)) == 0
        assert actuals.loaded_years(s) == ["2019/20", "2020/21", "2021/22", "2022/23"]


def test_the_practice_that_received_the_network_payments_is_the_payee(bhr):
    (payee,) = _roles(bhr, "U26744", dt.date(2021, 6, 1))
    assert payee.holder == "ABBEY MEDICAL CENTRE (F82625)"
    assert payee.evidence.startswith("Inferred from NHS Payments to General Practice 2021/22")
    # the split is in the evidence: another practice received a little of it
    assert "also received: F82042" in payee.evidence
    assert (payee.start, payee.end) == (dt.date(2021, 4, 1), dt.date(2022, 3, 31))


def test_a_recorded_payee_takes_precedence_over_an_inferred_one(bhr):
    """A local definitions file names F82008 for Havering South; the payments files show its
    network payments went outside GP practices, which is inferred but not shown while F82008
    holds."""
    (payee,) = _roles(bhr, "U00367", dt.date(2021, 6, 1))
    assert payee.evidence is None and payee.holder == "F82008"
    with bhr.sessions() as s:
        inferred = s.scalars(
            select(PcnRole.holder)
            .join(Organisation, Organisation.id == PcnRole.pcn_id)
            .where(Organisation.code == "U00367", PcnRole.evidence.is_not(None))
        ).all()
    # outside GP practices every year: in 2022/23 South Hornchurch (F82607) received only
    # £648 of ARRS reimbursement, which may go to the practice employing the staff, so it is
    # not thereby the payee
    assert inferred == ["Not a GP practice (the published payments name none)"] * 3
    (payee,) = _roles(bhr, "U00367", dt.date(2022, 6, 1))
    assert payee.holder == "F82008"


def test_a_bad_amount_is_refused_with_its_row_and_column_and_nothing_is_stored(tmp_path):
    broken = tmp_path / PAYMENTS_21
    text = (demo_data() / PAYMENTS_21).read_text(encoding="utf-8-sig")
    header, first, *rest = text.splitlines()
    cells = next(csv.reader([first]))
    names = next(csv.reader([header]))
    cells[names.index("PCN Leadership")] = "12x.50"
    line = ",".join(f'"{c}"' for c in cells)
    broken.write_text("\n".join([header, line, *rest]) + "\n", encoding="utf-8")
    ws = open_workspace(tmp_path / "ws", url=f"sqlite:///{tmp_path / 'ws.db'}")
    load(ws, demo_data() / "epraccur_2019-11.csv")
    with pytest.raises(InputError) as caught:
        load(ws, broken)
    message = str(caught.value)
    assert "row 2" in message and "PCN Leadership" in message and "12x.50" in message
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ActualPayment)) == 0
    ws.dispose()


def test_every_difference_has_one_category_and_the_table_adds_up(bhr):
    with bhr.sessions() as s:
        found = against_actuals.reconcile(s, ["2021/22"], "BHR")
    assert found.years == ["2021/22"] and found.missing_years == []
    assert {c.category for c in found.comparisons} <= set(against_actuals.CATEGORIES)
    by = {(c.pcn_code, c.heading): c for c in found.comparisons}
    # Havering South's network payments went outside GP practices
    assert by[("U00367", "PCN Extended Hours Access")].category == "paid_outside"
    # the Investment and Impact Fund's achievement is not calculated, so not compared
    iif = [c for c in found.comparisons if c.heading == "PCN Investment and impact Fund"]
    assert iif and all(c.category == "not_modelled" and c.entitled is None for c in iif)
    for c in found.comparisons:
        if "Membership changed during the year" in c.explanation:
            # a change of members explains only what it could: the range is stated
            assert c.category == "part_year" and "lies in that range" in c.explanation
        if c.category == "agrees":
            assert abs(c.paid - c.entitled) <= c.entitled / 100
        if c.entitled is not None:
            assert c.difference == c.paid - c.entitled
    for s in found.summary():
        mine = [c for c in found.comparisons if c.heading == s.heading and c.compared]
        assert s.pcns == len(mine)
        assert s.paid == sum(c.paid for c in found.comparisons if c.heading == s.heading)
        assert s.entitled == sum(c.entitled for c in mine)
        assert s.within_1 <= s.within_5 <= s.pcns and s.within_1 <= s.explained
        assert sum(s.by_category.values(), Decimal(0)) == s.paid_compared - s.entitled


def test_reconcile_actuals_prints_the_national_table(bhr):
    folder = str(bhr.path)
    result = runner.invoke(
        app, ["funding", "reconcile", "--actuals", "--area", "BHR", "-w", folder, "--largest", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "how many PCNs agree" in result.output
    assert "The 3 largest differences, and why" in result.output
    assert "NHS Payments to General Practice 2022/23" in result.output
    argv = ["funding", "reconcile", "--actuals", "--year", "2020/21", "--area", "BHR"]
    argv += ["--format", "json", "-w"]
    as_json = runner.invoke(app, [*argv, folder])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert {r["year"] for r in body["rows"]} == {"2020/21"}
    assert {r["category"] for r in body["rows"]} <= set(against_actuals.CATEGORIES.values())


def test_reconcile_actuals_without_payments_says_what_to_load(tmp_path):
    ws = open_workspace(tmp_path / "ws", url=f"sqlite:///{tmp_path / 'ws.db'}")
    load(ws, demo_data() / "epraccur_2019-11.csv")
    ws.dispose()
    result = runner.invoke(app, ["funding", "reconcile", "--actuals", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "holds no actual payments" in result.output
    assert "NHS Payments to General Practice" in result.output


def test_a_year_without_a_payments_file_is_refused(bhr):
    result = runner.invoke(
        app, ["funding", "reconcile", "--actuals", "--year", "2024/25", "-w", str(bhr.path)]
    )
    assert result.exit_code == 2
    assert "no payments file is loaded for 2024/25" in result.output


def test_a_copy_of_the_payments_file_loads_once(bhr, tmp_path):
    """The same file under another name is the same publication (same hash): not paid twice."""
    copy = tmp_path / "copy.csv"
    shutil.copy(demo_data() / PAYMENTS_21, copy)
    before = None
    with bhr.sessions() as s:
        before = actuals.load(s, "2021/22").amount("U26744", "PCN Leadership")
    load(bhr, copy)
    with bhr.sessions() as s:
        assert actuals.load(s, "2021/22").amount("U26744", "PCN Leadership") == before


def _row(pcn, entitled, paid, category="unexplained"):
    return against_actuals.Comparison(
        "2021/22", pcn, f"PCN {pcn}", "PCN Leadership", ("x",), entitled, paid, category, ""
    )


def test_a_payee_paid_for_a_neighbouring_pcn_explains_both():
    """B was paid its own £10,000 and, within 1%, A's £5,000; A (same commissioner) shows
    nothing. C, with nothing paid too but under another commissioner, is not matched."""
    a = _row("A", Decimal(5000), Decimal(0), "paid_outside")
    b = _row("B", Decimal(10000), Decimal(15020))
    c = _row("C", Decimal(5010), Decimal(0), "paid_outside")
    against_actuals._paid_for_another([a, b, c], {"A": "07L", "B": "07L", "C": "08F"})
    assert (a.category, b.category, c.category) == ("payee_split", "payee_split", "paid_outside")
    assert "PCN A (A)" in b.explanation and "PCN B (B)" in a.explanation


def test_a_match_outside_one_percent_is_no_explanation():
    a = _row("A", Decimal(5000), Decimal(0), "paid_outside")
    b = _row("B", Decimal(10000), Decimal(15200))
    against_actuals._paid_for_another([a, b], {"A": "07L", "B": "07L"})
    assert (a.category, b.category) == ("paid_outside", "unexplained")


def test_the_payee_check_before_the_payments_names_the_later_payee(bhr):
    """2019/20's file shows no network payment, so no payee is inferred for December 2019; the
    finding says which practice the 2020/21 file shows receiving them."""
    from pcnkit.registry.checks import run_checks

    with bhr.sessions() as s:
        found = run_checks(s, dt.date(2019, 12, 1), "U26744").findings
    (payee,) = [f for f in found if f.check == "nominated_payee"]
    (first,) = _roles(bhr, "U26744", dt.date(2020, 6, 1))
    assert first.evidence.startswith("Inferred from NHS Payments to General Practice 2020/21")
    assert f"{first.holder} receiving its network payments from 1 April 2020" in payee.text
    with bhr.sessions() as s:
        later = run_checks(s, dt.date(2021, 6, 1), "U26744").findings
        outside = run_checks(s, dt.date(2021, 6, 1), "U03653").findings
        after = run_checks(s, dt.date(2023, 6, 1), "U26744").findings
    # inferred, but through two practices: to review, not "not recorded"
    (split,) = [f for f in later if f.check == "nominated_payee"]
    assert split.outcome == "review" and "went through several practices" in split.text
    # paid outside GP practices: to review, with why
    (fairlop,) = [f for f in outside if f.check == "nominated_payee"]
    assert fairlop.outcome == "review" and "paid outside GP practices" in fairlop.text
    # after the last payments file: not recorded, naming the last payee the files show
    (gone,) = [f for f in after if f.check == "nominated_payee"]
    assert (
        gone.outcome == "not recorded"
        and "last show" in gone.text
        and "31 March 2023" in (gone.text)
    )


def test_a_commissioners_local_payment_through_a_column():
    """Three PCNs of one commissioner paid about 6 times their entitlement: a local payment;
    a PCN of another commissioner paid the same stays unexplained."""
    rows = [_row(p, Decimal(10000), Decimal(m)) for p, m in (("A", 60000), ("B", 65000))]
    rows += [_row("C", Decimal(10000), Decimal(58000)), _row("D", Decimal(10000), Decimal(60000))]
    against_actuals._local_rate(rows, {"A": "X", "B": "X", "C": "X", "D": "Y"})
    assert [r.category for r in rows] == ["local_payment"] * 3 + ["unexplained"]
    assert "The 3 PCNs of its commissioner (X) were paid a median 6.00 times" in rows[0].explanation


def test_a_payee_paid_for_several_neighbours_is_probable_only_when_they_are_owed_enough():
    big = _row("B", Decimal(10000), Decimal(40000))
    owed = [_row(p, Decimal(16000), Decimal(0), "paid_outside") for p in ("C", "D")]
    against_actuals._paid_for_another([big, *owed], dict.fromkeys("BCD", "X"), {"PCN Leadership"})
    assert big.category == "payee_split" and "probably" in big.explanation
    small = _row("B", Decimal(10000), Decimal(40000))
    few = [_row("C", Decimal(16000), Decimal(0), "paid_outside")]
    against_actuals._paid_for_another([small, *few], dict.fromkeys("BC", "X"), {"PCN Leadership"})
    assert small.category == "unexplained"

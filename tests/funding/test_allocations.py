"""Allocations of a pot by list size, equal shares or a rate per head, checked against the
figures printed in our source documents (../shared/seeds)."""

from __future__ import annotations

import csv
import io
import random
import re
from decimal import Decimal as D
from pathlib import Path

import pytest

from pcnkit.errors import BadValue, InputError
from pcnkit.funding.allocations import (
    METHODS,
    ROW_FIELDS,
    Recipient,
    TopSlice,
    allocate,
    read_recipients_csv,
)

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
NWL_SEED = SEEDS / "004_e31b2e947ae02ce1.txt"

# NW London Primary Care Committee, GP at-scale plan, Nov 2018 — seeds/004_e31b2e947ae02ce1.txt,
# "Appendix 1: North West London Funding Proposal for GP at Scale", "Total Allocation 2018 – 2019
# £2,448,000": CCG, practice normalised weighted list size (October 2017), funding.
NWL = [
    ("BRENT", "NHS Brent CCG", "352645", "311200"),
    ("CLONDON", "NHS Central London (Westminster) CCG", "211494", "186600"),
    ("EALING", "NHS Ealing CCG", "395282", "348800"),
    ("HF", "NHS Hammersmith And Fulham CCG", "201477", "177800"),
    ("HARROW", "NHS Harrow CCG", "235622", "207900"),
    ("HILLINGDON", "NHS Hillingdon CCG", "293953", "259400"),
    ("HOUNSLOW", "NHS Hounslow CCG", "296114", "261300"),
    ("WLONDON", "NHS West London CCG", "232712", "205400"),
]
NWL_POT = D("2448000")
NWL_TOP_SLICES = [
    TopSlice("Population Health Management", percent=D("15")),
    TopSlice(
        "Legal Expertise, Leadership Development, Workforce Modelling tool, Project Support",
        percent=D("5"),
    ),
]
NWL_PAPER_TOTAL_LIST = D("2219298")  # the paper's printed total; its eight rows sum to 2,219,299


def nwl_recipients(field: str = "normalised_weighted") -> list[Recipient]:
    return [Recipient(code, name, **{field: D(w)}) for code, name, w, _ in NWL]


def test_nwl_figures_copied_from_the_seed_document():
    """The table above is the one in the paper (skipped when ../shared is not beside the repo)."""
    if not NWL_SEED.is_file():
        pytest.skip(f"{NWL_SEED} is not available")
    text = NWL_SEED.read_text(encoding="utf-8")
    rows = re.findall(r"^(NHS [^\t]+ CCG)\t([\d,]+)\t£([\d,]+)$", text, re.MULTILINE)
    assert [(n, w.replace(",", ""), f.replace(",", "")) for n, w, f in rows] == [
        (name, w, f) for _, name, w, f in NWL
    ]
    assert "Population Health Management\t15%\t£367,200" in text
    assert "Project Support\t5%\t£122,400" in text
    assert "<b>2,219,298</b>\t<b>£1,958,400</b>" in text
    assert "<b>£2,448,000</b>" in text


# --- NW London £2,448,000 ------------------------------------------------------------------------


@pytest.mark.parametrize("residual", ["report", "largest_remainder"])
@pytest.mark.parametrize("field", ["normalised_weighted", "weighted"])
def test_nwl_at_scale_allocation_reproduces_the_paper(field, residual):
    a = allocate(
        NWL_POT,
        nwl_recipients(field),
        field,
        top_slices=NWL_TOP_SLICES,
        unit=D("100"),
        residual=residual,
        as_of_note="October 2017 weighted list size",
    )
    assert [(s.name[:12], s.amount) for s in a.top_slices] == [
        ("Population H", D("367200.00")),
        ("Legal Expert", D("122400.00")),
    ]
    assert a.shared_pot == D("1958400")
    assert [(line.code, line.share) for line in a.lines] == [(c, D(f)) for c, _, _, f in NWL]
    assert a.total_shared == D("1958400")
    assert a.residual == 0
    assert all(line.adjustment == 0 for line in a.lines)  # the paper needed no balancing
    assert a.pot == a.total_shared + a.top_sliced == NWL_POT
    # the printed rows sum to one more than the paper's printed total (rounded display)
    assert a.basis_total == D("2219299") == NWL_PAPER_TOTAL_LIST + 1


def test_nwl_formula_and_exact_shares_are_shown():
    a = allocate(
        NWL_POT, nwl_recipients(), "normalised_weighted", top_slices=NWL_TOP_SLICES, unit=D(100)
    )
    brent = a.line("BRENT")
    assert brent.formula == "1,958,400 × 352,645 / 2,219,299, rounded half-up to £100"
    assert brent.exact_share == D("1958400") * D("352645") / D("2219299")
    assert round(brent.exact_share, 2) == D("311188.34")
    # tightest margin of the eight: West London, £4.57 above the £205,350 rounding boundary
    assert round(a.line("WLONDON").exact_share - D("205350"), 2) == D("4.57")
    assert a.top_slices[0].formula == "2,448,000 × 15%, rounded half-up to £0.01"


def test_nwl_with_the_papers_printed_total_gives_the_same_figures():
    """The research note says the rule holds with the paper's denominator 2,219,298 too: shrink
    one list by 1 so the eight sum to the printed total, and nothing printed changes."""
    recipients = nwl_recipients()
    recipients[0] = Recipient("BRENT", "NHS Brent CCG", normalised_weighted=D("352644"))
    a = allocate(NWL_POT, recipients, "normalised_weighted", top_slices=NWL_TOP_SLICES, unit=D(100))
    assert a.basis_total == NWL_PAPER_TOTAL_LIST
    assert [line.share for line in a.lines] == [D(f) for *_, f in NWL]
    assert a.residual == 0


@pytest.mark.parametrize("unit", ["1", "1000"])
def test_nwl_other_units_do_not_reproduce_the_paper(unit):
    a = allocate(
        NWL_POT, nwl_recipients("weighted"), "weighted", top_slices=NWL_TOP_SLICES, unit=D(unit)
    )
    assert [line.share for line in a.lines] != [D(f) for *_, f in NWL]


def test_nwl_as_rows_for_csv_export():
    a = allocate(
        NWL_POT,
        nwl_recipients(),
        "normalised_weighted",
        top_slices=NWL_TOP_SLICES,
        unit=D(100),
        as_of_note="October 2017 weighted list size",
    )
    rows = a.as_rows()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ROW_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    assert [r["kind"] for r in rows] == ["share"] * 8 + ["top_slice"] * 2 + ["residual", "total"]
    assert rows[3]["name"] == "NHS Hammersmith And Fulham CCG"
    assert rows[3]["share"] == "177800.00"
    assert rows[3]["basis_value"] == "201477"
    assert rows[8]["share"] == "367200.00"
    assert rows[9]["share"] == "122400.00"
    assert rows[10]["share"] == "0.00"
    assert rows[11]["share"] == "2448000.00"
    assert "October 2017" in rows[11]["formula"]
    assert sum(D(r["share"]) for r in rows[:11]) == NWL_POT


def test_normalised_weighted_computed_from_weighted_and_registered_gives_weighted_shares():
    """k = Σregistered/Σweighted cancels: shares by normalised weighted list = by weighted list."""
    recipients = [
        Recipient("A", "A", registered=D(10000), weighted=D("11234.56")),
        Recipient("B", "B", registered=D(20000), weighted=D("18765.44")),
        Recipient("C", "C", registered=D(5000), weighted=D("6100.25")),
    ]
    by_weighted = allocate(D("100000"), recipients, "weighted")
    normalised = allocate(D("100000"), recipients, "normalised_weighted")
    assert [x.share for x in normalised.lines] == [x.share for x in by_weighted.lines]
    assert normalised.basis_total == D(35000)
    assert sum(x.basis_value for x in normalised.lines) == pytest.approx(D(35000))
    assert normalised.lines[0].basis_value == D("11234.56") * D(35000) / D("36100.25")


# --- Hammersmith & Fulham £177,800 in equal shares over three networks --------------------------

# seeds/004_e31b2e947ae02ce1.txt, "Network Financial Allocation Based on Equal Shared":
# Northern £59k, Central £59k, Southern £59k, of "£177,800 funding ... made available by NHSE".
HF_NETWORKS = [
    Recipient("HF-N", "Northern"),
    Recipient("HF-C", "Central"),
    Recipient("HF-S", "Southern"),
]
HF_POT = D("177800")


def test_hf_equal_shares_to_the_penny_report_the_residual():
    a = allocate(HF_POT, HF_NETWORKS, "equal")
    assert [line.share for line in a.lines] == [D("59266.67")] * 3
    assert a.total_shared == D("177800.01")
    assert a.residual == D("-0.01")
    assert a.line("HF-N").formula == "177,800 / 3, rounded half-up to £0.01"


def test_hf_equal_shares_largest_remainder_sum_to_the_pot():
    a = allocate(HF_POT, HF_NETWORKS, "equal", residual="largest_remainder")
    # all three remainders tie, so the penny comes off the first code: HF-C (Central)
    assert [(line.code, line.share) for line in a.lines] == [
        ("HF-N", D("59266.67")),
        ("HF-C", D("59266.66")),
        ("HF-S", D("59266.67")),
    ]
    assert a.total_shared == HF_POT
    assert a.residual == 0
    assert a.line("HF-C").adjustment == D("-0.01")


def test_hf_paper_shows_59k_each_which_leaves_800_unallocated():
    """The paper prints £59k per network: £177,000 of £177,800 (rounded to £1,000)."""
    a = allocate(HF_POT, HF_NETWORKS, "equal", unit=D(1000))
    assert [line.share for line in a.lines] == [D("59000")] * 3
    assert a.residual == D("800")
    with pytest.raises(BadValue, match="not a whole number of £1,000 units"):
        allocate(HF_POT, HF_NETWORKS, "equal", unit=D(1000), residual="largest_remainder")


# --- Bedfordshire £3 per head ---------------------------------------------------------------------

# seeds/002_7e47262be4a416ca.txt: "CCGs are expected to make £3 per head of population funding
# available across 2017-19". The paper gives no list sizes: these three locality lists are
# illustrative (the localities are named in the paper; the figures are not).
BEDS = [
    Recipient("BED", "Bedford", registered=D(150123)),
    Recipient("CV", "Chiltern Vale", registered=D(108457)),
    Recipient("IV", "Ivel Valley", registered=D(109002)),
]


def test_bedfordshire_three_pounds_per_head_needs_no_pot():
    a = allocate(None, BEDS, "per_head", rate=D(3))
    assert [line.share for line in a.lines] == [D("450369"), D("325371"), D("327006")]
    assert a.total_shared == a.pot == a.shared_pot == D("1102746")
    assert a.residual == 0
    assert a.basis_total == D(367582)
    assert a.line("CV").formula == "3 × 108,457, rounded half-up to £0.01"
    assert a.rate == D(3)


def test_per_head_rounds_each_amount_and_reports_unspent_pot():
    """A pence rate (£3.34 extended access) rounds each amount; with a pot the residual is what
    is left unspent."""
    a = allocate(D("1250000"), BEDS, "per_head", rate=D("3.34"), unit=D(1))
    assert [line.exact_share for line in a.lines] == [
        D("501410.82"),
        D("362246.38"),
        D("364066.68"),
    ]
    assert [line.share for line in a.lines] == [D("501411"), D("362246"), D("364067")]
    assert a.residual == D("1250000") - D("1227724")


# --- residual rules -------------------------------------------------------------------------------

THIRDS = [
    Recipient("A", "A", registered=D(3333)),
    Recipient("B", "B", registered=D(3333)),
    Recipient("C", "C", registered=D(3334)),
]


def test_rounding_to_100_that_does_not_sum_to_the_pot_is_reported():
    a = allocate(D("10000"), THIRDS, "registered", unit=D(100))
    assert [line.share for line in a.lines] == [D("3300")] * 3
    assert a.total_shared == D("9900")
    assert a.residual == D("100")
    assert a.residual_rule == "report"
    assert "£100" in a.residual_note


def test_largest_remainder_gives_the_unit_to_the_largest_remainder():
    a = allocate(D("10000"), THIRDS, "registered", unit=D(100), residual="largest_remainder")
    assert [(line.code, line.share) for line in a.lines] == [
        ("A", D("3300")),
        ("B", D("3300")),
        ("C", D("3400")),
    ]
    assert a.total_shared == D("10000")
    assert a.residual == 0
    assert a.line("C").formula.endswith("+ £100 largest-remainder balancing")


def test_largest_remainder_takes_from_those_rounded_up_most():
    recipients = [
        Recipient("X", "X", registered=D(335)),
        Recipient("Y", "Y", registered=D(335)),
        Recipient("Z", "Z", registered=D(330)),
    ]
    reported = allocate(D("10000"), recipients, "registered", unit=D(100))
    assert [line.share for line in reported.lines] == [D(3400), D(3400), D(3300)]
    assert reported.residual == D("-100")
    assert "shared pot − total of shares = £-100," in reported.residual_note  # money's one form
    fixed = allocate(
        D("10000"), recipients, "registered", unit=D(100), residual="largest_remainder"
    )
    assert [line.share for line in fixed.lines] == [D(3300), D(3400), D(3300)]  # X: tie by code
    assert fixed.total_shared == D("10000")


def test_largest_remainder_is_deterministic_whatever_the_input_order():
    recipients = [Recipient(f"P{i:02d}", f"Practice {i}", registered=D(1000)) for i in range(7)]
    expected = {
        line.code: line.share
        for line in allocate(
            D("100000"), recipients, "registered", unit=D(100), residual="largest_remainder"
        ).lines
    }
    assert sum(expected.values()) == D("100000")
    # 100,000 / 7 = 14,285.71 → 14,300 each = 100,100: £100 comes off the first code
    assert expected["P00"] == D("14200")
    assert all(v == D("14300") for k, v in expected.items() if k != "P00")
    rng = random.Random(4)
    for _ in range(5):
        shuffled = recipients[:]
        rng.shuffle(shuffled)
        again = allocate(
            D("100000"), shuffled, "registered", unit=D(100), residual="largest_remainder"
        )
        assert {line.code: line.share for line in again.lines} == expected


def test_fixed_amount_top_slice_and_pound_unit():
    a = allocate(
        D("50000"),
        THIRDS,
        "registered",
        top_slices=[TopSlice("Programme support", amount=D("5000.004")), TopSlice("PHM", D("10"))],
        unit=D(1),
    )
    assert [s.amount for s in a.top_slices] == [D("5000.00"), D("5000.00")]
    assert a.shared_pot == D("40000.00")
    assert [line.share for line in a.lines] == [D("13332"), D("13332"), D("13336")]
    assert a.residual == 0


# --- bad input ------------------------------------------------------------------------------------


def bad(match: str, *args, **kwargs) -> InputError | BadValue:
    with pytest.raises((InputError, BadValue), match=match) as info:
        allocate(*args, **kwargs)
    return info.value


def test_negative_basis_names_the_recipient_and_field():
    recipients = [*THIRDS[:2], Recipient("C", "C", registered=D(-5))]
    err = bad("recipient C has a negative", D(100), recipients, "registered")
    assert err.column == "registered"


def test_missing_basis_names_the_recipient_and_field():
    recipients = nwl_recipients("weighted")
    recipients[3] = Recipient("HF", "NHS Hammersmith And Fulham CCG", registered=D(201477))
    err = bad("recipient HF has no weighted list", NWL_POT, recipients, "weighted")
    assert err.column == "weighted"
    bad("recipient A has no weighted list", D(100), THIRDS, "normalised_weighted")


def test_partly_given_normalised_lists_are_refused():
    recipients = [*nwl_recipients()[:2], Recipient("X", "X", weighted=D(5), registered=D(5))]
    bad(
        "recipient X has no normalised_weighted list but others do",
        D(100),
        recipients,
        "normalised_weighted",
    )


def test_zero_total_basis():
    recipients = [Recipient("A", "A", registered=D(0)), Recipient("B", "B", registered=D(0))]
    bad("registered lists total zero", D(100), recipients, "registered")


def test_top_slices_exceeding_the_pot():
    bad(
        "top-slices total £1,200, more than the pot of £1,000",
        D(1000),
        THIRDS,
        "registered",
        top_slices=[TopSlice("a", percent=D(60)), TopSlice("b", amount=D(600))],
    )


def test_top_slice_needs_exactly_one_of_percent_or_amount():
    bad("exactly one", D(1000), THIRDS, "registered", top_slices=[TopSlice("a")])
    bad("exactly one", D(1000), THIRDS, "registered", top_slices=[TopSlice("a", D(1), D(1))])
    bad("outside 0–100%", D(1000), THIRDS, "registered", top_slices=[TopSlice("a", D(120))])


@pytest.mark.parametrize("unit", ["0", "-100"])
def test_unit_must_be_positive(unit):
    err = bad("must be positive", D(1000), THIRDS, "registered", unit=D(unit))
    assert err.field == "unit"


def test_unknown_method_lists_the_known_ones():
    err = bad("'capitation' is not an allocation method", D(1000), THIRDS, "capitation")
    assert all(m in err.action for m in METHODS)


def test_other_argument_errors():
    bad("'nearest' is not a residual rule", D(1000), THIRDS, "registered", residual="nearest")
    bad("needs a rate per head", None, BEDS, "per_head")
    bad("only used by the per_head method", D(1000), THIRDS, "registered", rate=D(3))
    bad("shares a pot, and none was given", None, THIRDS, "registered")
    bad("pot -1 is negative", D(-1), THIRDS, "registered")
    bad("no recipients", D(1000), [], "equal")
    bad("appears twice", D(1000), [THIRDS[0], THIRDS[0]], "equal")
    bad("write 1000.0 in quotes", 1000.0, THIRDS, "registered")


@pytest.mark.parametrize(
    ("field", "args", "kwargs"),
    [
        ("method", (D(1000), THIRDS, "capitation"), {}),
        ("residual", (D(1000), THIRDS, "registered"), {"residual": "nearest"}),
        ("rate", (None, BEDS, "per_head"), {}),
        ("pot", (D(-1), THIRDS, "registered"), {}),
        ("pot", (D("1e400"), THIRDS, "registered"), {}),
        ("top_slices", (D(1000), THIRDS, "registered"), {"top_slices": [TopSlice("a")]}),
        ("unit", (D(1000), THIRDS, "registered"), {"unit": D("0.001")}),
    ],
)
def test_argument_errors_name_the_argument_not_a_command_line_option(field, args, kwargs):
    with pytest.raises(BadValue) as info:
        allocate(*args, **kwargs)
    assert info.value.field == field
    assert "--" not in str(info.value)


# --- reading recipients from CSV ------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipients.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_recipients_csv_then_allocate_nwl(tmp_path):
    lines = ["code,name,normalised_weighted"]
    lines += [f'{code},"{name}","{int(w):,}"' for code, name, w, _ in NWL]
    recipients = read_recipients_csv(write(tmp_path, "\n".join(lines) + "\n"))
    assert recipients[3] == Recipient(
        "HF", "NHS Hammersmith And Fulham CCG", normalised_weighted=D(201477)
    )
    assert recipients[3].row == 5
    a = allocate(NWL_POT, recipients, "normalised_weighted", top_slices=NWL_TOP_SLICES, unit=D(100))
    assert [line.share for line in a.lines] == [D(f) for *_, f in NWL]


def test_read_recipients_csv_any_subset_of_measures(tmp_path):
    path = write(tmp_path, "name,registered,code\nBedford,150123,BED\nChiltern Vale,,CV\n")
    recipients = read_recipients_csv(path)
    assert recipients[0] == Recipient("BED", "Bedford", registered=D(150123))
    assert recipients[1].registered is None
    err = bad("recipient CV has no registered list", None, recipients, "per_head", rate=D(3))
    assert (err.file, err.row, err.column) == (str(path), 3, "registered")


@pytest.mark.parametrize(
    ("text", "match", "row", "column"),
    [
        ("code,name,weighted\nA,A,10\nB,B,1O5\n", "'1O5' is not a number", 3, "weighted"),
        ("code,name,registered\nA,A,-4\n", "registered -4 for A is negative", 2, "registered"),
        ("code,name,weighed\nA,A,10\n", "'weighed' is not a known column", 1, "weighed"),
        ("A,Practice A,10\n", "the header has no 'code' column", 1, None),
        ("code,name\nA,A\nA,B\n", "recipient A appears twice", 3, "code"),
        ("code,name,registered\nA,A\n", "has 2 fields but the header has 3", 2, None),
        ("code,name,registered\n", "no recipients", None, None),
        ("", "the file is empty", None, None),
    ],
)
def test_read_recipients_csv_bad_input(tmp_path, text, match, row, column):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        read_recipients_csv(path)
    assert (info.value.file, info.value.row, info.value.column) == (str(path), row, column)

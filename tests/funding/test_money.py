"""Money is written one way everywhere: £1,234.56, a negative as £-1,234.56 (the funding pages'
form), in the CLI, on pages, in formulas and in the workbook's number format."""

from decimal import Decimal as D

import pytest

from pcnkit import spreadsheet
from pcnkit.funding.money import XLSX_MONEY_FORMAT, figure, money, money_figure
from pcnkit.web.render import _money as page_money


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1234.5", "£1,234.50"), ("-5", "£-5.00"), ("-1234567.891", "£-1,234,567.89"), ("0", "£0.00")],
)
def test_money_is_written_one_way(value, shown):
    assert money(D(value)) == shown
    assert page_money(D(value)) == shown  # the pages' `money` filter is the same formatter


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1200", "£1,200"), ("1200.5", "£1,200.50"), ("-100", "£-100"), ("2.345", "£2.345")],
)
def test_formula_figures_drop_pence_only_when_there_are_none(value, shown):
    assert money_figure(D(value)) == shown
    assert figure(D(value)) == shown.replace("£", "")


def test_the_workbook_writes_negatives_as_the_pages_do():
    assert spreadsheet.MONEY_FORMAT == XLSX_MONEY_FORMAT
    positive, negative = XLSX_MONEY_FORMAT.split(";")
    assert positive == '"£"#,##0.00' and negative == '"£"-#,##0.00'

"""A figure's provenance stays structured from the importer to the page: the funding lists keep
the file, row and date of each figure, and the words are made only when it is cited."""

from __future__ import annotations

from decimal import Decimal

from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_csv
from pcnkit.funding.rules import rules_for
from pcnkit.provenance import Provenance
from pcnkit.store.models import LIST_MEASURES


def test_cite_words_rows_and_version():
    assert Provenance("QOF 2019/20").cite() == "QOF 2019/20"
    assert Provenance("lists.csv", 12).cite() == "lists.csv, row 12"
    assert str(Provenance("lists.csv", 12, 40)) == "lists.csv, rows 12-40"
    assert Provenance("lists.csv", 12, 12).rows == "row 12"
    assert Provenance("Tier rules", version="2").cite() == "Tier rules, definition version 2"


def test_csv_lists_keep_each_figures_file_row_and_date(tmp_path):
    rules = rules_for("2019/20")
    path = tmp_path / "my lists row 7.csv"  # a name that looks like a row must not confuse it
    path.write_text(
        "pcn_code,practice_code,registered,weighted\nU1,A1,5000,5100\nU1,A2,6000,6100\n"
    )
    pops = from_csv(path, rules.start, rules.list_reference_date)
    a2 = pops.practices["A2"]
    assert a2.values["weighted"] == Decimal("6100")
    assert a2.sources["weighted"] == Provenance(path.name, 3, as_of=rules.list_reference_date)
    lines = [
        x for x in entitlements(pops, rules) if x.payee_code == "U1" and x.basis == "registered"
    ]
    assert lines and all("my lists row 7.csv)" in x.inputs for x in lines)


def test_one_list_of_list_measures():
    from pcnkit.funding import populations
    from pcnkit.registry import queries
    from pcnkit.registry.importers import local_lists

    assert LIST_MEASURES == ("registered", "weighted", "adjusted")
    assert queries.MEASURES is LIST_MEASURES
    assert not hasattr(populations, "MEASURES") and not hasattr(local_lists, "MEASURES")

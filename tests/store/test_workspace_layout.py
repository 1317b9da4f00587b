"""A workspace owns its layout: every path inside a workspace folder comes from
`pcnkit.store.layout`, and the CLI, the web application, the demo and the funding rules use it."""

import datetime as dt
from pathlib import Path

import pytest

from pcnkit.errors import PcnkitError
from pcnkit.funding.rules import known_years, rules_file, rules_folder
from pcnkit.population.workspace import population_folder, scope_practices
from pcnkit.store import open_workspace
from pcnkit.store.db import workspace_layout
from pcnkit.store.layout import Layout, year_slug


def test_the_layout_names_each_path_in_the_folder(tmp_path):
    layout = Layout(tmp_path)
    assert layout.database == tmp_path / "pcnkit.db"
    assert layout.sqlite_url == f"sqlite:///{tmp_path / 'pcnkit.db'}"
    assert layout.population == tmp_path / "population"
    assert layout.funding == tmp_path / "funding"
    assert layout.arrs_roster("2019/20") == tmp_path / "funding" / "arrs-staff-2019-20.csv"
    assert not any(tmp_path.iterdir())  # asking creates nothing


def test_a_contract_year_in_a_file_name_has_no_slash():
    assert year_slug("2019/20") == "2019-20"
    assert year_slug("2025/26") == "2025-26"


def test_the_workspace_folder_is_the_one_given_else_pcnkit_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PCNKIT_HOME", str(tmp_path / "home"))
    assert workspace_layout(None).root == tmp_path / "home"
    assert workspace_layout(tmp_path / "given").root == tmp_path / "given"
    assert population_folder(None) == tmp_path / "home" / "population"
    assert population_folder(tmp_path / "given") == tmp_path / "given" / "population"


def test_an_opened_workspace_keeps_its_database_where_the_layout_says(tmp_path, monkeypatch):
    monkeypatch.delenv("PCNKIT_DATABASE_URL", raising=False)
    ws = open_workspace(tmp_path / "ws")
    try:
        assert ws.layout == Layout(tmp_path / "ws")
        assert ws.url == ws.layout.sqlite_url
        assert ws.layout.database.is_file()
    finally:
        ws.dispose()


def test_each_contract_years_rules_file_is_named_by_the_same_rule():
    years = known_years()
    assert "2019/20" in years
    for year in years:
        assert rules_file(year) == rules_folder() / f"{year_slug(year)}.yaml"
        assert rules_file(year).is_file()


def test_a_patient_list_names_exactly_one_practice_or_pcn(tmp_path):
    when = dt.date(2020, 1, 1)
    assert scope_practices(tmp_path, " f82002 ", None, when) == ["F82002"]
    for practice, pcn in ((None, None), ("F82002", "U00367")):
        with pytest.raises(PcnkitError, match="name exactly one scope"):
            scope_practices(tmp_path, practice, pcn, when)
    assert not Path(tmp_path).joinpath("pcnkit.db").exists()  # no workspace opened for these

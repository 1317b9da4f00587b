"""One YAML reader: a syntax error in any of pcnkit's YAML files names the file and the line."""

from pathlib import Path

import pytest

from pcnkit.errors import InputError
from pcnkit.funding.rules import apply_scenario, parse_rules, rules_for
from pcnkit.population.codelists import parse_codelist
from pcnkit.registry.importers import definitions
from pcnkit.yamlfile import Fields, parse_yaml, read_yaml

BROKEN = "id: x\nversion: 1\nstreams: [a, b\nname: y\n"


def test_a_syntax_error_names_the_file_and_line():
    with pytest.raises(InputError, match="is not valid YAML") as info:
        parse_yaml(BROKEN, "rules.yaml")
    assert info.value.file == "rules.yaml" and info.value.row == 4
    assert "Fix the YAML syntax" in str(info.value)


@pytest.mark.parametrize(
    "read",
    [
        lambda text: parse_rules(text, "2019-20.yaml"),
        lambda text: parse_codelist(text, "2019-20.yaml"),
        lambda text: definitions.parse(Path("2019-20.yaml"), text, "sha"),
    ],
    ids=["funding rules", "code list", "registry definitions"],
)
def test_every_yaml_file_reports_syntax_errors_the_same_way(read):
    with pytest.raises(InputError) as info:
        read(BROKEN)
    assert str(info.value).startswith("2019-20.yaml, row 4: is not valid YAML (")


def test_a_scenario_that_cannot_be_read_names_its_path(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(InputError, match="cannot be read") as info:
        apply_scenario(rules_for("2019/20"), missing)
    assert info.value.file == str(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(InputError, match="is not valid YAML") as info:
        read_yaml(broken)
    assert (info.value.file, info.value.row) == (str(broken), 4)


def test_fields_name_the_file_and_key_and_refuse_what_is_missing_or_not_a_choice():
    class Rules(Fields):
        fix = "Correct the rules file."

    f = Rules("rules.yaml", {"kind": "pcn", "empty": ""}, "streams[0]")
    assert f.get("kind") == "pcn" and f.get("empty", "default") == "default"
    assert f.choice("kind", ["pcn", "practice"]) == "pcn"
    with pytest.raises(InputError) as missing:
        f.get("empty")
    assert (missing.value.file, missing.value.column) == ("rules.yaml", "streams[0].empty")
    assert missing.value.problem == "is missing"
    assert missing.value.action == "Correct the rules file."
    with pytest.raises(InputError, match="'pcn' is not one of \\['icb'\\]"):
        f.choice("kind", ["icb"])
    with pytest.raises(InputError, match="streams\\[0\\] is not a mapping"):
        Fields("rules.yaml", ["a"], "streams[0]")

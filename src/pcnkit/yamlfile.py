"""Reading pcnkit's own YAML files (funding rules and scenarios, code lists, registry
definitions) in one place, so a syntax error reads the same in each: an `InputError` naming the
file and the line to fix. Only plain data is read (PyYAML's safe loader or a subclass of it),
dates as text."""

from __future__ import annotations

from pathlib import Path

import yaml

from pcnkit.errors import InputError


class Loader(yaml.SafeLoader):
    """PyYAML's safe loader, with dates read as text: each reader parses its own dates, so a bad
    one (2020-03-32) is reported with its key, where PyYAML raises a bare ValueError."""


Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def parse_yaml(text: str, file: str, loader: type[yaml.SafeLoader] = Loader) -> object:
    """The document in `text` (read from `file`, which errors name)."""
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise InputError(
            file,
            f"is not valid YAML ({getattr(exc, 'problem', None) or exc})",
            "Fix the YAML syntax.",
            row=mark.line + 1 if mark else None,
        ) from exc


def read_yaml(path: Path, loader: type[yaml.SafeLoader] = Loader) -> object:
    """The document in the UTF-8 file at `path`; errors name the path."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, f"cannot be read ({exc})", "Check the path.") from exc
    return parse_yaml(text, name, loader)

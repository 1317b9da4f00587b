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


# pcnkit's YAML files are a few kilobytes; a file far larger is not one of them.
MAX_BYTES = 5_000_000


def parse_yaml(text: str, file: str, loader: type[yaml.SafeLoader] = Loader) -> object:
    """The document in `text` (read from `file`, which errors name)."""
    try:
        return yaml.load(text, Loader=loader)
    except (RecursionError, MemoryError) as exc:
        raise InputError(
            file, "is nested too deeply or too large to be a pcnkit file", "Check the file."
        ) from exc
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
        if path.exists() and not path.is_file():
            raise InputError(
                name, "cannot be read: it is not a file (a folder or a device)", "Give a file."
            )
        if path.exists() and path.stat().st_size > MAX_BYTES:
            raise InputError(
                name, f"is larger than {MAX_BYTES:,} bytes", "Give the pcnkit YAML file itself."
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, f"cannot be read ({exc})", "Check the path.") from exc
    return parse_yaml(text, name, loader)


class Fields:
    """Typed access to one mapping of a YAML file, with errors that name the file and the key
    (`where.key`) and say `fix`. Each kind of file subclasses it for its own value types."""

    fix = "Correct the file."

    def __init__(self, file: str, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise InputError(file, f"{where} is not a mapping", "Write it as 'key: value' pairs.")
        self.file, self.data, self.where = file, data, where

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(self.file, problem, self.fix, column=f"{self.where}.{key}")

    def get(self, key: str, default=...):
        """The value at `key`; missing or empty is `default`, or refused if none is given."""
        if key not in self.data or self.data[key] in (None, ""):
            if default is ...:
                raise self.fail(key, "is missing")
            return default
        return self.data[key]

    def choice(self, key: str, options, default=...) -> str:
        value = str(self.get(key, default))
        if value not in options:
            raise self.fail(key, f"'{value}' is not one of {list(options)}")
        return value

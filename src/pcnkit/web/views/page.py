"""The base of the pages' data classes: each page's view-model is a frozen dataclass that names
its fields and their types, and still reads as a mapping (`page["org"]`, `**page`), which is
how templates receive it and `jsonout.answer` writes it. `web/schemas.py` describes the same
fields as JSON; a test keeps the two in step."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class Page(Mapping[str, Any]):
    """A page's data. Shared between requests through the memo: never change it."""

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    @functools.cache
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

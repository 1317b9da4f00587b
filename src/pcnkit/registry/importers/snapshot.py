"""Snapshot facts repeated on many rows (a CCG's STP on every practice row), asserted once."""

from __future__ import annotations

from pcnkit.errors import InputError
from pcnkit.registry.importers.base import Batch, FactRecord, Row


class SnapshotFacts:
    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.parent_of: dict[tuple[str, str], tuple[str, int]] = {}

    def add(self, child: str, parent: str, row: Row, column: str) -> None:
        kind = self.batch.organisations[parent].kind
        known = self.parent_of.get((child, kind))
        if known is None:
            self.parent_of[(child, kind)] = (parent, row.number)
            self.batch.facts.append(FactRecord(child, parent, dated=False, row=row.number))
        elif known[0] != parent:
            raise InputError(
                row.file,
                f"{child} is placed in {parent} here but in {known[0]} at row {known[1]}",
                "One file can give each organisation only one parent of each kind.",
                row=row.number,
                column=column,
            )

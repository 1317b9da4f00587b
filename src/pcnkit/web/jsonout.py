"""JSON answers of the API: money and other decimals as strings (never binary floats), dates as
ISO 8601, and drawing-only fields (SVG) left out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from fastapi.responses import JSONResponse

DRAWING = ("svg",)


def plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if k not in DRAWING}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # field by field (a page's data is shared: `asdict` would deep-copy all of it)
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in DRAWING
        }
    return value


def answer(data: object, status_code: int = 200) -> JSONResponse:
    return JSONResponse(plain(data), status_code=status_code)

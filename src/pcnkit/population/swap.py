"""Replacing a population store folder (or its stratification results) in one step.

`population generate --replace`, `population import` and `population stratify` all build the
new folder beside the old one and then call :func:`replace_folder`, the one place that swaps
them. Whatever instant the process is killed at, the target is either the old folder, whole,
or the new one, whole:

* On Linux the two folders are exchanged with ``renameat2(RENAME_EXCHANGE)``, a single atomic
  system call; the old folder then sits under the staging name and is deleted afterwards (a
  kill during that deletion leaves only a hidden leftover, removed by the next swap).
* Elsewhere the old folder is renamed aside, then the new one renamed in. A kill between the
  two renames leaves no target; :func:`recover` (run before every swap and whenever a store is
  opened for writing) puts the old folder back.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import sys
import uuid
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _aside(target: Path) -> list[Path]:
    """Old folders moved aside by an interrupted swap of `target`, newest first."""
    found = target.parent.glob(f".{target.name}.replaced-*")
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def recover(target: Path) -> None:
    """Finish or undo an interrupted swap of `target`: if the target is missing but an old
    folder was moved aside, put it back; then delete folders left aside."""
    target = Path(target)
    aside = _aside(target)
    if aside and not target.exists():
        aside.pop(0).rename(target)
    for leftover in aside:
        shutil.rmtree(leftover, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
    )  # fmt: skip
    return result == 0


def replace_folder(new: Path, target: Path) -> None:
    """Put the complete folder `new` at `target`, replacing what is there in one step (see the
    module text); the old folder is deleted once the new one is in place."""
    new, target = Path(new), Path(target)
    recover(target)
    if not target.exists():
        new.rename(target)
        return
    old = target.parent / f".{target.name}.replaced-{uuid.uuid4().hex[:8]}"
    if _exchange(new, target):
        # `new` now names the old folder: move it aside (so a kill leaves a known leftover)
        new.rename(old)
    else:
        target.rename(old)
        try:
            new.rename(target)
        except BaseException:
            old.rename(target)
            raise
    with contextlib.suppress(OSError):
        shutil.rmtree(old)

"""Writing a committee pack to a file: the format from the file's suffix (or named), the whole
file rendered in memory first, then put in place in one step. A failed render, a full disk or
a killed process never leaves half a pack at the path, and a pack already there is only ever
replaced by a complete one. The bytes go first to a hidden `.NAME.*.part` file beside it (the
same file system, so the final rename is atomic, and named with the writer's process id); a
process killed outright (kill -9) while writing that file can leave it behind, and the next
write to the same path removes it once its writer is gone."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
import time
from pathlib import Path

from pcnkit.errors import PcnkitError
from pcnkit.reports.document import Document

FORMATS = {"pdf", "docx", "html"}
# each format's media type, for a web download
MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# a part file older than this is a leftover of a killed write, not one still being written
STALE_PART_SECONDS = 3600


def _choices() -> str:
    return ", ".join(sorted(FORMATS))


def render(doc: Document, fmt: str) -> bytes:
    """The pack as the bytes of one file in `fmt`."""
    fmt = _format(fmt)
    if fmt == "pdf":
        from pcnkit.reports.pdf import render_pdf

        return render_pdf(doc)
    if fmt == "docx":
        from pcnkit.reports.docx import render_docx

        return render_docx(doc)
    from pcnkit.reports.html import render_html

    return render_html(doc).encode("utf-8")


def _format(fmt: str) -> str:
    name = fmt.lower().lstrip(".")
    if name not in FORMATS:
        raise PcnkitError(f"unknown pack format {fmt!r}: choose one of {_choices()}")
    return name


def format_for(path: Path, fmt: str | None = None) -> str:
    """The format asked for, or else the one the file's suffix names."""
    if fmt:
        return _format(fmt)
    if not path.suffix:
        raise PcnkitError(
            f"{path.name}: the file name has no suffix to tell the format; "
            f"end it with one of .{', .'.join(sorted(FORMATS))} or name the format"
        )
    return _format(path.suffix)


def write(doc: Document, path: Path, fmt: str | None = None) -> Path:
    """Render the pack and put it at `path` atomically; returns the path written."""
    path = Path(path)
    data = render(doc, format_for(path, fmt))  # fails before anything touches the disk
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PcnkitError(f"{folder}: no such folder to write the pack into")
    _remove_leftovers(folder, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise PcnkitError(
                f"{path}: the pack could not be written ({exc.strerror or exc}); nothing was "
                "changed there"
            ) from exc
        raise
    return path


def _remove_leftovers(folder: Path, name: str) -> None:
    """Delete the part files that killed writes of `name` left behind: those whose process
    (named in the part's name) is gone, and any older than an hour."""
    now = time.time()
    for part in folder.glob(f".{glob.escape(name)}.*.part"):
        with contextlib.suppress(OSError):
            if not _writer_alive(part.name[len(name) + 2 :]) or (
                now - part.stat().st_mtime > STALE_PART_SECONDS
            ):
                part.unlink()


def _writer_alive(rest: str) -> bool:
    """Whether the process that is writing the part (`<pid>.<random>.part`) still runs."""
    pid = rest.split(".", 1)[0]
    if not pid.isdigit():
        return True  # not ours to judge: left to the age rule
    if int(pid) == os.getpid():
        return False  # this process writes one part at a time per path: a left-over
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def filename(doc: Document, fmt: str) -> str:
    """A descriptive default file name: `assurance-update_BHR_2026-03-01.pdf` (a funding paper
    from a published paper's inputs ends `_as-published`). The organisation
    is its code (the part in brackets at the end of its name), else its name made safe."""
    code = re.search(r"\(([^()]+)\)\s*$", doc.organisation)
    org = code[1] if code else doc.organisation
    parts = [doc.kind, org, doc.as_of.isoformat(), *([doc.variant] if doc.variant else [])]
    stem = "_".join(_UNSAFE.sub("-", p).strip("-.") or "pack" for p in parts)
    return f"{stem}.{_format(fmt)}"

"""Processes as Linux's /proc shows them, for the benchmarks that measure a server or a JVM they
started: who is whose child, and their summed peak memory. Empty answers elsewhere."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def parents() -> dict[int, int]:
    """Each live process's parent (pid -> ppid); empty without /proc."""
    found: dict[int, int] = {}
    if not PROC.is_dir():
        return found
    for d in PROC.iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                found[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return found


def peak_rss_mib(pids) -> int:
    """The summed peak RSS (VmHWM) of the processes, in MiB; one that has ended counts 0."""
    total = 0
    for pid in pids:
        try:
            for line in (PROC / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024)

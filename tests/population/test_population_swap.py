"""Issue 10 item 11: replacing a population is one step. `population generate --replace`,
`population import` and `population stratify` share `pcnkit.population.swap.replace_folder`;
a kill -9 at any moment leaves either the old population or the new one, whole, and
`population pack` works on it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pcnkit.cli import app
from pcnkit.population import swap

runner = CliRunner()
HAVERING_SOUTH = "U00367"
PATIENTS = 3000
ATTEMPTS = 16
DELAYS = [0.0, 0.005, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15]  # seconds
PCNKIT = str(Path(sys.executable).parent / "pcnkit")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file of a population (not its stratification results) with its hash."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).as_posix().startswith("results/")
    }


def test_replace_folder_exchanges_whole_folders(tmp_path):
    target, new = tmp_path / "population", tmp_path / ".population-new"
    (target / "patients").mkdir(parents=True)
    (target / "patients" / "old.parquet").write_text("old")
    (new / "patients").mkdir(parents=True)
    (new / "patients" / "new.parquet").write_text("new")
    swap.replace_folder(new, target)
    assert [p.name for p in (target / "patients").iterdir()] == ["new.parquet"]
    assert not new.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["population"]


def test_recover_puts_back_a_folder_moved_aside(tmp_path):
    """The fallback swap (no atomic exchange) killed between its two renames."""
    target = tmp_path / "population"
    aside = tmp_path / ".population.replaced-0000abcd"
    (aside / "patients").mkdir(parents=True)
    (aside / "patients" / "old.parquet").write_text("old")
    swap.recover(target)
    assert (target / "patients" / "old.parquet").read_text() == "old"
    assert not aside.exists()


def test_replace_folder_without_atomic_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(swap, "_exchange", lambda a, b: False)
    target, new = tmp_path / "population", tmp_path / ".population-new"
    target.mkdir()
    (target / "a").write_text("old")
    new.mkdir()
    (new / "a").write_text("new")
    swap.replace_folder(new, target)
    assert (target / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["population"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("popswap") / "demo"
    result = invoke("demo", "-w", folder, "--patients", PATIENTS, "--no-serve")
    assert result.exit_code == 0, result.output
    return folder


def _generate(workspace: Path, seed: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    args = ["generate", "--area", "BHR", "--seed", str(seed), "--patients", str(PATIENTS)]
    return subprocess.Popen(
        [PCNKIT, "population", *args, "--replace", "-w", str(workspace)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _store_changed(population: Path, inode: int, files: list[str]) -> bool:
    """Whether the store folder is no longer the one it was, or any of its files has gone."""
    try:
        if os.stat(population).st_ino != inode:
            return True
    except FileNotFoundError:
        return True
    return not all(os.path.exists(f) for f in files)


def test_kill_9_at_the_swap_leaves_the_old_or_the_new_population(demo):
    """Kill `population generate --replace` at the swap, many times: on even attempts at the
    first sign (polled in a busy loop) that the old store is being moved out or deleted, on
    odd attempts at 0-150 ms after the generator wrote its report (its last file, so the swap
    is next). Every time the store is one whole population and the pack works."""
    population = demo / "population"
    staging = demo / ".population-generating"
    seeds = (2019, 7)
    # The two complete populations the store may hold.
    known = {seeds[0]: fingerprint(population)}
    proc = _generate(demo, seeds[1])
    assert proc.wait(timeout=300) == 0
    known[seeds[1]] = fingerprint(population)
    assert known[seeds[0]] != known[seeds[1]]
    kills = 0
    for attempt in range(ATTEMPTS):
        current = next(s for s, f in known.items() if f == fingerprint(population))
        inode = os.stat(population).st_ino
        files = [str(p) for p in population.rglob("*") if p.is_file()]
        proc = _generate(demo, seeds[0] if current == seeds[1] else seeds[1])
        report = str(staging / "synthetic-report.json")
        deadline = time.monotonic() + 300
        if attempt % 2 == 0:
            while not _store_changed(population, inode, files) and proc.poll() is None:
                assert time.monotonic() < deadline
        else:
            while not os.path.exists(report) and proc.poll() is None:
                assert time.monotonic() < deadline
            time.sleep(DELAYS[attempt // 2 % len(DELAYS)])
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        after = fingerprint(population) if population.exists() else {}
        assert after in known.values(), f"attempt {attempt}: the store is half replaced"
        pack = invoke("population", "pack", "--pcn", HAVERING_SOUTH, "-w", demo)
        assert pack.exit_code == 0, pack.output
    assert kills >= ATTEMPTS // 2
    leftovers = [p.name for p in demo.iterdir() if p.name.startswith(".population.replaced")]
    assert len(leftovers) <= 1

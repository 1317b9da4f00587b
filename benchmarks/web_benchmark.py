"""Web benchmark: the web application under 20 concurrent signed-in clients for 60 s.

    .venv/bin/python benchmarks/web_benchmark.py [--workspace pcnkit-demo] [--seconds 60]
        [--clients 20] [--workers 2] [--json results.json]

The workspace must be a full demo workspace (`pcnkit demo --no-serve -w pcnkit-demo`). The
script starts uvicorn as `pcnkit serve` does (`pcnkit.web.server.run`) in a subprocess on a free
loopback port (`--workers` processes) serving
`create_app(workspace, default_as_of=2020-01-01)`, adds two benchmark users with fresh random
passwords (a commissioner for QMF and a PCN user for U00367), signs each client in as both
through POST /api/login, and lets every client loop over the pages below until the time is up:

  organisation: /org/QMF, /org/U00367, /org/F82002 and other PCNs and practices in QMF
  funding:      /funding/U00367 and a practice's, /funding/F82002
  assurance:    /assurance/QMF, /assurance/U00367, /assurance/F82002 and two indicator pages,
                as at 31 March 2026 (the demo's newest publications)
  case-finding: /population/U00367/lists/smr (a patient-level list, as the PCN user)

Each request's latency is the wall time from sending it to having read the whole body. Per
page class: requests, errors (any answer but 200, or no answer), p50/p95/p99 and max in ms.
Targets (issues): organisation, funding and assurance pages p95 < 300 ms, the case-finding
list p95 < 1 s, no errors. The users are removed at the end; the list views they make stay in
the audit log.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import procfs  # benchmarks/procfs.py, beside this script

AS_OF = dt.date(2020, 1, 1)
ICS, PCN, PRACTICE, LIST = "QMF", "U00367", "F82002", "smr"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# page class -> p95 target in ms
TARGETS = {"organisation": 300.0, "funding": 300.0, "assurance": 300.0, "case-finding": 1000.0}
# the assurance pages are asked at the date of the newest publications (the demo's data)
ASSURANCE_ON = "2026-03-31"
ENV_WORKSPACE, ENV_AS_OF = "PCNKIT_BENCH_WORKSPACE", "PCNKIT_BENCH_AS_OF"
SIGN_IN_TRIES = 10
SIGN_IN_RETRIES: list[str] = []  # sign-ins answered 503 (busy) and tried again


def make_app():
    """The uvicorn factory (`web_benchmark:make_app`), run in each server worker."""
    from pcnkit.store import open_workspace
    from pcnkit.web.app import create_app
    from pcnkit.web.views.assurance import warm

    ws = open_workspace(Path(os.environ[ENV_WORKSPACE]))
    app = create_app(ws, default_as_of=dt.date.fromisoformat(os.environ[ENV_AS_OF]))
    warm(app.state, ws)  # as `pcnkit serve`'s workers do
    return app


# --- set-up ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Bench:
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (name, password)
    pages: list[tuple[str, str, str]] = field(default_factory=list)  # (class, user role, path)


def _password() -> str:
    return secrets.token_urlsafe(18)


def add_users(ws, now: dt.datetime) -> dict[str, tuple[str, str]]:
    from pcnkit.access.users import COMMISSIONER, add_user

    tag = secrets.token_hex(4)
    users = {
        COMMISSIONER: (f"bench-web-{tag}-icb", _password(), ICS),
        "pcn": (f"bench-web-{tag}-pcn", _password(), PCN),
    }
    with ws.transaction() as session:
        for role, (name, password, scope) in users.items():
            add_user(session, name, password, role, scope, now)
    return {role: (name, password) for role, (name, password, _) in users.items()}


def remove_users(ws, users: dict[str, tuple[str, str]]) -> None:
    from pcnkit.access.users import remove_user

    with ws.transaction() as session:
        for name, _ in users.values():
            remove_user(session, name)


def choose_pages(ws, others: int, seed: int) -> list[tuple[str, str, str]]:
    """The pages each client visits in one round: fixed ones plus `others` further PCNs and
    practices in QMF, drawn with `seed`."""
    from pcnkit.registry import kinds
    from pcnkit.registry.queries import Hierarchy

    with ws.sessions() as session:
        h = Hierarchy.at(session, AS_OF)
        area = h.get(ICS)
        pcns = [o.code for o in h.pcns_in(area) if o.code != PCN]
        practices = [o.code for o in h.descendants(area, kinds.PRACTICE) if o.code != PRACTICE]
    rng = random.Random(seed)
    extra = rng.sample(pcns, min(others, len(pcns))) + rng.sample(
        practices, min(others, len(practices))
    )
    org = [("organisation", "commissioner", f"/org/{c}") for c in (ICS, PCN, PRACTICE, *extra)]
    funding = [("funding", "commissioner", f"/funding/{c}") for c in (PCN, PRACTICE)]
    lists = [("case-finding", "pcn", f"/population/{PCN}/lists/{LIST}")]
    on = f"?on={ASSURANCE_ON}"
    assurance = [
        ("assurance", "commissioner", f"/assurance/{c}{on}") for c in (ICS, PCN, PRACTICE)
    ] + [
        ("assurance", "commissioner", f"/assurance/{PCN}/{kpi}{on}")
        for kpi in ("oc_patients_with_access", "telephony_answered")
    ]
    return org + funding + assurance + lists


class Server:
    """uvicorn in a subprocess on a free loopback port."""

    def __init__(self, workspace: Path, workers: int) -> None:
        from pcnkit.web.server import HEALTH_CHECK, KEEP_ALIVE

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, **{ENV_WORKSPACE: str(workspace), ENV_AS_OF: AS_OF.isoformat()})
        # served as `pcnkit serve` serves (web/server.py `run`: its socket options, keep-alive
        # and worker health-check settings)
        options = {
            "app": "web_benchmark:make_app",
            "factory": True,
            "app_dir": str(HERE),
            "host": "127.0.0.1",
            "port": self.port,
            "workers": workers,
            "access_log": False,
            "timeout_keep_alive": KEEP_ALIVE,
            "timeout_worker_healthcheck": HEALTH_CHECK,
            "log_level": "info",  # uvicorn logs a worker it kills and restarts at info level
        }
        cmd = [
            sys.executable,
            "-c",
            "import json, sys; from pcnkit.web.server import run; run(**json.loads(sys.argv[1]))",
            json.dumps(options),
        ]
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 120.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped while starting:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/login", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer on {self.url} in {timeout:.0f} s")

    def output(self, tail: int | None = 4000) -> str:
        self.log.seek(0)
        text = self.log.read()
        return text[-tail:] if tail else text

    def _pids(self) -> set[int]:
        """The server process and its workers (Linux /proc; empty elsewhere)."""
        if not procfs.PROC.is_dir():
            return set()
        root = self.process.pid
        return {root} | {pid for pid, ppid in procfs.parents().items() if ppid == root}

    def cpu_s(self) -> float | None:
        """CPU time (user + system) the server and its workers have used so far (Linux)."""
        pids = self._pids()
        if not pids:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, ValueError, IndexError):
                continue
        return total / ticks

    def peak_rss_mib(self) -> int | None:
        """Peak RSS (VmHWM) of the server process and its workers (Linux), summed."""
        pids = self._pids()
        return procfs.peak_rss_mib(pids) if pids else None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# --- the clients ----------------------------------------------------------------------------


@dataclass
class Sample:
    page_class: str
    path: str
    ms: float
    status: int  # 0: no answer (timeout, connection error)
    detail: str = ""


def _sign_in(base: str, name: str, password: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=60.0, follow_redirects=False)
    # Fifty clients signing in at the same instant queue for the server's database slots (each
    # sign-in checks an Argon2 hash); one that waits too long is told 503 with Retry-After, and
    # a well-behaved client comes back then. Sign-in is not part of the timed run.
    for _ in range(SIGN_IN_TRIES):
        response = client.post("/api/login", json={"username": name, "password": password})
        if response.status_code != 503:
            break
        SIGN_IN_RETRIES.append(name)
        time.sleep(float(response.headers.get("retry-after", "1")))
    if response.status_code != 200:
        raise RuntimeError(f"POST /api/login as {name}: {response.status_code} {response.text}")
    return client


def run_client(
    index: int,
    base: str,
    bench: Bench,
    ready: threading.Barrier,
    end_at: list[float],
    out: list[Sample],
    failures: list[str],
) -> None:
    import httpx

    try:
        clients = {role: _sign_in(base, *user) for role, user in bench.users.items()}
    except Exception as exc:
        failures.append(f"client {index}: {exc}")
        ready.abort()
        return
    pages = list(bench.pages)
    random.Random(index).shuffle(pages)  # the clients do not all ask for the same page at once
    samples: list[Sample] = []
    try:
        ready.wait()
        while True:
            for page_class, role, path in pages:
                if time.perf_counter() >= end_at[0]:
                    return
                t0 = time.perf_counter()
                detail = ""
                try:
                    response = clients[role].get(path)
                    response.read()
                    status = response.status_code
                    if status != 200:
                        detail = response.text[:200]
                except httpx.HTTPError as exc:
                    status, detail = 0, f"{type(exc).__name__}: {exc}"[:200]
                ms = (time.perf_counter() - t0) * 1000
                samples.append(Sample(page_class, path, ms, status, detail))
    except threading.BrokenBarrierError:
        return
    finally:
        out.extend(samples)
        for c in clients.values():
            c.close()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    if not values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]


def summarise(samples: list[Sample], seconds: float) -> dict[str, dict]:
    out = {}
    for page_class in TARGETS:
        mine = [s for s in samples if s.page_class == page_class]
        ok = sorted(s.ms for s in mine)  # every request's latency, errors included
        errors = [s for s in mine if s.status != 200]
        by_status: dict[str, int] = {}
        for s in errors:
            by_status[str(s.status)] = by_status.get(str(s.status), 0) + 1
        p95 = percentile(ok, 95)
        out[page_class] = {
            "requests": len(mine),
            "errors": len(errors),
            "errors_by_status": by_status,
            "error_examples": [f"{s.path}: {s.status} {s.detail}" for s in errors[:5]],
            "per_second": round(len(mine) / seconds, 1),
            "p50_ms": round(percentile(ok, 50), 1),
            "p95_ms": round(p95, 1),
            "p99_ms": round(percentile(ok, 99), 1),
            "max_ms": round(ok[-1], 1) if ok else None,
            "target_p95_ms": TARGETS[page_class],
            "met": bool(mine) and not errors and p95 < TARGETS[page_class],
        }
        paths: dict[str, list[float]] = {}
        for s in mine:
            paths.setdefault(s.path, []).append(s.ms)
        out[page_class]["paths"] = {
            p: {"requests": len(v), "p50_ms": round(percentile(sorted(v), 50), 1)}
            for p, v in sorted(paths.items())
        }
    return out


def warm_up(base: str, bench: Bench, solo: int) -> tuple[dict[str, float], dict[str, float]]:
    """Before the run, from one client with nothing else running: each page's first request
    (caches cold) and the median of `solo` more (its service time without queueing), in ms."""
    clients = {role: _sign_in(base, *user) for role, user in bench.users.items()}
    first, alone = {}, {}
    try:
        for _, role, path in bench.pages:
            times = []
            for _ in range(1 + solo):
                t0 = time.perf_counter()
                response = clients[role].get(path)
                times.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
            first[path] = round(times[0], 1)
            alone[path] = round(statistics.median(times[1:]), 1) if solo else None
    finally:
        for c in clients.values():
            c.close()
    return first, alone


# --- the driver -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", "-w", type=Path, default=Path("pcnkit-demo"))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes (pcnkit serve: CPUs)"
    )
    parser.add_argument(
        "--others", type=int, default=4, help="further PCNs and practices among the org pages"
    )
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--solo", type=int, default=5, help="requests per page from one client before the run"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()

    workspace = args.workspace.resolve()
    if not (workspace / "population").is_dir() or not (workspace / ".pcnkit-demo").exists():
        print(
            f"{workspace} is not a full demo workspace. Build one first:\n"
            f"    .venv/bin/pcnkit demo --no-serve -w {args.workspace}",
            file=sys.stderr,
        )
        return 2

    import httpx  # noqa: F401  (fail early when the environment lacks it)

    from pcnkit.store import open_workspace

    ws = open_workspace(workspace)
    bench = Bench()
    bench.pages = choose_pages(ws, args.others, args.seed)
    results: dict[str, object] = {
        "workspace": str(workspace),
        "as_of": AS_OF.isoformat(),
        "clients": args.clients,
        "workers": args.workers,
        "seconds": args.seconds,
        "pages": [p for _, _, p in bench.pages],
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg()[0],
        "python": sys.version.split()[0],
    }
    server = None
    try:
        bench.users = add_users(ws, dt.datetime.now())
        print(f"starting uvicorn ({args.workers} worker(s)) ...", file=sys.stderr, flush=True)
        server = Server(workspace, args.workers)
        server.wait()
        print(f"warming up on {server.url} ...", file=sys.stderr, flush=True)
        results["first_request_ms"], results["alone_median_ms"] = warm_up(
            server.url, bench, args.solo
        )

        samples: list[Sample] = []
        failures: list[str] = []
        end_at = [math.inf]
        ready = threading.Barrier(
            args.clients + 1,
            action=lambda: end_at.__setitem__(0, time.perf_counter() + args.seconds),
        )
        threads = [
            threading.Thread(
                target=run_client,
                args=(i, server.url, bench, ready, end_at, samples, failures),
                name=f"client-{i}",
            )
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        print(
            f"signing in {args.clients} clients, then {args.seconds:.0f} s of requests ...",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait()
        started, client_cpu, server_cpu = time.perf_counter(), time.process_time(), server.cpu_s()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        results["client_cpu_s"] = round(time.process_time() - client_cpu, 1)
        if server_cpu is not None:
            results["server_cpu_s"] = round(server.cpu_s() - server_cpu, 1)
        if failures:
            raise RuntimeError("; ".join(failures) + f"\nserver log (end):\n{server.output()}")
        results["wall_s"] = round(wall, 1)
        results["requests"] = len(samples)
        results["per_second"] = round(len(samples) / wall, 1)
        results["classes"] = summarise(samples, wall)
        results["server_peak_rss_mib"] = server.peak_rss_mib()
        results["sign_in_retries"] = len(SIGN_IN_RETRIES)
        # workers the supervisor found hung and replaced (each drops its open connections)
        results["worker_restarts"] = server.output(None).count(" died")
        if any(s.status != 200 for s in samples) or results["worker_restarts"]:
            results["server_log_tail"] = server.output()
    finally:
        if server is not None:
            server.stop()
        if bench.users:
            remove_users(ws, bench.users)
        ws.dispose()
    results["load_average_end"] = os.getloadavg()[0]

    classes = results["classes"]
    print(
        f"\nweb benchmark: {args.clients} clients, {args.workers} worker(s), "
        f"{results['wall_s']} s, {results['requests']:,} requests ({results['per_second']}/s)"
    )
    head = ("page class", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms", "target")
    print(f"{head[0]:<13}" + "".join(f"{h:>10}" for h in head[1:7]) + f"  {head[7]}")
    for name, c in classes.items():
        verdict = "met" if c["met"] else "NOT MET"
        print(
            f"{name:<13}{c['requests']:>10,}{c['errors']:>10,}{c['p50_ms']:>10.1f}"
            f"{c['p95_ms']:>10.1f}{c['p99_ms']:>10.1f}{c['max_ms'] or 0:>10.1f}"
            f"  p95 < {c['target_p95_ms']:.0f} ms, no errors: {verdict}"
        )
    print(f"sign-ins answered 503 (busy) and retried after Retry-After: {len(SIGN_IN_RETRIES)}")
    print(f"server workers killed as hung and restarted: {results['worker_restarts']}")
    first = ", ".join(f"{p} {ms:.0f}" for p, ms in results["first_request_ms"].items())
    print(f"first requests (ms, one client, before the run): {first}")
    if args.solo:
        alone = ", ".join(f"{p} {ms:.0f}" for p, ms in results["alone_median_ms"].items())
        print(f"one client alone (median of {args.solo}, ms): {alone}")
    print(
        f"CPU during the run: server {results.get('server_cpu_s')} s, clients (this process) "
        f"{results['client_cpu_s']} s, in {results['wall_s']} s of wall time"
    )
    print(
        f"server peak RSS {results['server_peak_rss_mib']} MiB; load average "
        f"{results['load_average_start']:.2f} -> {results['load_average_end']:.2f} "
        f"on {results['cpus']} CPUs"
    )
    for name, c in classes.items():
        for example in c["error_examples"]:
            print(f"error ({name}): {example}")
    if results.get("server_log_tail"):
        print(f"server log (end):\n{results['server_log_tail']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers for the browser tests: a live uvicorn server in a thread, headless Chromium through
Playwright, signing in through the real form, full-page screenshots and axe-core checks.

It is also a pytest plugin (`pytest_plugins` in tests/conftest.py; tests/web is on the path by
the `pythonpath` setting in pyproject.toml) giving every browser test the same two fixtures,
`server` (the web demo on a live port) and `browser` (headless Chromium), each one per test
module. Browser test modules carry `pytestmark = pytest.mark.browser`, which `make test-fast`
leaves out."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
# Flags that let Debian's Chromium run headless here (also as root, without network access).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# axe-core impacts that fail a page.
BLOCKING = ("serious", "critical")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving `app` on a free loopback port, in a background thread."""

    def __init__(self, app, startup_timeout: float = 30.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-live", daemon=True)
        self.startup_timeout = startup_timeout

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn stopped while starting (see the log above)")
            try:
                if httpx.get(f"{self.url}/login", timeout=2.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the live server did not answer on {self.url} in time")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def launch_chromium(playwright):
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make system-deps`")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_request(lambda r: r.method == "POST") as posted, page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if urlsplit(page.url).path == "/login":
        origin = posted.value.all_headers().get("origin")
        raise AssertionError(
            f"signing in as {username} through the form failed (the browser sent "
            f"Origin: {origin}): {' '.join(page.inner_text('main').split())}"
        )


def sign_in_api(page, base_url: str, username: str, password: str) -> None:
    """Sign the page's browser context in through POST /api/login (for tests whose subject is
    not the sign-in form): the session cookie lands in the context's cookie jar."""
    response = page.request.post(
        f"{base_url}/api/login", data={"username": username, "password": password}
    )
    assert response.status == 200, f"POST /api/login as {username}: {response.text()}"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page) -> list[dict]:
    """Run axe-core (all its default rules) on the page and return its violations. The script
    goes in through the DevTools protocol, which the page's Content-Security-Policy does not
    govern, so the page is checked exactly as served."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `make assets` (npm ci)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html})),
            }));
        }"""
    )


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"][:10]:
            lines.append(f"    target {n['target']}: {n['html'][:200]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more elements")
    return "\n".join(lines)


# --- fixtures (one of each per test module) ------------------------------------------------


@pytest.fixture(scope="module")
def server(web_demo):
    """The web demo (a fresh app over the shared workspace) served on a free loopback port."""
    live = LiveServer(web_demo.app()).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Playwright (the test is skipped when Playwright is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()

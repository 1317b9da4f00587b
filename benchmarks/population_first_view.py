"""First view of a population page on a date not viewed before (issue 10 item 26).

Builds nothing: point it at a demo workspace (`pcnkit demo --no-serve --patients 50000 -w DIR`)
and it signs in as a demo user (password from DIR/demo-logins.txt), opens the population page
once to warm the process, then opens it on each of several new dates and prints the seconds
each first view took, and the same for a patient list.

    PYTHONPATH=src .venv/bin/python benchmarks/population_first_view.py DIR [USER] [CODE]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

TARGET_S = 0.5  # issue 11: a PCN population page's first view
DATES = ("2020-01-01", "2020-02-01", "2021-06-15", "2022-08-01", "2025-08-01")


def main(folder: Path, username: str = "havering.south", code: str = "U00367") -> None:
    from fastapi.testclient import TestClient

    from pcnkit.store import open_workspace
    from pcnkit.web.app import create_app

    logins = {
        line.split("\t")[0]: line.split("\t")[1]
        for line in (folder / "demo-logins.txt").read_text().splitlines()
    }
    ws = open_workspace(folder)
    client = TestClient(create_app(ws))
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(
        "/login",
        data={"username": username, "password": logins[username], "csrf_token": token, "next": "/"},
    )
    for path in (f"/population/{code}", f"/population/{code}/lists/rising_risk"):
        print(path)
        for on in DATES:
            started = time.perf_counter()
            response = client.get(path, params={"on": on})
            seconds = time.perf_counter() - started
            verdict = "met" if seconds < TARGET_S else "MISSED"
            print(
                f"  on={on}: {response.status_code} in {seconds:.2f} s (target < 0.5 s {verdict})"
            )
    ws.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]), *sys.argv[2:])

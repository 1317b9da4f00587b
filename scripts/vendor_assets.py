"""Copy the NHS.UK design system's built assets from node_modules into the package.

pcnkit serves these itself: NHS networks and these machines cannot reach a CDN. The stylesheet's
@font-face rules point at an internet font host, so they are dropped here (the design system falls
back to Arial, as it does wherever that host is blocked), and the copy fails if any other
absolute web address is left in the CSS or JavaScript.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
TARGET = ROOT / "src" / "pcnkit" / "web" / "static" / "vendor" / "nhsuk"
FONT_FACE = re.compile(r"@font-face\{[^}]*url\(https?:[^}]*\}")
REMOTE = re.compile(r"url\(\s*['\"]?(https?:)?//", re.IGNORECASE)


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: run `npm ci` first", file=sys.stderr)
        return 1
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    css = FONT_FACE.sub("", (SOURCE / "nhsuk-frontend.min.css").read_text(encoding="utf-8"))
    css = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", css)
    js = (SOURCE / "nhsuk-frontend.min.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    for name, text in (("nhsuk-frontend.min.css", css), ("nhsuk-frontend.min.js", js)):
        if REMOTE.search(text):
            print(f"{name} still loads something from the internet", file=sys.stderr)
            return 1
        (TARGET / name).write_text(text, encoding="utf-8")
    shutil.copytree(SOURCE / "assets" / "images", TARGET / "images")
    shutil.copy(SOURCE / "assets" / "manifest.json", TARGET / "manifest.json")
    print(f"copied the NHS.UK frontend to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

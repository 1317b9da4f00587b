"""Which passwords are refused: too short, blank, a common password with decoration, a run
of keys or characters, one repeated pattern, or one containing the username.

Length alone let "            " (12 spaces) and "password1234" through. The rules follow NCSC
and NIST SP 800-63B: a minimum length, a check against passwords known to be guessed first
(shipped in the package, `common_passwords.txt`), and no other composition rules.
"""

from __future__ import annotations

import re
import string
from functools import cache
from importlib import resources

from pcnkit.errors import InputError

MIN_PASSWORD = 12
MIN_DIFFERENT = 5  # different characters: refuses "aaaaaaaaaaab", "121212121212"
# Keyboard rows and the alphabet, for runs such as "qwertyuiop12" or "abcdefghijkl".
RUNS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", string.ascii_lowercase)
DECORATION = string.digits + string.punctuation + string.whitespace
HINT = "Choose a longer one: three or four unrelated words work well."


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("pcnkit.access").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, username: str = "") -> None:
    """Raise InputError (never echoing the password) when it is too weak to use."""
    problem = weakness(password, username)
    if problem:
        raise InputError("password", problem, HINT)


def weakness(password: str, username: str = "") -> str | None:
    """Why the password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if not password.strip():
        return "a password cannot be only spaces"
    lowered = password.lower()
    squeezed = re.sub(r"\s+", "", lowered)
    if len(set(squeezed)) < MIN_DIFFERENT:
        return f"a password needs at least {MIN_DIFFERENT} different characters"
    if re.fullmatch(r"(.{1,6}?)\1+", squeezed):
        return "a password cannot be one short pattern repeated"
    core = lowered.strip(DECORATION)
    common = common_passwords()
    if lowered in common or core in common or re.sub(r"\s+", "", core) in common:
        return "that is one of the passwords most often guessed"
    if _is_run(squeezed):
        return "a password cannot be a run of keys or letters"
    name = username.strip().lower()
    if len(name) >= 3 and name in lowered:
        return "a password cannot contain the username"
    return None


def _is_run(text: str) -> bool:
    """Whether every character continues a keyboard row or the alphabet (either way, wrapping
    round), as in 123456789012 or qwertyuiopas."""
    for run in RUNS:
        cycle = run * (len(text) // len(run) + 2)
        if all(c in run for c in text) and (text in cycle or text[::-1] in cycle):
            return True
    return False

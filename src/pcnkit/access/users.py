"""Users of the web application: a role, the organisation it covers, and a password hash.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's recommended profile).
After `MAX_FAILURES` wrong passwords in a row an account is locked for `LOCK_FOR`; a correct
password during the lock is refused too, so guessing cannot continue in the background.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pcnkit.errors import InputError, NotFoundError, PcnkitError
from pcnkit.registry import kinds
from pcnkit.registry.queries import organisation
from pcnkit.store.models import User

COMMISSIONER = "commissioner"
PCN = "pcn"
PRACTICE = "practice"
# Which kinds of organisation each role's scope may be.
ROLES: dict[str, tuple[str, ...]] = {
    COMMISSIONER: (
        kinds.NATION,
        kinds.REGION,
        kinds.ICB,
        kinds.SUB_ICB,
        kinds.PLACE,
        kinds.FEDERATION,
        kinds.GROUPING,
    ),
    PCN: (kinds.PCN,),
    PRACTICE: (kinds.PRACTICE,),
}
MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name costs as long as a wrong
# password and the response time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("pcnkit: no such user")


class LoginRefused(PcnkitError):
    """Wrong username or password, or a locked account: the message never says which."""


@dataclass(frozen=True)
class UserView:
    """What the rest of pcnkit knows of a signed-in user (never the hash)."""

    id: int
    username: str
    role: str
    scope_code: str
    session_epoch: int


def _view(user: User) -> UserView:
    return UserView(user.id, user.username, user.role, user.scope_code, user.session_epoch)


def add_user(
    session: Session, username: str, password: str, role: str, scope: str, now: dt.datetime
) -> UserView:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise InputError("username", f"'{username}' is not a usable username", "Use one word.")
    if role not in ROLES:
        raise InputError("--role", f"'{role}' is not a role", f"Use one of: {', '.join(ROLES)}.")
    org = organisation(session, scope)
    if org.kind not in ROLES[role]:
        allowed = ", ".join(kinds.KINDS[k].label for k in ROLES[role])
        raise InputError(
            "--scope",
            f"{org.code} is a {kinds.KINDS[org.kind].label}, not a scope for a {role} user",
            f"Give a {allowed} code.",
        )
    _check_password(password)
    if session.scalar(select(User).where(User.username == username)):
        raise InputError("username", f"'{username}' already exists", "Remove it first.")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        scope_code=org.code,
        created_at=now,
        failed_logins=0,
        session_epoch=0,
    )
    session.add(user)
    session.flush()
    return _view(user)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            "password",
            f"a password needs at least {MIN_PASSWORD} characters",
            "Choose a longer one (a few unrelated words work well).",
        )


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def remove_user(session: Session, username: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"No user is called '{username}'. See `pcnkit users list`.")
    session.delete(user)


def get_user(session: Session, user_id: int) -> UserView | None:
    user = session.get(User, user_id)
    return _view(user) if user else None


def authenticate(session: Session, username: str, password: str, now: dt.datetime) -> UserView:
    """The user, if the password is right and the account not locked; records the attempt."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused("The username or password is not right.")
    if user.locked_until and user.locked_until > now:
        raise LoginRefused(
            "This account is locked after repeated failed sign-ins. Try again in 15 minutes "
            "or ask your administrator."
        )
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCK_FOR
            user.failed_logins = 0
        raise LoginRefused("The username or password is not right.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return _view(user)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere: every cookie carrying the old epoch is refused."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_epoch += 1

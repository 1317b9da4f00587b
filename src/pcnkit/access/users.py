"""Users of the web application: a role, the organisation it covers, and a password hash.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's recommended profile)
and checked against `passwords.weakness`. After `MAX_FAILURES` wrong passwords in a row an
account is locked for `LOCK_FOR`; a correct password during the lock is refused too, so guessing
cannot continue in the background. Failures are counted by one UPDATE in the database (never
read, add one, write back), so wrong passwords sent at the same moment all count.

A session names the user's random `session_key`, not only an id: removing a user deletes the
key, and signing out or changing the role, scope or password replaces it, so no earlier cookie
can sign in again, nor as a later user given the same id.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from pcnkit.access.passwords import check_password
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
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name costs as long as a wrong
# password and the response time does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("pcnkit: no such user")
# One message for an unknown user, a wrong password and a locked account: the answer must not
# tell a guesser which usernames exist or that they have locked one.
REFUSED = (
    "The username or password is not right, or the account is locked after repeated failed "
    "sign-ins (for 15 minutes). Try again, or ask your administrator."
)


class LoginRefused(PcnkitError):
    """Wrong username or password, or a locked account: the message never says which (the
    `reason` is for the audit log only, which administrators read)."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSED)
        self.reason = reason


@dataclass(frozen=True)
class UserView:
    """What the rest of pcnkit knows of a signed-in user (never the hash)."""

    id: int
    username: str
    role: str
    scope_code: str
    session_key: str


def _view(user: User) -> UserView:
    return UserView(user.id, user.username, user.role, user.scope_code, user.session_key)


def new_session_key() -> str:
    return secrets.token_urlsafe(32)


def _scope_for(session: Session, role: str, scope: str) -> str:
    """The scope's code, if `scope` is an organisation a user of `role` may cover."""
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
    return org.code


def add_user(
    session: Session, username: str, password: str, role: str, scope: str, now: dt.datetime
) -> UserView:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise InputError("username", f"'{username}' is not a usable username", "Use one word.")
    scope_code = _scope_for(session, role, scope)
    check_password(password, username)
    if session.scalar(select(User).where(User.username == username)):
        raise InputError(
            "username",
            f"'{username}' already exists",
            "Change its role with `pcnkit users set-role`, or choose another name.",
        )
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        scope_code=scope_code,
        created_at=now,
        failed_logins=0,
        session_key=new_session_key(),
    )
    session.add(user)
    session.flush()
    return _view(user)


def _existing(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"No user is called '{username}'. See `pcnkit users list`.")
    return user


def set_role(session: Session, username: str, role: str, scope: str) -> UserView:
    """Give a user another role and/or scope; their sessions end (they sign in again and see
    only the new scope). Their audit history keeps their name."""
    user = _existing(session, username)
    user.scope_code = _scope_for(session, role, scope)
    user.role = role
    user.session_key = new_session_key()
    session.flush()
    return _view(user)


def set_password(session: Session, username: str, password: str) -> UserView:
    """A new password; the user's sessions end and any lock-out is lifted."""
    user = _existing(session, username)
    check_password(password, user.username)
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.session_key = new_session_key()
    session.flush()
    return _view(user)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def remove_user(session: Session, username: str) -> None:
    """Remove a user: their session key goes with the row, so every session they have ends."""
    session.delete(_existing(session, username))


def session_user(session: Session, user_id: int | None, key: str | None) -> UserView | None:
    """The user a session cookie names, if that user still exists with that session key."""
    if not isinstance(user_id, int) or not isinstance(key, str) or not key:
        return None
    user = session.get(User, user_id)
    if user is None or not hmac.compare_digest(user.session_key.encode(), key.encode()):
        return None
    return _view(user)


def authenticate(session: Session, username: str, password: str, now: dt.datetime) -> UserView:
    """The user, if the password is right and the account not locked; records the attempt.
    An unknown name, a wrong password and a locked account cost the same hash check and get
    the same message."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused("no such user")
    locked = user.locked_until is not None and user.locked_until > now
    right = _verify(user.password_hash, password)
    if locked:
        raise LoginRefused("account locked")
    if not right:
        locks = _count_failure(session, user.id, now)
        raise LoginRefused("wrong password; account now locked" if locks else "wrong password")
    # Signed in only if no concurrent failure locked the account meanwhile (checked and
    # cleared in the same statement).
    signed_in = session.execute(
        update(User)
        .where(User.id == user.id)
        .where((User.locked_until.is_(None)) | (User.locked_until <= now))
        .values(failed_logins=0, locked_until=None, last_login=now)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).first()
    if signed_in is None:
        raise LoginRefused("account locked")
    session.refresh(user)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return _view(user)


def _count_failure(session: Session, user_id: int, now: dt.datetime) -> bool:
    """One more wrong password, counted by the database in one statement (so concurrent
    failures cannot overwrite each other); the failure that reaches MAX_FAILURES locks the
    account and starts the count again. Whether this failure locked it."""
    reaches = User.failed_logins + 1 >= MAX_FAILURES
    result = session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            failed_logins=case((reaches, 0), else_=User.failed_logins + 1),
            locked_until=case((reaches, now + LOCK_FOR), else_=User.locked_until),
        )
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).first()
    return result is not None and result[0] == 0  # None: the user was removed meanwhile


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere: every cookie carrying the old session key is refused."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_key=new_session_key())
        .execution_options(synchronize_session=False)
    )

"""Console users and sessions: the pure rules.

Email normalisation, the password policy, account lockout, the per-address login throttle,
session lifetimes, which brand a session may work in, and who may manage which users.
Times are integer epoch milliseconds; nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar, Final

from smm_shared.auth.tokens import ALL_BRANDS, ROLE_PERMISSIONS, Permission, Role

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS

#: RFC 5321's limit on a forward path; longer input is not an address.
MAX_EMAIL_CHARS: Final = 254
MIN_PASSWORD_CHARS: Final = 12
#: Long enough for any passphrase; bounds the work one request can ask argon2 for.
MAX_PASSWORD_CHARS: Final = 1024
MAX_NAME_CHARS: Final = 200
#: Brand ids as the other services take them (slugs), or the admin-only "*".
BRAND_ID: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ----------------------------------------------------------------------------- errors


class UserError(Exception):
    """Base of the console's user and session errors; ``code`` is stable, the text is for people."""

    code: ClassVar[str] = "users.error"


class InvalidEmailError(UserError):
    """The text is not an email address we accept."""

    code = "users.invalid_email"


class WeakPasswordError(UserError):
    """The password breaks the password policy; the message says which rule."""

    code = "users.weak_password"


class InvalidAccessError(UserError):
    """The roles or brands given to a user do not fit together."""

    code = "users.invalid_access"


class InvalidNameError(UserError):
    """The display name is empty or too long."""

    code = "users.invalid_name"


class EmailTakenError(UserError):
    """Another user already has this email address."""

    code = "users.email_taken"


class UserNotFoundError(UserError):
    """No such user (or none the acting admin may manage)."""

    code = "users.not_found"


class VersionConflictError(UserError):
    """The user changed since it was read; read it again and retry."""

    code = "users.version_conflict"


class SelfLockoutError(UserError):
    """An admin tried to disable themselves or drop their own admin role."""

    code = "users.self_lockout"


class ForbiddenGrantError(UserError):
    """An admin tried to grant a brand they cannot see themselves."""

    code = "users.forbidden_grant"


class WrongPasswordError(UserError):
    """A signed-in user's current password did not match when changing it."""

    code = "auth.wrong_password"

    def __init__(self) -> None:
        super().__init__(
            "The current password is wrong (after 5 wrong tries the account waits 15 minutes)"
        )


class InvalidCredentialsError(UserError):
    """Login refused. One error for every reason, so accounts cannot be enumerated."""

    code = "auth.invalid_credentials"

    def __init__(self) -> None:
        super().__init__("The email or password is wrong, or the account cannot sign in now")


class TooManyAttemptsError(UserError):
    """Too many failed logins from one address; retry after ``retry_after_s``."""

    code = "auth.too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Too many failed sign-ins from here; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class SessionRequiredError(UserError):
    """No live session: never signed in, signed out, or expired."""

    code = "auth.required"


class BrandNotAllowedError(UserError):
    """The user may not work in that brand."""

    code = "auth.forbidden_brand"


class NoBrandSelectedError(UserError):
    """The session has no current brand, so nothing can be done on a brand's behalf."""

    code = "auth.no_brand"


# ----------------------------------------------------------------------------- emails, passwords


def normalise_email(raw: str) -> str:
    """The canonical form of an address: NFKC, trimmed, lower case; InvalidEmailError if not one.

    The whole address is lower-cased, local part included: RFC 5321 lets a server treat
    ``Anna@`` and ``anna@`` apart, but no provider our users have does, and two accounts
    differing only by case would be a trap.
    """
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        raise InvalidEmailError("Enter an email address like name@example.com")
    return email


def _character_classes(password: str) -> int:
    classes = set()
    for char in password:
        if char.islower():
            classes.add("lower")
        elif char.isupper():
            classes.add("upper")
        elif char.isdigit():
            classes.add("digit")
        else:
            classes.add("other")
    return len(classes)


def check_password(password: str, *, email: str) -> None:
    """Raise WeakPasswordError unless ``password`` meets the policy for the user ``email``."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPasswordError(f"The password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPasswordError(f"The password may have at most {MAX_PASSWORD_CHARS} characters")
    if _character_classes(password) < 2:
        raise WeakPasswordError(
            "The password must mix at least two kinds of characters"
            " (lower case, upper case, digits, others)"
        )
    if unicodedata.normalize("NFKC", password).strip().lower() == email.strip().lower():
        raise WeakPasswordError("The password must not be the email address")


def check_name(name: str) -> str:
    """A display name, trimmed; InvalidNameError when empty or too long."""
    trimmed = name.strip()
    if not trimmed or len(trimmed) > MAX_NAME_CHARS:
        raise InvalidNameError(f"The name needs 1 to {MAX_NAME_CHARS} characters")
    return trimmed


# ----------------------------------------------------------------------------- roles and brands


def check_access(
    roles: Iterable[Role | str], brands: Iterable[str]
) -> tuple[list[Role], list[str]]:
    """Roles and brands a user may hold, deduplicated in order; InvalidAccessError otherwise."""
    try:
        role_list = list(dict.fromkeys(Role(role) for role in roles))
    except ValueError as exc:
        raise InvalidAccessError(f"Unknown role: {exc}") from None
    if not role_list:
        raise InvalidAccessError("A user needs at least one role")
    brand_list = list(dict.fromkeys(brands))
    for brand in brand_list:
        if brand != ALL_BRANDS and not BRAND_ID.match(brand):
            raise InvalidAccessError(
                f"Brand id {brand!r} is not valid (lower-case letters, digits, '-' and '_')"
            )
    if ALL_BRANDS in brand_list and Role.ADMIN not in role_list:
        raise InvalidAccessError('Only admins may hold every brand ("*")')
    return role_list, brand_list


def may_use_brand(roles: Iterable[Role], brands: Iterable[str], brand_id: str) -> bool:
    """Whether a user with ``roles`` and ``brands`` may work in ``brand_id``."""
    if brand_id == ALL_BRANDS or not BRAND_ID.match(brand_id):
        return False
    brand_set = frozenset(brands)
    if brand_id in brand_set:
        return True
    return ALL_BRANDS in brand_set and Role.ADMIN in frozenset(roles)


def default_brand(brands: Iterable[str]) -> str | None:
    """The brand a new session starts in: the user's first concrete brand, if any."""
    return next((b for b in brands if b != ALL_BRANDS), None)


def session_brand(roles: Iterable[Role], brands: Iterable[str], current: str | None) -> str | None:
    """The brand a session works in now: its current one while still allowed, else the default."""
    role_list, brand_list = list(roles), list(brands)
    if current is not None and may_use_brand(role_list, brand_list, current):
        return current
    return default_brand(brand_list)


def permissions_of(roles: Iterable[Role]) -> frozenset[Permission]:
    """Every permission one of ``roles`` grants."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def may_manage(actor_brands: Iterable[str], target_brands: Iterable[str]) -> bool:
    """Whether an admin holding ``actor_brands`` may see and change a user holding ``target_brands``.

    An admin of every brand manages everyone; an admin of some brands manages only users
    whose brands all lie within theirs, so brand A's admin never sees brand B's team.
    """
    actor = frozenset(actor_brands)
    if ALL_BRANDS in actor:
        return True
    return frozenset(target_brands) <= actor


def may_grant(actor_brands: Iterable[str], brands: Iterable[str]) -> bool:
    """Whether an admin holding ``actor_brands`` may give a user ``brands``."""
    return may_manage(actor_brands, brands)


# ----------------------------------------------------------------------------- users


@dataclass(frozen=True, slots=True)
class User:
    """A console user as the rest of the console sees it (never the password hash)."""

    id: str
    email: str
    name: str
    roles: tuple[Role, ...]
    brands: tuple[str, ...]
    disabled: bool
    version: int
    created_ms: int


@dataclass(frozen=True, slots=True)
class SessionUser:
    """The signed-in user behind a request: who, what they may do, and the brand they work in."""

    user_id: str
    email: str
    name: str
    roles: frozenset[Role]
    brands: frozenset[str]
    #: The brand the user works in now; None when they hold no concrete brand yet.
    brand: str | None
    #: The session's key (the SHA-256 of its token, never the token).
    session_id: str = field(default="", repr=False, compare=False)
    csrf_token: str = field(default="", repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        """Whether the user holds the admin role."""
        return Role.ADMIN in self.roles

    def can(self, permission: Permission) -> bool:
        """Whether one of the user's roles grants ``permission``."""
        return permission in permissions_of(self.roles)


# ----------------------------------------------------------------------------- lockout


@dataclass(frozen=True, slots=True)
class LockState:
    """An account's recent failed logins and the lock they led to."""

    #: Times of failed logins inside the window, oldest first.
    failures: tuple[int, ...] = ()
    #: Locked while now is before this; 0 when not locked.
    locked_until_ms: int = 0

    def is_locked(self, now_ms: int) -> bool:
        """Whether the account refuses logins at ``now_ms``."""
        return now_ms < self.locked_until_ms


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """``max_failures`` failed logins within ``window_ms`` lock the account for ``lock_ms``."""

    max_failures: int = 5
    window_ms: int = 15 * MINUTE_MS
    lock_ms: int = 15 * MINUTE_MS

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window_ms < 1 or self.lock_ms < 1:
            raise ValueError("lockout limits must be positive")

    def after_failure(self, state: LockState, now_ms: int) -> LockState:
        """The state after a failed login at ``now_ms``: counted, and locked at the limit."""
        recent = tuple(t for t in state.failures if now_ms - t < self.window_ms)
        failures = (*recent, now_ms)
        if len(failures) >= self.max_failures:
            # The count starts afresh after a lock, so the unlocked user gets a full set of
            # tries rather than being locked again by one typo.
            return LockState(failures=(), locked_until_ms=now_ms + self.lock_ms)
        return replace(state, failures=failures)

    def after_success(self) -> LockState:
        """The state after a successful login: nothing counted, nothing locked."""
        return LockState()


# ----------------------------------------------------------------------------- login throttle


@dataclass
class LoginThrottle:
    """Failed logins per client address in a sliding window; refuses more past ``max_failures``.

    Lockout protects one account; this slows one address trying many accounts. It lives in
    memory (per replica): a cheap brake, not an exact count across replicas.
    """

    max_failures: int = 20
    window_ms: int = 15 * MINUTE_MS
    #: Addresses tracked at most; the stalest are dropped beyond it so memory stays bounded.
    max_keys: int = 10_000
    _failures: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)

    def retry_after_s(self, key: str, now_ms: int) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        times = self._recent(key, now_ms)
        if len(times) < self.max_failures:
            return 0
        # Free again when enough of the oldest failures leave the window.
        oldest_blocking = times[len(times) - self.max_failures]
        return max(1, -(-(oldest_blocking + self.window_ms - now_ms) // 1000))

    def record_failure(self, key: str, now_ms: int) -> None:
        """Count one failed login from ``key``."""
        times = self._recent(key, now_ms)
        times.append(now_ms)
        self._failures[key] = times[-self.max_failures :]
        if len(self._failures) > self.max_keys:
            self._prune(now_ms)

    def _recent(self, key: str, now_ms: int) -> list[int]:
        return [t for t in self._failures.get(key, ()) if now_ms - t < self.window_ms]

    def _prune(self, now_ms: int) -> None:
        live = {k: v for k, v in self._failures.items() if v and now_ms - v[-1] < self.window_ms}
        if len(live) > self.max_keys:
            newest = sorted(live.items(), key=lambda kv: kv[1][-1])[-self.max_keys :]
            live = dict(newest)
        self._failures = live


# ----------------------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: ``idle_ms`` without a request, ``absolute_ms`` in all."""

    idle_ms: int = 30 * MINUTE_MS
    absolute_ms: int = 12 * HOUR_MS
    #: Record activity at most this often: a write per request would double the load.
    touch_interval_ms: int = MINUTE_MS

    def __post_init__(self) -> None:
        if self.idle_ms < 1 or self.absolute_ms < 1 or self.touch_interval_ms < 0:
            raise ValueError("session lifetimes must be positive")
        if self.touch_interval_ms >= self.idle_ms:
            # Otherwise a busy user's session could die idle between two recorded touches.
            raise ValueError("touch_interval_ms must be shorter than idle_ms")

    def is_expired(self, *, created_ms: int, last_seen_ms: int, now_ms: int) -> bool:
        """Whether a session is over at ``now_ms`` (idle too long, or too old)."""
        return now_ms - last_seen_ms >= self.idle_ms or now_ms - created_ms >= self.absolute_ms

    def needs_touch(self, *, last_seen_ms: int, now_ms: int) -> bool:
        """Whether to record activity now."""
        return now_ms - last_seen_ms >= self.touch_interval_ms

    def hard_expiry_ms(self, created_ms: int) -> int:
        """When the session ends whatever happens (its database TTL and cookie lifetime)."""
        return created_ms + self.absolute_ms


def roles_from(values: Iterable[str]) -> tuple[Role, ...]:
    """Stored role names as roles, skipping names this version no longer knows."""
    known = {role.value: role for role in Role}
    return tuple(known[v] for v in values if v in known)

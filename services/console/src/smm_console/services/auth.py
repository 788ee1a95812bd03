"""Sign-in, sessions, brand switching, service tokens and user administration.

Passwords are hashed with argon2id. Every login attempt costs one argon2 verification,
whatever the outcome (unknown email, disabled or locked account, wrong password), and
every refusal is the same error: neither the answer nor its timing tells an attacker
whether an account exists. The reason is logged for operators.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from smm_console.adapters.sessions_repo import SessionRepository, session_key
from smm_console.adapters.users_repo import ProfileChange, StoredUser, UserRepository
from smm_console.domain.users import (
    MAX_PASSWORD_CHARS,
    BrandNotAllowedError,
    ForbiddenGrantError,
    InvalidCredentialsError,
    InvalidEmailError,
    LockoutPolicy,
    LockState,
    LoginThrottle,
    NoBrandSelectedError,
    SelfLockoutError,
    SessionPolicy,
    SessionRequiredError,
    SessionUser,
    TooManyAttemptsError,
    User,
    UserNotFoundError,
    VersionConflictError,
    WrongPasswordError,
    check_access,
    check_name,
    check_password,
    default_brand,
    may_grant,
    may_manage,
    may_use_brand,
    normalise_email,
    session_brand,
)
from smm_shared.auth.keys import SigningKey
from smm_shared.auth.tokens import ALL_BRANDS, Role, issue_token
from smm_shared.mongo import epoch_ms, from_epoch_ms

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: Our tokens are 43 characters; anything much longer is not one of ours.
MAX_SESSION_TOKEN_CHARS: Final = 128
SERVICE_TOKEN_TTL: Final = timedelta(minutes=5)
# Optimistic writes retried this often before giving up (each retry re-reads the user).
_WRITE_ATTEMPTS: Final = 5


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LoginResult(NamedTuple):
    """What a successful login hands the HTTP layer: the cookies' values and the user."""

    session_token: str
    csrf_token: str
    user: SessionUser


def _session_user(user: User, *, brand: str | None, key: str, csrf: str) -> SessionUser:
    return SessionUser(
        user_id=user.id,
        email=user.email,
        name=user.name,
        roles=frozenset(user.roles),
        brands=frozenset(user.brands),
        brand=brand,
        session_id=key,
        csrf_token=csrf,
    )


class AuthService:
    """The console's users and sessions (keyword-only use cases over the two repositories)."""

    def __init__(
        self,
        *,
        users: UserRepository,
        sessions: SessionRepository,
        issuer: str,
        audience: str,
        hasher: PasswordHasher | None = None,
        clock: Clock = _utcnow,
        lockout: LockoutPolicy | None = None,
        session_policy: SessionPolicy | None = None,
        throttle: LoginThrottle | None = None,
        max_concurrent_hashes: int = 4,
    ) -> None:
        self.users = users
        self.sessions = sessions
        self.issuer = issuer
        self.audience = audience
        # argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, t=3).
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        self.lockout = lockout or LockoutPolicy()
        self.session_policy = session_policy or SessionPolicy()
        self.throttle = throttle or LoginThrottle()
        # Each hash takes 64 MiB and a core for ~50 ms: a burst of logins must queue, not
        # exhaust memory.
        self._hash_slots = asyncio.Semaphore(max_concurrent_hashes)
        self._dummy_hash: str | None = None

    async def ensure_indexes(self) -> None:
        """Create both collections' indexes (idempotent; call at start-up)."""
        await self.users.ensure_indexes()
        await self.sessions.ensure_indexes()

    def _now_ms(self) -> int:
        return epoch_ms(self.clock())

    # ------------------------------------------------------------------------- hashing

    async def _hash(self, password: str) -> str:
        async with self._hash_slots:
            # argon2-cffi releases the GIL while hashing, so a thread keeps the loop free.
            return await asyncio.to_thread(self.hasher.hash, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        async with self._hash_slots:
            try:
                return await asyncio.to_thread(self.hasher.verify, password_hash, password)
            except InvalidHashError:
                logger.error("a stored password hash is not an argon2 hash")
                return False
            except VerificationError:  # includes VerifyMismatchError
                return False

    async def _burn_verify(self, password: str) -> None:
        """Spend one verification's time on a password that cannot match (no account to check)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(secrets.token_urlsafe(32))
        await self._verify(self._dummy_hash, password)

    # ------------------------------------------------------------------------- login

    async def login(self, email: str, password: str, *, ip: str) -> LoginResult:
        """Check the credentials and open a session; InvalidCredentialsError for any refusal."""
        now = self._now_ms()
        wait_s = self.throttle.retry_after_s(ip, now)
        if wait_s:
            logger.warning("login refused: too many failures from %s", ip)
            raise TooManyAttemptsError(wait_s)
        try:
            normalised: str | None = normalise_email(email)
        except InvalidEmailError:
            normalised = None
        stored = None if normalised is None else await self.users.by_email(normalised)
        if stored is None or stored.user.disabled or stored.lock.is_locked(now):
            await self._burn_verify(password)
            self.throttle.record_failure(ip, now)
            if stored is None:
                # The typed email is not logged: people type passwords into that field.
                logger.info("login refused: unknown account (from %s)", ip)
            elif stored.user.disabled:
                logger.info("login refused: user %s is disabled (from %s)", stored.user.id, ip)
            else:
                logger.warning(
                    "login refused: user %s is locked until %s (from %s)",
                    stored.user.id,
                    from_epoch_ms(stored.lock.locked_until_ms).isoformat(),
                    ip,
                )
            raise InvalidCredentialsError()
        if len(password) > MAX_PASSWORD_CHARS or not await self._verify(
            stored.password_hash, password
        ):
            self.throttle.record_failure(ip, now)
            state = await self._record_failure(stored, now)
            if state.is_locked(now):
                logger.warning(
                    "login refused: wrong password for user %s, now locked until %s (from %s)",
                    stored.user.id,
                    from_epoch_ms(state.locked_until_ms).isoformat(),
                    ip,
                )
            else:
                logger.info(
                    "login refused: wrong password for user %s, %d recent failure(s) (from %s)",
                    stored.user.id,
                    len(state.failures),
                    ip,
                )
            raise InvalidCredentialsError()
        await self._after_success(stored, password, now)
        logger.info("login: user %s signed in (from %s)", stored.user.id, ip)
        return await self._open_session(stored.user, now)

    async def _record_failure(self, stored: StoredUser, now: int) -> LockState:
        """Count a failed login on the account, retrying against concurrent attempts."""
        current: StoredUser | None = stored
        for _ in range(_WRITE_ATTEMPTS):
            if current is None:
                break
            state = self.lockout.after_failure(current.lock, now)
            if await self.users.save_lock(current.user.id, state, lock_seq=current.lock_seq):
                return state
            current = await self.users.get(stored.user.id)
        # Only a flood of parallel attempts on one account gets here; others were counted.
        logger.warning("failed login for user %s not counted: too much contention", stored.user.id)
        return stored.lock

    async def _after_success(self, stored: StoredUser, password: str, now: int) -> None:
        current: StoredUser | None = stored
        for _ in range(_WRITE_ATTEMPTS):
            if current is None or current.lock == LockState():
                break
            if await self.users.save_lock(
                current.user.id, self.lockout.after_success(), lock_seq=current.lock_seq
            ):
                break
            current = await self.users.get(stored.user.id)
        if self.hasher.check_needs_rehash(stored.password_hash):
            new_hash = await self._hash(password)
            if await self.users.replace_hash(
                stored.user.id, old_hash=stored.password_hash, new_hash=new_hash
            ):
                logger.info("login: rehashed the password of user %s", stored.user.id)

    async def _open_session(self, user: User, now: int) -> LoginResult:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        key = session_key(token)
        brand = default_brand(user.brands)
        await self.sessions.create(
            key=key,
            user_id=user.id,
            brand=brand,
            csrf_token=csrf,
            now_ms=now,
            expires_at=from_epoch_ms(self.session_policy.hard_expiry_ms(now)),
        )
        return LoginResult(token, csrf, _session_user(user, brand=brand, key=key, csrf=csrf))

    # ------------------------------------------------------------------------- sessions

    async def session(self, token: str, *, touch: bool = True) -> SessionUser | None:
        """The user of a live session token, or None (unknown, expired, or user disabled).

        ``touch=False`` checks without counting as activity: an open live stream re-checks its
        session but must not keep an abandoned tab signed in past the idle limit.
        """
        if not token or len(token) > MAX_SESSION_TOKEN_CHARS:
            return None
        key = session_key(token)
        stored = await self.sessions.get(key)
        if stored is None:
            return None
        now = self._now_ms()
        if self.session_policy.is_expired(
            created_ms=stored.created_ms, last_seen_ms=stored.last_seen_ms, now_ms=now
        ):
            await self.sessions.delete(key)
            return None
        owner = await self.users.get(stored.user_id)
        if owner is None or owner.user.disabled:
            await self.sessions.delete(key)
            return None
        user = owner.user
        # Roles and brands are read on every request, so an admin's change applies at once;
        # a brand taken away moves the session to one the user still has.
        brand = session_brand(user.roles, user.brands, stored.brand)
        if brand != stored.brand:
            await self.sessions.set_brand(key, brand)
        if touch and self.session_policy.needs_touch(last_seen_ms=stored.last_seen_ms, now_ms=now):
            await self.sessions.touch(key, now)
        return _session_user(user, brand=brand, key=key, csrf=stored.csrf_token)

    async def logout(self, token: str) -> None:
        """End the session of ``token`` (a no-op when there is none)."""
        if token and len(token) <= MAX_SESSION_TOKEN_CHARS:
            await self.sessions.delete(session_key(token))

    async def switch_brand(self, token: str, brand_id: str) -> SessionUser:
        """Make ``brand_id`` the session's current brand; BrandNotAllowedError if not the user's."""
        user = await self.session(token)
        if user is None:
            raise SessionRequiredError("Sign in to continue")
        if not may_use_brand(user.roles, user.brands, brand_id):
            raise BrandNotAllowedError("You have no access to this brand")
        if not await self.sessions.set_brand(user.session_id, brand_id):
            raise SessionRequiredError("Sign in to continue")
        return replace(user, brand=brand_id)

    def mint_service_token(
        self,
        session_user: SessionUser,
        signing_key: SigningKey,
        *,
        ttl: timedelta = SERVICE_TOKEN_TTL,
    ) -> str:
        """A short-lived JWT for the services: the user's roles, and only the current brand."""
        brand = session_user.brand
        if brand is None:
            raise NoBrandSelectedError("Choose a brand first")
        # Checked again here: this is the line that keeps a session of brand A out of brand B.
        if not may_use_brand(session_user.roles, session_user.brands, brand):
            raise BrandNotAllowedError("You have no access to this brand")
        return issue_token(
            key=signing_key,
            subject=session_user.user_id,
            roles=sorted(session_user.roles),
            brands=[brand],
            ttl=ttl,
            issuer=self.issuer,
            audience=self.audience,
            now=self.clock(),
            name=session_user.name or None,
            email=session_user.email,
        )

    # ------------------------------------------------------------------------- administration

    async def ensure_admin(
        self,
        email: str,
        password: str,
        *,
        name: str = "Administrator",
        brands: Sequence[str] = (ALL_BRANDS,),
    ) -> bool:
        """Create the first admin unless a user with ``email`` exists; True when created.

        An existing user is left alone (a password changed in the console is kept).
        """
        normalised = normalise_email(email)
        if await self.users.by_email(normalised) is not None:
            return False
        user = await self.create_user(
            actor=None,
            email=normalised,
            password=password,
            name=name,
            roles=[Role.ADMIN],
            brands=brands,
        )
        logger.info("created the first admin, user %s", user.id)
        return True

    async def create_user(
        self,
        *,
        actor: SessionUser | None,
        email: str,
        password: str,
        name: str,
        roles: Sequence[Role | str],
        brands: Sequence[str],
    ) -> User:
        """Add a user; ``actor`` None means the system (bootstrap), else the admin doing it."""
        normalised = normalise_email(email)
        check_password(password, email=normalised)
        role_list, brand_list = check_access(roles, brands)
        if actor is not None and not may_grant(actor.brands, brand_list):
            raise ForbiddenGrantError("You can only give users brands you hold yourself")
        stored = await self.users.insert(
            email=normalised,
            name=check_name(name),
            password_hash=await self._hash(password),
            roles=role_list,
            brands=brand_list,
            now_ms=self._now_ms(),
        )
        return stored.user

    async def _managed(self, user_id: str, actor: SessionUser | None) -> StoredUser:
        stored = await self.users.get(user_id)
        # A user the actor may not manage is "not found": their existence is none of its business.
        if stored is None or (
            actor is not None and not may_manage(actor.brands, stored.user.brands)
        ):
            raise UserNotFoundError("No such user")
        return stored

    async def update_user(
        self,
        user_id: str,
        *,
        actor: SessionUser | None,
        version: int | None = None,
        name: str | None = None,
        roles: Sequence[Role | str] | None = None,
        brands: Sequence[str] | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change a user (at ``version`` when given); access changes end their other sessions."""
        stored = await self._managed(user_id, actor)
        current = stored.user
        role_list, brand_list = check_access(
            current.roles if roles is None else roles,
            current.brands if brands is None else brands,
        )
        if brands is not None and actor is not None and not may_grant(actor.brands, brand_list):
            raise ForbiddenGrantError("You can only give users brands you hold yourself")
        if actor is not None and actor.user_id == user_id:
            if disabled:
                raise SelfLockoutError("You cannot disable yourself")
            if Role.ADMIN in current.roles and Role.ADMIN not in role_list:
                raise SelfLockoutError("You cannot take your own admin role away")
        access_changed = (
            set(role_list) != set(current.roles)
            or set(brand_list) != set(current.brands)
            or (disabled is not None and disabled != current.disabled)
        )
        change = ProfileChange(
            name=None if name is None else check_name(name),
            roles=None if roles is None else role_list,
            brands=None if brands is None else brand_list,
            disabled=disabled,
            # Re-enabling an account also lifts a lock left from before.
            reset_lock=disabled is False and current.disabled,
        )
        updated = await self.users.update_profile(
            user_id,
            change,
            version=current.version if version is None else version,
            now_ms=self._now_ms(),
        )
        if access_changed:
            await self._end_other_sessions(user_id, actor)
        return updated.user

    async def set_password(
        self, user_id: str, password: str, *, actor: SessionUser | None, keep_session: str = ""
    ) -> User:
        """Set a user's password (and lift any lock); ends their other sessions."""
        stored = await self._managed(user_id, actor)
        check_password(password, email=stored.user.email)
        new_hash = await self._hash(password)
        version = stored.user.version
        for _ in range(_WRITE_ATTEMPTS):
            try:
                updated = await self.users.update_profile(
                    user_id,
                    ProfileChange(password_hash=new_hash, reset_lock=True),
                    version=version,
                    now_ms=self._now_ms(),
                )
            except VersionConflictError:
                # A concurrent edit of other fields; a new password is not a merge question.
                version = (await self._managed(user_id, actor)).user.version
                continue
            await self._end_other_sessions(user_id, actor, keep_session=keep_session)
            return updated.user
        raise VersionConflictError("The user keeps changing; try again")

    async def change_own_password(self, actor: SessionUser, current: str, new: str) -> None:
        """The signed-in user replaces their password; ends their other sessions.

        A wrong current password counts as a failed login: a session left open on a shared
        screen cannot be used to guess the password, and the account locks as a login would.
        """
        now = self._now_ms()
        stored = await self.users.get(actor.user_id)
        if stored is None or stored.user.disabled:
            raise SessionRequiredError()
        if stored.lock.is_locked(now):
            raise TooManyAttemptsError(max(1, (stored.lock.locked_until_ms - now) // 1000))
        if len(current) > MAX_PASSWORD_CHARS or not await self._verify(
            stored.password_hash, current
        ):
            await self._record_failure(stored, now)
            logger.warning(
                "password change refused: wrong current password for user %s", actor.user_id
            )
            raise WrongPasswordError()
        check_password(new, email=stored.user.email)
        await self.set_password(actor.user_id, new, actor=None, keep_session=actor.session_id)
        logger.info("user %s changed their password", actor.user_id)

    async def list_users(self, *, actor: SessionUser | None) -> list[User]:
        """The users ``actor`` may manage, by email."""
        users = await self.users.list()
        if actor is None:
            return users
        return [u for u in users if may_manage(actor.brands, u.brands)]

    async def _end_other_sessions(
        self, user_id: str, actor: SessionUser | None, *, keep_session: str = ""
    ) -> None:
        # The admin's own session survives a change to their own account; all others end.
        keep = actor.session_id if actor is not None and actor.user_id == user_id else None
        keep = keep or keep_session or None
        ended = await self.sessions.delete_for_user(user_id, keep=keep)
        if ended:
            logger.info("ended %d session(s) of user %s after an account change", ended, user_id)

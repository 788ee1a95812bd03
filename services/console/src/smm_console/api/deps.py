"""Session dependencies of the console's routes: who is signed in, CSRF, and permissions.

The session lives in the ``smm_session`` cookie (HttpOnly: scripts never see it). Every
unsafe request made with a session must also send ``X-CSRF-Token`` equal to the session's
CSRF token, which the app reads from the ``smm_csrf`` cookie or the login answer: a page
of another site can make the browser send the cookie but cannot read the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Request

from smm_console.domain.users import (
    BrandNotAllowedError,
    EmailTakenError,
    ForbiddenGrantError,
    InvalidAccessError,
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidNameError,
    NoBrandSelectedError,
    SelfLockoutError,
    SessionRequiredError,
    SessionUser,
    TooManyAttemptsError,
    UserError,
    UserNotFoundError,
    VersionConflictError,
    WeakPasswordError,
    WrongPasswordError,
)
from smm_console.services.auth import AuthService
from smm_shared.auth.tokens import Permission
from smm_shared.http import ApiError

SESSION_COOKIE: Final = "smm_session"
CSRF_COOKIE: Final = "smm_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_STATUS: Final[dict[type[UserError], int]] = {
    InvalidCredentialsError: 401,
    WrongPasswordError: 403,
    SessionRequiredError: 401,
    BrandNotAllowedError: 403,
    ForbiddenGrantError: 403,
    UserNotFoundError: 404,
    EmailTakenError: 409,
    VersionConflictError: 409,
    SelfLockoutError: 409,
    NoBrandSelectedError: 409,
    InvalidEmailError: 422,
    WeakPasswordError: 422,
    InvalidAccessError: 422,
    InvalidNameError: 422,
    TooManyAttemptsError: 429,
}


def user_api_error(exc: UserError) -> ApiError:
    """The HTTP form of a user or session error: its status, its code and its message."""
    headers = None
    if isinstance(exc, TooManyAttemptsError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return ApiError(_STATUS.get(type(exc), 400), exc.code, str(exc), headers=headers)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the service's domain errors raised inside the block into API errors."""
    try:
        yield
    except UserError as exc:
        raise user_api_error(exc) from exc


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """How the session cookies are set."""

    #: Send the cookies over HTTPS only; off only for plain-HTTP local runs.
    secure: bool
    #: Cookie lifetime: the session's absolute lifetime, never more.
    max_age_s: int


def get_auth(request: Request) -> AuthService:
    """The AuthService the composition root puts on ``app.state.auth``."""
    service = getattr(request.app.state, "auth", None)
    if not isinstance(service, AuthService):
        # A wiring bug: fail closed (500) rather than let requests through unchecked.
        raise RuntimeError("app.state.auth is not set; create_app must set it")
    return service


def get_cookie_policy(request: Request) -> CookiePolicy:
    """The cookie policy the composition root puts on ``app.state.auth_cookies``."""
    policy = getattr(request.app.state, "auth_cookies", None)
    if not isinstance(policy, CookiePolicy):
        raise RuntimeError("app.state.auth_cookies is not set; create_app must set it")
    return policy


Auth = Annotated[AuthService, Depends(get_auth)]
Cookies = Annotated[CookiePolicy, Depends(get_cookie_policy)]


def _check_csrf(request: Request, user: SessionUser) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), user.csrf_token.encode()):
        raise ApiError(
            403,
            "auth.csrf",
            f"The request lacks a valid {CSRF_HEADER} header; reload the page and try again",
        )


async def optional_session(request: Request, service: Auth) -> SessionUser | None:
    """The signed-in user, or None without a live session; 403 auth.csrf on a forged write."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    user = await service.session(token)
    if user is not None:
        _check_csrf(request, user)
    return user


async def require_session(
    user: Annotated[SessionUser | None, Depends(optional_session)],
) -> SessionUser:
    """The signed-in user; 401 auth.required without a live session."""
    if user is None:
        raise ApiError(401, "auth.required", "Sign in to continue")
    return user


MaybeSession = Annotated[SessionUser | None, Depends(optional_session)]
CurrentSession = Annotated[SessionUser, Depends(require_session)]


def require_session_permission(
    permission: Permission,
) -> Callable[[SessionUser], Awaitable[SessionUser]]:
    """A dependency passing the signed-in user on if a role grants ``permission``, else 403."""

    async def user_with_permission(user: CurrentSession) -> SessionUser:
        if not user.can(permission):
            raise ApiError(403, "auth.forbidden_role", f"This needs the {permission} permission")
        return user

    return user_with_permission

"""Sign-in, sign-out, the current user and brand, and user administration.

``/api/auth/*`` serves every signed-in user; ``/api/users`` needs ``users:manage``.
A refused login is always 401 ``auth.invalid_credentials`` with the same message, whether
the email is unknown, the password wrong, or the account locked or disabled.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from smm_console.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Auth,
    CookiePolicy,
    Cookies,
    CurrentSession,
    MaybeSession,
    require_session_permission,
    user_errors,
)
from smm_console.domain.users import (
    MAX_EMAIL_CHARS,
    MAX_NAME_CHARS,
    MAX_PASSWORD_CHARS,
    SessionUser,
    User,
    permissions_of,
)
from smm_console.services.auth import AuthService
from smm_shared.auth.tokens import Permission, Role

router = APIRouter(prefix="/api/auth", tags=["auth"])
users_router = APIRouter(prefix="/api/users", tags=["users"])

Manager = Annotated[SessionUser, Depends(require_session_permission(Permission.USERS_MANAGE))]
BrandId = Annotated[str, Field(min_length=1, max_length=64)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_CHARS)]
Email = Annotated[str, Field(min_length=1, max_length=MAX_EMAIL_CHARS)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]


def install_auth(app: FastAPI, service: AuthService, cookies: CookiePolicy) -> None:
    """Put the auth service and cookie policy on ``app.state`` and add both routers."""
    app.state.auth = service
    app.state.auth_cookies = cookies
    app.include_router(router)
    app.include_router(users_router)


# --- bodies ----------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OwnPasswordIn(_In):
    """The signed-in user's current password and the new one."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: Password


class LoginIn(_In):
    """Credentials."""

    email: Email
    password: Password


class BrandIn(_In):
    """The brand to work in."""

    brand_id: BrandId


class UserCreateIn(_In):
    """A new user."""

    email: Email
    name: Name
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    brands: list[BrandId] = Field(default=[], max_length=500)


class UserPatchIn(_In):
    """Fields to change; send the ``version`` you read to refuse a stale edit (409)."""

    name: Name | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(Role))
    brands: list[BrandId] | None = Field(default=None, max_length=500)
    disabled: bool | None = None
    version: int | None = Field(default=None, ge=1)


class PasswordIn(_In):
    """A new password."""

    password: Password


class MeOut(BaseModel):
    """The signed-in user: roles, brands, the brand in use and what the roles permit."""

    id: str
    email: str
    name: str
    roles: list[Role]
    brands: list[str]
    brand: str | None
    permissions: list[Permission]

    @classmethod
    def of(cls, user: SessionUser) -> MeOut:
        """The API form of a session's user."""
        return cls(
            id=user.user_id,
            email=user.email,
            name=user.name,
            roles=sorted(user.roles),
            brands=sorted(user.brands),
            brand=user.brand,
            permissions=sorted(permissions_of(user.roles)),
        )


class LoginOut(BaseModel):
    """A successful login: the user, and the CSRF token to send on every write."""

    user: MeOut
    csrf_token: str


class UserOut(BaseModel):
    """A user as admins see it (never the password hash or lock details)."""

    id: str
    email: str
    name: str
    roles: list[Role]
    brands: list[str]
    disabled: bool
    version: int
    created_ms: int

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The API form of a user."""
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            roles=list(user.roles),
            brands=list(user.brands),
            disabled=user.disabled,
            version=user.version,
            created_ms=user.created_ms,
        )


class UsersOut(BaseModel):
    """Users by email."""

    items: list[UserOut]


# --- cookies ---------------------------------------------------------------------------


def _set_cookies(response: Response, policy: CookiePolicy, *, session: str, csrf: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=policy.max_age_s,
        path="/",
        secure=policy.secure,
        httponly=True,
        samesite="strict",
    )
    # Readable by the app's scripts (it sends it back as X-CSRF-Token), useless to others.
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=policy.max_age_s,
        path="/",
        secure=policy.secure,
        httponly=False,
        samesite="strict",
    )


def _clear_cookies(response: Response, policy: CookiePolicy) -> None:
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(
            name, path="/", secure=policy.secure, httponly=httponly, samesite="strict"
        )


# --- routes ----------------------------------------------------------------------------


@router.post("/login")
async def login(
    body: LoginIn, request: Request, response: Response, service: Auth, cookies: Cookies
) -> LoginOut:
    """Sign in: sets the session and CSRF cookies; 401 auth.invalid_credentials if refused."""
    ip = request.client.host if request.client else "unknown"
    with user_errors():
        session_token, csrf_token, user = await service.login(body.email, body.password, ip=ip)
    # A browser signing in again drops the session it had rather than leaving it alive.
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await service.logout(previous)
    _set_cookies(response, cookies, session=session_token, csrf=csrf_token)
    response.headers["Cache-Control"] = "no-store"
    return LoginOut(user=MeOut.of(user), csrf_token=csrf_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, user: MaybeSession, service: Auth, cookies: Cookies) -> Response:
    """Sign out: ends the session and clears both cookies (also when it had already expired)."""
    token = request.cookies.get(SESSION_COOKIE)
    if user is not None and token:
        await service.logout(token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_cookies(response, cookies)
    return response


@router.get("/me")
async def me(user: CurrentSession, response: Response) -> MeOut:
    """The signed-in user, roles, brands and current brand."""
    response.headers["Cache-Control"] = "no-store"
    return MeOut.of(user)


@router.post("/brand")
async def switch_brand(
    body: BrandIn, request: Request, user: CurrentSession, service: Auth
) -> MeOut:
    """Work in another of the user's brands; 403 auth.forbidden_brand if not theirs."""
    with user_errors():
        switched = await service.switch_brand(request.cookies[SESSION_COOKIE], body.brand_id)
    return MeOut.of(switched)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_own_password(body: OwnPasswordIn, user: CurrentSession, service: Auth) -> Response:
    """Change your own password: 403 auth.wrong_password, 422 users.weak_password.

    This session stays signed in; every other session of the user ends.
    """
    with user_errors():
        await service.change_own_password(user, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("")
async def list_users(actor: Manager, service: Auth) -> UsersOut:
    """The users the admin may manage."""
    users = await service.list_users(actor=actor)
    return UsersOut(items=[UserOut.of(u) for u in users])


@users_router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreateIn, actor: Manager, service: Auth) -> UserOut:
    """Add a user; 409 users.email_taken, 422 users.weak_password or users.invalid_access."""
    with user_errors():
        user = await service.create_user(
            actor=actor,
            email=body.email,
            password=body.password,
            name=body.name,
            roles=body.roles,
            brands=body.brands,
        )
    return UserOut.of(user)


@users_router.patch("/{user_id}")
async def update_user(user_id: str, body: UserPatchIn, actor: Manager, service: Auth) -> UserOut:
    """Change a user's name, roles, brands or disabled state; access changes end their sessions."""
    with user_errors():
        user = await service.update_user(
            user_id,
            actor=actor,
            version=body.version,
            name=body.name,
            roles=body.roles,
            brands=body.brands,
            disabled=body.disabled,
        )
    return UserOut.of(user)


@users_router.post("/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
async def set_password(user_id: str, body: PasswordIn, actor: Manager, service: Auth) -> Response:
    """Set a user's password and lift any lock; ends their other sessions."""
    with user_errors():
        await service.set_password(user_id, body.password, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

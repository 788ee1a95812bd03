"""The console's sign-in, sessions, CSRF, brand switching and user administration over HTTP.

The app holds the auth routers with the shared error handlers; behind them runs a real
AuthService on the real MongoDB-protocol server, with cheap argon2 parameters and a clock
the tests move. Each ``browser()`` is an httpx client with its own cookie jar, talking to
the app in process through ``httpx.ASGITransport``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import Morsel, SimpleCookie
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from smm_console.adapters.sessions_repo import SessionRepository, session_key
from smm_console.adapters.users_repo import UserRepository
from smm_console.api.auth import install_auth
from smm_console.api.deps import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, CookiePolicy
from smm_console.domain.users import LockoutPolicy, LoginThrottle, SessionPolicy
from smm_console.services.auth import AuthService
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier
from smm_shared.config import MongoSettings
from smm_shared.http import install_error_handlers
from smm_shared.mongo import Document, epoch_ms

pytestmark = pytest.mark.integration

ISSUER, AUDIENCE = "smm-local", "smm-platform"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "Admin-password-1"
PASSWORD = "Correct horse 42"
TWELVE_HOURS_S = 12 * 3600
GENERIC_MESSAGE = "The email or password is wrong, or the account cannot sign in now"


class Clock:
    """A clock the test moves; it starts at the real now so the TTL index leaves sessions be."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class CountingHasher(PasswordHasher):
    """argon2id with test-cheap parameters that counts verifications."""

    def __init__(self, time_cost: int = 1) -> None:
        super().__init__(time_cost=time_cost, memory_cost=8, parallelism=1)
        self.verifies = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verifies += 1
        return super().verify(hash, password)


Database = AsyncDatabase[Document]
Browser = Callable[[], Awaitable[httpx.AsyncClient]]


@dataclass
class Env:
    """The service under test, its database, its hasher, its clock and a factory of browsers."""

    db: Database
    service: AuthService
    hasher: CountingHasher
    clock: Clock
    browser: Browser
    app: FastAPI

    async def user_doc(self, email: str) -> Document:
        doc = await self.db["users"].find_one({"email": email})
        assert doc is not None
        return doc


def build_service(
    db: Database, clock: Clock, hasher: CountingHasher, **options: Any
) -> AuthService:
    return AuthService(
        users=UserRepository(db["users"]),
        sessions=SessionRepository(db["sessions"]),
        issuer=ISSUER,
        audience=AUDIENCE,
        hasher=hasher,
        clock=clock,
        **options,
    )


def build_app(service: AuthService, *, secure: bool = True) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_auth(app, service, CookiePolicy(secure=secure, max_age_s=TWELVE_HOURS_S))
    return app


async def make_env(
    mongo_client: AsyncMongoClient[Document],
    mongo_settings: MongoSettings,
    stack: AsyncExitStack,
    *,
    secure: bool = True,
    **options: Any,
) -> Env:
    db = mongo_client[mongo_settings.database]
    clock, hasher = Clock(), CountingHasher()
    service = build_service(db, clock, hasher, **options)
    await service.ensure_indexes()
    assert await service.ensure_admin(ADMIN_EMAIL, ADMIN_PASSWORD, brands=("*", "acme"))
    app = build_app(service, secure=secure)

    async def browser() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        scheme = "https" if secure else "http"
        return await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=f"{scheme}://console.test")
        )

    return Env(db, service, hasher, clock, browser, app)


@pytest.fixture
async def env(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> AsyncIterator[Env]:
    async with AsyncExitStack() as stack:
        yield await make_env(mongo_client, mongo_settings, stack)


def code(response: httpx.Response) -> str:
    """The machine-readable error code of a response (and it has a message)."""
    error = response.json()["error"]
    assert error["message"]
    return str(error["code"])


def set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    """The cookies a response sets, with their attributes."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


async def sign_in(browser: httpx.AsyncClient, email: str, password: str) -> str:
    """Log in and return the CSRF token to send on writes."""
    response = await browser.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


async def admin_browser(env: Env) -> tuple[httpx.AsyncClient, dict[str, str]]:
    browser = await env.browser()
    csrf = await sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD)
    return browser, {CSRF_HEADER: csrf}


async def add_user(env: Env, email: str, roles: list[Role], brands: list[str]) -> str:
    user = await env.service.create_user(
        actor=None,
        email=email,
        password=PASSWORD,
        name=email.split("@")[0],
        roles=roles,
        brands=brands,
    )
    return user.id


# --- login ---------------------------------------------------------------------------------


async def test_login_sets_an_httponly_session_cookie_and_a_readable_csrf_cookie(env: Env) -> None:
    browser = await env.browser()
    response = await browser.post(
        "/api/auth/login", json={"email": "  Admin@Example.COM ", "password": ADMIN_PASSWORD}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == ADMIN_EMAIL
    assert body["user"]["roles"] == ["admin"]
    assert body["user"]["brand"] == "acme"
    assert "users:manage" in body["user"]["permissions"]
    cookies = set_cookies(response)
    session, csrf = cookies[SESSION_COOKIE], cookies[CSRF_COOKIE]
    assert session["httponly"]
    assert session["secure"]
    assert session["samesite"].lower() == "strict"
    assert session["path"] == "/"
    assert int(session["max-age"]) == TWELVE_HOURS_S
    assert not csrf["httponly"]
    assert csrf["secure"]
    assert csrf["samesite"].lower() == "strict"
    assert csrf.value == body["csrf_token"]
    assert response.headers["cache-control"] == "no-store"

    # Only the token's SHA-256 is stored, never the token.
    stored = [d async for d in env.db["sessions"].find({})]
    assert [d["_id"] for d in stored] == [session_key(session.value)]
    assert session.value not in repr(stored)

    # The database forgets the session at its absolute end (TTL index on expires_at).
    assert epoch_ms(stored[0]["expires_at"]) == epoch_ms(env.clock.now) + TWELVE_HOURS_S * 1000
    indexes = [i async for i in await env.db["sessions"].list_indexes()]
    assert any(
        dict(i["key"]) == {"expires_at": 1} and i.get("expireAfterSeconds") == 0 for i in indexes
    )

    me = await browser.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["brands"] == ["*", "acme"]
    assert me.json()["brand"] == "acme"

    # Signing in again from this browser replaces its session rather than adding one.
    await sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert [d["_id"] async for d in env.db["sessions"].find({})] == [
        session_key(browser.cookies[SESSION_COOKIE])
    ]


async def test_cookies_lack_the_secure_flag_when_the_setting_says_so(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> None:
    async with AsyncExitStack() as stack:
        env = await make_env(mongo_client, mongo_settings, stack, secure=False)
        browser = await env.browser()
        response = await browser.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 200
        assert not set_cookies(response)[SESSION_COOKIE]["secure"]
        assert (await browser.get("/api/auth/me")).status_code == 200


async def test_wrong_password_and_unknown_user_get_the_same_answer_after_the_same_work(
    env: Env,
) -> None:
    browser = await env.browser()
    env.hasher.verifies = 0
    wrong = await browser.post(
        "/api/auth/login", json={"email": ADMIN_EMAIL, "password": "Not-the-password-1"}
    )
    unknown = await browser.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": ADMIN_PASSWORD}
    )
    not_an_email = await browser.post(
        "/api/auth/login", json={"email": "nobody", "password": ADMIN_PASSWORD}
    )

    for response in (wrong, unknown, not_an_email):
        assert response.status_code == 401
        assert response.json() == {
            "error": {"code": "auth.invalid_credentials", "message": GENERIC_MESSAGE}
        }
        assert SESSION_COOKIE not in set_cookies(response)
    # One argon2 verification each: an unknown account costs the same time as a known one.
    assert env.hasher.verifies == 3
    assert (await browser.get("/api/auth/me")).status_code == 401
    assert await env.db["sessions"].count_documents({}) == 0


async def test_five_failures_lock_the_account_until_the_lock_expires(env: Env) -> None:
    await add_user(env, "olga@example.com", [Role.AGENT], ["acme"])
    browser = await env.browser()

    async def attempt(password: str) -> httpx.Response:
        return await browser.post(
            "/api/auth/login", json={"email": "olga@example.com", "password": password}
        )

    for _ in range(5):
        env.clock.advance(seconds=30)
        assert code(await attempt("Wrong-password-1")) == "auth.invalid_credentials"
    doc = await env.user_doc("olga@example.com")
    assert doc["locked_until_ms"] > 0

    # Locked: the right password is refused with the same answer, after the same work.
    env.hasher.verifies = 0
    locked = await attempt(PASSWORD)
    assert locked.status_code == 401
    assert locked.json()["error"]["message"] == GENERIC_MESSAGE
    assert env.hasher.verifies == 1

    env.clock.advance(minutes=14, seconds=59)
    assert (await attempt(PASSWORD)).status_code == 401
    env.clock.advance(seconds=1)
    assert (await attempt(PASSWORD)).status_code == 200
    doc = await env.user_doc("olga@example.com")
    assert doc["failed"] == []
    assert doc["locked_until_ms"] == 0


async def test_a_success_clears_earlier_failures(env: Env) -> None:
    await add_user(env, "olga@example.com", [Role.AGENT], ["acme"])
    browser = await env.browser()
    body = {"email": "olga@example.com", "password": "Wrong-password-1"}
    for _ in range(4):
        assert (await browser.post("/api/auth/login", json=body)).status_code == 401
    assert len((await env.user_doc("olga@example.com"))["failed"]) == 4
    await sign_in(browser, "olga@example.com", PASSWORD)
    assert (await env.user_doc("olga@example.com"))["failed"] == []
    for _ in range(4):
        assert (await browser.post("/api/auth/login", json=body)).status_code == 401
    await sign_in(browser, "olga@example.com", PASSWORD)


async def test_one_address_is_throttled_across_accounts(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> None:
    async with AsyncExitStack() as stack:
        env = await make_env(
            mongo_client,
            mongo_settings,
            stack,
            throttle=LoginThrottle(max_failures=3, window_ms=600_000),
        )
        browser = await env.browser()
        for i in range(3):
            wrong = {"email": f"user{i}@example.com", "password": "Wrong-password-1"}
            assert (await browser.post("/api/auth/login", json=wrong)).status_code == 401
        right = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        blocked = await browser.post("/api/auth/login", json=right)
        assert blocked.status_code == 429
        assert code(blocked) == "auth.too_many_attempts"
        assert int(blocked.headers["retry-after"]) == 600
        env.clock.advance(minutes=10)
        assert (await browser.post("/api/auth/login", json=right)).status_code == 200


async def test_a_login_rehashes_a_password_hashed_with_old_parameters(env: Env) -> None:
    await add_user(env, "olga@example.com", [Role.AGENT], ["acme"])
    old_hash = (await env.user_doc("olga@example.com"))["password_hash"]
    assert "t=1," in old_hash
    stronger = CountingHasher(time_cost=2)
    upgraded = build_service(env.db, env.clock, stronger)

    await upgraded.login("olga@example.com", PASSWORD, ip="10.0.0.1")

    new_hash = (await env.user_doc("olga@example.com"))["password_hash"]
    assert new_hash != old_hash
    assert "t=2," in new_hash
    assert stronger.verify(new_hash, PASSWORD)
    assert not stronger.check_needs_rehash(new_hash)


# --- sessions and CSRF ---------------------------------------------------------------------


async def test_writes_without_the_csrf_token_are_refused(env: Env) -> None:
    browser, headers = await admin_browser(env)

    missing = await browser.post("/api/auth/brand", json={"brand_id": "globex"})
    wrong = await browser.post(
        "/api/auth/brand", json={"brand_id": "globex"}, headers={CSRF_HEADER: "forged"}
    )
    patch = await browser.patch("/api/users/whoever", json={"name": "X"})
    logout = await browser.post("/api/auth/logout")

    for response in (missing, wrong, patch, logout):
        assert response.status_code == 403
        assert code(response) == "auth.csrf"
    # Nothing changed: still signed in, still in the same brand.
    assert (await browser.get("/api/auth/me")).json()["brand"] == "acme"
    ok = await browser.post("/api/auth/brand", json={"brand_id": "globex"}, headers=headers)
    assert ok.status_code == 200
    assert ok.json()["brand"] == "globex"


async def test_logout_ends_the_session_and_clears_both_cookies(env: Env) -> None:
    browser, headers = await admin_browser(env)
    token = browser.cookies[SESSION_COOKIE]

    response = await browser.post("/api/auth/logout", headers=headers)

    assert response.status_code == 204
    cleared = set_cookies(response)
    assert cleared[SESSION_COOKIE].value == ""
    assert int(cleared[SESSION_COOKIE]["max-age"]) == 0
    assert cleared[CSRF_COOKIE].value == ""
    assert int(cleared[CSRF_COOKIE]["max-age"]) == 0
    assert await env.db["sessions"].count_documents({}) == 0
    # The old token is dead on the server, not only forgotten by this browser.
    replay = await env.browser()
    replay.cookies.set(SESSION_COOKIE, token, domain="console.test")
    answer = await replay.get("/api/auth/me")
    assert answer.status_code == 401
    assert code(answer) == "auth.required"
    # Logging out without a live session still clears the cookies.
    again = await replay.post("/api/auth/logout")
    assert again.status_code == 204
    assert SESSION_COOKIE in set_cookies(again)


async def test_a_session_dies_after_thirty_idle_minutes_and_activity_keeps_it(env: Env) -> None:
    browser, _ = await admin_browser(env)
    key = session_key(browser.cookies[SESSION_COOKIE])

    async def last_seen_ms() -> int:
        doc = await env.db["sessions"].find_one({"_id": key})
        assert doc is not None
        return int(doc["last_seen_ms"])

    created = await last_seen_ms()

    env.clock.advance(seconds=30)
    assert (await browser.get("/api/auth/me")).status_code == 200
    # Touched at most once a minute.
    assert await last_seen_ms() == created
    env.clock.advance(minutes=29)
    assert (await browser.get("/api/auth/me")).status_code == 200
    assert await last_seen_ms() == created + (29 * 60 + 30) * 1000

    env.clock.advance(minutes=29, seconds=59)
    assert (await browser.get("/api/auth/me")).status_code == 200
    env.clock.advance(minutes=30)
    expired = await browser.get("/api/auth/me")
    assert expired.status_code == 401
    assert code(expired) == "auth.required"
    assert await env.db["sessions"].find_one({"_id": key}) is None


async def test_a_check_without_touch_keeps_no_idle_session_alive(env: Env) -> None:
    # What the live stream does at each heartbeat: an abandoned tab must still time out.
    browser, _ = await admin_browser(env)
    token = browser.cookies[SESSION_COOKIE]

    for _ in range(29):
        env.clock.advance(minutes=1)
        assert await env.service.session(token, touch=False) is not None
    env.clock.advance(minutes=1, seconds=1)

    assert await env.service.session(token, touch=False) is None
    assert (await browser.get("/api/auth/me")).status_code == 401


async def test_a_busy_session_still_ends_after_twelve_hours(env: Env) -> None:
    browser, _ = await admin_browser(env)
    for _ in range(12 * 3 - 1):
        env.clock.advance(minutes=20)
        assert (await browser.get("/api/auth/me")).status_code == 200
    env.clock.advance(minutes=20)
    assert (await browser.get("/api/auth/me")).status_code == 401


# --- brands and service tokens -------------------------------------------------------------


async def test_brand_switch_is_allowed_to_own_brands_only(env: Env) -> None:
    await add_user(env, "olga@example.com", [Role.AGENT], ["acme", "globex"])
    browser = await env.browser()
    headers = {CSRF_HEADER: await sign_in(browser, "olga@example.com", PASSWORD)}

    ok = await browser.post("/api/auth/brand", json={"brand_id": "globex"}, headers=headers)
    refused = await browser.post("/api/auth/brand", json={"brand_id": "initech"}, headers=headers)
    wildcard = await browser.post("/api/auth/brand", json={"brand_id": "*"}, headers=headers)

    assert ok.status_code == 200
    assert ok.json()["brand"] == "globex"
    assert refused.status_code == 403
    assert code(refused) == "auth.forbidden_brand"
    assert wildcard.status_code == 403
    assert (await browser.get("/api/auth/me")).json()["brand"] == "globex"

    admin, admin_headers = await admin_browser(env)
    anywhere = await admin.post(
        "/api/auth/brand", json={"brand_id": "initech"}, headers=admin_headers
    )
    assert anywhere.status_code == 200
    assert anywhere.json()["brand"] == "initech"


async def test_a_minted_token_carries_the_roles_and_only_the_current_brand(env: Env) -> None:
    user_id = await add_user(
        env, "olga@example.com", [Role.AGENT, Role.ANALYST], ["acme", "globex"]
    )
    key = SigningKey.generate()
    verifier = TokenVerifier(
        StaticKeySource({key.kid: key.verification_key()}), issuer=ISSUER, audience=AUDIENCE
    )
    token, _, _ = await env.service.login("olga@example.com", PASSWORD, ip="10.0.0.1")
    switched = await env.service.switch_brand(token, "globex")

    principal = await verifier.verify(env.service.mint_service_token(switched, key))

    assert principal.subject == user_id
    assert principal.roles == {Role.AGENT, Role.ANALYST}
    assert principal.brands == {"globex"}
    assert principal.email == "olga@example.com"

    # An admin of every brand gets a token for the brand in use, never the wildcard.
    admin_token, _, admin = await env.service.login(ADMIN_EMAIL, ADMIN_PASSWORD, ip="10.0.0.1")
    admin_principal = await verifier.verify(env.service.mint_service_token(admin, key))
    assert admin_principal.brands == {"acme"}
    assert admin_principal.roles == {Role.ADMIN}
    assert await env.service.session(admin_token) is not None


# --- user administration -------------------------------------------------------------------


async def test_an_admin_manages_users_and_others_get_403(env: Env) -> None:
    admin, headers = await admin_browser(env)
    new_user = {
        "email": "Olga@Example.com",
        "name": "Olga",
        "password": PASSWORD,
        "roles": ["smm_manager"],
        "brands": ["acme"],
    }

    created = await admin.post("/api/users", json=new_user, headers=headers)
    assert created.status_code == 201
    olga = created.json()
    assert olga["email"] == "olga@example.com"
    assert olga["roles"] == ["smm_manager"]
    assert "password_hash" not in olga
    duplicate = await admin.post("/api/users", json=new_user, headers=headers)
    assert duplicate.status_code == 409
    assert code(duplicate) == "users.email_taken"
    weak = await admin.post(
        "/api/users",
        json={**new_user, "email": "p@example.com", "password": "short"},
        headers=headers,
    )
    assert weak.status_code == 422
    assert code(weak) == "users.weak_password"

    listed = await admin.get("/api/users")
    assert [u["email"] for u in listed.json()["items"]] == [ADMIN_EMAIL, "olga@example.com"]
    renamed = await admin.patch(
        f"/api/users/{olga['id']}",
        json={"name": "Olga K.", "version": olga["version"]},
        headers=headers,
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Olga K."
    stale = await admin.patch(
        f"/api/users/{olga['id']}",
        json={"name": "Olga", "version": olga["version"]},
        headers=headers,
    )
    assert stale.status_code == 409
    assert code(stale) == "users.version_conflict"
    new_password = await admin.post(
        f"/api/users/{olga['id']}/password", json={"password": "Another pass 77"}, headers=headers
    )
    assert new_password.status_code == 204

    # A manager of the brand is no admin: every user route is 403.
    manager = await env.browser()
    manager_headers = {CSRF_HEADER: await sign_in(manager, "olga@example.com", "Another pass 77")}
    for response in (
        await manager.get("/api/users"),
        await manager.post(
            "/api/users", json={**new_user, "email": "x@example.com"}, headers=manager_headers
        ),
        await manager.patch(
            f"/api/users/{olga['id']}", json={"roles": ["admin"]}, headers=manager_headers
        ),
        await manager.post(
            f"/api/users/{olga['id']}/password",
            json={"password": PASSWORD},
            headers=manager_headers,
        ),
    ):
        assert response.status_code == 403
        assert code(response) == "auth.forbidden_role"
    assert (await env.user_doc("olga@example.com"))["roles"] == ["smm_manager"]


async def test_a_brand_admin_sees_and_grants_only_their_brands(env: Env) -> None:
    await add_user(env, "boss@example.com", [Role.ADMIN], ["acme"])
    await add_user(env, "olga@example.com", [Role.AGENT], ["acme"])
    globex_id = await add_user(env, "gina@example.com", [Role.AGENT], ["globex"])
    boss = await env.browser()
    headers = {CSRF_HEADER: await sign_in(boss, "boss@example.com", PASSWORD)}

    listed = await boss.get("/api/users")
    assert [u["email"] for u in listed.json()["items"]] == ["boss@example.com", "olga@example.com"]
    hidden = await boss.patch(f"/api/users/{globex_id}", json={"name": "G"}, headers=headers)
    assert hidden.status_code == 404
    grant = await boss.post(
        "/api/users",
        json={
            "email": "new@example.com",
            "name": "N",
            "password": PASSWORD,
            "roles": ["agent"],
            "brands": ["globex"],
        },
        headers=headers,
    )
    assert grant.status_code == 403
    assert code(grant) == "users.forbidden_grant"


async def test_a_role_change_ends_the_users_other_sessions(env: Env) -> None:
    olga_id = await add_user(env, "olga@example.com", [Role.SMM_MANAGER], ["acme"])
    laptop, phone = await env.browser(), await env.browser()
    await sign_in(laptop, "olga@example.com", PASSWORD)
    await sign_in(phone, "olga@example.com", PASSWORD)
    admin, headers = await admin_browser(env)

    # A name is no access change: the sessions live on.
    await admin.patch(f"/api/users/{olga_id}", json={"name": "Olga K."}, headers=headers)
    assert (await laptop.get("/api/auth/me")).status_code == 200

    demoted = await admin.patch(
        f"/api/users/{olga_id}", json={"roles": ["viewer"]}, headers=headers
    )
    assert demoted.status_code == 200
    assert demoted.json()["roles"] == ["viewer"]
    assert (await laptop.get("/api/auth/me")).status_code == 401
    assert (await phone.get("/api/auth/me")).status_code == 401
    # The admin's own session is untouched, and Olga signs in again with the new role.
    assert (await admin.get("/api/auth/me")).status_code == 200
    await sign_in(laptop, "olga@example.com", PASSWORD)
    assert (await laptop.get("/api/auth/me")).json()["roles"] == ["viewer"]


async def test_a_password_change_of_ones_own_keeps_this_session_only(env: Env) -> None:
    first, headers = await admin_browser(env)
    second, _ = await admin_browser(env)
    admin_id = (await first.get("/api/auth/me")).json()["id"]

    changed = await first.post(
        f"/api/users/{admin_id}/password", json={"password": "Brand new pass 9"}, headers=headers
    )

    assert changed.status_code == 204
    assert (await first.get("/api/auth/me")).status_code == 200
    assert (await second.get("/api/auth/me")).status_code == 401
    old = await second.post(
        "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert old.status_code == 401
    await sign_in(second, ADMIN_EMAIL, "Brand new pass 9")
    # Nor may an admin lock themselves out.
    self_disable = await first.patch(
        f"/api/users/{admin_id}", json={"disabled": True}, headers=headers
    )
    assert self_disable.status_code == 409
    assert code(self_disable) == "users.self_lockout"


async def test_any_user_changes_their_own_password_with_the_current_one(env: Env) -> None:
    await add_user(env, "vera@example.com", [Role.AGENT], ["acme"])
    here, there = await env.browser(), await env.browser()
    csrf = await sign_in(here, "vera@example.com", PASSWORD)
    await sign_in(there, "vera@example.com", PASSWORD)
    new = {"current_password": PASSWORD, "new_password": "Fresh password 77"}

    forged = await here.post("/api/auth/password", json=new)
    wrong = await here.post(
        "/api/auth/password",
        json={**new, "current_password": "not it at all"},
        headers={CSRF_HEADER: csrf},
    )
    weak = await here.post(
        "/api/auth/password",
        json={**new, "new_password": "short"},
        headers={CSRF_HEADER: csrf},
    )
    changed = await here.post("/api/auth/password", json=new, headers={CSRF_HEADER: csrf})

    assert forged.status_code == 403
    assert code(forged) == "auth.csrf"
    assert wrong.status_code == 403
    assert code(wrong) == "auth.wrong_password"
    assert weak.status_code == 422
    assert changed.status_code == 204
    assert (await here.get("/api/auth/me")).status_code == 200
    assert (await there.get("/api/auth/me")).status_code == 401
    again = await env.browser()
    await sign_in(again, "vera@example.com", "Fresh password 77")
    old = await again.post(
        "/api/auth/login", json={"email": "vera@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401


async def test_wrong_current_passwords_lock_the_account_like_failed_logins(env: Env) -> None:
    await add_user(env, "ivan@example.com", [Role.ANALYST], ["acme"])
    here = await env.browser()
    headers = {CSRF_HEADER: await sign_in(here, "ivan@example.com", PASSWORD)}
    body = {"current_password": "guess", "new_password": "Another pass 123"}

    answers = [
        (await here.post("/api/auth/password", json=body, headers=headers)).status_code
        for _ in range(6)
    ]
    right = await here.post(
        "/api/auth/password", json={**body, "current_password": PASSWORD}, headers=headers
    )

    assert answers == [403] * 5 + [429]
    assert right.status_code == 429
    other = await env.browser()
    refused = await other.post(
        "/api/auth/login", json={"email": "ivan@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 401
    env.clock.advance(minutes=16)
    await sign_in(other, "ivan@example.com", PASSWORD)


async def test_disabling_a_user_ends_their_sessions_and_refuses_their_login(env: Env) -> None:
    olga_id = await add_user(env, "olga@example.com", [Role.AGENT], ["acme"])
    olga = await env.browser()
    await sign_in(olga, "olga@example.com", PASSWORD)
    admin, headers = await admin_browser(env)

    await admin.patch(f"/api/users/{olga_id}", json={"disabled": True}, headers=headers)

    assert (await olga.get("/api/auth/me")).status_code == 401
    refused = await olga.post(
        "/api/auth/login", json={"email": "olga@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == GENERIC_MESSAGE
    assert (await env.user_doc("olga@example.com"))["disabled"] in (True, 1)

    await admin.patch(f"/api/users/{olga_id}", json={"disabled": False}, headers=headers)
    await sign_in(olga, "olga@example.com", PASSWORD)


async def test_ensure_admin_creates_the_first_admin_once(env: Env) -> None:
    assert not await env.service.ensure_admin(ADMIN_EMAIL, "Some other pass 1")
    assert await env.db["users"].count_documents({}) == 1
    # The existing admin's password is kept.
    await env.service.login(ADMIN_EMAIL, ADMIN_PASSWORD, ip="10.0.0.1")


def test_policies_used_here_are_the_documented_defaults() -> None:
    assert LockoutPolicy() == LockoutPolicy(max_failures=5, window_ms=900_000, lock_ms=900_000)
    assert SessionPolicy().idle_ms == 30 * 60_000
    assert SessionPolicy().absolute_ms == TWELVE_HOURS_S * 1000

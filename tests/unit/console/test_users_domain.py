"""The console's user and session rules, without I/O: emails, passwords, lockout, lifetimes."""

from __future__ import annotations

import pytest

from smm_console.domain.users import (
    MINUTE_MS,
    InvalidAccessError,
    InvalidEmailError,
    LockoutPolicy,
    LockState,
    LoginThrottle,
    SessionPolicy,
    SessionUser,
    WeakPasswordError,
    check_access,
    check_password,
    default_brand,
    may_manage,
    may_use_brand,
    normalise_email,
    session_brand,
)
from smm_shared.auth.tokens import Permission, Role

pytestmark = pytest.mark.unit

T0 = 1_800_000_000_000


# --- emails --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("anna@example.com", "anna@example.com"),
        ("  Anna.Smith@Example.COM \n", "anna.smith@example.com"),
        # Full-width letters typed on a CJK keyboard fold to the same address (NFKC).
        ("ａｎｎａ@example.com", "anna@example.com"),
    ],
)
def test_emails_are_normalised(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "anna",
        "anna@",
        "@example.com",
        "anna@example",
        "an na@example.com",
        "a@b@c.com",
        "a" * 250 + "@example.com",
    ],
)
def test_non_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmailError):
        normalise_email(raw)


# --- passwords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["correct horse 9", "Tr0ub4dor&3xyz", "abcdefghijk1", "ПарольДлинный1"],
)
def test_passwords_meeting_the_policy_pass(password: str) -> None:
    check_password(password, email="anna@example.com")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short1!", "at least 12"),
        ("abcdefghijklmnop", "two kinds"),
        ("ABCDEFGHIJKLMNOP", "two kinds"),
        ("123456789012345", "two kinds"),
        ("!!!!!!!!!!!!!!!!", "two kinds"),
        ("Anna1@Example.com", "email"),
        ("x" * 1025 + "1", "at most"),
    ],
)
def test_passwords_breaking_a_rule_are_refused_with_the_rule(password: str, rule: str) -> None:
    with pytest.raises(WeakPasswordError, match=rule):
        check_password(password, email="anna1@example.com")


# --- lockout -------------------------------------------------------------------------------


def fail(policy: LockoutPolicy, state: LockState, *times_ms: int) -> LockState:
    for t in times_ms:
        state = policy.after_failure(state, t)
    return state


def test_five_failures_within_the_window_lock_for_fifteen_minutes() -> None:
    policy = LockoutPolicy()
    four = fail(policy, LockState(), *(T0 + i * MINUTE_MS for i in range(4)))
    assert not four.is_locked(T0 + 4 * MINUTE_MS)
    assert len(four.failures) == 4

    locked = policy.after_failure(four, T0 + 4 * MINUTE_MS)
    assert locked.is_locked(T0 + 4 * MINUTE_MS)
    assert locked.is_locked(T0 + 19 * MINUTE_MS - 1)
    assert not locked.is_locked(T0 + 19 * MINUTE_MS)
    # Unlocked, the user has a full set of tries again.
    assert locked.failures == ()


def test_failures_spread_beyond_the_window_never_lock() -> None:
    policy = LockoutPolicy()
    # One failure every 4 minutes: at most 4 fall inside any 15-minute window.
    state = fail(policy, LockState(), *(T0 + i * 4 * MINUTE_MS for i in range(12)))
    assert not state.is_locked(T0 + 44 * MINUTE_MS)
    assert len(state.failures) == 4


def test_success_clears_the_count() -> None:
    policy = LockoutPolicy()
    state = fail(policy, LockState(), T0, T0 + 1, T0 + 2, T0 + 3)
    state = policy.after_success()
    state = fail(policy, state, T0 + 4, T0 + 5, T0 + 6, T0 + 7)
    assert not state.is_locked(T0 + 8)


# --- per-address throttle ------------------------------------------------------------------


def test_the_throttle_blocks_an_address_until_its_failures_leave_the_window() -> None:
    throttle = LoginThrottle(max_failures=3, window_ms=10 * MINUTE_MS)
    for i in range(3):
        assert throttle.retry_after_s("10.0.0.1", T0 + i * MINUTE_MS) == 0
        throttle.record_failure("10.0.0.1", T0 + i * MINUTE_MS)
    assert throttle.retry_after_s("10.0.0.1", T0 + 3 * MINUTE_MS) == 7 * 60
    assert throttle.retry_after_s("10.0.0.2", T0 + 3 * MINUTE_MS) == 0
    assert throttle.retry_after_s("10.0.0.1", T0 + 10 * MINUTE_MS) == 0


def test_the_throttle_keeps_a_bounded_number_of_addresses() -> None:
    throttle = LoginThrottle(max_failures=1, window_ms=10 * MINUTE_MS, max_keys=100)
    for i in range(1000):
        throttle.record_failure(f"10.0.{i // 256}.{i % 256}", T0 + i)
    assert len(throttle._failures) <= 101
    # The newest addresses are the ones kept.
    assert throttle.retry_after_s("10.0.3.231", T0 + 1000) > 0


# --- sessions ------------------------------------------------------------------------------


def test_a_session_expires_after_thirty_idle_minutes() -> None:
    policy = SessionPolicy()
    assert not policy.is_expired(created_ms=T0, last_seen_ms=T0, now_ms=T0 + 30 * MINUTE_MS - 1)
    assert policy.is_expired(created_ms=T0, last_seen_ms=T0, now_ms=T0 + 30 * MINUTE_MS)


def test_a_busy_session_still_ends_after_twelve_hours() -> None:
    policy = SessionPolicy()
    end = T0 + 12 * 60 * MINUTE_MS
    assert not policy.is_expired(created_ms=T0, last_seen_ms=end - MINUTE_MS, now_ms=end - 1)
    assert policy.is_expired(created_ms=T0, last_seen_ms=end - MINUTE_MS, now_ms=end)
    assert policy.hard_expiry_ms(T0) == end


def test_activity_is_recorded_at_most_once_a_minute() -> None:
    policy = SessionPolicy()
    assert not policy.needs_touch(last_seen_ms=T0, now_ms=T0 + MINUTE_MS - 1)
    assert policy.needs_touch(last_seen_ms=T0, now_ms=T0 + MINUTE_MS)


def test_the_touch_interval_must_be_shorter_than_the_idle_limit() -> None:
    with pytest.raises(ValueError, match="touch_interval_ms"):
        SessionPolicy(idle_ms=MINUTE_MS, touch_interval_ms=MINUTE_MS)


# --- brands and access ---------------------------------------------------------------------


def test_a_user_may_use_only_their_brands_and_an_all_brands_admin_any() -> None:
    assert may_use_brand({Role.AGENT}, ["acme", "globex"], "globex")
    assert not may_use_brand({Role.AGENT}, ["acme"], "globex")
    assert may_use_brand({Role.ADMIN}, ["*"], "globex")
    # The wildcard is nobody's current brand, and is void without the admin role.
    assert not may_use_brand({Role.ADMIN}, ["*"], "*")
    assert not may_use_brand({Role.SMM_MANAGER}, ["*"], "globex")
    assert not may_use_brand({Role.ADMIN}, ["*"], "Not A Slug")


def test_sessions_start_in_the_first_concrete_brand_and_leave_a_revoked_one() -> None:
    assert default_brand(["*", "demo", "acme"]) == "demo"
    assert default_brand(["*"]) is None
    assert session_brand([Role.AGENT], ["acme", "globex"], "globex") == "globex"
    assert session_brand([Role.AGENT], ["acme"], "globex") == "acme"
    assert session_brand([Role.AGENT], [], "globex") is None


def test_access_is_checked_and_deduplicated() -> None:
    roles, brands = check_access(["agent", Role.AGENT, "analyst"], ["acme", "acme", "b-2"])
    assert roles == [Role.AGENT, Role.ANALYST]
    assert brands == ["acme", "b-2"]
    with pytest.raises(InvalidAccessError, match="at least one role"):
        check_access([], ["acme"])
    with pytest.raises(InvalidAccessError, match="Unknown role"):
        check_access(["overlord"], ["acme"])
    with pytest.raises(InvalidAccessError, match="Only admins"):
        check_access([Role.SMM_MANAGER], ["*"])
    with pytest.raises(InvalidAccessError, match="not valid"):
        check_access([Role.AGENT], ["Acme Corp"])


def test_a_brand_admin_manages_only_users_within_their_brands() -> None:
    assert may_manage(["*"], ["acme", "globex"])
    assert may_manage(["acme", "globex"], ["acme"])
    assert not may_manage(["acme"], ["acme", "globex"])
    assert not may_manage(["acme"], ["*"])


def test_permissions_follow_the_roles() -> None:
    admin = SessionUser("u1", "a@x.io", "A", frozenset({Role.ADMIN}), frozenset({"*"}), None)
    agent = SessionUser("u2", "b@x.io", "B", frozenset({Role.AGENT}), frozenset({"acme"}), "acme")
    assert admin.can(Permission.USERS_MANAGE)
    assert not agent.can(Permission.USERS_MANAGE)
    assert agent.can(Permission.MENTIONS_WRITE)

"""Token issuing and verification: every way a token can be wrong maps to a stable code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from smm_shared.auth import (
    ALL_BRANDS,
    AuthError,
    InvalidTokenError,
    Permission,
    Principal,
    Role,
    SigningKey,
    StaticKeySource,
    TokenExpiredError,
    TokenVerifier,
    UnknownKeyError,
    VerificationKey,
    issue_token,
    roles_with,
)

pytestmark = pytest.mark.unit

ISSUER = "smm-local"
AUDIENCE = "smm-platform"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def verifier(key: SigningKey) -> TokenVerifier:
    keys = StaticKeySource({key.kid: key.verification_key()})
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway_s=30)


def make_token(key: SigningKey, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "key": key,
        "subject": "alice",
        "roles": [Role.AGENT],
        "brands": ["acme"],
        "ttl": timedelta(minutes=5),
        "issuer": ISSUER,
        "audience": AUDIENCE,
    }
    args.update(overrides)
    return issue_token(**args)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "mallory",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "roles": ["agent"],
        "brands": ["acme"],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign_raw(key: SigningKey, payload: dict[str, Any], **headers: Any) -> str:
    """A token signed with ``key`` but with claims issue_token would refuse to write."""
    return jwt.encode(
        payload, key.private_key, algorithm="ES256", headers={"kid": key.kid, **headers}
    )


async def expect_code(verifier: TokenVerifier, token: str, error: type[AuthError]) -> str:
    with pytest.raises(error) as caught:
        await verifier.verify(token)
    assert type(caught.value) is error
    return caught.value.code


async def test_valid_token_yields_the_principal(key: SigningKey, verifier: TokenVerifier) -> None:
    token = make_token(
        key,
        roles=[Role.AGENT, "analyst"],
        brands=["acme", "globex"],
        name="Alice",
        email="alice@example.com",
        token_id="t-1",
    )

    principal = await verifier.verify(token)

    assert principal == Principal(
        subject="alice",
        roles=frozenset({Role.AGENT, Role.ANALYST}),
        brands=frozenset({"acme", "globex"}),
        token_id="t-1",
        name="Alice",
        email="alice@example.com",
    )


def test_issued_token_carries_the_documented_claims(key: SigningKey) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = make_token(key, now=now, ttl=timedelta(minutes=10))

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})

    assert header == {"alg": "ES256", "kid": key.kid, "typ": "JWT"}
    stamp = int(now.timestamp())
    assert payload["iat"] == payload["nbf"] == stamp
    assert payload["exp"] == stamp + 600
    assert (payload["iss"], payload["aud"], payload["sub"]) == (ISSUER, AUDIENCE, "alice")
    assert payload["roles"] == ["agent"]
    assert payload["brands"] == ["acme"]
    assert isinstance(payload["jti"], str)
    assert payload["jti"]


async def test_expired_token_is_token_expired(key: SigningKey, verifier: TokenVerifier) -> None:
    token = make_token(key, now=datetime.now(UTC) - timedelta(hours=2), ttl=timedelta(hours=1))

    assert await expect_code(verifier, token, TokenExpiredError) == "auth.token_expired"


async def test_expiry_within_leeway_is_accepted(key: SigningKey, verifier: TokenVerifier) -> None:
    # Expired 10 s ago; the verifier allows 30 s of clock skew.
    token = make_token(key, now=datetime.now(UTC) - timedelta(seconds=70), ttl=timedelta(minutes=1))

    assert (await verifier.verify(token)).subject == "alice"


async def test_token_not_yet_valid_is_invalid(key: SigningKey, verifier: TokenVerifier) -> None:
    token = make_token(key, now=datetime.now(UTC) + timedelta(minutes=10))

    assert await expect_code(verifier, token, InvalidTokenError) == "auth.invalid_token"


@pytest.mark.parametrize(
    ("field", "value"), [("audience", "another-platform"), ("issuer", "evil-issuer")]
)
async def test_wrong_audience_or_issuer_is_invalid(
    key: SigningKey, verifier: TokenVerifier, field: str, value: str
) -> None:
    token = make_token(key, **{field: value})

    assert await expect_code(verifier, token, InvalidTokenError) == "auth.invalid_token"


async def test_unknown_kid_is_unknown_key(verifier: TokenVerifier) -> None:
    stranger = SigningKey.generate()

    code = await expect_code(verifier, make_token(stranger), UnknownKeyError)

    assert code == "auth.unknown_key"


async def test_missing_kid_is_invalid(key: SigningKey, verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), key.private_key, algorithm="ES256")

    assert await expect_code(verifier, token, InvalidTokenError) == "auth.invalid_token"


async def test_tampered_payload_fails_the_signature(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    header, _, signature = make_token(key).split(".")
    forged = b64url(json.dumps(claims(roles=["admin"], brands=[ALL_BRANDS])).encode())

    with pytest.raises(InvalidTokenError, match="signature"):
        await verifier.verify(f"{header}.{forged}.{signature}")


async def test_tampered_signature_is_invalid(key: SigningKey, verifier: TokenVerifier) -> None:
    header, payload, signature = make_token(key).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert (
        await expect_code(verifier, f"{header}.{payload}.{flipped}", InvalidTokenError)
        == "auth.invalid_token"
    )


async def test_alg_none_is_invalid(key: SigningKey, verifier: TokenVerifier) -> None:
    header = b64url(json.dumps({"alg": "none", "kid": key.kid, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims(roles=["admin"], brands=[ALL_BRANDS])).encode())

    with pytest.raises(InvalidTokenError, match="algorithm is not accepted"):
        await verifier.verify(f"{header}.{payload}.")


async def test_hs256_signed_with_the_public_key_is_invalid(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    # Algorithm confusion: an attacker HMACs with the (public) key a naive verifier would use.
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64url(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims(roles=["admin"], brands=[ALL_BRANDS])).encode())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()

    with pytest.raises(InvalidTokenError, match="algorithm is not accepted"):
        await verifier.verify(f"{header}.{payload}.{b64url(mac)}")


async def test_algorithm_must_match_the_key(verifier: TokenVerifier, key: SigningKey) -> None:
    # A genuine RS256 signature, but the kid names our ES256 key.
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": key.kid})

    with pytest.raises(InvalidTokenError, match="does not match its key"):
        await verifier.verify(token)


async def test_es384_is_not_accepted(verifier: TokenVerifier, key: SigningKey) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    token = jwt.encode(claims(), p384, algorithm="ES384", headers={"kid": key.kid})

    assert await expect_code(verifier, token, InvalidTokenError) == "auth.invalid_token"


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
async def test_rs256_and_eddsa_keys_verify(algorithm: str) -> None:
    private: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS256"
        else ed25519.Ed25519PrivateKey.generate()
    )
    keys = StaticKeySource({"k1": VerificationKey("k1", algorithm, private.public_key())})
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
    token = jwt.encode(claims(), private, algorithm=algorithm, headers={"kid": "k1"})

    assert (await verifier.verify(token)).subject == "mallory"


@pytest.mark.parametrize(
    "bad",
    [
        {"roles": "admin"},
        {"roles": ["superuser"]},
        {"roles": []},
        {"brands": "acme"},
        {"brands": [""]},
        {"brands": [1]},
        {"exp": None},
        {"sub": None},
        {"email": 42},
    ],
    ids=lambda bad: "-".join(f"{k}={v}" for k, v in bad.items()),
)
async def test_malformed_claims_are_invalid(
    key: SigningKey, verifier: TokenVerifier, bad: dict[str, Any]
) -> None:
    token = sign_raw(key, claims(**bad))

    assert await expect_code(verifier, token, InvalidTokenError) == "auth.invalid_token"


async def test_all_brands_wildcard_is_rejected_for_non_admin_tokens(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    token = sign_raw(key, claims(roles=["smm_manager"], brands=[ALL_BRANDS]))

    with pytest.raises(InvalidTokenError, match="only for admin"):
        await verifier.verify(token)


async def test_all_brands_wildcard_is_honoured_for_admin(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    token = make_token(key, roles=[Role.ADMIN], brands=[ALL_BRANDS])

    principal = await verifier.verify(token)

    assert principal.can_access("acme")
    assert principal.can_access("any-other-brand")


async def test_garbage_and_oversized_tokens_are_invalid(verifier: TokenVerifier) -> None:
    assert await expect_code(verifier, "not-a-jwt", InvalidTokenError) == "auth.invalid_token"
    assert await expect_code(verifier, "a" * 9000, InvalidTokenError) == "auth.invalid_token"


def test_issue_token_refuses_what_the_verifier_would_reject(key: SigningKey) -> None:
    with pytest.raises(ValueError, match="only for admin"):
        make_token(key, roles=[Role.AGENT], brands=[ALL_BRANDS])
    with pytest.raises(ValueError, match="superuser"):
        make_token(key, roles=["superuser"])
    with pytest.raises(ValueError, match="at least one role"):
        make_token(key, roles=[])
    with pytest.raises(ValueError, match="ttl"):
        make_token(key, ttl=timedelta(0))


def test_can_access_only_listed_brands() -> None:
    agent = Principal("bob", frozenset({Role.AGENT}), frozenset({"acme"}))
    admin_of_one = Principal("root", frozenset({Role.ADMIN}), frozenset({"acme"}))

    assert agent.can_access("acme")
    assert not agent.can_access("globex")
    assert not agent.can_access(ALL_BRANDS)
    # Admin without the wildcard is scoped like anyone else.
    assert not admin_of_one.can_access("globex")


def test_principal_rejects_wildcard_without_admin() -> None:
    with pytest.raises(ValueError, match="only for admin"):
        Principal("bob", frozenset({Role.SMM_MANAGER}), frozenset({ALL_BRANDS}))


def test_permission_table() -> None:
    assert roles_with(Permission.MENTIONS_WRITE) == {Role.ADMIN, Role.SMM_MANAGER, Role.AGENT}
    assert roles_with(Permission.MENTIONS_READ) == set(Role)
    assert roles_with(Permission.CONTENT_WRITE) == {
        Role.ADMIN,
        Role.SMM_MANAGER,
        Role.CONTENT_MANAGER,
    }
    assert roles_with(Permission.USERS_MANAGE) == {Role.ADMIN}
    assert roles_with(Permission.ALERTS_MANAGE) == {
        Role.ADMIN,
        Role.SMM_MANAGER,
        Role.AGENT,
        Role.ANALYST,
    }
    viewer = Principal("v", frozenset({Role.VIEWER}), frozenset({"acme"}))
    assert viewer.can(Permission.ANALYTICS_READ)
    assert not viewer.can(Permission.MENTIONS_WRITE)

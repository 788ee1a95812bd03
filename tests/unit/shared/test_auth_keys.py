"""Dev key files, JWKS parsing, key rotation and the file and URL key sources."""

from __future__ import annotations

import asyncio
import json
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from smm_shared.auth import (
    FileKeySource,
    KeysUnavailableError,
    RemoteKeySource,
    Role,
    SigningKey,
    TokenVerifier,
    UnknownKeyError,
    ensure_dev_keys,
    issue_token,
    load_jwks,
    load_signing_key,
    parse_jwks,
)
from smm_shared.auth.keys import jwk_thumbprint
from smm_shared.config import AuthSettings

pytestmark = pytest.mark.unit


def token_for(key: SigningKey, subject: str = "alice") -> str:
    return issue_token(
        key=key,
        subject=subject,
        roles=[Role.VIEWER],
        brands=["acme"],
        ttl=timedelta(minutes=5),
        issuer="smm-local",
        audience="smm-platform",
    )


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def test_ensure_dev_keys_creates_a_private_key_and_a_public_jwks(tmp_path: Path) -> None:
    keys_dir = tmp_path / "data" / "keys"

    dev = ensure_dev_keys(keys_dir)

    assert dev.signing_key_path == keys_dir / "signing-key.pem"
    assert stat.S_IMODE(dev.signing_key_path.stat().st_mode) == 0o600
    document = json.loads(dev.jwks_path.read_text())
    assert [entry["kid"] for entry in document["keys"]] == [dev.kid]
    assert all("d" not in entry for entry in document["keys"])  # nothing private published
    assert dev.kid == jwk_thumbprint(document["keys"][0])
    secret = str(dev.signing_key.private_key.private_numbers().private_value)
    assert secret not in repr(dev)
    assert secret not in repr(dev.signing_key)


def test_ensure_dev_keys_is_idempotent(tmp_path: Path) -> None:
    first = ensure_dev_keys(tmp_path)
    pem = first.signing_key_path.read_bytes()
    jwks_stamp = first.jwks_path.stat().st_mtime_ns

    second = ensure_dev_keys(tmp_path)

    assert second.kid == first.kid
    assert second.signing_key_path.read_bytes() == pem
    assert second.jwks_path.stat().st_mtime_ns == jwks_stamp


def test_services_starting_together_share_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: ensure_dev_keys(tmp_path), range(8)))

    assert {dev.kid for dev in results} == {load_signing_key(tmp_path).kid}
    assert list(load_jwks(tmp_path / "jwks.json")) == [results[0].kid]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_ensure_dev_keys_keeps_other_published_keys(tmp_path: Path) -> None:
    previous = SigningKey.generate()
    (tmp_path / "jwks.json").write_text(json.dumps(jwks(previous)))

    dev = ensure_dev_keys(tmp_path)

    assert set(load_jwks(dev.jwks_path)) == {previous.kid, dev.kid}


def test_ensure_dev_keys_tightens_a_loose_key_file(tmp_path: Path) -> None:
    dev = ensure_dev_keys(tmp_path)
    dev.signing_key_path.chmod(0o644)

    again = ensure_dev_keys(tmp_path)

    assert again.kid == dev.kid
    assert stat.S_IMODE(dev.signing_key_path.stat().st_mode) == 0o600


def test_ensure_dev_keys_refuses_a_corrupt_jwks(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text("{not json")

    with pytest.raises(ValueError, match="fix or delete it"):
        ensure_dev_keys(tmp_path)

    assert (tmp_path / "jwks.json").read_text() == "{not json"


def test_load_signing_key_requires_the_key_to_be_published(tmp_path: Path) -> None:
    dev = ensure_dev_keys(tmp_path)
    dev.jwks_path.write_text(json.dumps(jwks(SigningKey.generate())))

    with pytest.raises(ValueError, match="does not publish the signing key"):
        load_signing_key(tmp_path)


def test_thumbprint_matches_rfc_7638_example() -> None:
    # RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tS"
        "oc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQ"
        "R0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTW"
        "hAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }

    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_parse_jwks_skips_unsafe_entries() -> None:
    good = SigningKey.generate()
    private = {**good.public_jwk(), "kid": "leaked", "d": "AAAA"}
    symmetric = {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}
    no_kid = {k: v for k, v in SigningKey.generate().public_jwk().items() if k != "kid"}
    encryption = {**SigningKey.generate().public_jwk(), "kid": "enc", "use": "enc"}
    hs_alg = {**SigningKey.generate().public_jwk(), "kid": "hs", "alg": "HS256"}
    document = {"keys": [private, symmetric, no_kid, encryption, hs_alg, good.public_jwk()]}

    assert list(parse_jwks(document)) == [good.kid]


@pytest.mark.parametrize("document", [{}, {"keys": "x"}, {"keys": []}, [1]])
def test_parse_jwks_without_usable_keys_fails(document: object) -> None:
    with pytest.raises(ValueError, match="JWKS"):
        parse_jwks(document)


async def test_rotation_two_published_keys_both_verify(tmp_path: Path) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(old, new)))
    verifier = TokenVerifier.from_settings(AuthSettings(jwks_file=path))

    assert (await verifier.verify(token_for(old, "before"))).subject == "before"
    assert (await verifier.verify(token_for(new, "after"))).subject == "after"


async def test_file_source_picks_up_a_new_key_and_drops_a_removed_one(tmp_path: Path) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(old)))
    source = FileKeySource(path)
    assert (await source.get_key(old.kid)).kid == old.kid

    path.write_text(json.dumps(jwks(new)) + "\n")  # a different size: a changed stamp

    assert (await source.get_key(new.kid)).kid == new.kid
    with pytest.raises(UnknownKeyError):
        await source.get_key(old.kid)


async def test_file_source_without_a_file_is_unavailable(tmp_path: Path) -> None:
    source = FileKeySource(tmp_path / "missing.json")

    with pytest.raises(KeysUnavailableError) as caught:
        await source.get_key("any")

    assert caught.value.code == "auth.keys_unavailable"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class JwksServer:
    """An in-memory JWKS endpoint that counts its requests."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.status = 200
        self.requests = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        assert request.url == "https://idp.example/jwks"
        return httpx.Response(self.status, json=self.document)


def remote(server: JwksServer, clock: FakeClock) -> RemoteKeySource:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server.handle))
    return RemoteKeySource(
        "https://idp.example/jwks",
        client=client,
        min_refresh_interval_s=30,
        max_age_s=3600,
        clock=clock,
    )


async def test_remote_source_caches_the_jwks() -> None:
    key = SigningKey.generate()
    server = JwksServer(jwks(key))
    source = remote(server, FakeClock())

    for _ in range(3):
        assert (await source.get_key(key.kid)).kid == key.kid

    assert server.requests == 1


async def test_concurrent_first_requests_fetch_once() -> None:
    key = SigningKey.generate()
    server = JwksServer(jwks(key))
    source = remote(server, FakeClock())

    found = await asyncio.gather(*(source.get_key(key.kid) for _ in range(10)))

    assert {k.kid for k in found} == {key.kid}
    assert server.requests == 1


async def test_remote_source_refetches_on_unknown_kid_at_most_once_per_interval() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    server, clock = JwksServer(jwks(old)), FakeClock()
    source = remote(server, clock)
    await source.get_key(old.kid)
    server.document = jwks(old, new)  # the provider rotates

    clock.now += 5
    with pytest.raises(UnknownKeyError):
        await source.get_key(new.kid)  # too soon after the last fetch: no request
    assert server.requests == 1

    clock.now += 30
    assert (await source.get_key(new.kid)).kid == new.kid
    assert server.requests == 2

    with pytest.raises(UnknownKeyError):
        await source.get_key("made-up")  # made-up kids cannot force a fetch each
    assert server.requests == 2


async def test_remote_source_keeps_its_keys_when_the_provider_fails() -> None:
    key = SigningKey.generate()
    server, clock = JwksServer(jwks(key)), FakeClock()
    source = remote(server, clock)
    await source.get_key(key.kid)
    server.status = 503

    clock.now += 4000  # stale: a refresh is due, and it fails
    assert (await source.get_key(key.kid)).kid == key.kid
    assert server.requests == 2


async def test_remote_source_that_never_fetched_is_unavailable() -> None:
    server = JwksServer({"keys": []})
    server.status = 500
    source = remote(server, FakeClock())

    with pytest.raises(KeysUnavailableError):
        await source.get_key("k")
    assert server.requests == 1


async def test_remote_source_retries_soon_while_it_has_no_keys() -> None:
    key = SigningKey.generate()
    server, clock = JwksServer(jwks(key)), FakeClock()
    server.status = 503  # the provider is not up yet
    source = remote(server, clock)
    with pytest.raises(KeysUnavailableError):
        await source.get_key(key.kid)
    server.status = 200

    clock.now += 0.5
    with pytest.raises(KeysUnavailableError):
        await source.get_key(key.kid)  # still rate-limited
    clock.now += 0.5

    assert (await source.get_key(key.kid)).kid == key.kid
    assert server.requests == 2


async def test_verifier_from_settings_with_a_url_verifies_tokens() -> None:
    key = SigningKey.generate()
    server = JwksServer(jwks(key))
    client = httpx.AsyncClient(transport=httpx.MockTransport(server.handle))
    verifier = TokenVerifier.from_settings(
        AuthSettings(jwks_url="https://idp.example/jwks"), http_client=client
    )

    assert (await verifier.verify(token_for(key))).subject == "alice"

"""Signing and verification keys: the dev ES256 key pair on disk, JWKS from a file or a URL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from smm_shared.auth.errors import KeysUnavailableError, UnknownKeyError

logger = logging.getLogger(__name__)

#: The only algorithms a token may use. All asymmetric: an HS* token "signed" with a public
#: key (algorithm confusion) or ``alg: none`` can never verify.
ALLOWED_ALGORITHMS: Final = frozenset({"ES256", "RS256", "EdDSA"})
SIGNING_KEY_FILE: Final = "signing-key.pem"
JWKS_FILE: Final = "jwks.json"
#: RSA keys shorter than this are refused (NIST SP 800-131A).
MIN_RSA_BITS: Final = 2048

PublicKey = ec.EllipticCurvePublicKey | RSAPublicKey | Ed25519PublicKey
#: Trusted public keys by key id.
KeySet = Mapping[str, "VerificationKey"]

# RFC 7638: the members that make up a key's thumbprint, per key type.
_THUMBPRINT_MEMBERS: Final[Mapping[str, tuple[str, ...]]] = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
# The algorithm a key without an ``alg`` member implies.
_DEFAULT_ALGORITHM: Final[Mapping[tuple[str, str | None], str]] = {
    ("EC", "P-256"): "ES256",
    ("RSA", None): "RS256",
    ("OKP", "Ed25519"): "EdDSA",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: a stable key id."""
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise ValueError(f"cannot compute a thumbprint for key type {kty!r}")
    missing = [name for name in members if not isinstance(jwk.get(name), str)]
    if missing:
        raise ValueError(f"JWK lacks {', '.join(missing)}")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A trusted public key and the one algorithm it may verify."""

    kid: str
    algorithm: str
    key: PublicKey = field(repr=False)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An ES256 (P-256) private key and its key id; never printed or logged."""

    algorithm: ClassVar[str] = "ES256"

    kid: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh P-256 key whose kid is its RFC 7638 thumbprint."""
        return cls._with_thumbprint(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        """Load an unencrypted PKCS#8 P-256 private key; the kid is its thumbprint."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise ValueError("the signing key must be an EC P-256 private key")
        return cls._with_thumbprint(key)

    @classmethod
    def _with_thumbprint(cls, key: ec.EllipticCurvePrivateKey) -> SigningKey:
        return cls(kid=jwk_thumbprint(_ec_public_members(key.public_key())), private_key=key)

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (for a 0600 file only)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK with ``kid``, ``alg`` and ``use``."""
        members = _ec_public_members(self.private_key.public_key())
        return {**members, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def verification_key(self) -> VerificationKey:
        """The public half, ready to verify what this key signs."""
        return VerificationKey(self.kid, self.algorithm, self.private_key.public_key())


def _ec_public_members(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


def _implied_algorithm(entry: Mapping[str, Any]) -> str | None:
    kty, crv = entry.get("kty"), entry.get("crv")
    if not isinstance(kty, str) or not (crv is None or isinstance(crv, str)):
        return None
    return _DEFAULT_ALGORITHM.get((kty, None if kty == "RSA" else crv))


def _key_fits(algorithm: str, key: object) -> bool:
    # PyJWK builds whatever the JWK describes; check it is the key the algorithm expects.
    if algorithm == "ES256":
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    if algorithm == "RS256":
        return isinstance(key, RSAPublicKey) and key.key_size >= MIN_RSA_BITS
    return algorithm == "EdDSA" and isinstance(key, Ed25519PublicKey)


def _parse_jwk(entry: object) -> VerificationKey:
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("no kid (tokens select their key by kid)")
    if entry.get("use", "sig") != "sig":
        raise ValueError("not a signature key")
    if "d" in entry:
        # A published private key is compromised; trusting it would let anyone sign.
        raise ValueError("private key material in a public JWKS")
    algorithm = entry.get("alg") or _implied_algorithm(entry)
    if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} is not accepted")
    try:
        key = jwt.PyJWK(entry, algorithm=algorithm).key
    except jwt.PyJWTError as exc:
        raise ValueError(f"unusable key: {exc}") from exc
    if not _key_fits(algorithm, key):
        raise ValueError(f"key does not fit algorithm {algorithm}")
    return VerificationKey(kid=kid, algorithm=algorithm, key=key)


def parse_jwks(document: object) -> dict[str, VerificationKey]:
    """Trusted keys by kid from a JWKS document; unusable entries are skipped with a warning."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('a JWKS must be a JSON object with a "keys" list')
    keys: dict[str, VerificationKey] = {}
    for index, entry in enumerate(document["keys"]):
        try:
            key = _parse_jwk(entry)
        except ValueError as exc:
            logger.warning("JWKS entry %d ignored: %s", index, exc)
            continue
        if key.kid in keys:
            # Two keys under one kid make the choice ambiguous; the first one wins.
            logger.warning("JWKS entry %d ignored: duplicate kid %s", index, key.kid)
            continue
        keys[key.kid] = key
    if not keys:
        raise ValueError("the JWKS holds no usable signature key")
    return keys


def load_jwks(path: Path) -> dict[str, VerificationKey]:
    """Trusted keys by kid from a JWKS file."""
    return parse_jwks(json.loads(path.read_text(encoding="utf-8")))


class KeySource(Protocol):
    """Where a verifier finds the public key a token names."""

    async def get_key(self, kid: str) -> VerificationKey:
        """The trusted key with this kid; raises UnknownKeyError or KeysUnavailableError."""
        ...


class StaticKeySource:
    """A fixed set of keys (tests, or keys built in code)."""

    def __init__(self, keys: KeySet) -> None:
        self._keys = dict(keys)

    async def get_key(self, kid: str) -> VerificationKey:
        """The key with this kid, or UnknownKeyError."""
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyError("The token was signed with an unknown key") from None


_FileStamp = tuple[int, int, int]


class FileKeySource:
    """Keys from a JWKS file, re-read when the file changes (so a rotation needs no restart)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._keys: dict[str, VerificationKey] | None = None
        self._stamp: _FileStamp | None = None

    async def get_key(self, kid: str) -> VerificationKey:
        """The key with this kid from the file's current content."""
        # A stat per call is microseconds, far below one signature check, and it makes a
        # removed key stop verifying at once. The read itself is a tiny local file.
        key = self._current().get(kid)
        if key is None:
            raise UnknownKeyError("The token was signed with an unknown key")
        return key

    def _current(self) -> dict[str, VerificationKey]:
        try:
            stat = self._path.stat()
        except OSError as exc:
            if self._keys is None:
                raise KeysUnavailableError(f"JWKS file {self._path} cannot be read") from exc
            if self._stamp is not None:
                logger.warning("JWKS file %s vanished; keeping the keys loaded before", self._path)
                self._stamp = None
            return self._keys
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self._keys is not None and stamp == self._stamp:
            return self._keys
        # Remember the stamp even if the content is bad, so a broken file is reported once.
        self._stamp = stamp
        try:
            self._keys = load_jwks(self._path)
        except (OSError, ValueError) as exc:
            if self._keys is None:
                raise KeysUnavailableError(f"JWKS file {self._path} is not usable: {exc}") from exc
            logger.warning(
                "JWKS file %s is not usable (%s); keeping the previous keys", self._path, exc
            )
        return self._keys


class RemoteKeySource:
    """Keys from a JWKS URL: cached, re-fetched on an unknown kid at most once per interval."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        min_refresh_interval_s: float = 30.0,
        retry_without_keys_s: float = 1.0,
        max_age_s: float = 3600.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = client
        self._min_refresh_interval_s = min_refresh_interval_s
        # Until a first fetch succeeds every request fails anyway (say, the provider starts
        # after us), so retry sooner than the normal interval.
        self._retry_without_keys_s = retry_without_keys_s
        # Re-fetch even known keys after this long, so a key the provider withdrew stops
        # verifying without a restart.
        self._max_age_s = max_age_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._keys: dict[str, VerificationKey] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> VerificationKey:
        """The key with this kid, fetching the JWKS when it is missing, stale or lacks the kid."""
        keys = self._keys
        stale = keys is None or self._clock() - self._fetched_at >= self._max_age_s
        if (stale or keys is None or kid not in keys) and self._may_fetch():
            keys = await self._refresh()
        if keys is None:
            raise KeysUnavailableError(f"the JWKS at {self._url} could not be fetched")
        key = keys.get(kid)
        if key is None:
            raise UnknownKeyError("The token was signed with an unknown key")
        return key

    def _may_fetch(self) -> bool:
        # Rate limit: tokens with made-up kids must not turn into a flood of fetches.
        attempted = self._attempted_at
        if attempted is None:
            return True
        interval = (
            self._retry_without_keys_s if self._keys is None else self._min_refresh_interval_s
        )
        return self._clock() - attempted >= interval

    async def _refresh(self) -> dict[str, VerificationKey] | None:
        async with self._lock:
            if not self._may_fetch():  # another request refreshed while this one waited
                return self._keys
            self._attempted_at = self._clock()
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                # Keep serving the keys we have: a provider blip must not lock everyone out.
                logger.warning("JWKS fetch from %s failed: %s", self._url, exc)
                return self._keys
            self._keys, self._fetched_at = keys, self._attempted_at
            return keys

    async def _fetch(self) -> dict[str, VerificationKey]:
        if self._client is not None:
            response = await self._client.get(self._url, timeout=self._timeout_s)
        else:
            # Fetches are rare (rate-limited), so a short-lived client needs no lifecycle.
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.get(self._url)
        response.raise_for_status()
        return parse_jwks(response.json())


@dataclass(frozen=True, slots=True)
class DevKeys:
    """The local key pair: where its files are, its kid and the signing key itself."""

    directory: Path
    signing_key_path: Path
    jwks_path: Path
    kid: str
    signing_key: SigningKey = field(repr=False)


def ensure_dev_keys(directory: Path) -> DevKeys:
    """Create ``signing-key.pem`` (0600) and ``jwks.json`` in ``directory`` unless present."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path = directory / SIGNING_KEY_FILE
    jwks_path = directory / JWKS_FILE
    signing_key = _load_or_create_signing_key(key_path)
    _publish(jwks_path, signing_key)
    return DevKeys(directory, key_path, jwks_path, signing_key.kid, signing_key)


def load_signing_key(directory: Path) -> SigningKey:
    """The signing key in ``directory``, checked to be published in its ``jwks.json``."""
    signing_key = SigningKey.from_pem((directory / SIGNING_KEY_FILE).read_bytes())
    jwks_path = directory / JWKS_FILE
    if signing_key.kid not in load_jwks(jwks_path):
        # Tokens from an unpublished key would all fail with auth.unknown_key; say so now.
        raise ValueError(f"{jwks_path} does not publish the signing key (kid {signing_key.kid})")
    return signing_key


def _load_or_create_signing_key(path: Path) -> SigningKey:
    if not path.exists():
        candidate = SigningKey.generate()
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(candidate.to_pem())
                file.flush()
                os.fsync(file.fileno())
            # link() creates the final name only if it is absent and only with the full
            # content, so services starting together end up sharing one key.
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            else:
                return candidate
        finally:
            tmp.unlink(missing_ok=True)
    # An existing key is kept; only a too-open mode (a copied file, a loose umask) is fixed.
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return SigningKey.from_pem(path.read_bytes())


def _publish(jwks_path: Path, signing_key: SigningKey) -> None:
    entries: list[Any] = []
    if jwks_path.exists():
        try:
            document = json.loads(jwks_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{jwks_path} is not JSON; fix or delete it") from exc
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError(f'{jwks_path} is not a JWKS ({{"keys": [...]}}); fix or delete it')
        entries = document["keys"]
        if any(isinstance(e, dict) and e.get("kid") == signing_key.kid for e in entries):
            return  # already published; leave the file (and its mtime) alone
    # Other keys stay published: tokens signed before a rotation keep verifying.
    document = {"keys": [*entries, signing_key.public_jwk()]}
    tmp = jwks_path.with_name(f".{jwks_path.name}.{secrets.token_hex(8)}.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o644)  # public keys: every service may read them
    os.replace(tmp, jwks_path)  # atomic: a verifier never reads half a file

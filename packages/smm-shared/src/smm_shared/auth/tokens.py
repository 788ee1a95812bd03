"""Who is calling: roles, permissions, the principal, and issuing and verifying JWTs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

import httpx
import jwt

from smm_shared.auth.errors import InvalidTokenError, TokenExpiredError
from smm_shared.auth.keys import (
    ALLOWED_ALGORITHMS,
    FileKeySource,
    KeySource,
    RemoteKeySource,
    SigningKey,
)
from smm_shared.config import AuthSettings

#: The brand wildcard: every brand. Honoured only together with the admin role.
ALL_BRANDS: Final = "*"
#: Longer tokens are refused before any parsing (ours are well under 1 KB).
MAX_TOKEN_CHARS: Final = 8192
# Claims every token must carry; nbf and jti are checked when present (OIDC providers vary).
_REQUIRED_CLAIMS: Final = ["exp", "iat", "iss", "aud", "sub"]


class Role(StrEnum):
    """What a member of a brand's SMM team does; the roles claim of a token."""

    ADMIN = "admin"
    SMM_MANAGER = "smm_manager"
    AGENT = "agent"
    CONTENT_MANAGER = "content_manager"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Permission(StrEnum):
    """An action a route guards; ROLE_PERMISSIONS says which roles may take it."""

    MENTIONS_READ = "mentions:read"
    #: Reply, assign, tag and close cases.
    MENTIONS_WRITE = "mentions:write"
    CONTENT_READ = "content:read"
    #: Draft, edit and schedule content items.
    CONTENT_WRITE = "content:write"
    CONTENT_APPROVE = "content:approve"
    ANALYTICS_READ = "analytics:read"
    #: Acknowledge and resolve trend and crisis alerts.
    ALERTS_MANAGE = "alerts:manage"
    #: Routing rules, SLA policies and calendars, connectors, alerts.
    SETTINGS_WRITE = "settings:write"
    USERS_MANAGE = "users:manage"


_READ: Final = frozenset(
    {Permission.MENTIONS_READ, Permission.CONTENT_READ, Permission.ANALYTICS_READ}
)

#: The one table of who may do what. Every role reads; writes follow the job.
ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SMM_MANAGER: frozenset(Permission) - {Permission.USERS_MANAGE},
    Role.AGENT: _READ | {Permission.MENTIONS_WRITE, Permission.ALERTS_MANAGE},
    Role.CONTENT_MANAGER: _READ | {Permission.CONTENT_WRITE},
    Role.ANALYST: _READ | {Permission.ALERTS_MANAGE},
    Role.VIEWER: _READ,
}


def roles_with(permission: Permission) -> frozenset[Role]:
    """The roles that grant ``permission``."""
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: subject, roles and the brands it may see."""

    subject: str
    roles: frozenset[Role]
    #: Brand ids; ``{"*"}`` (ALL_BRANDS) means every brand and needs the admin role.
    brands: frozenset[str]
    token_id: str | None = None
    name: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        if not self.subject:
            raise ValueError("a principal needs a subject")
        if not self.roles:
            raise ValueError("a principal needs at least one role")
        if not all(isinstance(role, Role) for role in self.roles):
            raise ValueError("roles must be Role members")
        if not all(isinstance(brand, str) and brand for brand in self.brands):
            raise ValueError("brand ids must be non-empty strings")
        if ALL_BRANDS in self.brands and Role.ADMIN not in self.roles:
            raise ValueError('the all-brands wildcard "*" is allowed only for admin')

    @property
    def is_admin(self) -> bool:
        """Whether the principal holds the admin role."""
        return Role.ADMIN in self.roles

    def has_any_role(self, roles: Iterable[Role]) -> bool:
        """Whether the principal holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    def can(self, permission: Permission) -> bool:
        """Whether one of the principal's roles grants ``permission``."""
        return any(permission in ROLE_PERMISSIONS[role] for role in self.roles)

    def can_access(self, brand_id: str) -> bool:
        """Whether the principal may see ``brand_id``."""
        # The admin check repeats __post_init__'s rule on purpose: this is the line that
        # keeps brand A's users out of brand B, so it must not rely on how it was built.
        if ALL_BRANDS in self.brands and self.is_admin:
            return True
        return brand_id != ALL_BRANDS and brand_id in self.brands


def issue_token(
    *,
    key: SigningKey,
    subject: str,
    roles: Iterable[Role | str],
    brands: Iterable[str],
    ttl: timedelta,
    issuer: str,
    audience: str,
    now: datetime | None = None,
    name: str | None = None,
    email: str | None = None,
    token_id: str | None = None,
) -> str:
    """Sign an ES256 access token (iss, aud, sub, iat, nbf, exp, jti, roles, brands)."""
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    # Building the principal applies the same rules the verifier applies.
    principal = Principal(
        subject=subject,
        roles=frozenset(Role(role) for role in roles),
        brands=frozenset(brands),
        token_id=token_id or uuid.uuid4().hex,
        name=name,
        email=email,
    )
    issued = int((now or datetime.now(UTC)).timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": principal.subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": principal.token_id,
        "roles": sorted(role.value for role in principal.roles),
        "brands": sorted(principal.brands),
    }
    if name is not None:
        claims["name"] = name
    if email is not None:
        claims["email"] = email
    return jwt.encode(
        claims,
        key.private_key,
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": "JWT"},
    )


def _string_list(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidTokenError(f"The token's {name!r} claim must be a list of strings")
    return value


def _optional_string(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidTokenError(f"The token's {name!r} claim must be a string")
    return value


def _principal_from(claims: Mapping[str, Any]) -> Principal:
    try:
        roles = frozenset(Role(role) for role in _string_list(claims, "roles"))
    except ValueError as exc:
        raise InvalidTokenError("The token names an unknown role") from exc
    try:
        return Principal(
            subject=_optional_string(claims, "sub") or "",
            roles=roles,
            brands=frozenset(_string_list(claims, "brands")),
            token_id=_optional_string(claims, "jti"),
            name=_optional_string(claims, "name"),
            email=_optional_string(claims, "email"),
        )
    except ValueError as exc:
        raise InvalidTokenError(f"The token's claims are not acceptable: {exc}") from exc


class TokenVerifier:
    """Checks bearer tokens against trusted public keys and returns the Principal."""

    def __init__(
        self, keys: KeySource, *, issuer: str, audience: str, leeway_s: float = 30
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s

    @classmethod
    def from_settings(
        cls, settings: AuthSettings, *, http_client: httpx.AsyncClient | None = None
    ) -> TokenVerifier:
        """A verifier over ``jwks_file`` (preferred when both are set) or ``jwks_url``."""
        # No I/O here: keys load on first use, so building the app never touches the disk.
        keys: KeySource
        if settings.jwks_file is not None:
            keys = FileKeySource(settings.jwks_file)
        elif settings.jwks_url is not None:
            keys = RemoteKeySource(settings.jwks_url, client=http_client)
        else:  # AuthSettings' own validator makes this unreachable
            raise ValueError("AuthSettings needs jwks_file or jwks_url")
        return cls(
            keys, issuer=settings.issuer, audience=settings.audience, leeway_s=settings.leeway_s
        )

    async def verify(self, token: str) -> Principal:
        """The principal a valid token names; raises an AuthError subclass otherwise."""
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidTokenError("The token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("The token is malformed") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidTokenError("The token's signing algorithm is not accepted")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("The token names no key id (kid)")
        key = await self._keys.get_key(kid)
        if algorithm != key.algorithm:
            raise InvalidTokenError("The token's algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                # From the key, never from the token (RFC 8725 section 2.1).
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpiredError("The token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidTokenError("The token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidTokenError("The token is meant for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidTokenError("The token comes from an untrusted issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidTokenError(f"The token lacks the {exc.claim!r} claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidTokenError("The token's signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("The token is malformed") from exc
        return _principal_from(claims)

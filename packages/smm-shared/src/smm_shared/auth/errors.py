"""Authentication and authorisation failures, each with a stable machine-readable code."""

from __future__ import annotations

from typing import ClassVar


class AuthError(Exception):
    """Base of auth failures; ``code`` is stable, the message is for people."""

    code: ClassVar[str] = "auth.error"


class MissingTokenError(AuthError):
    """The request carries no bearer token."""

    code = "auth.missing_token"


class InvalidTokenError(AuthError):
    """The token is malformed, badly signed, or its claims do not fit this platform."""

    code = "auth.invalid_token"


class TokenExpiredError(AuthError):
    """The token's ``exp`` has passed (beyond the allowed clock leeway)."""

    code = "auth.token_expired"


class UnknownKeyError(AuthError):
    """The token names a key id (``kid``) that no trusted JWKS holds."""

    code = "auth.unknown_key"


class KeysUnavailableError(AuthError):
    """No public keys could be loaded at all, so no token can be checked (a server fault)."""

    code = "auth.keys_unavailable"


class ForbiddenRoleError(AuthError):
    """The principal is authenticated but none of its roles grants the action."""

    code = "auth.forbidden_role"


class ForbiddenBrandError(AuthError):
    """The principal is authenticated but may not see the brand it asked for."""

    code = "auth.forbidden_brand"

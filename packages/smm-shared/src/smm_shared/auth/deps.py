"""FastAPI dependencies: the bearer token, the current principal, role and brand checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from smm_shared.auth.errors import (
    AuthError,
    ForbiddenBrandError,
    ForbiddenRoleError,
    InvalidTokenError,
    KeysUnavailableError,
    MissingTokenError,
)
from smm_shared.auth.tokens import Permission, Principal, Role, TokenVerifier, roles_with
from smm_shared.http import ApiError

# RFC 6750 section 3: a bare challenge when no token came, error="invalid_token" otherwise.
_CHALLENGE: Final = "Bearer"
_INVALID_CHALLENGE: Final = 'Bearer error="invalid_token"'


def auth_api_error(exc: AuthError) -> ApiError:
    """The HTTP form of an auth failure: 401 + challenge, 403, or 503 when keys are missing."""
    if isinstance(exc, ForbiddenRoleError | ForbiddenBrandError):
        return ApiError(403, exc.code, str(exc))
    if isinstance(exc, KeysUnavailableError):
        # The caller did nothing wrong; our trust anchors are missing. Do not blame the token.
        return ApiError(503, exc.code, "Token verification is unavailable")
    challenge = _CHALLENGE if isinstance(exc, MissingTokenError) else _INVALID_CHALLENGE
    return ApiError(401, exc.code, str(exc), headers={"WWW-Authenticate": challenge})


class BearerToken(SecurityBase):
    """Reads ``Authorization: Bearer <token>``; also declares the scheme in OpenAPI."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(bearerFormat="JWT")
        self.scheme_name = "BearerJWT"

    async def __call__(self, request: Request) -> str:
        """The raw token; 401 auth.missing_token or auth.invalid_token when absent or malformed."""
        header = request.headers.get("authorization")
        if header is None or not header.strip():
            raise auth_api_error(MissingTokenError("The request carries no bearer token"))
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise auth_api_error(
                InvalidTokenError("The Authorization header must be 'Bearer <token>'")
            )
        return parts[1]


bearer_token: Final = BearerToken()


def get_token_verifier(request: Request) -> TokenVerifier:
    """The verifier each service's create_app puts on ``app.state.token_verifier``."""
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        # A wiring bug: fail closed (500) rather than let requests through unchecked.
        raise RuntimeError("app.state.token_verifier is not set; create_app must set it")
    return verifier


async def get_principal(
    token: Annotated[str, Depends(bearer_token)],
    verifier: Annotated[TokenVerifier, Depends(get_token_verifier)],
) -> Principal:
    """The caller, from a verified bearer token; 401 with a stable code otherwise."""
    try:
        return await verifier.verify(token)
    except AuthError as exc:
        raise auth_api_error(exc) from exc


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]

PrincipalDependency = Callable[[Principal], Awaitable[Principal]]


def require_roles(*roles: Role) -> PrincipalDependency:
    """A dependency that passes the principal on if it holds one of ``roles``, else 403."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = frozenset(roles)
    needed = ", ".join(sorted(allowed))

    async def principal_with_role(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any_role(allowed):
            raise auth_api_error(ForbiddenRoleError(f"This needs one of the roles: {needed}"))
        return principal

    return principal_with_role


def require_permission(permission: Permission) -> PrincipalDependency:
    """A dependency that passes the principal on if a role grants ``permission``, else 403."""
    return require_roles(*roles_with(permission))


def ensure_brand(principal: Principal, brand_id: str) -> None:
    """Raise 403 auth.forbidden_brand unless ``principal`` may see ``brand_id``."""
    if not principal.can_access(brand_id):
        raise auth_api_error(ForbiddenBrandError("You have no access to this brand"))


async def get_brand_principal(brand_id: str, principal: CurrentPrincipal) -> Principal:
    """The principal, checked against the route's ``brand_id`` path or query parameter."""
    # FastAPI binds brand_id to the path parameter when the route has one, else to the query.
    ensure_brand(principal, brand_id)
    return principal


BrandScoped = Annotated[Principal, Depends(get_brand_principal)]

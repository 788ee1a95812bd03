"""Connector secrets: stored encrypted (Fernet) or as a reference to an environment variable.

The API accepts ``{"value": "..."}`` (encrypted at rest with ``SMM_SECRETS_KEY``) or
``{"env": "VAR"}`` (read from this process's environment when used); it never returns
either. Values are never logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class SecretUnavailableError(LookupError):
    """A secret cannot be read now (variable unset, wrong key); says which, never the value."""


class SecretBox:
    """Encrypts secret values for storage and resolves stored references."""

    def __init__(self, key: str | None, environ: Mapping[str, str] | None = None) -> None:
        self._fernet = Fernet(key.encode()) if key else None
        self._environ = environ if environ is not None else os.environ

    @property
    def can_encrypt(self) -> bool:
        """Whether values can be stored (a key is configured)."""
        return self._fernet is not None

    def seal(self, reference: Mapping[str, Any]) -> dict[str, str]:
        """What to store for an API-given secret: ``{"env": VAR}`` or ``{"ciphertext": ...}``."""
        if "env" in reference:
            return {"env": str(reference["env"])}
        if self._fernet is None:
            raise SecretUnavailableError(
                "storing secret values needs SMM_SECRETS_KEY; or reference a variable with {'env': 'NAME'}"
            )
        return {"ciphertext": self._fernet.encrypt(str(reference["value"]).encode()).decode()}

    def open(self, name: str, stored: Mapping[str, str]) -> str:
        """The secret's value, for the call that needs it."""
        if "env" in stored:
            value = self._environ.get(stored["env"])
            if not value:
                raise SecretUnavailableError(
                    f"secret {name!r}: environment variable {stored['env']} is not set"
                )
            return value
        if self._fernet is None:
            raise SecretUnavailableError(
                f"secret {name!r} is encrypted but SMM_SECRETS_KEY is not set"
            )
        try:
            return self._fernet.decrypt(stored["ciphertext"].encode()).decode()
        except (InvalidToken, KeyError) as exc:
            raise SecretUnavailableError(
                f"secret {name!r} cannot be decrypted with SMM_SECRETS_KEY"
            ) from exc

"""Publishing accounts: where a brand posts from, with the token sealed at rest.

An account is a brand's presence on one network that the publisher may post from: an X user,
a Telegram channel (its bot token), a Mastodon account on an instance, a VK community, a
Facebook Page, an Instagram professional account, a YouTube channel, a Reddit user posting to
a subreddit. ``native_id`` is how the network names it (see each deliverer's docstring);
``api_base_url`` points the deliverer elsewhere than the network's public API (a Mastodon
instance, or a local fake in tests and ``make run``).

Tokens are given as ``{"value": ...}`` (encrypted with ``SMM_SECRETS_KEY``) or
``{"env": "VAR"}`` (read from the environment when used) and are never returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smm_shared.brand_store import BrandStore
from smm_shared.events import Network
from smm_shared.mongo import Collection, Document
from smm_shared.secrets import SecretBox, SecretUnavailableError


class AccountUnavailableError(LookupError):
    """The account cannot post now: missing, another brand's, or its token unreadable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Account:
    """An account ready to post from: the token is opened."""

    id: str
    brand_id: str
    network: Network
    native_id: str
    name: str
    api_base_url: str | None
    token: str = field(repr=False)


class AccountStore:
    """The ``accounts`` collection: per-brand documents with a sealed token."""

    def __init__(self, collection: Collection, secrets: SecretBox) -> None:
        self.store = BrandStore(collection, sort=(("network", 1), ("_id", 1)))
        self.secrets = secrets

    @property
    def collection(self) -> Collection:
        """The underlying collection."""
        return self.store.collection

    async def ensure_indexes(self) -> None:
        """The brand index."""
        await self.store.ensure_indexes()

    def seal(self, token: dict[str, str]) -> dict[str, str]:
        """What to store for a token given by value or by variable name."""
        return self.secrets.seal(token)

    async def docs(self, brand_id: str) -> list[Document]:
        """A brand's accounts as stored (with the sealed token)."""
        return await self.store.for_brand(brand_id)

    def _open(self, doc: Document) -> Account:
        try:
            token = self.secrets.open(f"account {doc['_id']} token", doc["token"])
        except SecretUnavailableError as exc:
            raise AccountUnavailableError("account.token_unavailable", str(exc)) from None
        return Account(
            id=str(doc["_id"]),
            brand_id=str(doc["brand_id"]),
            network=Network(doc["network"]),
            native_id=str(doc["native_id"]),
            name=str(doc.get("name") or doc["_id"]),
            api_base_url=doc.get("api_base_url") or None,
            token=token,
        )

    async def resolve(self, brand_id: str, account_id: str) -> Account:
        """The account with its token opened; AccountUnavailableError when it cannot post."""
        docs = await self.store.for_brand(brand_id)
        doc = next((d for d in docs if d["_id"] == account_id), None)
        if doc is None:
            raise AccountUnavailableError(
                "account.missing",
                f"The publishing account {account_id!r} does not exist (any more) for this "
                "brand; connect it again or choose another account.",
            )
        if not doc.get("enabled", True):
            raise AccountUnavailableError(
                "account.disabled",
                f"The publishing account {account_id!r} is switched off; switch it on to post.",
            )
        return self._open(doc)

    async def for_replies(self, brand_id: str, network: Network) -> Account:
        """The account that answers on ``network``: the one marked for replies, else the only one."""
        docs = [
            d
            for d in await self.store.for_brand(brand_id)
            if d["network"] == network.value and d.get("enabled", True)
        ]
        marked = [d for d in docs if d.get("replies")]
        chosen = marked[0] if marked else (docs[0] if len(docs) == 1 else None)
        if chosen is None:
            reason = (
                f"Connect a {network.value} publishing account"
                if not docs
                else f"Mark one of the {len(docs)} {network.value} accounts as the one that replies"
            )
            raise AccountUnavailableError(
                "account.no_reply_account", f"{reason} to reply on {network.value}."
            )
        return self._open(chosen)

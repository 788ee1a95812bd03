"""Console users in MongoDB: one document per user, unique by normalised email.

``{_id: ulid, email, name, password_hash, roles, brands, disabled, failed: [ms...],
locked_until_ms, lock_seq, version, created_ms, updated_ms}``

Two guards keep concurrent writers from losing each other's changes without transactions
(docs/mongo-subset.md): ``version`` guards the profile (name, roles, brands, disabled,
password) that admins edit; ``lock_seq`` guards the failed-login state that every login
attempt writes, so a mistyped password never turns an admin's edit into a conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from smm_console.domain.users import (
    EmailTakenError,
    LockState,
    User,
    UserNotFoundError,
    VersionConflictError,
    roles_from,
)
from smm_shared.auth.tokens import Role
from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes, new_id

INDEXES = (IndexSpec(["email"], unique=True),)


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user with what only the login path needs: the hash and the lock state."""

    user: User
    password_hash: str
    lock: LockState
    lock_seq: int


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What an admin edit changes; None leaves a field as it is."""

    name: str | None = None
    roles: Sequence[Role] | None = None
    brands: Sequence[str] | None = None
    disabled: bool | None = None
    password_hash: str | None = None
    #: Clear failed logins and any lock (a new password or re-enabling starts afresh).
    reset_lock: bool = False


def _user(doc: Document) -> User:
    return User(
        id=str(doc["_id"]),
        email=str(doc["email"]),
        name=str(doc.get("name") or ""),
        roles=roles_from(doc.get("roles") or ()),
        brands=tuple(str(b) for b in doc.get("brands") or ()),
        # A top-level boolean set by $set comes back as 1/0 on nx-27017 (docs/mongo-subset.md).
        disabled=bool(doc.get("disabled")),
        version=int(doc.get("version", 1)),
        created_ms=int(doc.get("created_ms", 0)),
    )


def _stored(doc: Document) -> StoredUser:
    lock = LockState(
        failures=tuple(int(t) for t in doc.get("failed") or ()),
        locked_until_ms=int(doc.get("locked_until_ms", 0)),
    )
    return StoredUser(
        user=_user(doc),
        password_hash=str(doc["password_hash"]),
        lock=lock,
        lock_seq=int(doc.get("lock_seq", 0)),
    )


class UserRepository:
    """Users of the console."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Create the unique email index."""
        await ensure_indexes(self.collection, INDEXES)

    async def insert(
        self,
        *,
        email: str,
        name: str,
        password_hash: str,
        roles: Sequence[Role],
        brands: Sequence[str],
        now_ms: int,
    ) -> StoredUser:
        """Store a new enabled user; EmailTakenError when the email is in use."""
        doc: Document = {
            "_id": new_id(),
            "email": email,
            "name": name,
            "password_hash": password_hash,
            "roles": [role.value for role in roles],
            "brands": list(brands),
            "disabled": False,
            # Stored empty, not missing: later writes $set the whole array (no $push of
            # anything but scalars, and $addToSet ignores missing arrays on nx-27017).
            "failed": [],
            "locked_until_ms": 0,
            "lock_seq": 0,
            "version": 1,
            "created_ms": now_ms,
            "updated_ms": now_ms,
        }
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            raise EmailTakenError("A user with this email address exists") from None
        return _stored(doc)

    async def get(self, user_id: str) -> StoredUser | None:
        """One user by id."""
        doc = await self.collection.find_one({"_id": user_id})
        return None if doc is None else _stored(doc)

    async def by_email(self, email: str) -> StoredUser | None:
        """One user by normalised email."""
        doc = await self.collection.find_one({"email": email})
        return None if doc is None else _stored(doc)

    async def list(self, *, limit: int = 1000) -> list[User]:
        """Users by email (a console has tens of users, not millions)."""
        # The hashes stay in the database: listing needs none of them.
        cursor = self.collection.find({}, {"failed": 0, "password_hash": 0})
        return [_user(doc) async for doc in cursor.sort("email", 1).limit(limit)]

    async def update_profile(
        self, user_id: str, change: ProfileChange, *, version: int, now_ms: int
    ) -> StoredUser:
        """Apply ``change`` if the user is still at ``version``; the user as stored after it."""
        fields: Document = {"updated_ms": now_ms}
        if change.name is not None:
            fields["name"] = change.name
        if change.roles is not None:
            fields["roles"] = [role.value for role in change.roles]
        if change.brands is not None:
            fields["brands"] = list(change.brands)
        if change.disabled is not None:
            fields["disabled"] = change.disabled
        if change.password_hash is not None:
            fields["password_hash"] = change.password_hash
        update: Document = {"$set": fields, "$inc": {"version": 1}}
        if change.reset_lock:
            fields.update({"failed": [], "locked_until_ms": 0})
            # A login attempt holding the old lock state must not write it back afterwards.
            update["$inc"]["lock_seq"] = 1
        result = await self.collection.update_one({"_id": user_id, "version": version}, update)
        stored = await self.get(user_id)
        if stored is None:
            raise UserNotFoundError("No such user")
        if result.matched_count != 1:
            raise VersionConflictError("The user was changed meanwhile; reload and try again")
        return stored

    async def save_lock(self, user_id: str, state: LockState, *, lock_seq: int) -> bool:
        """Store the failed-login state if nobody wrote it since ``lock_seq``; True if stored."""
        result = await self.collection.update_one(
            {"_id": user_id, "lock_seq": lock_seq},
            {
                "$set": {"failed": list(state.failures), "locked_until_ms": state.locked_until_ms},
                "$inc": {"lock_seq": 1},
            },
        )
        return result.matched_count == 1

    async def replace_hash(self, user_id: str, *, old_hash: str, new_hash: str) -> bool:
        """Swap in a rehash of the same password unless the password changed meanwhile."""
        # Guarded by the old hash, not the version: a rehash is no edit an admin must see.
        result = await self.collection.update_one(
            {"_id": user_id, "password_hash": old_hash}, {"$set": {"password_hash": new_hash}}
        )
        return result.matched_count == 1

"""Mention rules: identity, conversation keys and normalisation. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smm_shared.events import Attachment, Author, Mention, MentionKind, Network, new_ulid


def conversation_key(network: Network, thread_id: str) -> str:
    """The key that groups a conversation's mentions: ``network:thread``."""
    return f"{network.value}:{thread_id}"


def natural_key(brand_id: str, network: Network, native_id: str) -> str:
    """What makes a mention unique: the same native item seen twice is one mention."""
    return f"{brand_id}|{network.value}|{native_id}"


@dataclass(frozen=True, slots=True)
class MentionDraft:
    """A mention as a connector or an API client hands it in, before normalisation."""

    network: Network
    kind: MentionKind
    native_id: str
    author: Author
    text: str
    created_at: datetime
    thread_id: str | None = None
    url: str | None = None
    language: str | None = None
    parent_native_id: str | None = None
    on_own_post: bool = False
    attachments: tuple[Attachment, ...] = ()
    #: Set when the first sighting is already an edited state.
    edited_at: datetime | None = None


def normalise(draft: MentionDraft, *, mention_id: str | None = None) -> Mention:
    """Turn a draft into the normalised contract; the thread defaults to the item itself."""
    thread = draft.thread_id or draft.parent_native_id or draft.native_id
    return Mention(
        mention_id=mention_id or new_ulid(),
        network=draft.network,
        kind=draft.kind,
        native_id=draft.native_id,
        conversation_key=conversation_key(draft.network, thread),
        url=draft.url,
        author=draft.author,
        text=draft.text.strip(),
        language=draft.language.lower() if draft.language else None,
        created_at=draft.created_at,
        edited_at=draft.edited_at,
        parent_native_id=draft.parent_native_id,
        thread_native_id=thread,
        on_own_post=draft.on_own_post,
        attachments=draft.attachments,
    )

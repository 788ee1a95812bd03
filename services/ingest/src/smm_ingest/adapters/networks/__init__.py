"""Webhook payloads of the networks: secret/signature checks and parsing into domain items.

One module per network (``vk``, ``meta`` for Facebook and Instagram, ``telegram``, ``x``), each pure:
no I/O and no framework, so the HTTP layer stays thin and the rules are tested in milliseconds.
Malformed input raises only ``PayloadError``; content that is not a mention lands in
``ParsedPayload.ignored`` with a reason.
"""

from smm_ingest.adapters.networks import (
    mastodon,
    meta,
    reddit,
    telegram,
    vk,
    vk_streaming,
    x,
    youtube,
)

__all__ = ["mastodon", "meta", "reddit", "telegram", "vk", "vk_streaming", "x", "youtube"]

"""Replies: per-network length limits, canned responses with variables, approval and states.

Limits are each network's documented maximum for a reply in a thread (a comment, a reply
tweet, a chat message). X counts characters as "weighted" code points (most CJK count 2)
and every URL as 23; we count code points and URLs as 23, which is exact for the Latin,
Cyrillic and Tagalog text our brands write and errs long, never short, elsewhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from smm_shared.events import Network

#: The longest reply each network accepts (characters).
REPLY_LIMITS: Final[Mapping[Network, int]] = {
    Network.X: 280,
    Network.VK: 16_384,  # wall.createComment / messages.send message length
    Network.FACEBOOK: 8_000,
    Network.INSTAGRAM: 2_200,
    Network.TELEGRAM: 4_096,
    Network.YOUTUBE: 10_000,
    Network.MASTODON: 500,  # the default instance limit
    Network.REDDIT: 10_000,
}
X_URL_LENGTH: Final = 23
_URL = re.compile(r"https?://\S+")
_VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


class ReplyState(StrEnum):
    """Where a reply is: waiting for a manager, sent to the publisher, posted or failed."""

    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    REQUESTED = "requested"
    PUBLISHED = "published"
    FAILED = "failed"


class ReplyError(ValueError):
    """A reply cannot be sent as written; ``code`` is stable for APIs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def reply_length(network: Network, text: str) -> int:
    """The length the network counts for ``text``."""
    if network is Network.X:
        return len(_URL.sub("x" * X_URL_LENGTH, text))
    return len(text)


def check_reply(network: Network, text: str) -> str:
    """The reply text, stripped; ReplyError when empty or over the network's limit."""
    body = text.strip()
    if not body:
        raise ReplyError("reply.empty", "A reply needs some text.")
    limit = REPLY_LIMITS[network]
    length = reply_length(network, body)
    if length > limit:
        raise ReplyError(
            "reply.too_long",
            f"{network.value} accepts {limit} characters in a reply; this one has {length}. "
            f"Shorten it by {length - limit}.",
        )
    return body


#: Variables a canned response may use, and what they mean.
VARIABLES: Final[Mapping[str, str]] = {
    "author_name": "the customer's display name (or handle)",
    "author_handle": "the customer's handle, with @",
    "agent_name": "the name of the agent sending the reply",
    "case_id": "the case number",
    "brand": "the brand's name",
    "department_answer": "the latest answer of the department the case was handed to",
}


def template_variables(template: str) -> set[str]:
    """The variables a template uses."""
    return set(_VARIABLE.findall(template))


def check_template(template: str) -> None:
    """ReplyError when a canned response uses a variable we do not know."""
    unknown = template_variables(template) - set(VARIABLES)
    if unknown:
        known = ", ".join(f"{{{{{v}}}}}" for v in VARIABLES)
        raise ReplyError(
            "canned.unknown_variable",
            f"Unknown variable(s) {', '.join(sorted(unknown))}; use one of {known}.",
        )


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill a canned response; a variable without a value becomes empty text."""
    check_template(template)
    return _VARIABLE.sub(lambda m: values.get(m.group(1), ""), template)


def reply_id(case_id: str, idempotency_key: str) -> str:
    """The reply's id from the client's idempotency key: a double click sends one reply."""
    digest = hashlib.sha256(f"{case_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"r{digest[:25]}"


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """When a reply waits for a manager: per agent, or by the case's sensitivity."""

    #: Priorities whose replies need approval (e.g. urgent complaints).
    priorities: frozenset[str] = frozenset()
    #: Case tags that need approval (e.g. ``legal``, ``press``).
    tags: frozenset[str] = frozenset()
    #: Departments whose cases need approval.
    departments: frozenset[str] = frozenset()

    def needs_approval(
        self,
        *,
        agent_requires: bool,
        priority: str,
        tags: frozenset[str],
        department: str | None,
        sender_is_manager: bool,
    ) -> bool:
        """Whether the reply must wait; a manager's own replies never do."""
        if sender_is_manager:
            return False
        return (
            agent_requires
            or priority in self.priorities
            or bool(tags & self.tags)
            or (department is not None and department in self.departments)
        )

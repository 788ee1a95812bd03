"""A stand-in for the broker in tests of outbox relays: records what would be published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smm_shared.events import decode_event
from smm_shared.messaging import OutgoingMessage


@dataclass
class Sent:
    """Messages a relay published (pass it as the relay's sender), decoded on demand."""

    messages: list[OutgoingMessage] = field(default_factory=list)

    async def __call__(self, message: OutgoingMessage) -> None:
        self.messages.append(message)

    def events(
        self, event_type: str | None = None, case_id: str | None = None, **match: Any
    ) -> list[Any]:
        """The events published in order, of one ``ce_type`` and with these field values."""
        if case_id is not None:
            match["case_id"] = case_id
        out = []
        for m in self.messages:
            ce_type = dict(m.headers)["ce_type"]
            if event_type is not None and ce_type != event_type:
                continue
            event = decode_event(ce_type, m.body)
            if all(getattr(event, k, None) == v for k, v in match.items()):
                out.append(event)
        return out

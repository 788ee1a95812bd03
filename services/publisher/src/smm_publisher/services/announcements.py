"""Announcing a contest's winners is a post like any other: a draft content item to approve."""

from __future__ import annotations

from smm_publisher.adapters.accounts import AccountStore
from smm_publisher.adapters.contests_repo import ContestRepository
from smm_publisher.domain.content import ContentError
from smm_publisher.domain.contests import Certificate, Contest
from smm_publisher.services.content import Actor, ContentService
from smm_publisher.services.contests import Announcer


def _text(contest: Contest, winners: list[str], certificate: Certificate) -> str:
    name = contest.title or "our contest"
    return (
        f"The winners of {name}: {', '.join(winners)}. Congratulations! "
        f"The draw is verifiable: seed {certificate.seed[:16]}…, "
        f"committed as {certificate.commitment[:16]}… when the contest opened."
    )


def contest_announcer(
    content: ContentService, contests: ContestRepository, accounts: AccountStore
) -> Announcer:
    """The announcer the contest service calls: a draft on the contest's network."""

    async def announce(contest: Contest, certificate: Certificate, actor: str) -> str:
        winners: list[str] = []
        for key in certificate.winners:
            entries = await contests.author_entries(contest.id, key)
            handles = [(e.get("entry") or {}).get("author_handle") for e in entries]
            handle = next((str(h) for h in handles if h), None)
            winners.append(f"@{handle.lstrip('@')}" if handle else key.split("|", 1)[-1])
        targets = [
            str(d["_id"])
            for d in await accounts.docs(contest.brand_id)
            if d["network"] == contest.network.value and d.get("enabled", True)
        ][:1]
        fields = {
            "brand_id": contest.brand_id,
            "title": f"Winners: {contest.title or contest.id}"[:300],
            "targets": targets,
            "labels": ["contest"],
        }
        by = Actor(actor, frozenset())
        text = _text(contest, winners or ["no eligible entries"], certificate)
        try:
            doc = await content.create(
                {**fields, "variants": [{"network": contest.network.value, "text": text}]}, by
            )
        except ContentError:
            # Too long for the network: name the count and let a person finish the text.
            short = f"{len(winners)} winners of {contest.title or 'our contest'} are drawn!"
            doc = await content.create(
                {**fields, "variants": [{"network": contest.network.value, "text": short}]}, by
            )
        return str(doc["_id"])

    return announce

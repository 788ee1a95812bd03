"""Enrichment of a normalised mention: language, sentiment, brand/competitor keywords, topics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from smm_ingest.domain.enrichment import LanguageDetector
from smm_ingest.domain.keywords import KeywordRule, match_rules
from smm_shared.events import Mention, Sentiment


class SentimentScorer(Protocol):
    """What the pipeline needs of sentiment: a label for a text in a language (or unknown)."""

    def analyze(self, text: str, language: str) -> Sentiment:
        """Sentiment of ``text``; ``unknown`` when no analyzer covers ``language``."""
        ...


RulesFor = Callable[[str], Awaitable[Sequence[KeywordRule]]]


class Enricher:
    """Adds what the network did not tell us; never invents a value it cannot compute."""

    def __init__(
        self,
        *,
        detector: LanguageDetector | None,
        sentiment: SentimentScorer | None,
        rules_for: RulesFor | None,
    ) -> None:
        self._detector = detector
        self._sentiment = sentiment
        self._rules_for = rules_for

    async def enrich_all(self, brand_id: str, mentions: Sequence[Mention]) -> list[Mention]:
        """Enrich a batch; CPU-bound model calls run off the event loop."""
        rules = list(await self._rules_for(brand_id)) if self._rules_for else []
        return await asyncio.to_thread(lambda: [self._enrich(m, rules) for m in mentions])

    def _enrich(self, mention: Mention, rules: list[KeywordRule]) -> Mention:
        update: dict[str, object] = {}
        language = mention.language
        if language is None and self._detector is not None:
            language = self._detector.detect(mention.text)
            if language is not None:
                update["language"] = language
        if (
            self._sentiment is not None
            and language is not None
            and mention.sentiment.label == "unknown"
        ):
            update["sentiment"] = self._sentiment.analyze(mention.text, language)
        if rules:
            matched = match_rules(mention.text, rules)
            update["keywords"] = tuple(dict.fromkeys((*mention.keywords, *matched.keywords)))
            update["topics"] = tuple(dict.fromkeys((*mention.topics, *matched.topics)))
        return mention.model_copy(update=update) if update else mention

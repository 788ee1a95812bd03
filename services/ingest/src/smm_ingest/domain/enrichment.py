"""Enrichment interfaces: language, sentiment and keyword matching. Pure Python.

Implementations live in ``smm_ingest.adapters.enrichment``; the pipeline only sees these.
"""

from __future__ import annotations

from typing import Protocol

from smm_shared.events import Sentiment


class LanguageDetector(Protocol):
    """Detects the language of short, mixed social text."""

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code (``en``, ``ru``, ``tl``...), or None when it cannot tell."""
        ...


class SentimentAnalyzer(Protocol):
    """Scores sentiment for the languages it supports."""

    name: str

    def supports(self, language: str) -> bool:
        """Whether this analyzer has a model for ``language`` (ISO 639-1)."""
        ...

    def analyze(self, text: str, language: str) -> Sentiment:
        """Label and score in [-1, 1] of ``text`` written in ``language``."""
        ...

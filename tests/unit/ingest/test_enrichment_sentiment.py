"""VADER for English and the router that never invents a score for other languages."""

from __future__ import annotations

import pytest

from smm_ingest.adapters.enrichment.sentiment import (
    SentimentRouter,
    UnsupportedLanguageError,
    VaderAnalyzer,
    build_sentiment,
)
from smm_ingest.domain.enrichment import SentimentAnalyzer
from smm_shared.events import Sentiment
from smm_shared.events.mentions import SentimentLabel

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def vader() -> VaderAnalyzer:
    return VaderAnalyzer()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Best customer service ever, thank you so much! 😍", "positive"),
        ("I love the new app, it is great", "positive"),
        ("Your app is useless and support is terrible 😡", "negative"),
        ("Worst bank ever. I hate this.", "negative"),
        ("What are your opening hours on Sunday?", "neutral"),
        ("The parcel is at the depot.", "neutral"),
    ],
)
def test_vader_labels_clear_english(vader: VaderAnalyzer, text: str, label: str) -> None:
    result = vader.analyze(text, "en")

    assert result.label == label
    assert result.analyzer == "vader"
    assert result.score is not None
    assert -1.0 <= result.score <= 1.0


def test_vader_score_is_the_compound_and_the_label_follows_its_thresholds(
    vader: VaderAnalyzer,
) -> None:
    positive = vader.analyze("great", "en")
    negative = vader.analyze("awful", "en")
    neutral = vader.analyze("the box", "en")

    assert positive.score is not None
    assert positive.score >= 0.05
    assert negative.score is not None
    assert negative.score <= -0.05
    assert neutral.score == 0.0
    assert neutral.label == "neutral"


def test_vader_negation_flips_the_label(vader: VaderAnalyzer) -> None:
    assert vader.analyze("the update is good", "en").label == "positive"
    assert vader.analyze("the update is not good", "en").label == "negative"


def test_vader_empty_text_is_unknown_not_neutral(vader: VaderAnalyzer) -> None:
    assert vader.analyze("   ", "en") == Sentiment(label="unknown", score=None, analyzer="vader")


def test_vader_supports_only_english(vader: VaderAnalyzer) -> None:
    assert vader.supports("en")
    assert not vader.supports("ru")
    with pytest.raises(UnsupportedLanguageError, match="'ru'"):
        vader.analyze("Ужасный сервис", "ru")


@pytest.mark.parametrize("language", ["ru", "tl", "es", "pt", "de", "fr", "uk", None])
def test_router_reports_unknown_without_a_score_for_uncovered_languages(
    vader: VaderAnalyzer, language: str | None
) -> None:
    router = SentimentRouter([vader])

    result = router.analyze("Terrible, terrible service 😡", language)

    assert result == Sentiment(label="unknown", score=None, analyzer=None)


def test_router_sends_english_to_vader(vader: VaderAnalyzer) -> None:
    result = SentimentRouter([vader]).analyze("Terrible, terrible service", "en")

    assert result.label == "negative"
    assert result.analyzer == "vader"


class Fixed:
    """An analyzer that answers one label for its languages: to observe the router's choice."""

    def __init__(self, name: str, languages: set[str], label: SentimentLabel) -> None:
        self.name = name
        self.languages = languages
        self.label = label

    def supports(self, language: str) -> bool:
        return language in self.languages

    def analyze(self, text: str, language: str) -> Sentiment:
        return Sentiment(label=self.label, score=0.5, analyzer=self.name)


def test_router_picks_the_first_analyzer_supporting_the_language() -> None:
    first: SentimentAnalyzer = Fixed("first", {"de"}, "positive")
    second: SentimentAnalyzer = Fixed("second", {"de", "fr"}, "negative")
    router = SentimentRouter([first, second])

    assert router.analyze("x", "de").analyzer == "first"
    assert router.analyze("x", "fr").analyzer == "second"
    assert router.analyze("x", "es").label == "unknown"
    assert router.supports("fr")
    assert not router.supports("es")


def test_build_sentiment_without_models_is_vader_only() -> None:
    router = build_sentiment(None)

    assert [analyzer.name for analyzer in router.analyzers] == ["vader"]
    assert router.analyze("Awful service", "en").label == "negative"
    assert router.analyze("Ужасный сервис", "ru").label == "unknown"

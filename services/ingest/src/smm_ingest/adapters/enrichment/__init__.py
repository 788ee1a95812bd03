"""Language and sentiment enrichment behind the Protocols of ``smm_ingest.domain.enrichment``."""

from smm_ingest.adapters.enrichment.language import (
    DEFAULT_LANGUAGES,
    LinguaDetector,
    clean_social_text,
)
from smm_ingest.adapters.enrichment.sentiment import (
    ModelDirectoryError,
    OnnxSentimentAnalyzer,
    SentimentRouter,
    UnsupportedLanguageError,
    VaderAnalyzer,
    build_sentiment,
)

__all__ = [
    "DEFAULT_LANGUAGES",
    "LinguaDetector",
    "ModelDirectoryError",
    "OnnxSentimentAnalyzer",
    "SentimentRouter",
    "UnsupportedLanguageError",
    "VaderAnalyzer",
    "build_sentiment",
    "clean_social_text",
]

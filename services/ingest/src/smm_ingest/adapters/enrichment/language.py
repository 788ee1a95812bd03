"""Language detection of short social text with lingua."""

from __future__ import annotations

import re
from collections.abc import Iterable

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

#: The languages our brands hear from most; configurable per deployment.
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "ru", "tl", "es", "pt", "de", "fr", "uk")

_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|\b(?:[\w-]+\.)+[a-z]{2,}/\S*"  # a bare domain with a path
    # A bare domain without a path only with a TLD that is no word of ours: "bueno.es que"
    # (a missing space, common in posts) must keep its Spanish "es".
    r"|\b(?:[\w-]+\.)+(?:com|net|org|io|ly|app|ru|ua|ph|br)\b"
)
_HANDLE = re.compile(r"(?<![\w@])@\w+(?:\.\w+)*(?:@\w+(?:[.-]\w+)+)?")
_HASH = re.compile(r"(?<![\w#])#(?=\w)")
# Pictographs, dingbats, arrows, flags, skin tones, variation selectors and joiners.
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"
    "\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\u3030\u303d\u3297\u3299\ufe00-\ufe0f\u200d\u20e3"
    "\U000e0000-\U000e007f"
    "]+"
)
# ASCII emoticons (:) ;-( xD <3): their letters are not words of any language.
_EMOTICON = re.compile(r"(?<!\w)(?:[:;=8][-'^]?[()\[\]DPpOo3/\\|*]+|[xX]D+|<3+)(?!\w)")
_REPEATED_PUNCTUATION = re.compile(r"([^\w\s])\1+")
# "soooo gooood": three or more of a letter become two, a pair being common in real words.
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_SPACES = re.compile(r"\s+")


def clean_social_text(text: str) -> str:
    """Text without URLs, handles, emojis, emoticons and hashtags' ``#``; runs of punctuation cut to one."""
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _HASH.sub("", text)
    text = _EMOJI.sub(" ", text)
    text = _EMOTICON.sub(" ", text)
    text = _REPEATED_PUNCTUATION.sub(r"\1", text)
    text = _STRETCHED.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


def _language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code.strip().upper()))
    except ValueError as error:
        raise ValueError(f"unknown or unsupported ISO 639-1 language code {code!r}") from error


class LinguaDetector:
    """A LanguageDetector over lingua, restricted to the languages we expect to hear."""

    def __init__(
        self,
        languages: Iterable[str] = DEFAULT_LANGUAGES,
        *,
        min_confidence: float = 0.5,
        min_letters: int = 3,
        preload: bool = False,
    ) -> None:
        """Build the detector; ``preload`` loads the models now instead of on the first text (~2.5 s)."""
        chosen = list(dict.fromkeys(_language(code) for code in languages))
        if len(chosen) < 2:
            raise ValueError("language detection needs at least two languages to choose between")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], not {min_confidence}")
        self.languages: tuple[str, ...] = tuple(lang.iso_code_639_1.name.lower() for lang in chosen)
        self.min_confidence = min_confidence
        self.min_letters = min_letters
        # Low-accuracy mode stays off: it drops the long n-grams that short posts need.
        builder = LanguageDetectorBuilder.from_languages(*chosen)
        if preload:
            builder = builder.with_preloaded_language_models()
        self._detector = builder.build()

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of ``text``, or None when too little is left to tell or lingua is unsure."""
        cleaned = clean_social_text(text)
        if sum(char.isalpha() for char in cleaned) < self.min_letters:
            return None
        values = self._detector.compute_language_confidence_values(cleaned)
        if not values or values[0].value < self.min_confidence:
            return None
        return values[0].language.iso_code_639_1.name.lower()

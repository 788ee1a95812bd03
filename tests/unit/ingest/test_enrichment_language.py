"""Language detection of short social text with lingua (models ship inside the package)."""

from __future__ import annotations

import pytest

from smm_ingest.adapters.enrichment.language import (
    DEFAULT_LANGUAGES,
    LinguaDetector,
    clean_social_text,
)

pytestmark = pytest.mark.unit

CLEAR_TEXTS = {
    "en": [
        "Your app keeps crashing since the last update",
        "Thanks for the quick delivery, everything arrived safe!",
        "How do I change my delivery address?",
    ],
    "ru": [
        "Приложение опять не работает, верните деньги",
        "Спасибо большое за быструю доставку!",
        "Подскажите, как поменять адрес доставки?",
    ],
    "tl": [
        "Bakit hindi gumagana yung app niyo?",
        "Salamat po sa mabilis na delivery!",
        "Paano po magpalit ng address?",
    ],
    "es": [
        "La aplicación no funciona desde ayer",
        "Muchas gracias por el envío tan rápido",
        "¿Cómo puedo cambiar la dirección de entrega?",
    ],
    "pt": [
        "O aplicativo não funciona desde ontem",
        "Muito obrigado pela entrega rápida!",
        "Como faço pra mudar o endereço de entrega?",
    ],
    "de": [
        "Die App stürzt seit dem Update ständig ab",
        "Vielen Dank für die schnelle Lieferung!",
        "Wie kann ich meine Lieferadresse ändern?",
    ],
    "fr": [
        "L'application ne marche plus depuis hier",
        "Merci beaucoup pour la livraison rapide !",
        "Comment je peux changer l'adresse de livraison ?",
    ],
    "uk": [
        "Застосунок знову не працює, поверніть гроші",
        "Щиро дякую за швидку доставку!",
        "Підкажіть, як змінити адресу доставки?",
    ],
}


@pytest.fixture(scope="module")
def detector() -> LinguaDetector:
    # One detector for the module: lingua loads each language's models once per process.
    return LinguaDetector()


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, texts in CLEAR_TEXTS.items() for text in texts],
)
def test_detects_clear_short_texts(detector: LinguaDetector, language: str, text: str) -> None:
    assert detector.detect(text) == language


def test_detects_through_social_noise(detector: LinguaDetector) -> None:
    text = "@NovaBank приложение опять не работает!!!!! 😡😡😡 https://t.co/x1 #сбой"

    assert detector.detect(text) == "ru"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t",
        "😀😂🔥👍🏽🇵🇭",
        "https://example.com/some/path?x=1",
        "www.example.org",
        "@acme @globex",
        "12345 !!! ???",
        "ok",
        ":) <3 xD",
    ],
)
def test_nothing_to_detect_is_none(detector: LinguaDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_below_the_confidence_threshold_is_none() -> None:
    # "gracias amigo" is Spanish, but Portuguese is close: lingua's relative confidence is ~0.64.
    assert LinguaDetector(min_confidence=0.5).detect("gracias amigo") == "es"
    assert LinguaDetector(min_confidence=0.8).detect("gracias amigo") is None


def test_only_the_configured_languages_are_answered() -> None:
    detector = LinguaDetector(["en", "de"])

    assert detector.languages == ("en", "de")
    assert detector.detect("Vielen Dank für die schnelle Lieferung!") == "de"
    assert detector.detect("Muchas gracias por el envío tan rápido") in {"en", "de", None}


def test_default_languages_cover_the_eight_we_monitor() -> None:
    assert set(DEFAULT_LANGUAGES) == {"en", "ru", "tl", "es", "pt", "de", "fr", "uk"}
    assert set(LinguaDetector(preload=False).languages) == set(DEFAULT_LANGUAGES)


def test_preloaded_detector_answers_the_same() -> None:
    text = CLEAR_TEXTS["uk"][0]

    assert LinguaDetector(["ru", "uk"], preload=True).detect(text) == "uk"


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["en", "xx"], "unknown or unsupported ISO 639-1 language code 'xx'"),
        (["en"], "at least two languages"),
    ],
)
def test_bad_language_configuration_is_refused(codes: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinguaDetector(codes)


def test_bad_confidence_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="min_confidence"):
        LinguaDetector(min_confidence=1.5)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("@NovaBank your app 😡😡 is down", "your app is down"),
        ("see https://t.co/abc and www.acme.com/help now", "see and now"),
        ("loving it #acme #BestBank", "loving it acme BestBank"),
        ("whyyyy!!!!! sooooo slow??? 10000 times", "whyy! soo slow? 10000 times"),
        (
            "Gracias.Me encanta, bueno.es que acme.com/x y acme.com no",
            "Gracias.Me encanta, bueno.es que y no",
        ),
        ("mail support@acme.com or @acme", "mail or"),
        ("thanks :) <3 xD", "thanks"),
        ("☕️❤️ кофе 👍🏽", "кофе"),
    ],
)
def test_clean_social_text(text: str, cleaned: str) -> None:
    assert clean_social_text(text) == cleaned

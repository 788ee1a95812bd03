"""How every service compares words: one folding, so a word ingest matched matches everywhere.

NFKC (twice around case folding, as Unicode recommends for caseless matching), case folded,
stray combining marks dropped (stress marks in Russian, decomposed accents NFKC left
behind), and the Russian yo read as ie (Russian writers use either).
"""

from __future__ import annotations

import re
import unicodedata

STRAY_MARKS = re.compile(r"[\u0300-\u036f\u0483-\u0489]")
_FOLD = str.maketrans({"ё": "е"})


def normalise(text: str) -> str:
    """The form in which words are compared (ingest keyword rules, responder routing,
    analytics terms)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return STRAY_MARKS.sub("", folded).translate(_FOLD)

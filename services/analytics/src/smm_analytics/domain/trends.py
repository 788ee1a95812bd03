"""Trend and crisis detection math: terms of a mention, rising terms, negative-volume spikes.

Pure Python, standard library only (no scipy in the workspace): the tail probabilities are
computed here with ``math``. Storage, hour windows and alert episodes live elsewhere; this
module only answers "which terms rose?" and "is this hour's negative volume a spike?".

**Terms** (:func:`terms_of`): hashtags (``#tag``, kept with the ``#``) and plain words, in
one normal form, each counted once per mention.

**Rising terms** (:func:`rising_terms`): the share of mentions carrying a term in the current
window (one hour) against its share in the baseline window (the 12 hours before), tested
with the log-likelihood ratio G-test of the 2x2 table (Dunning 1993, "Accurate methods for
the statistics of surprise and coincidence"), with a continuity correction and a one-sided
p-value; Benjamini-Hochberg over every tested term controls the false discovery rate.
Shares, not hourly rates, are compared: when the whole volume doubles no term "rises"
(a volume surge is :func:`negative_spike`'s business).

**Negative spikes** (:func:`negative_spike`): the current hour's count of negative mentions
against the median of the same hour on previous days (seasonality) and the median of the
recent hours; a Poisson upper-tail p-value against the larger of the two, a ratio gate and
a minimum volume. Social counts are overdispersed (more variable than Poisson), so Poisson
p-values alone are optimistic; the ratio gate and the minimum volume keep alerts for
changes a person would call a spike.
"""

from __future__ import annotations

import functools
import math
import re
import statistics
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from smm_shared.text import normalise as fold_words

# --- Terms -------------------------------------------------------------------------------

#: Shortest plain word that can be a term (letters; apostrophes do not count).
MIN_WORD_LENGTH = 3
#: Longest term (word, or hashtag without its ``#``) kept. Longer runs are CJK sentences
#: without spaces (segmentation is out of scope), base64 or keyboard mashing.
MAX_TERM_LENGTH = 50


@functools.cache
def _mark_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The hashtag and token patterns, whose characters include every combining mark.

    Python's ``\\w`` does not match combining marks (Mn, Mc, Me), which would cut Hindi,
    Thai or pointed Hebrew words into fragments, and ``re`` has no ``\\p{M}``. The class is
    built from the Basic Multilingual Plane (where the marks of every living script are)
    on first use, ~70 ms once per process, so that importing this module stays cheap.
    """
    categories = "".join([c[0] for c in map(unicodedata.category, map(chr, range(0x10000)))])
    marks = "".join(
        f"\\u{run.start():04x}-\\u{run.end() - 1:04x}" for run in re.finditer("M+", categories)
    )
    # ``&`` excluded before ``#`` so HTML entities (``&#39;``) are not hashtags.
    hashtag = re.compile(rf"(?<![\w&{marks}])#([\w{marks}]+)")
    token = re.compile(rf"[\w'{marks}]+")
    return hashtag, token


# Same normal form as ingest's keyword matching (services never import each other, so the
# few lines are repeated): NFKC, case folding, stray combining marks dropped (Russian stress
# marks, Zalgo noise), the Russian letter yo read as ie.
#: Typographic apostrophes read as ``'`` (French elision, English ``'s``).
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})
# A URL with a scheme or ``www.``, or a bare domain followed by a path (``acme.com/help``;
# without a path, ``end.the`` is more often a missing space than a domain). The lookbehinds
# start a match only at the beginning of an address (``(https://...)`` still matches).
_URL = re.compile(
    r"(?<![\w.+-])(?:[a-z][a-z0-9+.-]*://\S+|www\.\S+|\w+(?:[.-]\w+)*\.[a-z]{2,}/\S*)"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@\w+(?:[.-]\w+)+")
# A handle: ``@`` not glued to a word, inner dots (Instagram) and an optional Mastodon
# ``@instance``.
_HANDLE = re.compile(r"(?<![\w@])@\w+(?:\.\w+)*(?:@\w+(?:[.-]\w+)+)?")
_HAS_LETTER = re.compile(r"[^\W\d_]")
# Inside a token: digits or underscores make it a number, code or id (``order123``), not a
# word; a doubled apostrophe is quoting, not a word.
_NOT_A_WORD = re.compile(r"[\d_]|''")
# Elided articles and pronouns glued by an apostrophe (French ``l'``, ``qu'``; Italian and
# Catalan alike): ``l'entreprise`` is the word ``entreprise``.
_ELISIONS = frozenset(
    {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
)


def normalise(text: str) -> str:
    """The form in which terms are compared: NFKC, case folded, stray marks dropped."""
    return fold_words(text).translate(_APOSTROPHES)


def _words(text: str) -> frozenset[str]:
    return frozenset(normalise(word) for word in text.split())


# Deliberately small lists of function words (about a hundred per language, of at least
# MIN_WORD_LENGTH letters: shorter words never become terms anyway). They are not the full
# Snowball/NLTK lists; a frequent word they miss is common in both windows, so it does not
# rise. Sentiment-bearing words (good, bien, хорошо) are not stopwords: a crisis shows in them.
_WEB_STOPWORDS = _words("http https www com org net html amp via")
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """the and for are but not you your yours yourself yourselves all any can could had
        has have having her hers herself him himself his how its itself was were will would
        one our ours ourselves out she them themselves they their theirs this that these
        those what which who whom whose why when where with within without from into onto
        upon about above after again against among because been before being below between
        both down during each few further here just more most much must nor now off once
        only other over own same should some such than then there through too under until
        very yet also did does doing done get got gets getting let lol omg yeah okay etc
        don't doesn't didn't isn't aren't wasn't weren't won't wouldn't can't cannot couldn't
        shouldn't haven't hasn't hadn't i'm i've i'll i'd you're you've you'll you'd he's
        she's it's we're we've we'll we'd they're they've they'll they'd that's there's
        here's what's let's ain't gonna wanna"""
    ),
    "ru": _words(
        """что как все она так его только мне было вот меня еще нет теперь когда даже вдруг
        если уже или быть был него вас нибудь опять вам ведь там потом себя ничего может
        они тут где есть надо ней для тебя чем была сам чтоб без будто чего раз тоже себе
        под будет тогда кто этот того потому этого какой совсем ним здесь этом один почти мой
        тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два другой хоть
        после над больше тот через эти нас про всего них какая много разве три эту моя
        впрочем свою этой перед иногда чуть том нельзя такой более всегда конечно всю между
        это эта очень свой своя своих который которая которые которых также просто весь
        вся оно мои мою наш наша наши ваш ваша ваши тебе тобой нам ими ему"""
    ),
    "es": _words(
        """que los las del por con una para como más pero sus este esta esto estos estas ese
        esa eso esos esas entre cuando muy sin sobre también hasta hay donde quien desde
        todo todos todas nos durante uno unos unas contra otros otra otro otras mis tus les
        fue ser son está están estoy estamos era eran han has hemos había porque qué cómo
        cuál cuándo dónde quién así aquí allí ahora mismo cada sido tiene tienen tengo tener
        hace hacer solo sólo ella ellos ellas usted ustedes nosotros vosotros mío mía suyo
        suya algo nada tan sea puede pues"""
    ),
    "de": _words(
        """der die das und den dem des ein eine einer eines einem einen ist sind war waren
        nicht mit von für auf aus bei nach über unter vor zum zur ich sie wir ihr mich dich
        sich uns euch mein dein sein unser euer meine deine seine ihre unsere auch als wie
        wenn dass daß oder aber doch noch nur schon sehr mehr hat haben habe hatte wird
        werden wurde kann können muss müssen soll sollen will wollen man was wer hier dort
        dann denn weil bis durch gegen ohne zwischen alle alles diese dieser dieses jetzt
        immer nichts etwas kein keine keinen nein ins vom beim mir dir ihm ihn ihnen"""
    ),
    "fr": _words(
        """les des une est que qui dans pour pas sur par plus avec son ses sont ont aux elle
        elles ils nous vous leur leurs mais comme tout tous toute toutes cette ces cet fait
        été être avoir était sans aussi très peut où quand même donc alors car ceci cela ça
        lui moi toi mon ton mes tes notre votre nos vos dont quoi suis sommes êtes avait
        avons avez entre encore déjà ici rien quel quelle quels quelles sont vers chez"""
    ),
    "pt": _words(
        """que não uma para com por mais dos das como mas foi ele ela eles elas seu sua seus
        suas isso isto esse essa este esta nos nas pelo pela pelos pelas está estão estou
        são ser tem têm ter muito quando também até sem sobre entre depois aqui você
        vocês nós meu minha teu tua num numa onde quem porque qual era eram há ainda mesmo
        tudo todos todas nada algo só dela dele deles delas aos"""
    ),
}
#: Languages with a built-in stopword list (ISO 639-1).
STOPWORD_LANGUAGES = frozenset(_STOPWORDS)
_UNKNOWN_LANGUAGE_STOPWORDS = frozenset().union(*_STOPWORDS.values(), _WEB_STOPWORDS)
_LANGUAGE_STOPWORDS = {
    code: words | _STOPWORDS["en"] | _WEB_STOPWORDS for code, words in _STOPWORDS.items()
}


def stopwords_for(language: str | None) -> frozenset[str]:
    """The words never counted as terms in text of ``language`` (ISO 639-1, ``pt-BR`` ok).

    A covered language gets its own list plus English (social text mixes English in); an
    unknown or missing language gets the union of every list, so a German ``die`` is
    dropped from English text whose language nobody detected.
    """
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return _LANGUAGE_STOPWORDS.get(code, _UNKNOWN_LANGUAGE_STOPWORDS)


def _word_term(token: str, stopwords: frozenset[str]) -> str | None:
    """The term a token stands for, or None. Plain letter words take the fast path."""
    if len(token) < MIN_WORD_LENGTH or len(token) > MAX_TERM_LENGTH + 2 or token in stopwords:
        return None
    word = token
    if not word.isalpha():
        word = word.strip("'")
        if not word or _NOT_A_WORD.search(word):
            return None
        head, apostrophe, rest = word.partition("'")
        if apostrophe and head in _ELISIONS:
            word = rest
        if word.endswith("'s"):
            word = word[:-2]
        if word in stopwords or len(word) - word.count("'") < MIN_WORD_LENGTH:
            return None
    return word if len(word) <= MAX_TERM_LENGTH else None


def terms_of(text: str, language: str | None) -> set[str]:
    """The distinct terms of one mention: folded ``#hashtags`` and words minus stopwords.

    URLs, e-mail addresses and ``@handles`` are removed first. A hashtag (a body with at
    least one letter; ``#1`` is not one) is a term of its own and not also a word; hashtags
    are never stopwords. Words are runs of letters of at least :data:`MIN_WORD_LENGTH`;
    tokens glued to digits or underscores are dropped, hyphens and other punctuation split
    words (``coca-cola`` gives ``coca`` and ``cola``), elided French articles are dropped
    (``l'avion`` gives ``avion``) and so is an English possessive ``'s``.
    """
    hashtag, token_pattern = _mark_patterns()
    terms: set[str] = set()
    kept: list[str] = []
    # URLs, addresses, handles and hashtags never contain spaces: the patterns run only on
    # the few whitespace-separated chunks that carry their marker, which is several times
    # faster than scanning the whole text with each.
    for chunk in normalise(text).split():
        part = chunk
        if "/" in part or "@" in part or "www." in part:
            part = _HANDLE.sub(" ", _EMAIL.sub(" ", _URL.sub(" ", part)))
        if "#" in part:
            for match in hashtag.finditer(part):
                body = match.group(1)
                if _HAS_LETTER.search(body) and len(body) <= MAX_TERM_LENGTH:
                    terms.add("#" + body)
            part = hashtag.sub(" ", part)
        kept.append(part)
    stopwords = stopwords_for(language)
    for token in token_pattern.findall(" ".join(kept)):
        word = _word_term(token, stopwords)
        if word is not None:
            terms.add(word)
    return terms


# --- Rising terms ------------------------------------------------------------------------

#: A term needs at least this many mentions in the current window to be tested at all.
MIN_CURRENT_MENTIONS = 5
#: Smoothed share ratio (current over baseline) a rising term must reach.
MIN_RISE_RATIO = 2.0
#: Benjamini-Hochberg false discovery rate over the tested terms.
RISING_FDR = 0.01
#: Pseudo-count added to every cell of the 2x2 table for the ratio only (as the
#: Haldane-Anscombe correction does), so a term absent from the baseline has a finite ratio.
RATIO_PSEUDOCOUNT = 0.5


class InvalidCountsError(ValueError):
    """Counts that cannot come from real windows: negative, or a term above its total."""


@dataclass(frozen=True, slots=True)
class RisingTerm:
    """A term whose share of mentions rose significantly, with the evidence."""

    term: str
    current: int
    baseline: int
    #: Smoothed ratio of the term's share now to its share in the baseline window.
    ratio: float
    #: Continuity-corrected G statistic of the 2x2 table (chi-square with 1 df under H0).
    statistic: float
    #: One-sided p-value of a rise.
    p_value: float
    #: Benjamini-Hochberg adjusted p-value over every tested term.
    q_value: float


def g_statistic(a: float, b: float, c: float, d: float, *, continuity: bool = True) -> float:
    """The log-likelihood ratio G = 2 sum O ln(O/E) of the 2x2 table ``[[a, b], [c, d]]``.

    With ``continuity`` (Yates), every cell moves half a unit towards its expected value
    (never past it), which keeps the margins and tempers the statistic for small counts.
    A table with an empty row or column has G = 0.
    """
    if min(a, b, c, d) < 0:
        raise InvalidCountsError("table cells must be non-negative")
    row1, row2, col1, col2 = a + b, c + d, a + c, b + d
    total = row1 + row2
    if 0 in (row1, row2, col1, col2):
        return 0.0
    e_a = row1 * col1 / total
    deviation = abs(a - e_a)
    if continuity:
        deviation = max(0.0, deviation - 0.5)
    # Every cell of a 2x2 table is off its expectation by the same amount, signs alternating.
    sign = 1.0 if a >= e_a else -1.0
    g = 0.0
    for expected, direction in (
        (e_a, sign),
        (row1 * col2 / total, -sign),
        (row2 * col1 / total, -sign),
        (row2 * col2 / total, sign),
    ):
        observed = expected + direction * deviation
        if observed > 0:
            g += observed * math.log(observed / expected)
    return max(0.0, 2.0 * g)


def _rise(current: int, current_total: int, baseline: int, baseline_total: int) -> float:
    """Continuity-corrected signed root of G: positive when the share rose."""
    g = g_statistic(current, current_total - current, baseline, baseline_total - baseline)
    # Exact integer comparison of the shares current/current_total and baseline/baseline_total.
    rose = current * baseline_total > baseline * current_total
    return math.sqrt(g) if rose else -math.sqrt(g)


def rise_p_value(current: int, current_total: int, baseline: int, baseline_total: int) -> float:
    """One-sided p-value that a term's share of mentions rose from baseline to current.

    The signed square root of the continuity-corrected G statistic is referred to the
    standard normal (so a rise gets half the chi-square(1) tail, erfc(sqrt(G/2)) / 2; a
    fall gets more than 1/2). With the correction it is slightly conservative: 1.1 to 1.5
    times Fisher's exact one-sided p on tables of our sizes (see the unit tests).
    """
    _check_window(current, current_total, "current")
    _check_window(baseline, baseline_total, "baseline")
    return _upper_normal(_rise(current, current_total, baseline, baseline_total))


def _upper_normal(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _check_window(count: int, total: int, window: str) -> None:
    if count < 0 or count > total:
        raise InvalidCountsError(f"{window} count {count} outside 0..{total} mentions")


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = min(1.0, running)
    return adjusted


def rising_terms(
    current: Mapping[str, int],
    current_total: int,
    baseline: Mapping[str, int],
    baseline_total: int,
    *,
    min_current: int = MIN_CURRENT_MENTIONS,
    min_ratio: float = MIN_RISE_RATIO,
    fdr: float = RISING_FDR,
    limit: int | None = None,
) -> list[RisingTerm]:
    """Terms whose share of mentions rose significantly, most significant first.

    ``current`` / ``baseline`` count the mentions carrying each term (once per mention) in
    the current window and the baseline window; ``*_total`` are all mentions of each
    window. The tested family is every term with at least ``min_current`` current mentions;
    Benjamini-Hochberg at ``fdr`` over that family, then the smoothed ratio must be at
    least ``min_ratio``. With no baseline mentions nothing can rise.
    """
    if current_total < 0 or baseline_total < 0:
        raise InvalidCountsError("window totals must be non-negative")
    tested: list[tuple[str, int, int, float]] = []
    for term, count in current.items():
        if count < min_current:
            continue
        base = baseline.get(term, 0)
        _check_window(count, current_total, "current")
        _check_window(base, baseline_total, "baseline")
        tested.append((term, count, base, _rise(count, current_total, base, baseline_total)))
    q_values = benjamini_hochberg([_upper_normal(z) for *_, z in tested])
    found: list[RisingTerm] = []
    for (term, count, base, z), q in zip(tested, q_values, strict=True):
        ratio = _smoothed_ratio(count, current_total, base, baseline_total)
        if z > 0 and q <= fdr and ratio >= min_ratio:
            found.append(RisingTerm(term, count, base, ratio, z * z, _upper_normal(z), q))
    # z (the statistic's root) orders like the p-value but does not underflow to 0.
    found.sort(key=lambda rising: (-rising.statistic, rising.term))
    return found if limit is None else found[:limit]


def _smoothed_ratio(current: int, current_total: int, baseline: int, baseline_total: int) -> float:
    pseudo = RATIO_PSEUDOCOUNT
    now = (current + pseudo) / (current_total + 2 * pseudo)
    before = (baseline + pseudo) / (baseline_total + 2 * pseudo)
    return now / before


# --- Poisson tail ------------------------------------------------------------------------

#: Above this mean the Poisson tail uses the Wilson-Hilferty approximation (relative error
#: well under 1% there) instead of exact summation, whose cost grows like sqrt(mean).
POISSON_EXACT_LIMIT = 1_000_000.0
_TAIL_EPSILON = sys.float_info.epsilon / 4


def poisson_upper_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean).

    Exact up to :data:`POISSON_EXACT_LIMIT`: the probability of one term from ``lgamma`` in
    log space, times the sum of the ratios of its neighbours (each from the last by one
    multiplication), summed over the tail that is shorter to sum: upwards from ``k`` when
    ``k > mean`` (the ratios ``mean / j`` fall below 1), else ``1 - P(X <= k - 1)`` summed
    downwards. Stable for counts in the millions; a tail below ~1e-308 is 0.
    """
    if not math.isfinite(mean) or mean < 0:
        raise ValueError(f"a Poisson mean must be finite and non-negative, not {mean}")
    if k <= 0:
        return 1.0
    if mean == 0:
        return 0.0
    if mean > POISSON_EXACT_LIMIT:
        return _wilson_hilferty_upper(k, mean)
    if k > mean:
        log_head = k * math.log(mean) - mean - math.lgamma(k + 1)
        total = term = 1.0
        j = k
        while term > total * _TAIL_EPSILON:
            j += 1
            term *= mean / j
            total += term
        return min(1.0, math.exp(log_head + math.log(total)))
    top = k - 1
    log_head = top * math.log(mean) - mean - math.lgamma(top + 1)
    total = term = 1.0
    j = top
    while j > 0 and term > total * _TAIL_EPSILON:
        term *= j / mean
        j -= 1
        total += term
    return max(0.0, 1.0 - math.exp(log_head + math.log(total)))


def _wilson_hilferty_upper(k: int, mean: float) -> float:
    # P(X >= k) = P(Gamma(k, 1) <= mean); the cube root of a gamma variable is nearly normal.
    z = ((mean / k) ** (1.0 / 3.0) - 1.0 + 1.0 / (9.0 * k)) * 3.0 * math.sqrt(k)
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


# --- Negative spikes ---------------------------------------------------------------------

#: No spike below this many negative mentions in the hour, whatever the baseline.
MIN_SPIKE_VOLUME = 10
#: Poisson p-value and observed/expected ratio a warning needs (both).
WARNING_P_VALUE = 1e-3
WARNING_RATIO = 2.0
#: Poisson p-value and observed/expected ratio a critical spike needs (both).
CRITICAL_P_VALUE = 1e-6
CRITICAL_RATIO = 4.0
#: Floor of the expected count: a brand with no negative mentions at all expects one per
#: hour, so a first handful is not infinitely surprising.
MIN_EXPECTED = 1.0

Severity = Literal["warning", "critical"]
Basis = Literal["seasonal", "recent"]


@dataclass(frozen=True, slots=True)
class Spike:
    """A significant spike of negative mentions in the current hour, with its explanation."""

    severity: Severity
    observed: int
    #: The expected count tested against: the larger of the two medians, floored.
    expected: float
    #: Median of the same hour on previous days, or None without such history.
    expected_seasonal: float | None
    #: Median of the recent hours, or None without such history.
    expected_recent: float | None
    #: Which baseline gave ``expected``.
    basis: Basis
    ratio: float
    #: Poisson upper-tail p-value P(X >= observed | expected).
    p_value: float


def negative_spike(
    current: int,
    same_hour_previous_days: Sequence[int],
    recent_hours: Sequence[int],
    *,
    min_volume: int = MIN_SPIKE_VOLUME,
    warning_p_value: float = WARNING_P_VALUE,
    warning_ratio: float = WARNING_RATIO,
    critical_p_value: float = CRITICAL_P_VALUE,
    critical_ratio: float = CRITICAL_RATIO,
    min_expected: float = MIN_EXPECTED,
) -> Spike | None:
    """The spike of the current hour's negative mentions, or None when there is none.

    ``same_hour_previous_days`` are the counts of this hour of the day on previous days
    (seasonality), ``recent_hours`` the counts of the hours just before this one (say 24).
    The expected count is the larger median of the two (robust to past spikes), so a spike
    must be surprising against both; with no history at all there is no judgement (None).
    """
    history = (*same_hour_previous_days, *recent_hours)
    if current < 0 or any(count < 0 for count in history):
        raise InvalidCountsError("mention counts must be non-negative")
    if current < min_volume or not history:
        return None
    seasonal = statistics.median(same_hour_previous_days) if same_hour_previous_days else None
    recent = statistics.median(recent_hours) if recent_hours else None
    basis: Basis = (
        "recent" if seasonal is None or (recent is not None and recent > seasonal) else "seasonal"
    )
    median = recent if basis == "recent" else seasonal
    expected = max(float(median or 0.0), min_expected)
    ratio = current / expected
    p_value = poisson_upper_tail(current, expected)
    if p_value <= critical_p_value and ratio >= critical_ratio:
        severity: Severity = "critical"
    elif p_value <= warning_p_value and ratio >= warning_ratio:
        severity = "warning"
    else:
        return None
    return Spike(
        severity=severity,
        observed=current,
        expected=expected,
        expected_seasonal=None if seasonal is None else float(seasonal),
        expected_recent=None if recent is None else float(recent),
        basis=basis,
        ratio=ratio,
        p_value=p_value,
    )

"""Trend and crisis math: terms of a mention, the rising-term test, Poisson tails, spikes.

Reference values are computed here independently of the module: by hand (the G statistic of
a 2x2 table), by exact rational summation (Poisson tails), by Fisher's exact test
(hypergeometric sums) and by log-space summation with ``lgamma`` (large Poisson means).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from smm_analytics.domain.trends import (
    CRITICAL_P_VALUE,
    MIN_CURRENT_MENTIONS,
    MIN_SPIKE_VOLUME,
    POISSON_EXACT_LIMIT,
    STOPWORD_LANGUAGES,
    WARNING_P_VALUE,
    WARNING_RATIO,
    InvalidCountsError,
    RisingTerm,
    Spike,
    benjamini_hochberg,
    g_statistic,
    negative_spike,
    poisson_upper_tail,
    rise_p_value,
    rising_terms,
    stopwords_for,
    terms_of,
)

pytestmark = pytest.mark.unit

PROPERTY = settings(max_examples=300, deadline=None, database=None)


# --- Terms -------------------------------------------------------------------------------


def test_english_terms_drop_stopwords_urls_handles_and_numbers() -> None:
    text = (
        "@AcmeSupport the NEW phone's battery died after 2 hours!!! "
        "See https://acme.com/help?id=7 and www.acme.org, order123 #BatteryGate"
    )

    assert terms_of(text, "en") == {
        "new",
        "phone",
        "battery",
        "died",
        "hours",
        "see",
        "#batterygate",
    }


def test_a_term_counts_once_per_mention_and_case_is_folded() -> None:
    assert terms_of("Outage outage OUTAGE #Outage #OUTAGE", "en") == {"outage", "#outage"}


def test_hashtags_are_terms_of_their_own_and_never_stopwords() -> None:
    # ``#the`` is a deliberate tag; the word ``the`` is a stopword; ``#1`` and an HTML
    # entity are not hashtags; ``##tag`` is the tag ``#tag``.
    assert terms_of("#the the #1 &#39; ##Tag (#Acme) #deal,#sale", "en") == {
        "#the",
        "#tag",
        "#acme",
        "#deal",
        "#sale",
    }


def test_mastodon_handles_and_email_addresses_are_removed() -> None:
    text = "ask @bob@mastodon.social or @anna.k or write bob.smith+x@mail.acme.co.uk today"

    assert terms_of(text, "en") == {"ask", "write", "today"}


def test_russian_terms_fold_yo_and_stress_marks() -> None:
    text = "Это ужа\u0301сно, я очень недоволен сервисом! Ёлки, #Акме"

    assert terms_of(text, "ru") == {"ужасно", "недоволен", "сервисом", "елки", "#акме"}


def test_spanish_terms() -> None:
    text = "El servicio de atención es pésimo y no me responden desde hace días"

    assert terms_of(text, "es") == {"servicio", "atención", "pésimo", "responden", "días"}


def test_german_terms_fold_sharp_s() -> None:
    text = "Das ist die schlechteste Lieferung, daß weiß ich genau"

    assert terms_of(text, "de") == {"schlechteste", "lieferung", "weiss", "genau"}


def test_french_terms_drop_elided_articles() -> None:
    text = "L'entreprise n'a pas répondu, c'est très décevant pour l'équipe"

    assert terms_of(text, "fr") == {"entreprise", "répondu", "décevant", "équipe"}


def test_portuguese_terms_with_a_regional_language_code() -> None:
    text = "O atendimento não resolve nada, você espera muito"

    assert terms_of(text, "pt-BR") == {"atendimento", "resolve", "espera"}


def test_words_of_scripts_with_combining_marks_stay_whole() -> None:
    # Devanagari vowel signs are combining marks, which Python's \w does not match.
    assert terms_of("हिन्दी भाषा अच्छी है", "hi") == {"हिन्दी", "भाषा", "अच्छी"}


def test_compatibility_letters_are_normalised() -> None:
    # Mathematical bold letters and a full-width word: NFKC makes them plain.
    assert terms_of("𝐀𝐂𝐌𝐄 ｒｅｆｕｎｄ", "en") == {"acme", "refund"}


def test_overlong_runs_are_not_terms() -> None:
    # A CJK sentence has no spaces: one run far longer than any word.
    assert terms_of("这个产品的质量非常差" * 6 + " refund", "zh") == {"refund"}


def test_unknown_language_uses_every_list_and_a_known_one_its_own() -> None:
    text = "die Lieferung will die"

    # In English text "die" is a content word ("will" is an English stopword too)...
    assert terms_of(text, "en") == {"die", "lieferung"}
    # ...German stopwords when the language is German or unknown.
    assert terms_of(text, "de") == {"lieferung"}
    assert terms_of(text, None) == {"lieferung"}


def test_stopword_lists_cover_the_required_languages() -> None:
    assert {"en", "ru", "es", "de", "fr", "pt"} <= STOPWORD_LANGUAGES
    for language, word in [
        ("en", "the"),
        ("ru", "что"),
        ("es", "que"),
        ("de", "und"),
        ("fr", "les"),
        ("pt", "não"),
    ]:
        assert word in stopwords_for(language)
        assert word in stopwords_for(None)
    # English is mixed into every covered language; German is not mixed into Spanish.
    assert "the" in stopwords_for("es")
    assert "und" not in stopwords_for("es")


_SOCIAL_TEXT = st.text(
    alphabet=st.sampled_from(list("abcxyzéßё ЁЖж#@/.:'’-_0123456789 \u0301ि&")),
    max_size=80,
) | st.sampled_from(
    ["#Acme rocks https://a.co/x", "l'avion d'Acme", "@bob hi", "#1 #a1 _x_", "ok ok ok"]
)


@PROPERTY
@given(_SOCIAL_TEXT, st.sampled_from([None, "en", "ru", "de", "xx"]))
def test_terms_are_well_formed_deduplicated_and_deterministic(
    text: str, language: str | None
) -> None:
    terms = terms_of(text, language)

    # Repeating a mention's text does not count its terms twice.
    assert terms_of(f"{text} {text}", language) == terms
    assert terms_of(text, language) == terms
    stopwords = stopwords_for(language)
    for term in terms:
        assert term == term.casefold()
        body = term.removeprefix("#")
        assert body
        assert not any(ch.isspace() for ch in body)
        if not term.startswith("#"):
            assert not any(ch.isdigit() or ch == "_" for ch in term)
            assert len(term.replace("'", "")) >= 3
            assert term not in stopwords


# --- The G-test --------------------------------------------------------------------------


def test_g_statistic_of_a_textbook_table_by_hand() -> None:
    # [[10, 20], [30, 40]]: margins 30/70 and 40/60 of 100, expected 12, 18, 28, 42.
    # G = 2 (10 ln 10/12 + 20 ln 20/18 + 30 ln 30/28 + 40 ln 40/42)
    #   = 2 (-1.82322 + 2.10721 + 2.06978 - 1.95156) = 0.80442 (hand, 5 decimals per term)
    assert g_statistic(10, 20, 30, 40, continuity=False) == pytest.approx(0.80442, abs=1e-4)
    # The same from entropies: G = 2 (sum x ln x of cells - of margins + N ln N).
    xlogx = sum(x * math.log(x) for x in (10, 20, 30, 40))
    margins = sum(x * math.log(x) for x in (30, 70, 40, 60))
    assert g_statistic(10, 20, 30, 40, continuity=False) == pytest.approx(
        2 * (xlogx - margins + 100 * math.log(100)), rel=1e-12
    )


def test_continuity_correction_moves_each_cell_half_a_unit_towards_expectation() -> None:
    corrected = 2 * sum(
        o * math.log(o / e) for o, e in [(10.5, 12), (19.5, 18), (29.5, 28), (40.5, 42)]
    )

    assert g_statistic(10, 20, 30, 40) == pytest.approx(corrected, rel=1e-12)
    assert g_statistic(10, 20, 30, 40) < g_statistic(10, 20, 30, 40, continuity=False)


def test_g_statistic_of_degenerate_and_independent_tables_is_zero() -> None:
    assert g_statistic(0, 0, 5, 7) == 0.0
    assert g_statistic(5, 0, 7, 0) == 0.0
    assert g_statistic(10, 90, 120, 1080) == 0.0  # the same 10% share in both rows
    with pytest.raises(InvalidCountsError):
        g_statistic(-1, 2, 3, 4)


def _fisher_rise(current: int, current_total: int, baseline: int, baseline_total: int) -> float:
    """One-sided Fisher exact p: P(at least ``current`` of the term's mentions fall now)."""
    carrying = current + baseline
    everyone = math.comb(current_total + baseline_total, carrying)
    tail = sum(
        math.comb(current_total, i) * math.comb(baseline_total, carrying - i)
        for i in range(current, min(current_total, carrying) + 1)
    )
    return tail / everyone


@pytest.mark.parametrize(
    ("current", "current_total", "baseline", "baseline_total"),
    [(5, 100, 0, 1200), (12, 100, 24, 1200), (8, 50, 10, 600), (50, 1000, 300, 12000)],
)
def test_rise_p_value_is_close_to_fisher_exact_and_not_smaller(
    current: int, current_total: int, baseline: int, baseline_total: int
) -> None:
    exact = _fisher_rise(current, current_total, baseline, baseline_total)
    approximate = rise_p_value(current, current_total, baseline, baseline_total)

    # The continuity correction makes the asymptotic test slightly conservative.
    assert exact <= approximate <= 2 * exact


def test_rise_p_value_is_half_the_chi_square_tail_for_a_rise() -> None:
    g = g_statistic(12, 88, 24, 1176)

    assert rise_p_value(12, 100, 24, 1200) == pytest.approx(
        0.5 * math.erfc(math.sqrt(g / 2)), rel=1e-12
    )
    # Textbook chi-square(1) critical values: 3.841 at 5%, 6.635 at 1%.
    assert math.erfc(math.sqrt(3.841458820694124 / 2)) == pytest.approx(0.05, rel=1e-9)
    assert math.erfc(math.sqrt(6.634896601021214 / 2)) == pytest.approx(0.01, rel=1e-9)


def test_rise_p_value_of_a_fall_or_an_equal_share() -> None:
    assert rise_p_value(1, 100, 240, 1200) > 0.5
    assert rise_p_value(10, 100, 120, 1200) == 0.5
    assert rise_p_value(0, 0, 0, 0) == 0.5
    with pytest.raises(InvalidCountsError):
        rise_p_value(101, 100, 0, 1200)


def test_benjamini_hochberg_by_hand() -> None:
    # Sorted: 0.005 (x4/1 = 0.02), 0.01 (x4/2 = 0.02), 0.03 (x4/3 = 0.04), 0.04 (x4/4).
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # Step-up: a larger p-value's adjusted value caps a smaller one's.
    assert benjamini_hochberg([0.04, 0.045]) == pytest.approx([0.045, 0.045])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])
    assert benjamini_hochberg([]) == []


# --- Rising terms ------------------------------------------------------------------------

BASELINE_TOTAL = 1200  # 12 hours of 100 mentions
CURRENT_TOTAL = 100


def test_rising_terms_finds_new_and_growing_terms_only() -> None:
    current = {"outage": 12, "#down": 9, "phone": 10, "battery": 4, "refund": 6}
    baseline = {"phone": 120, "battery": 0, "refund": 60, "#down": 6}

    rising = rising_terms(current, CURRENT_TOTAL, baseline, BASELINE_TOTAL)

    assert [r.term for r in rising] == ["outage", "#down"]
    outage = rising[0]
    assert (outage.current, outage.baseline) == (12, 0)
    # Ratio smoothed with half a mention in every cell: (12.5/101) / (0.5/1201).
    assert outage.ratio == pytest.approx((12.5 / 101) / (0.5 / 1201))
    assert outage.p_value == pytest.approx(rise_p_value(12, 100, 0, 1200))
    assert outage.statistic == pytest.approx(g_statistic(12, 88, 0, 1200))
    assert outage.p_value <= outage.q_value <= 0.01
    # "phone" keeps its 10% share and "refund" went from 5% to 6%, no significant rise;
    # "battery" (4 from nothing) would rise but is under the minimum current volume.
    assert MIN_CURRENT_MENTIONS == 5
    lower = rising_terms(current, CURRENT_TOTAL, baseline, BASELINE_TOTAL, min_current=4)
    assert [r.term for r in lower] == ["outage", "#down", "battery"]


def test_a_significant_rise_below_the_ratio_is_not_a_trend() -> None:
    # 30% -> 45% of a large volume: highly significant, but only 1.5 times the share.
    current, baseline = {"price": 450}, {"price": 3600}

    assert rising_terms(current, 1000, baseline, 12000) == []
    (found,) = rising_terms(current, 1000, baseline, 12000, min_ratio=1.2)
    assert found.ratio == pytest.approx(1.5, rel=0.01)
    assert found.p_value < 1e-20


def test_many_tested_terms_raise_the_bar() -> None:
    # Alone, 6 of 100 against 15 of 1200 is significant at the 1% false discovery rate...
    alone = rising_terms({"delay": 6}, 100, {"delay": 15}, 1200)
    assert [r.term for r in alone] == ["delay"]
    assert alone[0].q_value == alone[0].p_value
    # ...among 50 other tested terms with an unchanged share (p = 1/2) it is not.
    current = {"delay": 6} | {f"w{i}": 5 for i in range(50)}
    baseline = {"delay": 15} | {f"w{i}": 60 for i in range(50)}
    assert rising_terms(current, 100, baseline, 1200) == []
    (found,) = rising_terms(current, 100, baseline, 1200, fdr=0.5)
    assert found.q_value == pytest.approx(alone[0].p_value * 51)


def test_results_are_sorted_by_significance_and_limited() -> None:
    current = {"a": 6, "b": 20, "c": 10}
    rising = rising_terms(current, 100, {}, 1200)

    assert [r.term for r in rising] == ["b", "c", "a"]
    assert [r.p_value for r in rising] == sorted(r.p_value for r in rising)
    assert rising_terms(current, 100, {}, 1200, limit=2) == rising[:2]


def test_no_baseline_no_trend_and_bad_counts_raise() -> None:
    assert rising_terms({"new": 50}, 100, {}, 0) == []
    with pytest.raises(InvalidCountsError):
        rising_terms({"x": 120}, 100, {}, 1200)
    with pytest.raises(InvalidCountsError):
        rising_terms({"x": 10}, 100, {"x": 1300}, 1200)


@st.composite
def _windows(draw: st.DrawFn) -> tuple[int, int, int, int]:
    current_total = draw(st.integers(0, 5000))
    baseline_total = draw(st.integers(0, 60000))
    current = draw(st.integers(0, current_total))
    baseline = draw(st.integers(0, baseline_total))
    return current, current_total, baseline, baseline_total


@PROPERTY
@given(_windows())
def test_p_values_are_probabilities(window: tuple[int, int, int, int]) -> None:
    assert 0.0 <= rise_p_value(*window) <= 1.0
    for found in rising_terms({"t": window[0]}, window[1], {"t": window[2]}, window[3], fdr=1):
        assert 0.0 <= found.p_value <= found.q_value <= 1.0


@PROPERTY
@given(_windows(), st.integers(1, 500))
def test_more_current_mentions_are_never_less_significant(
    window: tuple[int, int, int, int], more: int
) -> None:
    current, current_total, baseline, baseline_total = window
    assume(current + more <= current_total)

    before = rise_p_value(current, current_total, baseline, baseline_total)
    after = rise_p_value(current + more, current_total, baseline, baseline_total)

    assert after <= before + 1e-12


@PROPERTY
@given(_windows(), st.integers(2, 10))
def test_the_same_shares_on_more_volume_are_never_less_significant(
    window: tuple[int, int, int, int], factor: int
) -> None:
    current, current_total, baseline, baseline_total = window
    assume(current * baseline_total > baseline * current_total)  # a rise

    before = rise_p_value(current, current_total, baseline, baseline_total)
    after = rise_p_value(current * factor, current_total * factor, baseline, baseline_total)

    assert after <= before + 1e-12


@PROPERTY
@given(
    st.integers(1, 50),
    st.integers(1, 50),
    st.integers(1, 200),
    st.integers(1, 2400),
    st.integers(0, 50),
)
def test_a_term_with_the_same_share_never_rises(
    numerator: int, extra: int, current_scale: int, baseline_scale: int, minimum: int
) -> None:
    denominator = numerator + extra  # share numerator/denominator < 1
    current, current_total = numerator * current_scale, denominator * current_scale
    baseline, baseline_total = numerator * baseline_scale, denominator * baseline_scale

    found = rising_terms(
        {"t": current},
        current_total,
        {"t": baseline},
        baseline_total,
        min_current=minimum,
        min_ratio=0.0,
        fdr=1.0,
    )

    assert found == []
    assert rise_p_value(current, current_total, baseline, baseline_total) == 0.5


@PROPERTY
@given(
    st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 100), max_size=8),
    st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 1200), max_size=8),
)
def test_every_reported_term_meets_every_condition(
    current: dict[str, int], baseline: dict[str, int]
) -> None:
    rising = rising_terms(current, 100, baseline, 1200)

    assert all(isinstance(r, RisingTerm) for r in rising)
    for found in rising:
        assert found.current == current[found.term] >= MIN_CURRENT_MENTIONS
        assert found.baseline == baseline.get(found.term, 0)
        assert found.ratio >= 2.0
        assert found.q_value <= 0.01
    assert [r.statistic for r in rising] == sorted((r.statistic for r in rising), reverse=True)


# --- Poisson tail ------------------------------------------------------------------------


def _exact_tail(k: int, mean: float) -> float:
    """P(X >= k) by direct rational summation of the probabilities (300 terms on)."""
    rate = Fraction(str(mean))  # 0.1 as 1/10: short fractions keep the sums fast
    if k <= 0:
        return 1.0
    head = sum((rate**j / math.factorial(j) for j in range(k)), Fraction(0))
    if float(head * Fraction(math.exp(-mean))) < 0.5:
        return 1.0 - float(head * Fraction(math.exp(-mean)))
    tail = sum((rate**j / math.factorial(j) for j in range(k, k + 300)), Fraction(0))
    return float(tail * Fraction(math.exp(-mean)))


@pytest.mark.parametrize("mean", [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 50.0])
def test_poisson_tail_matches_direct_summation_for_small_means(mean: float) -> None:
    for k in range(0, 90, 3):
        assert poisson_upper_tail(k, mean) == pytest.approx(_exact_tail(k, mean), rel=1e-9), k


def test_poisson_tail_textbook_values() -> None:
    assert poisson_upper_tail(1, 2.0) == pytest.approx(1 - math.exp(-2.0), rel=1e-12)
    # P(X >= 5 | 1) = 1 - e^-1 (1 + 1 + 1/2 + 1/6 + 1/24) = 0.0036598468
    assert poisson_upper_tail(5, 1.0) == pytest.approx(0.0036598468, rel=1e-8)
    assert poisson_upper_tail(0, 3.0) == 1.0
    assert poisson_upper_tail(3, 0.0) == 0.0
    assert poisson_upper_tail(2000, 1.0) == 0.0  # far below the smallest float
    with pytest.raises(ValueError, match="Poisson mean"):
        poisson_upper_tail(3, -1.0)
    with pytest.raises(ValueError, match="Poisson mean"):
        poisson_upper_tail(3, math.nan)


def _log_space_tail(k: int, mean: float, *, upper: bool) -> float:
    """Sum of probabilities from ``lgamma`` each, 20k terms above (or below) ``k``."""

    def pmf(j: int) -> float:
        return math.exp(j * math.log(mean) - mean - math.lgamma(j + 1))

    if upper:
        return math.fsum(pmf(j) for j in range(k, k + 20_000))
    return 1.0 - math.fsum(pmf(j) for j in range(max(0, k - 20_000), k))


@pytest.mark.parametrize(
    ("k", "mean"),
    [(101_000, 1e5), (100_001, 1e5), (102_000, 1e5), (99_000, 1e5), (100_000, 1e5)],
)
def test_poisson_tail_is_stable_for_large_counts(k: int, mean: float) -> None:
    expected = _log_space_tail(k, mean, upper=k > mean)

    assert poisson_upper_tail(k, mean) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("sigmas", [-2.0, 0.0, 1.0, 2.0, 3.0, 4.0])
def test_approximation_beyond_the_exact_limit_agrees_with_exact(sigmas: float) -> None:
    k = int(POISSON_EXACT_LIMIT + sigmas * math.sqrt(POISSON_EXACT_LIMIT))
    exact = poisson_upper_tail(k, POISSON_EXACT_LIMIT)
    approximate = poisson_upper_tail(k, math.nextafter(POISSON_EXACT_LIMIT, math.inf))

    assert approximate == pytest.approx(exact, rel=0.01)


@PROPERTY
@given(st.integers(0, 3000), st.floats(0, 2000), st.integers(1, 50), st.floats(0.01, 50))
def test_poisson_tail_is_a_probability_monotone_in_count_and_mean(
    k: int, mean: float, more: int, higher: float
) -> None:
    p = poisson_upper_tail(k, mean)

    assert 0.0 <= p <= 1.0
    assert poisson_upper_tail(k + more, mean) <= p + 1e-12
    assert poisson_upper_tail(k, mean + higher) >= p - 1e-12


# --- Negative spikes ---------------------------------------------------------------------

SEASONAL = [4, 5, 6, 5, 7, 5, 3]  # same hour, last 7 days: median 5
RECENT = [3, 4, 5, 5, 6, 4, 5, 5] * 3  # last 24 hours: median 5


def test_a_large_spike_is_critical_and_explained() -> None:
    spike = negative_spike(30, SEASONAL, RECENT)

    assert spike is not None
    assert spike.severity == "critical"
    assert (spike.observed, spike.expected) == (30, 5.0)
    assert (spike.expected_seasonal, spike.expected_recent) == (5.0, 5.0)
    assert spike.ratio == 6.0
    assert spike.p_value == pytest.approx(_exact_tail(30, 5.0), rel=1e-9)
    assert spike.p_value <= CRITICAL_P_VALUE


def test_a_moderate_spike_is_a_warning() -> None:
    # 14 against 5: ratio 2.8 and P(X >= 14 | 5) = 1 - 0.99930 (tables), a warning only.
    spike = negative_spike(14, SEASONAL, RECENT)

    assert spike is not None
    assert spike.severity == "warning"
    assert spike.p_value == pytest.approx(_exact_tail(14, 5.0), rel=1e-9)
    assert spike.p_value == pytest.approx(0.00070, abs=1e-5)


def test_a_high_ratio_that_chance_explains_is_no_spike() -> None:
    # 10 against 4 is 2.5 times, but P(X >= 10 | 4) = 0.0081 > 0.001.
    assert negative_spike(10, [4] * 7, [4] * 24) is None
    assert _exact_tail(10, 4.0) > WARNING_P_VALUE


def test_a_spike_must_beat_the_larger_of_seasonal_and_recent_baselines() -> None:
    # Every day this hour is busy (median 20): 30 is no spike, though recent hours had 5.
    assert negative_spike(30, [20, 18, 22, 20], RECENT) is None
    busy_hour = negative_spike(60, [20, 18, 22, 20], RECENT)
    assert busy_hour is not None
    assert (busy_hour.basis, busy_hour.expected) == ("seasonal", 20.0)
    # A crisis already going on for hours raises the recent baseline instead.
    ongoing = negative_spike(120, SEASONAL, [25] * 24)
    assert ongoing is not None
    assert (ongoing.basis, ongoing.expected, ongoing.expected_seasonal) == ("recent", 25.0, 5.0)


def test_one_baseline_is_enough_and_none_is_no_judgement() -> None:
    only_recent = negative_spike(30, [], RECENT)
    only_seasonal = negative_spike(30, SEASONAL, [])

    assert only_recent is not None
    assert (only_recent.basis, only_recent.expected_seasonal) == ("recent", None)
    assert only_seasonal is not None
    assert (only_seasonal.basis, only_seasonal.expected_recent) == ("seasonal", None)
    assert negative_spike(500, [], []) is None


def test_minimum_volume_and_expected_floor() -> None:
    # Silence before: the expected count is floored at one mention an hour.
    assert negative_spike(MIN_SPIKE_VOLUME - 1, [0] * 7, [0] * 24) is None
    spike = negative_spike(MIN_SPIKE_VOLUME, [0] * 7, [0] * 24)
    assert spike is not None
    assert (spike.expected, spike.ratio) == (1.0, float(MIN_SPIKE_VOLUME))
    assert negative_spike(MIN_SPIKE_VOLUME, [0] * 7, [0] * 24, min_volume=11) is None
    with pytest.raises(InvalidCountsError):
        negative_spike(5, [-1], [])


_COUNTS = st.lists(st.integers(0, 400), max_size=30)


@PROPERTY
@given(st.integers(0, 2000), _COUNTS, _COUNTS)
def test_no_spike_at_or_below_the_expected_count(
    current: int, seasonal: list[int], recent: list[int]
) -> None:
    spike = negative_spike(current, seasonal, recent)

    if spike is None:
        return
    assert spike.observed == current > spike.expected
    assert spike.ratio >= WARNING_RATIO
    assert spike.p_value <= WARNING_P_VALUE
    assert current >= MIN_SPIKE_VOLUME


@PROPERTY
@given(st.integers(0, 2000), st.integers(1, 500), _COUNTS, _COUNTS)
def test_more_negative_mentions_are_never_a_lesser_spike(
    current: int, more: int, seasonal: list[int], recent: list[int]
) -> None:
    before = negative_spike(current, seasonal, recent)
    after = negative_spike(current + more, seasonal, recent)

    assert _rank(after) >= _rank(before)
    if before is not None and after is not None:
        assert after.p_value <= before.p_value


def _rank(spike: Spike | None) -> int:
    return 0 if spike is None else {"warning": 1, "critical": 2}[spike.severity]

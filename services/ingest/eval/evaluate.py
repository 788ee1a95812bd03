"""Evaluate language detection and sentiment on the hand-labelled sample; prints the figures.

Run: ``.venv/bin/python services/ingest/eval/evaluate.py [--models-dir DIR] [--min-confidence X]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from smm_ingest.adapters.enrichment.language import DEFAULT_LANGUAGES, LinguaDetector
from smm_ingest.adapters.enrichment.sentiment import build_sentiment
from smm_ingest.domain.keywords import KeywordRule, RuleKind, match_rules

SAMPLE = Path(__file__).with_name("sample.jsonl")
NONE = "none"


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled post of the sample."""

    id: str
    lang: str
    sentiment: str
    text: str


def load(path: Path) -> list[Item]:
    """The sample's items, checked for the fields and labels this script relies on."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["sentiment"] not in ("positive", "neutral", "negative"):
            raise ValueError(f"{path}:{number}: bad sentiment {row['sentiment']!r}")
        items.append(Item(row["id"], row["lang"], row["sentiment"], row["text"]))
    return items


def pct(part: int, whole: int) -> str:
    """``part/whole (xx.x%)``."""
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "0/0"


def evaluate_language(items: Sequence[Item], detector: LinguaDetector) -> list[str | None]:
    """Detect every item; print accuracy, coverage, the worst confusions and the time."""
    predicted: list[str | None] = []
    times: list[float] = []
    for item in items:
        start = time.perf_counter()
        predicted.append(detector.detect(item.text))
        times.append(time.perf_counter() - start)
    correct = sum(p == item.lang for p, item in zip(predicted, items, strict=True))
    decided = [(p, item) for p, item in zip(predicted, items, strict=True) if p is not None]
    print(
        "== Language detection (lingua, high accuracy, min_confidence "
        f"{detector.min_confidence}) =="
    )
    print(f"accuracy overall          {pct(correct, len(items))}   (None counts as wrong)")
    print(f"answered (not None)       {pct(len(decided), len(items))}")
    print(f"accuracy when answered    {pct(sum(p == i.lang for p, i in decided), len(decided))}")
    print("per language:   accuracy        None")
    for lang in sorted({item.lang for item in items}):
        rows = [(p, i) for p, i in zip(predicted, items, strict=True) if i.lang == lang]
        right = sum(p == lang for p, _ in rows)
        none = sum(p is None for p, _ in rows)
        print(f"  {lang}            {pct(right, len(rows)):<15} {none}")
    confusions = Counter(
        (item.lang, p or NONE) for p, item in zip(predicted, items, strict=True) if p != item.lang
    )
    print("worst confusions (gold -> predicted: count):")
    for (gold, got), count in confusions.most_common(8):
        print(f"  {gold} -> {got}: {count}")
    for guess, item in zip(predicted, items, strict=True):
        if guess != item.lang:
            print(f"    {item.id}: {guess or NONE:<4} {item.text}")
    print(
        f"time per item             {statistics.mean(times) * 1e3:.2f} ms mean, "
        f"{statistics.median(times) * 1e3:.2f} ms median, {max(times) * 1e3:.2f} ms max"
    )
    return predicted


def evaluate_sentiment(
    items: Sequence[Item], detected: Sequence[str | None], models_dir: Path | None
) -> None:
    """Print sentiment accuracy where an analyzer covers the language, and the honest unknowns."""
    router = build_sentiment(models_dir)
    print()
    print(f"== Sentiment (analyzers: {', '.join(a.name for a in router.analyzers)}) ==")
    covered = [i for i in items if router.supports(i.lang)]
    times: list[float] = []
    right = 0
    confusion: Counter[tuple[str, str]] = Counter()
    by_analyzer: Counter[str] = Counter()
    for item in covered:
        start = time.perf_counter()
        result = router.analyze(item.text, item.lang)
        times.append(time.perf_counter() - start)
        right += result.label == item.sentiment
        confusion[(item.sentiment, result.label)] += 1
        by_analyzer[result.analyzer or NONE] += 1
    langs = ", ".join(sorted({i.lang for i in covered}))
    print(f"accuracy on covered languages ({langs}), gold language: {pct(right, len(covered))}")
    print("  gold \\ predicted   positive  neutral  negative")
    for gold in ("positive", "neutral", "negative"):
        cells = "".join(f"{confusion[(gold, p)]:>9}" for p in ("positive", "neutral", "negative"))
        print(f"  {gold:<18}{cells}")
    en = [(i, d) for i, d in zip(items, detected, strict=True) if i.lang == "en"]
    e2e = sum(router.analyze(i.text, d).label == i.sentiment for i, d in en)
    print(f"English end to end (detected language):            {pct(e2e, len(en))}")
    others = [(i, d) for i, d in zip(items, detected, strict=True) if not router.supports(i.lang)]
    unknown = [(i, d) for i, d in others if router.analyze(i.text, d).label == "unknown"]
    print(f"items in uncovered languages reported unknown:     {pct(len(unknown), len(others))}")
    scored = [i for i, d in others if router.analyze(i.text, d).label != "unknown"]
    for item in scored:
        print(f"    scored anyway (language misdetected): {item.id} {item.text}")
    if times:
        print(f"time per item             {statistics.mean(times) * 1e3:.3f} ms mean")


def evaluate_keywords(items: Sequence[Item]) -> None:
    """Print the time to match 100 rules against one post."""
    queries = [
        '#novabank OR @novabank OR "nova bank" OR novabank*',
        '(zentel OR @zentelcare) AND (internet OR signal OR интернет OR "no signal")',
        "(refund OR reembolso OR возврат OR повернення OR remboursez*) -job*",
        '"kwik mart" OR kwikmart OR #kwikmart',
    ]
    kinds: tuple[RuleKind, ...] = ("brand", "competitor", "topic", "brand")
    rules = [
        KeywordRule(
            f"r{n}",
            f"rule {n}",
            queries[n % 4].replace("bank", f"bank{n}", 1),
            kinds[n % 4],
            f"label{n % 7}",
        )
        for n in range(100)
    ]
    texts = [item.text for item in items]
    for text in texts:
        match_rules(text, rules)
    start = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for text in texts:
            match_rules(text, rules)
    per_text = (time.perf_counter() - start) / (rounds * len(texts))
    print()
    print("== Keyword rules ==")
    print(f"100 rules x 1 post        {per_text * 1e6:.0f} µs mean over {len(texts)} posts")


def main() -> None:
    """Parse arguments and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("--languages", default=",".join(DEFAULT_LANGUAGES))
    args = parser.parse_args()
    items = load(args.sample)
    counts = Counter(item.lang for item in items)
    print(
        f"sample: {len(items)} items, " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    start = time.perf_counter()
    detector = LinguaDetector(
        args.languages.split(","), min_confidence=args.min_confidence, preload=True
    )
    print(f"lingua models loaded in {time.perf_counter() - start:.2f} s")
    print()
    detected = evaluate_language(items, detector)
    evaluate_sentiment(items, detected, args.models_dir)
    evaluate_keywords(items)


if __name__ == "__main__":
    main()

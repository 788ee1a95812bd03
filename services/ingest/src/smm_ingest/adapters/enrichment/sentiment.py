"""Sentiment analyzers: VADER for English, ONNX transformer models, and a router over them.

An ONNX model directory holds ``model.onnx`` (a sequence classifier taking ``input_ids``,
``attention_mask`` and optionally ``token_type_ids``, int64 [batch, seq], returning logits
[batch, labels]), ``tokenizer.json`` (HuggingFace ``tokenizers``) and ``config.json`` with
``id2label`` and optionally ``languages`` (ISO 639-1), ``max_length`` and ``name``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from tokenizers import Tokenizer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from smm_ingest.domain.enrichment import SentimentAnalyzer
from smm_shared.events import Sentiment
from smm_shared.events.mentions import SentimentLabel

#: VADER's own thresholds on the compound score (Hutto & Gilbert, 2014).
VADER_THRESHOLD: Final = 0.05

MODEL_FILE: Final = "model.onnx"
TOKENIZER_FILE: Final = "tokenizer.json"
CONFIG_FILE: Final = "config.json"
DEFAULT_MAX_LENGTH: Final = 512

# Names that sentiment models give their classes (case-insensitive), as our labels. Five-class
# models ("very negative" ... "very positive") fold into three.
_LABEL_NAMES: Final[Mapping[str, SentimentLabel]] = {
    "negative": "negative",
    "neg": "negative",
    "very negative": "negative",
    "very_negative": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
    "very positive": "positive",
    "very_positive": "positive",
    "mixed": "mixed",
}
_KNOWN_INPUTS: Final = frozenset({"input_ids", "attention_mask", "token_type_ids"})


class UnsupportedLanguageError(ValueError):
    """An analyzer was asked about a language it has no model for."""


class ModelDirectoryError(ValueError):
    """A configured sentiment model directory that cannot be used: which one and why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"sentiment model directory {str(path)!r}: {reason}")
        self.path = path
        self.reason = reason


class VaderAnalyzer:
    """VADER: a lexicon and rules tuned on English social media; English only."""

    name = "vader"

    def __init__(self) -> None:
        """Load VADER's lexicon (shipped inside the package, nothing is downloaded)."""
        self._vader = SentimentIntensityAnalyzer()

    def supports(self, language: str) -> bool:
        """Only English: VADER's lexicon is English."""
        return language == "en"

    def analyze(self, text: str, language: str) -> Sentiment:
        """Label from the compound score with VADER's ±0.05 thresholds; the score is the compound."""
        if not self.supports(language):
            raise UnsupportedLanguageError(f"{self.name} has no model for {language!r}")
        if not text.strip():
            return Sentiment(label="unknown", score=None, analyzer=self.name)
        compound = float(self._vader.polarity_scores(text)["compound"])
        label: SentimentLabel
        if compound >= VADER_THRESHOLD:
            label = "positive"
        elif compound <= -VADER_THRESHOLD:
            label = "negative"
        else:
            label = "neutral"
        return Sentiment(label=label, score=compound, analyzer=self.name)


class OnnxSentimentAnalyzer:
    """A transformer sequence classifier exported to ONNX, with its HuggingFace tokenizer."""

    def __init__(
        self,
        *,
        session: ort.InferenceSession,
        tokenizer: Tokenizer,
        labels: Sequence[SentimentLabel],
        languages: Iterable[str],
        max_length: int = DEFAULT_MAX_LENGTH,
        name: str = "onnx",
    ) -> None:
        """Wrap a loaded session; ``labels[i]`` is our label for logit ``i``."""
        self.name = name
        self.languages = frozenset(code.lower() for code in languages)
        self.labels = tuple(labels)
        self.max_length = max_length
        self._session = session
        self._inputs = tuple(spec.name for spec in session.get_inputs())
        self._output = session.get_outputs()[0].name
        self._tokenizer = tokenizer
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()
        # Logits per our label: a five-class model's "very positive" and "positive" add up.
        self._indices: dict[SentimentLabel, list[int]] = {}
        for i, label in enumerate(self.labels):
            self._indices.setdefault(label, []).append(i)

    @classmethod
    def from_directory(
        cls,
        path: Path,
        *,
        languages: Iterable[str] | None = None,
        max_length: int | None = None,
        name: str | None = None,
        threads: int = 1,
    ) -> OnnxSentimentAnalyzer:
        """Load ``model.onnx``, ``tokenizer.json`` and ``config.json`` from ``path``; ModelDirectoryError if broken."""
        if not path.is_dir():
            raise ModelDirectoryError(path, "is not a directory")
        for file in (MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE):
            if not (path / file).is_file():
                raise ModelDirectoryError(path, f"{file} is missing")
        config = _read_config(path)
        labels = _labels(path, config)
        chosen_languages = _languages(path, config, languages)
        # HF configs name the position table's size; RoBERTa's 514 includes two offsets.
        positions = config.get("max_position_embeddings", DEFAULT_MAX_LENGTH)
        default_length = min(DEFAULT_MAX_LENGTH, positions) if isinstance(positions, int) else None
        length = max_length if max_length is not None else config.get("max_length", default_length)
        if not isinstance(length, int) or isinstance(length, bool) or length < 2:
            raise ModelDirectoryError(path, f"max_length must be an integer >= 2, not {length!r}")
        try:
            tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
        except Exception as error:  # tokenizers raises a bare Exception on a bad file
            raise ModelDirectoryError(path, f"{TOKENIZER_FILE} cannot be read: {error}") from error
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(
                str(path / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own untyped errors on a bad model
            raise ModelDirectoryError(path, f"{MODEL_FILE} cannot be loaded: {error}") from error
        _check_signature(path, session, len(labels))
        return cls(
            session=session,
            tokenizer=tokenizer,
            labels=labels,
            languages=chosen_languages,
            max_length=length,
            name=name or str(config.get("name") or f"onnx:{path.name}"),
        )

    def supports(self, language: str) -> bool:
        """Whether ``language`` is among the model's declared languages."""
        return language.lower() in self.languages

    def analyze(self, text: str, language: str) -> Sentiment:
        """The most probable label; the score is P(positive) - P(negative)."""
        if not self.supports(language):
            raise UnsupportedLanguageError(f"{self.name} has no model for {language!r}")
        encoding = self._tokenizer.encode(text) if text.strip() else None
        if encoding is None or not encoding.ids:
            return Sentiment(label="unknown", score=None, analyzer=self.name)
        feeds = {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
        (logits,) = self._session.run([self._output], {k: feeds[k] for k in self._inputs})
        row = np.asarray(logits, dtype=np.float64).reshape(-1)
        if row.shape[0] != len(self.labels):
            raise RuntimeError(
                f"{self.name}: model returned {row.shape[0]} logits for {len(self.labels)} labels"
            )
        probabilities = _softmax(row)
        by_label = {label: float(probabilities[idx].sum()) for label, idx in self._indices.items()}
        label = max(by_label, key=lambda key: by_label[key])
        score = by_label.get("positive", 0.0) - by_label.get("negative", 0.0)
        return Sentiment(label=label, score=max(-1.0, min(1.0, score)), analyzer=self.name)


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(logits - logits.max())
    return cast("NDArray[np.float64]", shifted / shifted.sum())


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelDirectoryError(path, f"{CONFIG_FILE} is not valid JSON: {error}") from error
    if not isinstance(config, dict):
        raise ModelDirectoryError(path, f"{CONFIG_FILE} must hold a JSON object")
    return config


def _labels(path: Path, config: Mapping[str, Any]) -> tuple[SentimentLabel, ...]:
    raw = config.get("id2label")
    if not isinstance(raw, dict) or not raw:
        raise ModelDirectoryError(path, f"{CONFIG_FILE} has no id2label mapping")
    try:
        by_index = {int(key): value for key, value in raw.items()}
    except ValueError as error:
        raise ModelDirectoryError(path, f"id2label keys must be integers: {error}") from error
    if sorted(by_index) != list(range(len(by_index))):
        raise ModelDirectoryError(path, f"id2label must number its labels 0..{len(by_index) - 1}")
    labels: list[SentimentLabel] = []
    for index in range(len(by_index)):
        name = by_index[index]
        label = _LABEL_NAMES.get(str(name).strip().lower()) if isinstance(name, str) else None
        if label is None:
            raise ModelDirectoryError(
                path,
                f"id2label[{index}] = {name!r} is not a sentiment label we know "
                f"({', '.join(sorted(_LABEL_NAMES))})",
            )
        labels.append(label)
    if "positive" not in labels or "negative" not in labels:
        raise ModelDirectoryError(path, "id2label needs both a positive and a negative label")
    return tuple(labels)


def _languages(
    path: Path, config: Mapping[str, Any], override: Iterable[str] | None
) -> frozenset[str]:
    raw = list(override) if override is not None else config.get("languages")
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) and x for x in raw):
        raise ModelDirectoryError(
            path, f"declare the model's languages (ISO 639-1 list) in {CONFIG_FILE} or in code"
        )
    return frozenset(code.lower() for code in raw)


def _check_signature(path: Path, session: ort.InferenceSession, labels: int) -> None:
    inputs = {spec.name for spec in session.get_inputs()}
    unknown = inputs - _KNOWN_INPUTS
    if unknown or not {"input_ids", "attention_mask"} <= inputs:
        raise ModelDirectoryError(
            path,
            f"{MODEL_FILE} inputs are {sorted(inputs)}; expected input_ids, attention_mask "
            "and optionally token_type_ids",
        )
    outputs = session.get_outputs()
    shape = outputs[0].shape if outputs else None
    if not shape or len(shape) != 2:
        raise ModelDirectoryError(path, f"{MODEL_FILE} must output logits [batch, labels]")
    if isinstance(shape[1], int) and shape[1] != labels:
        raise ModelDirectoryError(
            path, f"{MODEL_FILE} outputs {shape[1]} logits but id2label names {labels}"
        )


class SentimentRouter:
    """Sends each text to the first analyzer supporting its language; ``unknown`` when none does."""

    name = "router"

    def __init__(self, analyzers: Sequence[SentimentAnalyzer]) -> None:
        """Analyzers in order of preference."""
        self.analyzers = tuple(analyzers)

    def supports(self, language: str) -> bool:
        """Whether any analyzer covers ``language``."""
        return any(analyzer.supports(language) for analyzer in self.analyzers)

    def analyze(self, text: str, language: str | None) -> Sentiment:
        """The first supporting analyzer's verdict, or ``unknown`` with no score (never a guess)."""
        if language is not None:
            for analyzer in self.analyzers:
                if analyzer.supports(language):
                    return analyzer.analyze(text, language)
        return Sentiment(label="unknown", score=None, analyzer=None)


def build_sentiment(models_dir: Path | None) -> SentimentRouter:
    """VADER always; before it, the ONNX model(s) in ``models_dir`` when one is configured."""
    # ``models_dir`` is one model directory, or a directory of model directories (loaded in
    # name order, the first preferred). A configured but broken directory raises
    # ModelDirectoryError: quietly falling back to English-only sentiment would hide it.
    analyzers: list[SentimentAnalyzer] = []
    if models_dir is not None:
        if not models_dir.is_dir():
            raise ModelDirectoryError(models_dir, "is not a directory")
        if (models_dir / MODEL_FILE).exists():
            analyzers.append(OnnxSentimentAnalyzer.from_directory(models_dir))
        else:
            children = sorted(
                child
                for child in models_dir.iterdir()
                if child.is_dir() and not child.name.startswith(".")
            )
            if not children:
                raise ModelDirectoryError(
                    models_dir, f"holds neither {MODEL_FILE} nor model directories"
                )
            analyzers.extend(OnnxSentimentAnalyzer.from_directory(child) for child in children)
    analyzers.append(VaderAnalyzer())
    return SentimentRouter(analyzers)

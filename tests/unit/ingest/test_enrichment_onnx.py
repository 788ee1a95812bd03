"""The ONNX sentiment loader, on a tiny classifier built here with onnx.helper."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from smm_ingest.adapters.enrichment.sentiment import (
    ModelDirectoryError,
    OnnxSentimentAnalyzer,
    UnsupportedLanguageError,
    build_sentiment,
)

pytestmark = pytest.mark.unit

VOCAB = {"[UNK]": 0, "[PAD]": 1, "gut": 2, "schlecht": 3, "der": 4, "service": 5, "ist": 6}
# Two features per token: "gut" lights the first, "schlecht" the second.
EMBEDDINGS = np.zeros((len(VOCAB), 2), dtype=np.float32)
EMBEDDINGS[VOCAB["gut"]] = [1.0, 0.0]
EMBEDDINGS[VOCAB["schlecht"]] = [0.0, 1.0]
# Logits [negative, neutral, positive] = mean features @ WEIGHTS + BIAS: neutral by default.
WEIGHTS = np.array([[-8.0, 0.0, 8.0], [8.0, 0.0, -8.0]], dtype=np.float32)
BIAS = np.array([0.0, 1.0, 0.0], dtype=np.float32)
ID2LABEL = {"0": "NEGATIVE", "1": "Neutral", "2": "positive"}


def tiny_model(*, token_type_ids: bool = False) -> onnx.ModelProto:
    """Gather embedding -> masked mean -> MatMul + bias: logits [batch, 3]."""
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
    ]
    nodes = [
        helper.make_node("Gather", ["embeddings", "input_ids"], ["embedded"]),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "last_axis"], ["mask3"]),
        helper.make_node("Mul", ["embedded", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "seq_axis"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "seq_axis"], ["count"], keepdims=0),
        helper.make_node("Div", ["summed", "count"], ["mean"]),
        helper.make_node("MatMul", ["mean", "weights"], ["scores"]),
        helper.make_node("Add", ["scores", "bias"], ["logits"]),
    ]
    if token_type_ids:
        # BERT-style models declare it; here it must be fed (and is added as zero).
        inputs.append(
            helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "seq"])
        )
        nodes[1:1] = [
            helper.make_node("Add", ["attention_mask", "token_type_ids"], ["mask_plus"]),
            helper.make_node("Sub", ["mask_plus", "token_type_ids"], ["mask_again"]),
        ]
        nodes[3].input[0] = "mask_again"
    graph = helper.make_graph(
        nodes,
        "tiny-sentiment",
        inputs,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        initializer=[
            numpy_helper.from_array(EMBEDDINGS, "embeddings"),
            numpy_helper.from_array(WEIGHTS, "weights"),
            numpy_helper.from_array(BIAS, "bias"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "seq_axis"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def tiny_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer


def write_model_dir(
    path: Path, *, config: dict[str, Any] | None = None, token_type_ids: bool = False
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    onnx.save(tiny_model(token_type_ids=token_type_ids), str(path / "model.onnx"))
    tiny_tokenizer().save(str(path / "tokenizer.json"))
    config = config if config is not None else {"id2label": ID2LABEL, "languages": ["de"]}
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return path


def expected(features: tuple[float, float]) -> tuple[str, float]:
    """The label and P(positive) - P(negative) the tiny model must give, computed by hand."""
    logits = np.asarray(features) @ WEIGHTS.astype(np.float64) + BIAS
    probabilities = np.exp(logits) / np.exp(logits).sum()
    label = ("negative", "neutral", "positive")[int(probabilities.argmax())]
    return label, float(probabilities[2] - probabilities[0])


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return write_model_dir(tmp_path / "tiny-de")


@pytest.mark.parametrize(
    ("text", "features"),
    [
        ("Der Service ist gut", (0.25, 0.0)),
        ("gut gut", (1.0, 0.0)),
        ("Der Service ist schlecht", (0.0, 0.25)),
        ("schlecht", (0.0, 1.0)),
        ("Der Service ist", (0.0, 0.0)),
        ("gut schlecht", (0.5, 0.5)),
    ],
)
def test_labels_and_scores_follow_the_models_logits(
    model_dir: Path, text: str, features: tuple[float, float]
) -> None:
    analyzer = OnnxSentimentAnalyzer.from_directory(model_dir)
    label, score = expected(features)

    result = analyzer.analyze(text, "de")

    assert result.label == label
    assert result.score is not None
    assert math.isclose(result.score, score, abs_tol=1e-5)
    assert result.analyzer == "onnx:tiny-de"


def test_the_known_words_push_the_label_both_ways(model_dir: Path) -> None:
    analyzer = OnnxSentimentAnalyzer.from_directory(model_dir)

    positive = analyzer.analyze("der service ist gut", "de")
    negative = analyzer.analyze("der service ist schlecht", "de")
    neutral = analyzer.analyze("der service ist", "de")

    assert (positive.label, negative.label, neutral.label) == ("positive", "negative", "neutral")
    assert positive.score is not None
    assert positive.score > 0.5
    assert negative.score is not None
    assert negative.score < -0.5
    assert neutral.score == pytest.approx(0.0, abs=1e-6)


def test_input_is_truncated_to_max_length(tmp_path: Path) -> None:
    config = {"id2label": ID2LABEL, "languages": ["de"], "max_length": 3}
    analyzer = OnnxSentimentAnalyzer.from_directory(write_model_dir(tmp_path, config=config))

    # "gut" is the fourth token: cut off, so the model sees only neutral words.
    assert analyzer.analyze("der service ist gut", "de").label == "neutral"
    assert analyzer.analyze("gut der service ist", "de").label == "positive"


def test_without_max_length_the_position_table_bounds_the_input(tmp_path: Path) -> None:
    config = {"id2label": ID2LABEL, "languages": ["de"], "max_position_embeddings": 3}
    analyzer = OnnxSentimentAnalyzer.from_directory(write_model_dir(tmp_path, config=config))

    assert analyzer.max_length == 3
    assert analyzer.analyze("der service ist gut", "de").label == "neutral"


def test_max_length_argument_overrides_the_config(model_dir: Path) -> None:
    analyzer = OnnxSentimentAnalyzer.from_directory(model_dir, max_length=3)

    assert analyzer.max_length == 3
    assert analyzer.analyze("der service ist gut", "de").label == "neutral"


def test_token_type_ids_are_fed_when_the_model_declares_them(tmp_path: Path) -> None:
    analyzer = OnnxSentimentAnalyzer.from_directory(write_model_dir(tmp_path, token_type_ids=True))

    assert analyzer.analyze("gut", "de").label == "positive"


def test_languages_come_from_config_or_argument(model_dir: Path) -> None:
    from_config = OnnxSentimentAnalyzer.from_directory(model_dir)
    from_argument = OnnxSentimentAnalyzer.from_directory(model_dir, languages=["fr", "ES"])

    assert from_config.supports("de")
    assert not from_config.supports("fr")
    assert from_argument.supports("fr")
    assert from_argument.supports("es")
    assert not from_argument.supports("de")
    with pytest.raises(UnsupportedLanguageError):
        from_config.analyze("gut", "fr")


def test_text_without_tokens_is_unknown(model_dir: Path) -> None:
    analyzer = OnnxSentimentAnalyzer.from_directory(model_dir)

    assert analyzer.analyze("   ", "de").label == "unknown"
    assert analyzer.analyze("   ", "de").score is None


def test_five_class_labels_fold_into_three(tmp_path: Path) -> None:
    # The tiny model has three logits; name them as a five-class model's outer classes would be.
    config = {"id2label": {"0": "Very Negative", "1": "neutral", "2": "Very Positive"}}
    analyzer = OnnxSentimentAnalyzer.from_directory(
        write_model_dir(tmp_path, config=config), languages=["de"]
    )

    assert analyzer.labels == ("negative", "neutral", "positive")
    assert analyzer.analyze("gut", "de").label == "positive"


def test_build_sentiment_puts_the_onnx_model_before_vader(model_dir: Path) -> None:
    router = build_sentiment(model_dir)

    assert [analyzer.name for analyzer in router.analyzers] == ["onnx:tiny-de", "vader"]
    assert router.analyze("schlecht", "de").analyzer == "onnx:tiny-de"
    assert router.analyze("awful", "en").analyzer == "vader"
    assert router.analyze("ужасно", "ru").label == "unknown"


def test_build_sentiment_loads_a_directory_of_models(tmp_path: Path) -> None:
    write_model_dir(tmp_path / "a-de")
    write_model_dir(tmp_path / "b-fr", config={"id2label": ID2LABEL, "languages": ["fr"]})

    router = build_sentiment(tmp_path)

    assert [analyzer.name for analyzer in router.analyzers] == ["onnx:a-de", "onnx:b-fr", "vader"]
    assert router.analyze("gut", "fr").analyzer == "onnx:b-fr"


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        (lambda d: (d / "model.onnx").unlink(), "model.onnx is missing"),
        (lambda d: (d / "tokenizer.json").unlink(), "tokenizer.json is missing"),
        (lambda d: (d / "config.json").unlink(), "config.json is missing"),
        (lambda d: (d / "config.json").write_text("{not json"), "config.json is not valid JSON"),
        (lambda d: (d / "config.json").write_text("[1, 2]"), "must hold a JSON object"),
        (lambda d: (d / "config.json").write_text('{"languages": ["de"]}'), "no id2label"),
        (
            lambda d: (d / "config.json").write_text(
                json.dumps({"id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}})
            ),
            "id2label[0] = 'LABEL_0' is not a sentiment label we know",
        ),
        (
            lambda d: (d / "config.json").write_text(
                json.dumps({"id2label": {"0": "neutral", "1": "positive", "2": "mixed"}})
            ),
            "needs both a positive and a negative label",
        ),
        (
            lambda d: (d / "config.json").write_text(json.dumps({"id2label": ID2LABEL})),
            "declare the model's languages",
        ),
        (
            lambda d: (d / "config.json").write_text(
                json.dumps({"id2label": {"0": "negative", "1": "positive"}, "languages": ["de"]})
            ),
            "outputs 3 logits but id2label names 2",
        ),
        (
            lambda d: (d / "config.json").write_text(
                json.dumps({"id2label": ID2LABEL, "languages": ["de"], "max_length": "long"})
            ),
            "max_length must be an integer >= 2, not 'long'",
        ),
        (lambda d: (d / "model.onnx").write_bytes(b"not a model"), "model.onnx cannot be loaded"),
        (lambda d: (d / "tokenizer.json").write_text("{}"), "tokenizer.json cannot be read"),
    ],
)
def test_a_broken_directory_is_a_clear_error(model_dir: Path, breakage: Any, reason: str) -> None:
    breakage(model_dir)

    with pytest.raises(ModelDirectoryError) as caught:
        OnnxSentimentAnalyzer.from_directory(model_dir)

    assert reason in str(caught.value)
    assert str(model_dir) in str(caught.value)
    with pytest.raises(ModelDirectoryError):
        build_sentiment(model_dir)


def test_a_configured_directory_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelDirectoryError, match="is not a directory"):
        build_sentiment(tmp_path / "missing")


def test_a_configured_directory_without_models_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelDirectoryError, match=r"neither model\.onnx nor model directories"):
        build_sentiment(tmp_path)


def test_a_model_with_unexpected_inputs_is_refused(tmp_path: Path) -> None:
    model = tiny_model()
    model.graph.input.append(
        helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3])
    )
    write_model_dir(tmp_path)
    onnx.save(model, str(tmp_path / "model.onnx"))

    with pytest.raises(ModelDirectoryError, match="pixel_values"):
        OnnxSentimentAnalyzer.from_directory(tmp_path)

"""The examples in class docstrings run (from the repository root, as pytest does)."""

import doctest
import importlib
import os

import pytest

MODULES = [
    "keras_bert.backbone",
    "keras_bert.builder",
    "keras_bert.layers.activations",
    "keras_bert.layers.bert_embeddings",
    "keras_bert.layers.transformer_encoder",
    "keras_bert.layers.masked_lm_head",
    "keras_bert.layers.next_sentence_head",
    "pipelines.tokenizer",
    "pipelines.preprocessor",
    "pipelines.basic_tokenizer",
    "pipelines.masking",
    "pipelines.pretraining",
    "keras_bert.training",
    "keras_bert.tasks.bert_pretrainer",
    "keras_bert.tasks.bert_classifier",
    "keras_bert.tasks.bert_text_embedder",
    "keras_bert.layers.mean_pooling",
    "keras_bert.tasks.bert_span_extractor",
    "keras_bert.tasks.bert_token_classifier",
    "keras_bert.tasks.bert_feature_tagger",
    "keras_bert.tasks.bert_multiple_choice",
    "keras_bert.layers.scalar_mix",
    "keras_bert.layers.choice_reshape",
    "keras_bert.layers.frozen_features",
    "keras_bert.metrics.squad_scores",
    "pipelines.squad",
    "pipelines.squad_windows",
    "pipelines.span_decoding",
    "pipelines.conll",
    "pipelines.tag_schemes",
    "pipelines.token_labels",
    "keras_bert.metrics.entity_scores",
    "pipelines.swag",
    "pipelines.entity_decoding",
    "saved_models.export",
    "keras_bert.distribute",
    "keras_bert.layers.fused_attention",
    "keras_bert.layer_norm_onednn",
    "keras_bert.softmax_onednn",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0

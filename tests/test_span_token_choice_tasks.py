"""The span, token and choice task models (span extractor, token classifier, feature
tagger, multiple choice): the shared harness, NumPy references, and Google run_squad.py
checkpoints."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert import checkpoints
from keras_bert.layers import ScalarMix
from keras_bert.tasks.bert_feature_tagger import FEATURES
from tests import numpy_bert
from tests.checkpoint_files import tf1_config, tiny_weights, write_tf1
from tests.task_checks import SEQ, TINY, build_tiny, run_task_checks, tiny_inputs
from tests.tiny import HEADS, HIDDEN, INTER, LAYERS

VOCAB = 11  # The TF1 checkpoints' vocabulary; the rest is the tiny encoder.
CONFIG = tf1_config(VOCAB, HIDDEN, LAYERS, HEADS, INTER)


def test_span_extractor_task_checks(tmp_path):
    x = tiny_inputs()
    rng = np.random.default_rng(0)
    y = {"start_logits": rng.integers(0, SEQ, 4), "end_logits": rng.integers(0, SEQ, 4)}
    run_task_checks(
        "question_answering", x, y, tmp_path, ["start_logits_accuracy", "end_logits_accuracy"]
    )


def test_token_classifier_task_checks(tmp_path):
    x = tiny_inputs()
    y = np.random.default_rng(1).integers(0, 5, (4, SEQ))
    model = run_task_checks(
        "token_classification",
        x,
        y,
        tmp_path,
        ["accuracy"],
        num_classes=5,
        label_names=list("OBIES"),
    )
    assert model.label_names == list("OBIES")


def test_feature_tagger_task_checks(tmp_path):
    x = tiny_inputs()
    y = np.random.default_rng(2).integers(0, 3, (4, SEQ))
    run_task_checks(
        "feature_tagging", x, y, tmp_path, ["accuracy"], num_classes=3, lstm_units=4, lstm_layers=1
    )


def test_multiple_choice_task_checks(tmp_path):
    x = {k: np.stack([v, v[::-1], v], axis=1) for k, v in tiny_inputs().items()}  # (4, 3, 7)
    y = np.array([0, 1, 2, 1])
    run_task_checks("multiple_choice", x, y, tmp_path, ["accuracy"], num_choices=3)


def test_sample_weights_mask_word_piece_continuations():
    # Loss and accuracy count only weighted positions: labels under weight 0 change nothing.
    model = build_tiny("token_classification", num_classes=3, dropout=0.0, head_dropout=0.0)
    x = tiny_inputs()
    y = np.random.default_rng(3).integers(0, 3, (4, SEQ))
    weights = (np.random.default_rng(4).random((4, SEQ)) < 0.5).astype("float32")
    other = np.where(weights > 0, y, (y + 1) % 3)
    a = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    b = model.evaluate(x, other, sample_weight=weights, verbose=0, return_dict=True)
    assert a["loss"] == pytest.approx(b["loss"]) and a["accuracy"] == b["accuracy"]
    logits = model.predict(x, verbose=0)
    expected = np.sum((logits.argmax(-1) == y) * weights) / weights.sum()
    assert a["accuracy"] == pytest.approx(expected)


def _checkpoint(tmp_path, head_name, head_shape):
    weights = tiny_weights(heads=False)
    rng = np.random.default_rng(7)
    weights[f"{head_name}output_weights"] = rng.standard_normal(head_shape).astype("float32")
    weights[f"{head_name}output_bias"] = rng.standard_normal(head_shape[0]).astype("float32")
    return write_tf1(str(tmp_path / "ckpt"), weights, CONFIG), weights


def _inputs():
    return tiny_inputs(2, 7, seed=3, vocabulary_size=VOCAB)


def test_run_squad_checkpoint_loads_matches_numpy_and_writes_back(tmp_path):
    directory, weights = _checkpoint(tmp_path, "cls/squad/", (2, HIDDEN))
    model = keras_bert.build(directory, task="question_answering", dropout=0.0)
    x = _inputs()
    sequence, _, _ = numpy_bert.forward(
        weights, x["token_ids"], x["segment_ids"], x["padding_mask"], HEADS, LAYERS
    )
    logits = sequence @ weights["cls/squad/output_weights"].T + weights["cls/squad/output_bias"]
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out["start_logits"], logits[..., 0], atol=5e-5)
    np.testing.assert_allclose(out["end_logits"], logits[..., 1], atol=5e-5)
    target = str(tmp_path / "written")
    checkpoints.write_tf1_checkpoint(target, model)
    reader = tf.train.load_checkpoint(f"{target}/bert_model.ckpt")
    assert reader.get_variable_to_shape_map()["cls/squad/output_weights"] == [2, HIDDEN]
    for name in ("cls/squad/output_weights", "cls/squad/output_bias"):
        np.testing.assert_array_equal(reader.get_tensor(name), weights[name])


def test_multiple_choice_matches_numpy(tmp_path):
    directory, weights = _checkpoint(tmp_path, "", (1, HIDDEN))
    model = keras_bert.build(directory, task="multiple_choice", num_choices=3, dropout=0.0)
    pairs = tiny_inputs(6, 7, seed=5, vocabulary_size=VOCAB)
    _, pooled, _ = numpy_bert.forward(
        weights, pairs["token_ids"], pairs["segment_ids"], pairs["padding_mask"], HEADS, LAYERS
    )
    expected = (pooled @ weights["output_weights"].T + weights["output_bias"]).reshape(2, 3)
    x = {k: v.reshape(2, 3, 7) for k, v in pairs.items()}
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=5e-5)


def test_scalar_mix_matches_numpy():
    rng = np.random.default_rng(0)
    layers = [rng.standard_normal((2, 3, 4)).astype("float32") for _ in range(3)]
    mix = ScalarMix()
    mix(layers)
    mix.layer_weights.assign([0.5, -1.0, 2.0])
    mix.gamma.assign(1.5)
    w = np.exp([0.5, -1.0, 2.0]) / np.exp([0.5, -1.0, 2.0]).sum()
    expected = 1.5 * sum(wi * layer for wi, layer in zip(w, layers))
    np.testing.assert_allclose(mix(layers), expected, rtol=1e-5)


@pytest.mark.parametrize("features", FEATURES)
def test_feature_tagger_freezes_the_encoder_and_uses_the_chosen_layers(features):
    model = keras_bert.build(
        "tiny",
        task="feature_tagging",
        num_classes=3,
        features=features,
        lstm_units=3,
        **dict(TINY, num_layers=4, dropout=0.5),
    )
    backbone_ids = {id(v) for v in model.backbone.weights}
    assert not any(id(v) in backbone_ids for v in model.trainable_weights)
    x = tiny_inputs()
    if features in ("last", "last_four", "scalar_mix"):  # A training step (one per kind).
        before = [np.asarray(v).copy() for v in model.backbone.weights]
        model.fit(x, np.zeros((4, SEQ), "int32"), epochs=1, verbose=0)
        for a, b in zip(before, model.backbone.weights):
            np.testing.assert_array_equal(a, np.asarray(b))
    # The encoder runs in inference mode even while the tagger trains (dropout 0.5 off).
    features_model = keras.Model(model.input, model.get_layer("feature_dropout").input)
    a = features_model(x, training=True)
    b = features_model(x, training=True)
    for u, v in zip(keras.tree.flatten(a), keras.tree.flatten(b)):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    width = {"last_four": 24}.get(features, 6)
    assert model.get_layer("feature_dropout").output.shape[-1] == width
    # The paper's rows, from the encoder's own outputs.
    layers = [np.asarray(t) for t in model.backbone(x, training=False)["encoder_outputs"]]
    if features in ("sum_last_four", "scalar_mix"):
        mix = model.get_layer("scalar_mix")
        mixed = layers[-4:] if features == "sum_last_four" else layers
        weights = np.exp(np.asarray(mix.layer_weights))
        weights /= weights.sum()
        expected = float(np.asarray(mix.gamma)) * sum(w * t for w, t in zip(weights, mixed))
    else:
        expected = {
            "embeddings": lambda: np.asarray(
                model.backbone.embeddings(x["token_ids"], x["segment_ids"], training=False)
            ),
            "second_to_last": lambda: layers[-2],
            "last": lambda: layers[-1],
            "last_four": lambda: np.concatenate(layers[-4:], axis=-1),
        }[features]()
    np.testing.assert_allclose(np.asarray(a), expected, atol=1e-5)


def test_feature_tagger_options_are_checked():
    with pytest.raises(ValueError, match="features must be one of"):
        build_tiny("feature_tagging", num_classes=3, features="sum")
    with pytest.raises(ValueError, match="'last_four' needs 4 layers"):
        build_tiny("feature_tagging", num_classes=3, features="last_four")
    with pytest.raises(ValueError, match="'sum_last_four' needs 4 layers"):
        build_tiny("feature_tagging", num_classes=3, features="sum_last_four")

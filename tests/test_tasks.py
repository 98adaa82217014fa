"""Task models: the shared harness, option routing, the heads map with Google-format
fine-tuned checkpoints, and each head against a NumPy reference."""

import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert import BertClassifier, BertTextEmbedder, checkpoints
from keras_bert.builder import BACKBONE_ARGS, TASKS
from keras_bert.tasks import RECIPE_ARGS
from tests import numpy_bert
from tests.checkpoint_files import tf1_config, tiny_weights, write_tf1
from tests.model_checks import run_model_checks
from tests.task_checks import TINY, build_tiny, run_task_checks, tiny_inputs
from tests.tiny import HEADS, HIDDEN, INTER, LAYERS

VOCAB = 11  # The TF1 checkpoints' vocabulary; the rest is the tiny encoder.
CONFIG = tf1_config(VOCAB, HIDDEN, LAYERS, HEADS, INTER)


def test_classifier_task_checks(tmp_path):
    x = tiny_inputs()
    y = np.array([0, 2, 1, 2], "int32")
    run_task_checks("classification", x, y, tmp_path, ["accuracy"], num_classes=3)


def test_regression_task_checks(tmp_path):
    x = tiny_inputs()
    y = np.array([0.5, 4.2, 3.0, 1.25], "float32")
    model = run_task_checks("classification", x, y, tmp_path, ["mae"], num_classes=1)
    assert model.output.name.startswith("score") or model.output_names == ["score"]
    assert model.predict(x, verbose=0).shape == (4,)


def test_classifier_generic_model_checks(tmp_path):
    backbone = keras_bert.BertBackbone(**TINY)
    model = BertClassifier(backbone, num_classes=3, label_names=["neg", "neu", "pos"])
    run_model_checks(model, tiny_inputs(), tmp_path)
    restored = __import__("keras").saving.load_model(str(tmp_path / "model.keras"))
    assert restored.label_names == ["neg", "neu", "pos"]  # Names travel with the model.
    with pytest.raises(ValueError, match="do not name the 2 classes"):
        BertClassifier(backbone, num_classes=2, label_names=["a", "b", "c"])


def test_embedder_generic_model_checks(tmp_path):
    backbone = keras_bert.BertBackbone(**TINY)
    run_model_checks(BertTextEmbedder(backbone), tiny_inputs(), tmp_path)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_no_task_or_recipe_option_shadows_a_backbone_argument(task):
    own, recipe = keras_bert.task_options(task)
    assert not set(own) & set(BACKBONE_ARGS), set(own) & set(BACKBONE_ARGS)
    assert not set(recipe) & set(BACKBONE_ARGS)
    assert not set(own) & set(recipe)


def test_head_dropout_does_not_touch_the_encoder():
    model = build_tiny("classification", num_classes=2, head_dropout=0.4, dropout=0.0)
    assert model.backbone.dropout == 0.0 and model.head_dropout == 0.4
    assert model.head_dropout_layer.rate == 0.4


def test_task_option_errors_name_the_valid_ones():
    with pytest.raises(
        ValueError,
        match="Unknown option.*'classification': dropout_rate.*"
        "num_classes, head_dropout, label_names",
    ):
        build_tiny("classification", num_classes=2, dropout_rate=0.3)
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        build_tiny("classification", num_classes=0)
    with pytest.raises(ValueError, match="Unknown task 'ner'; known tasks"):
        keras_bert.build("tiny", task="ner")


def test_fine_tuning_recipe_is_berts():
    model = build_tiny("classification", num_classes=2, total_steps=100)
    optimizer = model.optimizer
    assert optimizer.epsilon == 1e-6 and optimizer.weight_decay == 0.01
    assert optimizer.global_clipnorm == 1.0
    schedule = optimizer._learning_rate
    assert schedule.peak == 5e-5 and schedule.warmup_steps == 10 and schedule.total_steps == 100
    assert float(schedule(100)) == 0.0
    assert (
        build_tiny(
            "classification", num_classes=2, learning_rate=2e-5
        ).optimizer._learning_rate.peak
        == 2e-5
    )
    assert isinstance(
        build_tiny("classification", num_classes=2, dtype="mixed_float16").optimizer,
        __import__("keras").optimizers.LossScaleOptimizer,
    )


def _classifier_checkpoint(tmp_path, num_classes=3, seed=0):
    """A run_classifier.py-style checkpoint: top-level output_weights [labels, hidden]."""
    weights = tiny_weights(seed=seed, heads=False)
    rng = np.random.default_rng(seed + 1)
    weights["output_weights"] = rng.standard_normal((num_classes, HIDDEN)).astype("float32")
    weights["output_bias"] = rng.standard_normal(num_classes).astype("float32")
    return write_tf1(str(tmp_path / "classifier"), weights, CONFIG), weights


def _inputs(batch=2, seq=7):
    return tiny_inputs(batch, seq, seed=3, vocabulary_size=VOCAB)


def test_google_classifier_checkpoint_loads_and_matches_reference(tmp_path):
    directory, weights = _classifier_checkpoint(tmp_path)
    model = keras_bert.build(directory, task="classification", num_classes=3, dropout=0.0)
    x = _inputs()
    _, pooled, _ = numpy_bert.forward(
        weights, x["token_ids"], x["segment_ids"], x["padding_mask"], HEADS, LAYERS
    )
    expected = pooled @ weights["output_weights"].T + weights["output_bias"]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=5e-5)

    # Written back under the original names and layout, bit-exact.
    target = str(tmp_path / "written")
    checkpoints.write_tf1_checkpoint(target, model)
    reader = tf.train.load_checkpoint(f"{target}/bert_model.ckpt")
    assert reader.get_variable_to_shape_map()["output_weights"] == [3, HIDDEN]
    np.testing.assert_array_equal(reader.get_tensor("output_weights"), weights["output_weights"])
    np.testing.assert_array_equal(reader.get_tensor("output_bias"), weights["output_bias"])


def test_classifier_checkpoint_with_other_label_count_is_a_loud_error(tmp_path):
    directory, _ = _classifier_checkpoint(tmp_path, num_classes=3)
    with pytest.raises(
        ValueError,
        match=r"output_weights: checkpoint \(6, 3\) vs model "
        r"\(6, 2\)",
    ):
        keras_bert.build(directory, task="classification", num_classes=2)


def test_encoder_checkpoints_start_a_new_classifier(tmp_path):
    # A pretraining checkpoint (cls/... heads, no classifier) and a classifier checkpoint
    # both load as encoders, and the pretraining one into a fresh classifier.
    pretraining = write_tf1(str(tmp_path / "pre"), tiny_weights(), CONFIG)
    model = keras_bert.build(pretraining, task="classification", num_classes=4)
    assert model.predict(_inputs(), verbose=0).shape == (2, 4)
    classifier_dir, _ = _classifier_checkpoint(tmp_path)
    assert keras_bert.build(classifier_dir).num_layers == LAYERS


def test_pretrainer_heads_round_trip_through_the_heads_map(tmp_path):
    directory = write_tf1(str(tmp_path / "pre"), tiny_weights(), CONFIG)
    model = keras_bert.build(directory, task="pretraining")
    written = str(tmp_path / "written")
    checkpoints.write_tf1_checkpoint(written, model)
    _, original = checkpoints.read_weights(directory)
    _, again = checkpoints.read_weights(written)
    assert set(again) == set(original)
    for name in original:
        np.testing.assert_array_equal(again[name], original[name], err_msg=name)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_embedder_matches_numpy_pooling(tmp_path, pooling):
    weights = tiny_weights(heads=False)
    directory = write_tf1(str(tmp_path / "enc"), weights, CONFIG)
    embedder = keras_bert.build(directory, task="embedding", pooling=pooling)
    x = _inputs()
    x["padding_mask"][0, 4:] = 0
    sequence, _, _ = numpy_bert.forward(
        weights, x["token_ids"], x["segment_ids"], x["padding_mask"], HEADS, LAYERS
    )
    if pooling == "mean":
        mask = x["padding_mask"][..., None]
        expected = (sequence * mask).sum(1) / mask.sum(1)
    else:
        expected = sequence[:, 0]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(embedder.predict(x, verbose=0), expected, atol=5e-5)


def test_recipe_args_come_from_make_optimizer():
    assert {"learning_rate", "total_steps", "warmup_steps", "jit_compile"} <= set(RECIPE_ARGS)

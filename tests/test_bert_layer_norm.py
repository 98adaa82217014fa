"""BertLayerNorm: Keras's LayerNormalization with a hand-written gradient."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.layers import BertLayerNorm


def outputs_and_gradients(layer, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * upstream)
    return [y] + tape.gradient(loss, [x, layer.gamma, layer.beta])


@pytest.mark.parametrize("shape", [(3, 7, 6), (5, 11)])
@pytest.mark.parametrize("traced", [False, True])
def test_matches_keras_layer_norm_and_its_gradients(shape, traced):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=shape) * 3 + 2).astype("float32")
    upstream = rng.normal(size=shape).astype("float32")
    gamma, beta = rng.normal(size=shape[-1:]), rng.normal(size=shape[-1:])
    results = []
    for cls in (BertLayerNorm, keras.layers.LayerNormalization):
        layer = cls(epsilon=1e-12)
        layer.build(shape)
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
        run = tf.function(outputs_and_gradients) if traced else outputs_and_gradients
        results.append([np.asarray(t) for t in run(layer, tf.constant(x), upstream)])
    for ours, keras_own, name in zip(*results, ["y", "dx", "dgamma", "dbeta"]):
        assert np.abs(keras_own).max() > 0.1, name
        np.testing.assert_allclose(ours, keras_own, rtol=1e-5, atol=2e-5, err_msg=name)


def test_numpy_reference_and_mixed_precision():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 9)).astype("float32") * 5
    layer = BertLayerNorm(epsilon=1e-12, dtype="mixed_bfloat16")
    y = layer(x, training=True)
    assert y.dtype == "bfloat16"
    expected = (x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(tf.cast(y, tf.float32)), expected, atol=3e-2)


def test_other_axes_use_keras_own_call():
    x = np.random.default_rng(2).normal(size=(3, 4, 5)).astype("float32")
    ours, keras_own = BertLayerNorm(axis=1), keras.layers.LayerNormalization(axis=1)
    assert not ours._custom(tf.constant(x))
    np.testing.assert_allclose(np.asarray(ours(x, training=True)), np.asarray(keras_own(x)),
                               atol=1e-6)


def test_a_block_uses_it_in_training_and_keras_formula_in_inference(monkeypatch):
    from keras_bert.layers import TransformerEncoder
    from keras_bert.layers import bert_layer_norm

    calls, normalize = [], bert_layer_norm._normalize
    monkeypatch.setattr(bert_layer_norm, "_normalize",
                        lambda *args: calls.append(1) or normalize(*args))
    block = TransformerEncoder(num_heads=2, intermediate_dim=10)
    x = np.random.default_rng(3).normal(size=(3, 7, 6)).astype("float32")
    inference = block(x, training=False)
    assert not calls
    block.dropout = block.attention_dropout = 0.0
    block.dropout_layer.rate = block.attention_dropout_layer.rate = 0.0
    training = block(x, training=True)  # No dropout: the same function as inference.
    assert len(calls) == 2  # The two LayerNorms of the block.
    np.testing.assert_allclose(np.asarray(training), np.asarray(inference), atol=2e-5)

"""BertLayerNorm: Keras's LayerNormalization with a hand-written gradient, and oneDNN's
fused kernel in inference on TensorFlow's CPUs."""

import os
import platform

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.kernels import layer_norm_onednn, switches
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
    np.testing.assert_allclose(
        np.asarray(ours(x, training=True)), np.asarray(keras_own(x)), atol=1e-6
    )


def test_a_block_uses_it_in_training_and_inference(monkeypatch):
    from keras_bert.layers import TransformerEncoder, bert_layer_norm

    calls, normalize = [], bert_layer_norm._normalize
    monkeypatch.setattr(
        bert_layer_norm, "_normalize", lambda *args: calls.append(args[-1]) or normalize(*args)
    )
    block = TransformerEncoder(num_heads=2, intermediate_dim=10)
    x = np.random.default_rng(3).normal(size=(3, 7, 6)).astype("float32")
    inference = block(x, training=False)
    # Inference: the two LayerNorms through oneDNN's kernel.
    assert calls == [layer_norm_onednn.layer_norm] * 2
    block.dropout = block.attention_dropout = 0.0
    block.dropout_layer.rate = block.attention_dropout_layer.rate = 0.0
    training = block(x, training=True)  # No dropout: the same function as inference.
    assert calls[2:] == [None, None]  # Training: the written-out formula.
    np.testing.assert_allclose(np.asarray(training), np.asarray(inference), atol=2e-5)


def test_onednn_kernel_is_usable_on_this_machine():
    """The build machine (x86-64 Linux, TensorFlow's oneDNN on by default) runs the
    fused kernel; without it the inference tests below would test Keras's formula."""
    assert platform.machine() in ("x86_64", "AMD64")
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"
    assert layer_norm_onednn.available()


def _graph_ops(fn, x):
    return {n.op for n in tf.function(fn).get_concrete_function(x).graph.as_graph_def().node}


@pytest.mark.parametrize("shape", [(3, 7, 6), (5, 11)])
@pytest.mark.parametrize("traced", [False, True])
def test_inference_kernel_matches_keras_layer_norm_and_its_gradients(shape, traced):
    """In inference, oneDNN's kernel (in the graph), Keras's numbers, and the written
    gradient through it (a tape over an inference call)."""
    rng = np.random.default_rng(4)
    x = tf.constant((rng.normal(size=shape) * 3 + 2).astype("float32"))
    upstream = rng.normal(size=shape).astype("float32")
    gamma, beta = rng.normal(size=shape[-1:]), rng.normal(size=shape[-1:])
    layers = [BertLayerNorm(epsilon=1e-12), keras.layers.LayerNormalization(epsilon=1e-12)]
    for layer in layers:
        layer.build(shape)
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
    assert "_MklLayerNorm" in _graph_ops(lambda x: layers[0](x, training=False), x)

    def run(layer, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=False) * upstream)
        return [layer(x, training=False)] + tape.gradient(loss, [x, layer.gamma, layer.beta])

    run = tf.function(run) if traced else run
    for ours, keras_own, name in zip(
        run(layers[0], x), run(layers[1], x), ["y", "dx", "dgamma", "dbeta"]
    ):
        assert np.abs(np.asarray(keras_own)).max() > 0.1, name
        np.testing.assert_allclose(ours, keras_own, rtol=1e-5, atol=2e-5, err_msg=name)


def test_xla_and_export_tracing_keep_standard_ops():
    """Under XLA (no such kernel there) and under `portable()` (exports), the graph has
    Keras's formula, with the same numbers."""
    layer = BertLayerNorm(epsilon=1e-12)
    x = tf.constant(np.random.default_rng(5).normal(size=(4, 9)).astype("float32"))
    fused = np.asarray(layer(x, training=False))
    compiled = tf.function(lambda x: layer(x, training=False), jit_compile=True)
    np.testing.assert_allclose(np.asarray(compiled(x)), fused, atol=2e-6)
    with switches.portable():
        assert not layer_norm_onednn.usable(x)
        ops = _graph_ops(lambda x: layer(x, training=False), x)
    assert not any(op.startswith("_Mkl") for op in ops), ops
    assert {"Mean", "Rsqrt"} <= ops
    assert layer_norm_onednn.usable(x)  # The context ended.

"""MaskDropout: Keras's inverted dropout, as one multiply by a keep mask."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.layers import MaskDropout


@pytest.mark.parametrize("shape", [(200, 500), (100, 3, 333)])
def test_drops_the_rate_and_scales_the_rest(shape):
    layer = MaskDropout(0.1, seed=3)
    y = keras.ops.convert_to_numpy(layer(np.ones(shape, "float32"), training=True))
    values = np.unique(y)
    assert len(values) == 2 and values[0] == 0 and values[1] == pytest.approx(1 / 0.9)
    dropped = (y == 0).mean()
    assert abs(dropped - 0.1) < 0.003  # 100k draws: 5 standard deviations is 0.0047.
    assert abs(y.mean() - 1.0) < 0.005  # Inverted dropout keeps the mean.
    # Neighbouring decisions (the two halves of one 32-bit draw) are independent.
    flat = (y.reshape(-1) == 0)[: y.size // 2 * 2].reshape(-1, 2)
    both = flat.all(axis=1).mean()
    assert abs(both - 0.01) < 0.002  # 0.1 * 0.1; 50k pairs, 4 standard deviations.


def test_dynamic_shapes_in_a_traced_function():
    layer = MaskDropout(0.25, seed=4)
    f = tf.function(
        lambda x: layer(x, training=True), input_signature=[tf.TensorSpec((None, None), tf.float32)]
    )
    for shape in [(64, 64), (33, 129)]:
        y = f(tf.ones(shape)).numpy()
        assert y.shape == shape and abs((y == 0).mean() - 0.25) < 0.02


def test_inference_and_zero_rate_are_identity_and_seed_pins_the_mask():
    x = np.random.default_rng(0).normal(size=(3, 7)).astype("float32")
    np.testing.assert_array_equal(MaskDropout(0.5, seed=1)(x, training=False), x)
    np.testing.assert_array_equal(MaskDropout(0.0, seed=1)(x, training=True), x)
    a = MaskDropout(0.5, seed=7)(x, training=True)
    b = MaskDropout(0.5, seed=7)(x, training=True)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="rate"):
        MaskDropout(1.0)


@pytest.mark.parametrize("last", [11, 12])  # Odd: the 16-bit pairs are cut.
def test_gradient_is_the_same_mask(last):
    layer = MaskDropout(0.3, seed=2)
    x = tf.Variable(np.random.default_rng(1).normal(size=(5, last)).astype("float32"))
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * 2.0)
    grad = tape.gradient(loss, x).numpy()
    mask = y.numpy() / x.numpy()  # 0 or 1 / 0.7 where kept
    np.testing.assert_allclose(grad, 2.0 * mask, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_dropper_applies_keep_mask_in_one_kernel(dtype):
    """The XLA kernel drops what `keep_mask` would (same seed: same random numbers)."""
    x = tf.constant(np.random.default_rng(6).normal(size=(3, 5, 7)), tf.float32)
    drop = MaskDropout(0.3, seed=11).dropper(x, dtype)(x)
    keep = MaskDropout(0.3, seed=11).keep_mask(x, dtype)
    assert drop.dtype == dtype
    np.testing.assert_array_equal(
        np.asarray(tf.cast(drop, tf.float32)),
        np.asarray(tf.cast(tf.cast(x, dtype) * keep, tf.float32)),
    )
    assert 0.15 < float(tf.reduce_mean(tf.cast(keep == 0, tf.float32))) < 0.45


def test_bfloat16_policy_keeps_the_dtype():
    layer = MaskDropout(0.2, seed=0, dtype="mixed_bfloat16")
    y = layer(np.ones((4, 9), "float32"), training=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-6), ("bfloat16", 2e-2)])
def test_softmax_dropout_gradient_is_the_chain_rules(dtype, tolerance):
    """The one-formula gradient of softmax-then-dropout equals automatic
    differentiation through the two taken separately (same mask)."""
    import tensorflow as tf

    from keras_bert.ops.softmax_dropout import softmax_dropout

    rng = np.random.default_rng(5)
    scores = tf.constant(rng.normal(size=(2, 3, 5, 7)) * 3, tf.float32)
    keep = tf.cast(tf.constant((rng.random((2, 3, 5, 7)) > 0.3) / 0.7, tf.float32), dtype)
    upstream = tf.cast(tf.constant(rng.normal(size=(2, 3, 5, 7)), tf.float32), dtype)
    results = []
    for fused in (True, False):
        with tf.GradientTape() as tape:
            tape.watch(scores)
            if fused:
                out = softmax_dropout(scores, lambda probs: tf.cast(probs, dtype) * keep)
            else:
                out = tf.cast(tf.nn.softmax(scores, axis=-1), dtype) * keep
            loss = tf.reduce_sum(tf.cast(out * upstream, tf.float32))
        results.append((out, tape.gradient(loss, scores)))
    (out, grad), (want_out, want_grad) = results
    assert out.dtype == want_out.dtype
    np.testing.assert_array_equal(
        np.asarray(tf.cast(out, tf.float32)), np.asarray(tf.cast(want_out, tf.float32))
    )
    assert float(tf.reduce_max(tf.abs(want_grad))) > 0.1
    np.testing.assert_allclose(
        np.asarray(grad), np.asarray(want_grad), atol=tolerance, rtol=tolerance
    )

"""gelu_exact_training: the exact GELU with its derivative formed in the forward pass."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.kernels import dispatch
from keras_bert.layers import TransformerEncoder
from keras_bert.ops import activations, gelu


def numpy_gelu_and_slope(x):
    """GELU x * Phi(x) and its derivative Phi(x) + x * phi(x), in float64."""
    x = np.asarray(x, "float64")
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x.ravel()]).reshape(x.shape)
    pdf = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


def erf_gelu(x):
    """GELU from the backend's erf op (`gelu_exact` on TensorFlow)."""
    return keras.activations.gelu(x, approximate=False)


def value_and_gradient(function, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * upstream)
    return y, tape.gradient(loss, x)


def training_gelu(x):
    """`gelu_exact_training` as the block runs it: through the dispatch, which hands it
    TensorFlow's XLA kernels on TensorFlow."""
    return dispatch.apply_activation(x, "gelu", training=True)


@pytest.fixture(params=[True, False], ids=["xla", "keras_ops"])
def xla(request, monkeypatch):
    """Which forward pass runs: TensorFlow's XLA kernels, or the backend-neutral
    formula (as JAX runs it); asserts afterwards that it ran."""
    from keras_bert.kernels import gelu_xla

    calls, compiled = [], gelu_xla.gelu_and_slope
    monkeypatch.setattr(gelu_xla, "gelu_and_slope", lambda x: calls.append(1) or compiled(x))
    if not request.param:
        monkeypatch.setattr(keras.backend, "backend", lambda: "not tensorflow")
    yield request.param
    assert bool(calls) == request.param


@pytest.mark.parametrize("traced", [False, True])
def test_float32_matches_numpy_and_autodiff_of_gelu_exact(traced, xla):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=56) * 3, [-12.0, -6.0, -1e-3, 0.0, 1e-3, 6.0, 12.0]])
    x = x.astype("float32").reshape(3, 7, 3)  # Odd sizes, a leading axis kept.
    upstream = rng.normal(size=x.shape).astype("float32")
    run = tf.function(value_and_gradient) if traced else value_and_gradient
    y, dx = run(training_gelu, tf.constant(x), upstream)
    y_auto, dx_auto = run(erf_gelu, tf.constant(x), upstream)
    want_y, want_slope = numpy_gelu_and_slope(x)
    assert y.dtype == "float32" and y.shape == x.shape
    # Phi = (1 + erf) / 2, as PyTorch forms it: in the left tail 1 + erf keeps float32's
    # absolute precision (2**-24), not its relative one, so y is off by up to |x| * 2**-24.
    tail = np.abs(x) * 2.0**-24
    assert np.all(np.abs(np.asarray(y) - want_y) <= 1e-6 * np.abs(want_y) + tail + 1e-12)
    np.testing.assert_allclose(np.asarray(dx), want_slope * upstream, rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(np.asarray(y) - np.asarray(y_auto)) <= 2e-6 * np.abs(want_y) + tail)
    np.testing.assert_allclose(np.asarray(dx), np.asarray(dx_auto), rtol=1e-5, atol=1e-6)


def test_bfloat16_is_the_float32_result_rounded_once(xla):
    rng = np.random.default_rng(1)
    x = tf.cast(rng.normal(size=(5, 9)) * 3, tf.bfloat16)  # Exact in both dtypes.
    upstream = rng.normal(size=(5, 9)).astype("float32")
    y, dx = value_and_gradient(training_gelu, x, upstream)
    assert y.dtype == "bfloat16" and dx.dtype == "bfloat16"
    want_y, want_slope = numpy_gelu_and_slope(tf.cast(x, tf.float32).numpy())
    # One rounding of the value; the gradient is the upstream (rounded to bfloat16)
    # times the rounded slope, rounded: a few bfloat16 ulps (2**-8 relative).
    np.testing.assert_allclose(tf.cast(y, tf.float32).numpy(), want_y, rtol=2**-8, atol=1e-6)
    np.testing.assert_allclose(
        tf.cast(dx, tf.float32).numpy(), want_slope * upstream, rtol=3 * 2**-8, atol=1e-3
    )


def test_a_block_uses_it_in_training_only_and_trains_the_same_function(monkeypatch):
    calls, original = [], activations.gelu_exact_training
    monkeypatch.setattr(
        "keras_bert.kernels.dispatch.gelu_exact_training",
        lambda x, kernel=None: calls.append(1) or original(x, kernel),
    )
    keras.utils.set_random_seed(3)
    block = TransformerEncoder(num_heads=2, intermediate_dim=10, dropout=0.0, attention_dropout=0.0)
    x = tf.constant(np.random.default_rng(3).normal(size=(3, 7, 6)).astype("float32"))
    upstream = np.random.default_rng(4).normal(size=(3, 7, 6)).astype("float32")
    results = {}
    for training in (False, True):  # No dropout: the same function either way.
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(block(x, training=training) * upstream)
        assert len(calls) == int(training)
        results[training] = [
            np.asarray(g) for g in tape.gradient(loss, [x] + block.trainable_weights)
        ] + [loss.numpy()]
    for inference, training in zip(results[False], results[True]):
        np.testing.assert_allclose(training, inference, rtol=1e-5, atol=1e-6)


def test_int8_blocks_keep_the_activation_inside_the_int8_layer():
    keras.utils.set_random_seed(5)
    block = TransformerEncoder(num_heads=2, intermediate_dim=10)
    x = np.random.default_rng(5).normal(size=(2, 7, 6)).astype("float32")
    float_out = np.asarray(block(x))
    assert (
        block.intermediate_dense.activation is None
        or block.intermediate_dense.activation is keras.activations.linear
    )
    block.quantize_int8()
    assert block.intermediate_dense.activation == "gelu"
    np.testing.assert_allclose(np.asarray(block(x)), float_out, atol=0.05)


def test_erf_polynomial_gelu_is_as_exact_as_erf_and_serves_other_backends(monkeypatch):
    x = np.concatenate([np.linspace(-12, 12, 20001), [-1e-3, 0.0, 1e-3]]).astype("float32")
    want_y, want_slope = numpy_gelu_and_slope(x)
    y, dx = value_and_gradient(gelu.gelu_erf_polynomial, tf.constant(x), np.ones_like(x))
    assert np.abs(np.asarray(y, "float64") - want_y).max() <= 5e-7  # erf's own: 3.9e-7
    assert np.abs(np.asarray(dx, "float64") - want_slope).max() <= 1e-6
    y_erf = np.asarray(erf_gelu(tf.constant(x)), "float64")
    assert np.abs(y_erf - want_y).max() <= 5e-7
    x16 = tf.constant(x, tf.bfloat16)
    bf16 = gelu.gelu_erf_polynomial(x16)
    assert bf16.dtype == tf.bfloat16  # One rounding of the float32 result:
    y32 = gelu.gelu_erf_polynomial(tf.cast(x16, tf.float32))
    np.testing.assert_array_equal(bf16, tf.cast(y32, tf.bfloat16))
    assert activations.gelu_exact(tf.constant(1.0)).numpy() == erf_gelu(1.0).numpy()
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    np.testing.assert_array_equal(activations.gelu_exact(tf.constant(x)), y)

"""The attention softmax on bfloat16 scores (oneDNN, CPU inference on TensorFlow)."""

import os
import platform

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.kernels import softmax_onednn, switches
from keras_bert.layers import TransformerEncoder
from tests import cpu_kernels

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's kernels"
)


def test_bfloat16_softmax_is_usable_where_the_cpu_has_bfloat16():
    """x86-64 with oneDNN on (the default) and AVX-512 BF16 or AMX passes the
    bit-for-bit probe; an AVX2-only CPU's bfloat16 softmax is Eigen's and fails it (the
    casts stay there: the tests that need the kernel are skipped)."""
    assert platform.machine() in ("x86_64", "AMD64")
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"
    want = cpu_kernels.expected("bf16")
    if want is None:
        pytest.skip("this CPU's answer is not known")
    assert softmax_onednn.available() is want


def _kernel_or_skip():
    if not softmax_onednn.available():
        pytest.skip("TensorFlow's bfloat16 softmax is not oneDNN's here (see above)")


def _block_and_inputs(dtype):
    block = TransformerEncoder(num_heads=2, intermediate_dim=10, dtype=dtype)
    rng = np.random.default_rng(7)
    x = tf.constant(rng.normal(size=(3, 7, 6)).astype("float32") * 2)
    mask = tf.constant([[1] * 7, [1] * 4 + [0] * 3, [1, 0, 1, 1, 0, 1, 1]], "int32")
    block(x, padding_mask=mask)  # Builds it.
    for weight in block.weights:  # Scores spread enough for the softmax to matter.
        weight.assign(rng.normal(size=weight.shape) * 0.8)
    return block, x, mask


def _softmax_input_dtypes(fn, *args):
    graph = tf.function(fn).get_concrete_function(*args).graph
    return [op.inputs[0].dtype for op in graph.get_operations() if op.type == "Softmax"]


def test_the_kernel_gives_the_cast_recipes_bits():
    """On bfloat16 scores with masked keys, a whole row masked included: the bits of
    float32 softmax rounded to bfloat16."""
    _kernel_or_skip()
    rng = np.random.default_rng(8)
    scores = tf.cast(rng.normal(size=(4, 3, 9, 131)) * 5, tf.bfloat16)
    keep = rng.random((4, 1, 1, 131)) < 0.6
    keep[1] = False
    mask = tf.where(keep, 0.0, -1e9)
    direct = tf.function(lambda s: tf.nn.softmax(s + tf.cast(mask, tf.bfloat16)))(scores)
    cast = tf.cast(tf.nn.softmax(tf.cast(scores, tf.float32) + mask), tf.bfloat16)
    assert _softmax_input_dtypes(lambda s: tf.nn.softmax(s), scores) == [tf.bfloat16]
    np.testing.assert_array_equal(tf.bitcast(direct, tf.int16), tf.bitcast(cast, tf.int16))


@pytest.mark.parametrize("dtype", ["mixed_bfloat16", "bfloat16"])
def test_bfloat16_inference_skips_the_casts_and_is_no_less_accurate(dtype, monkeypatch):
    """Traced inference takes the softmax of the bfloat16 scores (no float32 casts).
    Against the float32 block on the same (bfloat16-exact) weights and inputs, the
    output is as close as the cast recipe's: the scores are scaled and masked in float32
    inside the fused matmul and rounded once."""
    _kernel_or_skip()
    block, x, mask = _block_and_inputs(dtype)
    x = tf.cast(tf.cast(x, tf.bfloat16), tf.float32)
    reference = TransformerEncoder(num_heads=2, intermediate_dim=10)
    reference(x, padding_mask=mask)
    for ours, theirs in zip(block.weights, reference.weights):
        theirs.assign(tf.cast(ours.value, tf.float32))
    want = np.asarray(reference(x, padding_mask=mask, training=False))

    def call(x, mask):
        return block(x, padding_mask=mask, training=False)

    assert _softmax_input_dtypes(call, x, mask) == [tf.bfloat16]
    direct = np.asarray(tf.function(call)(x, mask), "float32")
    monkeypatch.setattr(softmax_onednn, "usable", lambda scores: False)
    assert _softmax_input_dtypes(call, x, mask) == [tf.float32]
    cast = np.asarray(tf.function(call)(x, mask), "float32")
    assert np.abs(want).max() > 0.5
    direct_error, cast_error = np.abs(direct - want).mean(), np.abs(cast - want).mean()
    assert direct_error <= 1.1 * cast_error, (direct_error, cast_error)
    np.testing.assert_allclose(direct, want, atol=0.03 * np.abs(want).max())


def test_not_in_exports_xla_eager_or_float32():
    """Exports (`portable()`), XLA and eager calls keep the float32 softmax, as float32
    blocks do; within bfloat16 rounding of the direct path."""
    block, x, mask = _block_and_inputs("bfloat16")

    def call(x, mask):
        return block(x, padding_mask=mask, training=False)

    direct = np.asarray(tf.function(call)(x, mask), "float32")
    with switches.portable():
        assert _softmax_input_dtypes(call, x, mask) == [tf.float32]
    assert not softmax_onednn.usable(tf.zeros((2, 3), tf.bfloat16))  # Eager.
    compiled = np.asarray(tf.function(call, jit_compile=True)(x, mask), "float32")
    eager = np.asarray(call(x, mask), "float32")
    scale = np.abs(direct).max()
    for other in (compiled, eager):
        np.testing.assert_allclose(other, direct, atol=0.05 * scale)
    float_block, x, mask = _block_and_inputs("float32")
    assert _softmax_input_dtypes(
        lambda x, mask: float_block(x, padding_mask=mask, training=False), x, mask
    ) == [tf.float32]


def test_where_the_probe_failed_the_casts_stay(monkeypatch):
    """A build whose bfloat16 softmax is not oneDNN's (the probe fails, as with
    `TF_ENABLE_ONEDNN_OPTS=0`) keeps the float32 softmax."""
    block, x, mask = _block_and_inputs("bfloat16")
    monkeypatch.setattr(softmax_onednn, "_AVAILABLE", False)
    assert _softmax_input_dtypes(
        lambda x, mask: block(x, padding_mask=mask, training=False), x, mask
    ) == [tf.float32]

"""Dropout keep masks on TensorFlow from 16 random bits per decision.

`keras.random.uniform` draws 32 random bits (a Philox counter) for every element, and
on a CPU the generator, not the comparison, is most of a dropout's cost. Here each
32-bit draw makes two decisions: the draws are bit-cast to pairs of uint16 (free: a
view) and compared with `round(rate * 65536)`, so the drop probability is the rate to
within 2**-17, and half the random numbers are drawn (figures: `benchmarks/README.md`,
"Figures behind design choices").

TensorFlow is imported lazily: `import keras_bert` does not load it.
"""

import functools


def keep_mask(inputs, rate, seed, dtype=None):
    """`where(keep, 1 / (1 - rate), 0)` shaped like `inputs` (any shape, static or not)
    and typed like it or as `dtype`.

    Args:
        inputs: the tensor to drop from (only its shape and dtype are read).
        rate: float in (0, 1), the probability of a zero.
        seed: the (2,) seed tensor of a `keras.random.SeedGenerator.next()`.
        dtype: the mask's dtype, or None for that of `inputs`.
    """
    import tensorflow as tf

    dtype = tf.as_dtype(dtype or inputs.dtype)
    return _mask(random_bits(inputs, seed), *_threshold_and_scale(rate), dtype)


def random_bits(inputs, seed):
    """uint16 random numbers shaped like `inputs`, two from each 32-bit draw: the
    draws behind `keep_mask(inputs, rate, seed)`."""
    import tensorflow as tf

    seed = tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), 2**31 - 1), tf.int32)
    shape = tf.shape(inputs)
    last = shape[-1]
    pairs = (last + 1) // 2
    draws = tf.random.stateless_uniform(
        tf.concat([shape[:-1], [pairs]], 0), seed, dtype=tf.uint32, minval=None, maxval=None
    )
    bits = tf.bitcast(draws, tf.uint16)  # (..., pairs, 2): a view
    bits = tf.reshape(bits, tf.concat([shape[:-1], [2 * pairs]], 0))
    return bits[..., :last]  # An identity slice (even last axis) forwards the buffer.


def _threshold_and_scale(rate):
    """The uint16 threshold a kept number reaches and the scale of what is kept, as
    Python numbers (constants of the graph, or of the compiled kernel)."""
    return min(round(rate * 65536), 65535), 1.0 / (1.0 - rate)


def _mask(bits, threshold, scale, dtype):
    import tensorflow as tf

    return tf.where(
        bits >= tf.constant(threshold, tf.uint16),
        tf.constant(scale, dtype),
        tf.constant(0.0, dtype),
    )


def dropped(x, bits, rate, dtype):
    """`cast(x, dtype) * keep_mask` for the mask of `bits` (from `random_bits`), in one
    XLA kernel: the mask is never written out (the same numbers, a pass less).

    Args:
        x: the tensor to drop from, shaped like `bits`.
        bits: uint16 tensor, from `random_bits`.
        rate: float in (0, 1), the probability of a zero.
        dtype: the result's dtype.
    """
    import tensorflow as tf

    return _compiled_dropped()(x, bits, *_threshold_and_scale(rate), tf.as_dtype(dtype))


@functools.cache
def _compiled_dropped():
    import tensorflow as tf

    @tf.function(jit_compile=True, autograph=False)
    def run(x, bits, threshold, scale, dtype):
        return tf.cast(x, dtype) * _mask(bits, threshold, scale, dtype)

    return run

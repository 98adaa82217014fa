"""Dropout keep masks on TensorFlow from 16 random bits per decision.

`keras.random.uniform` draws 32 random bits (a Philox counter) for every element, and
on a CPU the generator, not the comparison, is most of a dropout's cost: for the
attention probabilities of a MiniLM training step (32 x 12 x 128 x 128 per block),
35 ms of a 61 ms mask-and-multiply. Here each 32-bit draw makes two decisions: the
draws are bit-cast to pairs of uint16 (free: a view) and compared with
`round(rate * 65536)`, so the drop probability is the rate to within 2**-17, and
half the random numbers are drawn (29 ms for the same mask and multiply).

TensorFlow is imported lazily: `import keras_bert` does not load it.
"""


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
    seed = tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), 2**31 - 1), tf.int32)
    shape = tf.shape(inputs)
    last = shape[-1]
    pairs = (last + 1) // 2
    draws = tf.random.stateless_uniform(tf.concat([shape[:-1], [pairs]], 0), seed,
                                        dtype=tf.uint32, minval=None, maxval=None)
    bits = tf.bitcast(draws, tf.uint16)  # (..., pairs, 2): a view
    bits = tf.reshape(bits, tf.concat([shape[:-1], [2 * pairs]], 0))
    bits = bits[..., :last]  # An identity slice (even last axis) forwards the buffer.
    threshold = tf.constant(min(round(rate * 65536), 65535), tf.uint16)
    return tf.where(bits >= threshold, tf.constant(1.0 / (1.0 - rate), dtype),
                    tf.constant(0.0, dtype))

"""The training GELU's forward pass as XLA kernels on TensorFlow.

`ops.activations.gelu_exact_training` forms `x * Phi(x)` and its slope
`Phi(x) + x * phi(x)` in float32. As TensorFlow ops that is about a dozen passes
over the block's largest activations (casts, erf, exp, products); XLA compiles each
of the two into one loop that reads the input and writes the result in its dtype.
Two one-output kernels, because XLA's two-output fusion of the formula measured
slower than both of them together; the pair takes about half the time of the
TensorFlow ops (figures: `benchmarks/README.md`, "Figures behind design choices").

TensorFlow is imported lazily: `import keras_bert` does not load it.
"""

import functools


@functools.cache
def _compiled():
    import tensorflow as tf

    # The formulas of `ops.gelu`, compiled (keras.ops on TensorFlow).
    from keras_bert.ops.gelu import gelu_float32, gelu_slope_float32

    @tf.function(jit_compile=True, autograph=False)
    def gelu(x):
        return tf.cast(gelu_float32(tf.cast(x, tf.float32)), x.dtype)

    @tf.function(jit_compile=True, autograph=False)
    def slope(x):
        return tf.cast(gelu_slope_float32(tf.cast(x, tf.float32)), x.dtype)

    return gelu, slope


def gelu_and_slope(x):
    """(GELU of `x`, its slope), both in `x`'s dtype, each rounded once from float32;
    two XLA kernels.

    Args:
        x: a floating-point TensorFlow tensor.
    """
    gelu, slope = _compiled()
    return gelu(x), slope(x)

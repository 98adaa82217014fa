"""The attention softmax on bfloat16 scores as oneDNN's kernel, for CPU inference.

Under `mixed_bfloat16` (or bfloat16 weights) the attention scores come out of their
matmul in bfloat16. Keras's recipe, which `TransformerEncoder` follows, casts them to
float32, takes the softmax there, and casts the probabilities back: three passes over
the largest tensor of the block, (batch, heads, seq, seq). TensorFlow's oneDNN softmax
takes bfloat16 directly and computes in float32 inside (maximum, exponentials and sum),
rounding each probability to bfloat16 once: the numbers the cast recipe gives, in one
pass. The probe below checks that bit for bit, once per process, and the block takes
this path only where it held.

Where it is not used (`usable`): other backends (their bfloat16 softmax may reduce in
bfloat16), builds without oneDNN or with `TF_ENABLE_ONEDNN_OPTS=0` (TensorFlow's own
kernel would serve, whose numbers differ: the probe fails), XLA-compiled functions,
eager calls (the probe checks the graph's kernel), exports
(`switches.portable()`: a SavedModel may be served by a build without
oneDNN), training, and any dtype but bfloat16. TensorFlow is imported lazily.
"""

import numpy as np

from keras_bert.kernels import onednn_probe, switches

_AVAILABLE = None


def usable(scores):
    """Whether `scores`, a TensorFlow tensor, may take its softmax in bfloat16 here."""
    import tensorflow as tf

    # Graphs only: the probe checks the graph's (oneDNN) kernel, not the eager one.
    return scores.dtype == tf.bfloat16 and switches.kernel_may_run() and available()


def available():
    """Whether TensorFlow's bfloat16 softmax gives, bit for bit, the float32 softmax
    rounded to bfloat16 (checked once per process, on masked and unmasked rows).

    Example:
    >>> isinstance(available(), bool)
    True
    """
    global _AVAILABLE
    if _AVAILABLE is None:
        _AVAILABLE = onednn_probe.passes(_probe)
    return _AVAILABLE


def _probe():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    scores = tf.cast(rng.normal(size=(3, 2, 5, 67)) * 4, tf.bfloat16)
    keep = rng.random((3, 1, 1, 67)) < 0.7
    mask = tf.where(keep, 0.0, -1e9)
    direct = tf.function(lambda s: tf.nn.softmax(s + tf.cast(mask, tf.bfloat16)))
    cast = tf.function(lambda s: tf.cast(tf.nn.softmax(tf.cast(s, tf.float32) + mask), tf.bfloat16))
    got, want = direct(scores), cast(scores)
    return bool(tf.reduce_all(tf.equal(tf.bitcast(got, tf.int16), tf.bitcast(want, tf.int16))))

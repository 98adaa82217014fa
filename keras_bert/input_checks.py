"""Checks on the ids that enter a model: integer dtype, values in range, length.

Without them an embedding lookup wraps negative ids around (id -1 reads the last
row), truncates float ids, and fails on ids past the table with a message that names
neither the input nor the cause (a GPU gather even returns zeros silently).

Eager calls raise `ValueError`. Traced calls (`fit`, `predict`, `tf.function`) on the
TensorFlow backend raise `InvalidArgumentError` with the same message, through
`tf.debugging` assertions (TensorFlow is imported only there, only on that backend);
XLA compiles assertions away. JAX cannot raise on values inside `jit`, so traced
calls on other backends go unchecked. Either way the cost is one min/max reduction of
the integer ids, which no benchmark can see beside the encoder.
"""

import keras
from keras import ops


def check_integer(name, ids):
    """Raises unless `ids` is an integer tensor or array (floats are never truncated)."""
    dtype = keras.backend.standardize_dtype(getattr(ids, "dtype", "int32"))
    if "int" not in dtype:
        raise ValueError(f"{name} must be integers, not {dtype}.")


def _is_eager(x):
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly()
    try:
        ops.convert_to_numpy(ops.min(x))
        return True
    except Exception:  # A tracer: values unknown until run.
        return False


def check_range(name, ids, limit, what):
    """Returns `ids`, checked to lie in `[0, limit)`; `what` says what `limit` is."""
    message = f"{name} must be in [0, {limit}) ({what})"
    if _is_eager(ids):
        if int(ops.size(ids)) == 0:
            return ids
        low, high = int(ops.min(ids)), int(ops.max(ids))
        if low < 0 or high >= limit:
            bad = low if low < 0 else high
            raise ValueError(f"{message}; got {bad}.")
        return ids
    if keras.backend.backend() != "tensorflow":
        return ids
    import tensorflow as tf

    low, high = tf.reduce_min(ids), tf.reduce_max(ids)
    ok = tf.logical_or(
        tf.equal(tf.size(ids), 0), tf.logical_and(low >= 0, high < tf.cast(limit, ids.dtype))
    )
    check = tf.debugging.Assert(ok, [f"{message}; got ids from", low, "to", high])
    with tf.control_dependencies([check]):
        return tf.identity(ids)


def check_length(ids, limit):
    """Returns `ids` `(batch, seq)`, checked to have `seq <= limit` (the position table)."""
    message = (
        f"sequence length exceeds max_sequence_length {limit} (the model has "
        f"{limit} position embeddings); truncate the input"
    )
    length = ids.shape[1]
    if length is None and _is_eager(ids):
        length = int(ops.shape(ids)[1])
    if length is not None:
        if length > limit:
            raise ValueError(f"{message}: got {length}.")
        return ids
    if keras.backend.backend() != "tensorflow":
        return ids
    import tensorflow as tf

    check = tf.debugging.assert_less_equal(tf.shape(ids)[1], limit, message=message)
    with tf.control_dependencies([check]):
        return tf.identity(ids)

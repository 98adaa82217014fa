"""Inverted-dropout keep masks in keras.ops."""

import keras
from keras import ops


def keep_mask(inputs, rate, seed, dtype):
    """`where(uniform >= rate, 1 / (1 - rate), 0)` shaped like `inputs`, in `dtype`.

    Example:
    >>> mask = keep_mask(ops.ones((2, 500)), 0.5, keras.random.SeedGenerator(1), "float32")
    >>> sorted(set(ops.convert_to_numpy(mask).ravel().tolist()))
    [0.0, 2.0]

    Args:
        inputs: the tensor to drop from (only its shape is read).
        rate: float in (0, 1), the probability of a zero.
        seed: a `keras.random.SeedGenerator` (or an int seed).
        dtype: str, the mask's dtype.
    """
    uniform = keras.random.uniform(ops.shape(inputs), seed=seed)
    return ops.where(uniform >= rate, ops.cast(1.0 / (1.0 - rate), dtype), ops.cast(0.0, dtype))

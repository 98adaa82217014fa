"""Dropout as one multiply by a precomputed keep mask (cheaper backward pass)."""

import keras

from keras_bert.kernels import dispatch


@keras.saving.register_keras_serializable(package="keras_bert")
class MaskDropout(keras.layers.Layer):
    """Inverted dropout, like `keras.layers.Dropout`, computed as `x * mask` with
    `mask = where(uniform >= rate, 1 / (1 - rate), 0)`.

    Keras's dropout on TensorFlow scales, then selects against a tensor of zeros, so
    its gradient is a select and a multiply over the whole tensor; here the gradient is
    one multiply by the same mask. The attention probabilities are the largest tensors
    of a BERT training step (batch x heads x seq x seq), so that pass counts (see
    `benchmarks/finetuning.py`). On TensorFlow each 32-bit random draw makes two 16-bit
    decisions (`keras_bert.kernels.dispatch.keep_mask`: half the random numbers; the drop
    probability is `round(rate * 65536) / 65536`).
    The random numbers come from the layer's own `SeedGenerator` (`seed` pins them).

    Example:
    >>> layer = MaskDropout(0.5, seed=1)
    >>> y = layer(keras.ops.ones((4, 1000)), training=True)
    >>> sorted(set(keras.ops.convert_to_numpy(y).ravel().tolist()))
    [0.0, 2.0]
    >>> bool(keras.ops.all(layer(keras.ops.ones((2, 3)), training=False) == 1))
    True

    Args:
        rate: float in [0, 1), the fraction dropped.
        seed: int or None, the seed of the random numbers.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1), got {rate}.")
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        return inputs * self.keep_mask(inputs)

    def keep_mask(self, inputs, dtype=None):
        """The next mask shaped like `inputs`, in `dtype` (default: that of `inputs`):
        `1 / (1 - rate)` where kept, 0 where dropped."""
        return dispatch.keep_mask(inputs, self.rate, self.seed_generator, dtype or inputs.dtype)

    def dropper(self, inputs, dtype=None):
        """A function `drop(x) = cast(x, dtype) * mask`, with the next mask shaped like
        `inputs` (drawn now), for `x` shaped like `inputs`; `drop` has no gradient of
        its own (for functions that write theirs, as `ops.softmax_dropout`)."""
        return dispatch.dropper(inputs, self.rate, self.seed_generator, dtype or inputs.dtype)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config

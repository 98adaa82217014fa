"""MeanPooling: the average of a sequence's real (unpadded) token vectors."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class MeanPooling(keras.layers.Layer):
    """Averages `(batch, seq, hidden)` over the positions where `padding_mask` is 1.

    Example:
    >>> x = ops.convert_to_tensor([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]])
    >>> pooled = MeanPooling()(x, padding_mask=ops.convert_to_tensor([[1, 1, 0]]))
    >>> ops.convert_to_numpy(pooled).tolist()
    [[2.0, 3.0]]
    """

    def call(self, sequence_output, padding_mask):
        mask = ops.cast(padding_mask, sequence_output.dtype)[:, :, None]  # (batch, seq, 1)
        total = ops.sum(sequence_output * mask, axis=1)  # (batch, hidden)
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)  # (batch, 1)
        return total / count

    def compute_output_shape(self, sequence_output_shape, padding_mask_shape=None):
        return (sequence_output_shape[0], sequence_output_shape[2])

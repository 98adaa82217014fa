"""WeightedCrossEntropy: sparse cross-entropy on logits averaged over the weighted
positions of the whole global batch (labelled word pieces, masked tokens), also when
that batch is split over replicas."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class WeightedCrossEntropy(keras.losses.Loss):
    """Sparse cross-entropy on logits, summed with the `sample_weight` and divided by
    the weights' total: the mean over the positions that count. For a token tagger the
    weight is 1 on each word's first piece and 0 on padding, [CLS]/[SEP] and later
    pieces, so the loss is the mean over labelled pieces whatever a batch's padded length
    (what transformers' `ignore_index` mean gives); for BERT's masked LM it is 1 on each
    real masked position (`run_pretraining.py`). Keras's default would divide by every
    position, so a batch's weight would depend on its padding.

    Under a tf.distribute strategy each replica holds a slice of the batch with its own
    count of weighted positions, so a per-replica mean would weight replicas wrongly.
    Each replica divides its sum by the total over all replicas instead (one all-reduce
    of a scalar); the gradients, summed over replicas, are then those of one device
    holding the whole batch.

    Example:
    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]], "float32"))  # (batch, seq, classes)
    >>> loss = WeightedCrossEntropy()(np.array([[0, 0]]), logits, np.array([[1.0, 0.0]]))
    >>> round(float(loss), 4)  # only the first position counts: -log(0.5)
    0.6931

    Args:
        name: str, the loss's name.
    """

    def __init__(self, name="weighted_cross_entropy", **kwargs):
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum", **kwargs)

    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.cast(y_pred, "float32")
        losses = self.call(y_true, y_pred)  # (batch, positions)
        weights = (
            ops.ones_like(losses)
            if sample_weight is None
            else ops.cast(sample_weight, losses.dtype)
        )
        total = ops.sum(losses * weights)
        return ops.divide_no_nan(total, _over_replicas(ops.sum(weights)))

    def get_config(self):
        return {"name": self.name}


def _over_replicas(value):
    """`value` summed over the replicas of a tf.distribute step (itself elsewhere)."""
    if keras.backend.backend() != "tensorflow":
        return value
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return tf.stop_gradient(context.all_reduce(tf.distribute.ReduceOp.SUM, value))

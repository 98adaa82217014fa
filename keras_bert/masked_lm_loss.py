"""MaskedLmLoss: BERT's masked-LM loss, averaged over the real predictions of the whole
global batch, also when that batch is split over replicas."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class MaskedLmLoss(keras.losses.Loss):
    """Sparse cross-entropy on logits, summed with the `sample_weight` (1 for a real
    masked position, 0 for padding) and divided by the weights' total, as in BERT's
    `run_pretraining.py`.

    Under a tf.distribute strategy each replica holds a slice of the batch with its own
    count of masked positions, so a per-replica mean would weight replicas wrongly. Each
    replica divides its sum by the total over all replicas instead (one all-reduce of a
    scalar); the gradients, summed over replicas, are then those of one device holding the
    whole batch.

    Example:
    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]], "float32"))  # (batch, preds, vocab)
    >>> loss = MaskedLmLoss()(np.array([[0, 0]]), logits, np.array([[1.0, 0.0]]))
    >>> round(float(loss), 4)  # only the first position counts: -log(0.5)
    0.6931
    """

    def __init__(self, name="masked_lm_loss", **kwargs):
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum", **kwargs)

    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.cast(y_pred, "float32")
        losses = self.call(y_true, y_pred)  # (batch, predictions)
        weights = (ops.ones_like(losses) if sample_weight is None
                   else ops.cast(sample_weight, losses.dtype))
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

"""MaskedLmLoss: BERT's masked-LM loss, averaged over the real predictions of the whole
global batch, also when that batch is split over replicas."""

import keras

from keras_bert.weighted_cross_entropy import WeightedCrossEntropy


@keras.saving.register_keras_serializable(package="keras_bert")
class MaskedLmLoss(WeightedCrossEntropy):
    """`WeightedCrossEntropy` over the masked positions (weight 1 for a real masked
    position, 0 for padding), as in BERT's `run_pretraining.py`.

    Example:
    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]], "float32"))  # (batch, preds, vocab)
    >>> loss = MaskedLmLoss()(np.array([[0, 0]]), logits, np.array([[1.0, 0.0]]))
    >>> round(float(loss), 4)  # only the first position counts: -log(0.5)
    0.6931

    Args:
        name: str, the loss's name.
    """

    def __init__(self, name="masked_lm_loss", **kwargs):
        super().__init__(name=name, **kwargs)

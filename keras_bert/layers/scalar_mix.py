"""ScalarMix: ELMo's learned, softmax-weighted sum of a model's layers, scaled."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class ScalarMix(keras.layers.Layer):
    """`gamma * sum_i softmax(w)_i * layer_i` over a list of same-shaped tensors.

    The weights `w` start at zero (an even average) and `gamma` at one; both train.
    This is how ELMo (Peters et al., 2018) and BERT's feature-based NER ablation
    combine every layer of a frozen encoder.

    Example:
    >>> layers = [ops.ones((1, 2, 3)), 3 * ops.ones((1, 2, 3))]
    >>> mix = ScalarMix()
    >>> ops.convert_to_numpy(mix(layers))[0, 0].tolist()
    [2.0, 2.0, 2.0]
    """

    def build(self, shapes):
        self.layer_weights = self.add_weight(
            shape=(len(shapes),), initializer="zeros", name="layer_weights"
        )
        self.gamma = self.add_weight(shape=(), initializer="ones", name="gamma")

    def call(self, layers):
        weights = ops.cast(ops.softmax(self.layer_weights), layers[0].dtype)  # (layers,)
        stacked = ops.stack(layers, axis=-1)  # (batch, seq, hidden, layers)
        return ops.cast(self.gamma, layers[0].dtype) * ops.sum(stacked * weights, axis=-1)

    def compute_output_shape(self, shapes):
        return tuple(shapes[0])

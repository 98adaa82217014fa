"""FrozenFeatures: every layer of an encoder, always computed in inference mode."""

import keras


@keras.saving.register_keras_serializable(package="keras_bert")
class FrozenFeatures(keras.layers.Layer):
    """Runs a `BertBackbone` with `training=False` and returns its `encoder_outputs`
    (with `with_embeddings=True`, the embedding layer's output first, then those).

    A functional model passes its own `training` flag to every layer it calls, so a
    backbone called directly inside a model being fit would apply dropout. Fixed
    features (the feature-based approach) need the encoder in inference mode even while
    the layers on top train; this layer has no `training` argument of its own, so the
    flag stops here. The encoder's weights are frozen (`trainable=False`).

    Example:
    >>> from keras_bert import BertBackbone
    >>> backbone = BertBackbone(vocabulary_size=11, num_layers=2, num_heads=2,
    ...                         hidden_dim=6, intermediate_dim=10, dropout=0.5)
    >>> x = {"token_ids": keras.ops.ones((1, 5), "int32"),
    ...      "segment_ids": keras.ops.zeros((1, 5), "int32"),
    ...      "padding_mask": keras.ops.ones((1, 5), "int32")}
    >>> layers = FrozenFeatures(backbone)(x)
    >>> len(layers), tuple(layers[-1].shape), backbone.trainable
    (2, (1, 5, 6), False)
    """

    def __init__(self, backbone, with_embeddings=False, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.with_embeddings = with_embeddings
        backbone.trainable = False

    @property
    def trainable(self):
        return False

    @trainable.setter
    def trainable(self, value):
        # Frozen by design: a parent's `trainable = True` (a functional model sets it
        # on its layers when built from a config) must not unfreeze the encoder.
        self._trainable = False
        if "backbone" in self.__dict__:
            self.backbone.trainable = False

    def call(self, inputs):
        layers = self.backbone(inputs, training=False)["encoder_outputs"]
        if not self.with_embeddings:
            return layers
        embedded = self.backbone.embeddings(
            inputs["token_ids"], inputs["segment_ids"], training=False
        )
        return [embedded] + list(layers)

    def compute_output_spec(self, inputs):
        layers = list(self.backbone.compute_output_spec(inputs)["encoder_outputs"])
        if not self.with_embeddings:
            return layers
        # A tensor of its own: one listed twice would stand for both outputs.
        return [keras.KerasTensor(layers[0].shape, layers[0].dtype)] + layers

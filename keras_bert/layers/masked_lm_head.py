"""BERT's masked-language-model head, tied to the word embedding matrix."""

import keras
from keras import ops

from keras_bert.layers.bert_layer_norm import BertLayerNorm
from keras_bert.ops.activations import get_activation


@keras.saving.register_keras_serializable(package="keras_bert")
class MaskedLMHead(keras.layers.Layer):
    """Gathers masked positions, then Dense(act) -> LayerNorm -> logits over the vocabulary.

    Without `mask_positions` it predicts at every position: the next-token head of a
    left-to-right model (`BertPretrainer(objective="ltr")`), the same layers.

    The output projection is the transposed word embedding matrix of `token_embedding`
    (weights are tied, as in BERT), plus an own bias. The TF1 names are
    `cls/predictions/transform/{dense,LayerNorm}` and `cls/predictions/output_bias`.

    Example:
    >>> embedding = keras.layers.Embedding(11, 6)
    >>> embedding.build((None,))
    >>> head = MaskedLMHead(token_embedding=embedding)
    >>> logits = head(ops.ones((2, 7, 6)), mask_positions=ops.ones((2, 3), "int32"))
    >>> tuple(logits.shape)
    (2, 3, 11)
    """

    def __init__(
        self,
        token_embedding=None,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        get_activation(activation)

    def build(self, inputs_shape, mask_positions_shape=None):
        if self.token_embedding is None:
            raise ValueError("MaskedLMHead needs `token_embedding` (the backbone's).")
        hidden_dim = inputs_shape[-1]
        vocabulary_size = self.token_embedding.input_dim
        self.transform_dense = keras.layers.Dense(
            hidden_dim,
            activation=get_activation(self.activation),
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
            dtype=self.dtype_policy,
            name="transform_dense",
        )
        self.transform_dense.build((None, None, hidden_dim))
        self.layer_norm = BertLayerNorm(
            epsilon=self.layer_norm_epsilon, dtype="float32", name="transform_layer_norm"
        )
        self.layer_norm.build((None, None, hidden_dim))
        self.output_bias = self.add_weight(
            name="output_bias", shape=(vocabulary_size,), initializer="zeros"
        )
        self.built = True

    def call(self, inputs, mask_positions=None):
        # inputs: (batch, seq, hidden); mask_positions: (batch, predictions) or None
        gathered = inputs
        if mask_positions is not None:
            positions = ops.cast(mask_positions, "int32")[:, :, None]
            gathered = ops.take_along_axis(inputs, positions, axis=1)  # (batch, preds, hidden)
        x = ops.cast(self.layer_norm(self.transform_dense(gathered)), self.compute_dtype)
        embeddings = ops.cast(self.token_embedding.embeddings, self.compute_dtype)
        logits = ops.matmul(x, ops.transpose(embeddings))  # (batch, preds, vocab)
        return logits + ops.cast(self.output_bias, self.compute_dtype)

    def compute_output_shape(self, inputs_shape, mask_positions_shape=None):
        rows = inputs_shape[:-1] if mask_positions_shape is None else mask_positions_shape
        return tuple(rows) + (self.token_embedding.input_dim,)

    def get_config(self):
        # The tied embedding is not config: the task model that owns the backbone
        # passes it again when it is rebuilt from its own config.
        config = super().get_config()
        config.update(
            activation=self.activation,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
        )
        return config

"""BERT's input embeddings: word + learned absolute position + segment, then LN, dropout."""

import keras
from keras import ops

from keras_bert.input_checks import check_length, check_range
from keras_bert.layers.bert_layer_norm import BertLayerNorm


@keras.saving.register_keras_serializable(package="keras_bert")
class BertEmbeddings(keras.layers.Layer):
    """Sums word, position and segment embeddings, then LayerNorm and dropout.

    Example:
    >>> layer = BertEmbeddings(vocabulary_size=11, hidden_dim=6, max_sequence_length=9)
    >>> ids = ops.ones((2, 7), "int32")
    >>> tuple(layer(ids, ops.zeros((2, 7), "int32")).shape)
    (2, 7, 6)
    """

    def __init__(
        self,
        vocabulary_size,
        hidden_dim,
        max_sequence_length=512,
        num_segments=2,
        dropout=0.1,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range

        init = keras.initializers.TruncatedNormal(stddev=initializer_range)
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=init,
            dtype=self.dtype_policy,
            name="word_embeddings",
        )
        self.segment_embedding = keras.layers.Embedding(
            num_segments,
            hidden_dim,
            embeddings_initializer=init,
            dtype=self.dtype_policy,
            name="segment_embeddings",
        )
        # LayerNorm statistics are computed in float32 even under mixed precision.
        self.layer_norm = BertLayerNorm(
            epsilon=layer_norm_epsilon, dtype="float32", name="layer_norm"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, token_ids_shape, segment_ids_shape=None):
        self.token_embedding.build(token_ids_shape)
        self.segment_embedding.build(token_ids_shape)
        self.position_embeddings = self.add_weight(
            name="position_embeddings",
            shape=(self.max_sequence_length, self.hidden_dim),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
        )
        self.layer_norm.build(tuple(token_ids_shape) + (self.hidden_dim,))
        self.built = True

    def call(self, token_ids, segment_ids, training=None):
        # Out-of-range ids would wrap around or fail deep inside a gather.
        token_ids = check_range("token_ids", token_ids, self.vocabulary_size, "the vocabulary size")
        segment_ids = check_range(
            "segment_ids",
            segment_ids,
            self.num_segments,
            "num_segments, the model's segment embeddings",
        )
        token_ids = check_length(token_ids, self.max_sequence_length)
        seq_len = ops.shape(token_ids)[1]
        positions = ops.cast(self.position_embeddings[:seq_len], self.compute_dtype)
        x = self.token_embedding(token_ids)  # (batch, seq, hidden)
        x = x + positions[None, :, :] + self.segment_embedding(segment_ids)
        x = ops.cast(self.layer_norm(x), self.compute_dtype)
        return self.dropout_layer(x, training=training)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return tuple(token_ids_shape) + (self.hidden_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            hidden_dim=self.hidden_dim,
            max_sequence_length=self.max_sequence_length,
            num_segments=self.num_segments,
            dropout=self.dropout,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
        )
        return config

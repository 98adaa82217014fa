"""BertBackbone: the BERT encoder as a Keras functional model."""

import keras
from keras import ops

from keras_bert.input_checks import check_integer
from keras_bert.layers.bert_embeddings import BertEmbeddings
from keras_bert.layers.transformer_encoder import TransformerEncoder


@keras.saving.register_keras_serializable(package="keras_bert")
class BertBackbone(keras.Model):
    """The BERT encoder: embeddings, a stack of post-LN transformer blocks, the pooler.

    Inputs: a dict of int32 `(batch, seq)` tensors `token_ids`, `segment_ids` and
    `padding_mask` (1 for real tokens), any `seq` up to `max_sequence_length`.
    Outputs: a dict with `sequence_output` `(batch, seq, hidden)`, `pooled_output`
    `(batch, hidden)` (tanh dense on [CLS]) and `encoder_outputs`, the list of every
    block's output (for feature-based use, e.g. a weighted sum of the last layers).

    `pooled_output` is BERT's `tanh(Dense(sequence_output[:, 0]))`. With
    `cls_row_alone=True` the last block computes that [CLS] row on its own instead (its
    query against every token, with the key kernel folded into the query and the value
    kernel applied after the probabilities; `TransformerEncoder(first_token=True)`), so
    a model that reads only `pooled_output` skips the rest of the block when traced (a
    share of the step's matmuls: `benchmarks/finetuning.py`). Without dropout it is the
    same number; in training its dropout masks are drawn apart from
    `sequence_output`'s. `build()` turns it on for the tasks that read only the pooled
    output (classification, multiple choice); a model that reads `sequence_output` as
    well (pretraining) keeps it off: one [CLS] row, one dropout mask.

    With `causal=True` it is a left-to-right model (the paper's LTR ablation): each
    position attends only to itself and earlier positions, and `pooled_output` reads
    the last real token (the one position that has seen the whole text) where BERT
    reads [CLS], so every task head works on it unchanged.

    Example:
    >>> from keras import ops
    >>> model = BertBackbone(vocabulary_size=11, num_layers=2, num_heads=2,
    ...                      hidden_dim=6, intermediate_dim=10)
    >>> inputs = {"token_ids": ops.ones((2, 7), "int32"),
    ...           "segment_ids": ops.zeros((2, 7), "int32"),
    ...           "padding_mask": ops.ones((2, 7), "int32")}
    >>> tuple(model(inputs)["sequence_output"].shape)
    (2, 7, 6)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        attention_dropout=None,
        max_sequence_length=512,
        num_segments=2,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        quantization=None,
        cls_row_alone=False,
        causal=False,
        dtype=None,
        **kwargs,
    ):
        if causal and cls_row_alone:
            raise ValueError(
                "cls_row_alone computes [CLS]'s row alone; a causal model reads its last token."
            )
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        # === Layers ===
        self.embeddings = BertEmbeddings(
            vocabulary_size=vocabulary_size,
            hidden_dim=hidden_dim,
            max_sequence_length=max_sequence_length,
            num_segments=num_segments,
            dropout=dropout,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            dtype=dtype,
            name="embeddings",
        )
        self.encoder_layers = [
            TransformerEncoder(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                activation=activation,
                dropout=dropout,
                attention_dropout=attention_dropout,
                layer_norm_epsilon=layer_norm_epsilon,
                initializer_range=initializer_range,
                quantization=quantization,
                causal=causal,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.pooler_dense = keras.layers.Dense(
            hidden_dim,
            activation="tanh",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=dtype,
            name="pooler_dense",
        )

        # === Functional Model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input(shape=(None,), dtype="int32", name="segment_ids")
        padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        x = self.embeddings(token_ids, segment_ids)  # (batch, seq, hidden)
        encoder_outputs = []
        folded = self.encoder_layers[-1] if cls_row_alone and self.encoder_layers else None
        for layer in self.encoder_layers:
            if layer is folded:
                # The last block also gives its [CLS] row alone: a model that reads only
                # the pooled output never computes the block's other rows.
                x, first = layer(x, padding_mask=padding_mask, first_token=True)
            else:
                x = layer(x, padding_mask=padding_mask)  # (batch, seq, hidden)
            encoder_outputs.append(x)
        if causal:
            first = last_real_token(x, padding_mask)  # (batch, hidden)
        elif folded is None:
            first = x[:, 0, :]  # (batch, hidden)
        pooled_output = self.pooler_dense(first)  # (batch, hidden)
        super().__init__(
            inputs={
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            outputs={
                "sequence_output": x,
                "pooled_output": pooled_output,
                "encoder_outputs": encoder_outputs,
            },
            dtype=dtype,
            **kwargs,
        )
        # A functional model ignores `dtype`; set it so the model reports (and
        # serializes) the policy its layers run under.
        self.dtype_policy = self.embeddings.dtype_policy

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.quantization = quantization
        self.cls_row_alone = cls_row_alone
        self.causal = causal

    def quantize_int8(self):
        """Quantizes the encoder blocks' dense layers to int8 in place (inference only;
        see `keras_bert.quantize_int8`). Embeddings, LayerNorms, attention scores and the
        pooler stay float32."""
        for layer in self.encoder_layers:
            layer.quantize_int8()
        self.quantization = "int8"

    def call(self, inputs, training=None, mask=None):
        for name in ("token_ids", "segment_ids", "padding_mask"):
            if isinstance(inputs, dict) and name in inputs:
                check_integer(name, inputs[name])  # Floats would be truncated silently.
        return super().call(inputs, training=training, mask=mask)

    @property
    def token_embedding(self):
        """The word embedding layer (its matrix is tied to the masked-LM head)."""
        return self.embeddings.token_embedding

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "max_sequence_length": self.max_sequence_length,
            "num_segments": self.num_segments,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "initializer_range": self.initializer_range,
            "quantization": self.quantization,
            "cls_row_alone": self.cls_row_alone,
            "causal": self.causal,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)


def last_real_token(sequence, padding_mask):
    """The row of each sequence's last real token: `sequence` (batch, seq, hidden) and
    `padding_mask` (batch, seq) (right padding) -> (batch, hidden); position 0 for a
    row with none."""
    last = ops.maximum(ops.sum(ops.cast(padding_mask, "int32"), axis=1) - 1, 0)
    return ops.take_along_axis(sequence, last[:, None, None], axis=1)[:, 0, :]

"""The post-LN transformer block of BERT."""

import math

import keras
from keras import ops

from keras_bert.kernels import dispatch
from keras_bert.layers.bert_layer_norm import BertLayerNorm
from keras_bert.layers.int8_dense import Int8Dense
from keras_bert.layers.mask_dropout import MaskDropout
from keras_bert.ops.activations import get_activation
from keras_bert.ops.attention import causal_keep

DENSE_LAYERS = ("query_dense", "key_dense", "value_dense") + (
    "attention_output_dense", "intermediate_dense", "output_dense"
)  # fmt: skip
QUANTIZATIONS = (None, "int8")


@keras.saving.register_keras_serializable(package="keras_bert")
class TransformerEncoder(keras.layers.Layer):
    """One BERT encoder block (post-LayerNorm, as in the released checkpoints).

    `x = LN(x + Drop(Dense(MHA(x))))`, then `x = LN(x + Drop(Dense(act(Dense(x)))))`.
    Query, key, value and output projections are plain `[hidden, hidden]` dense kernels,
    the layout of the original TF1 checkpoints. Scores are scaled by 1/sqrt(head_dim),
    padded keys are masked before the softmax, and softmax and LayerNorm run in float32
    under mixed precision. With `quantization="int8"` the six dense layers are
    `Int8Dense` (inference only; `quantize_int8()` converts a float block in place).
    With `causal=True` position `i` attends to positions `<= i` only (a left-to-right
    model; padded keys stay masked).
    Each step goes through `keras_bert.kernels.dispatch`, which picks a backend's kernel
    where one serves and the keras.ops form otherwise: this file is the math.

    Example:
    >>> block = TransformerEncoder(num_heads=2, intermediate_dim=10)
    >>> x = ops.ones((3, 7, 6))
    >>> tuple(block(x, padding_mask=ops.ones((3, 7), "int32")).shape)
    (3, 7, 6)

    Args:
        num_heads: int, attention heads (they divide the hidden size).
        intermediate_dim: int, the feed-forward width; activation: str, its config name.
        dropout, attention_dropout: floats; layer_norm_epsilon: float.
        initializer_range: float, the stddev of the truncated-normal kernels.
        quantization: None or "int8".
        causal: bool, each position attends only to itself and earlier ones.
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        activation="gelu",
        dropout=0.1,
        attention_dropout=0.1,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        quantization=None,
        causal=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}.")
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.activation = activation
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.quantization = quantization
        self.causal = causal
        get_activation(activation)  # Fail early on an unknown name.

    # === Layers ===
    def _dense(self, units, name, activation=None):
        """A projection: float, or int8 (which applies its activation in its kernel)."""
        if self.quantization == "int8":
            return Int8Dense(units, activation=activation, name=name)
        initializer = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        return keras.layers.Dense(
            units, kernel_initializer=initializer, dtype=self.dtype_policy, name=name
        )

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"hidden_dim {hidden_dim} is not divisible by num_heads {self.num_heads}."
            )
        self.hidden_dim, self.head_dim = hidden_dim, hidden_dim // self.num_heads
        # Named after TF1's sublayers.
        self.query_dense = self._dense(hidden_dim, "query")
        self.key_dense = self._dense(hidden_dim, "key")
        self.value_dense = self._dense(hidden_dim, "value")
        self.attention_output_dense = self._dense(hidden_dim, "attention_output")
        self.attention_layer_norm = self._layer_norm("attention_layer_norm")
        self.intermediate_dense = self._dense(
            self.intermediate_dim, "intermediate", self.activation
        )
        self.output_dense = self._dense(hidden_dim, "output")
        self.output_layer_norm = self._layer_norm("output_layer_norm")
        self.attention_dropout_layer = MaskDropout(
            self.attention_dropout, dtype=self.dtype_policy, name="attention_dropout"
        )
        self.dropout_layer = MaskDropout(self.dropout, dtype=self.dtype_policy, name="dropout")
        for name in DENSE_LAYERS[:5] + ("attention_layer_norm", "output_layer_norm"):
            getattr(self, name).build(inputs_shape)
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.built = True

    def _layer_norm(self, name):
        return BertLayerNorm(epsilon=self.layer_norm_epsilon, dtype="float32", name=name)

    def quantize_int8(self):
        """Replaces the float dense layers by `Int8Dense` ones (weights quantized), in
        place, for inference; the config then says `quantization="int8"`, so a saved
        model reloads quantized."""
        if self.quantization == "int8":
            return
        if self.compute_dtype != "float32":
            raise ValueError(
                f"{self.name}: int8 quantization starts from a float32 model; this one "
                f"computes in {self.compute_dtype}."
            )
        activations = {"intermediate_dense": self.activation}
        for name in DENSE_LAYERS:
            Int8Dense.replace(self, name, activations.get(name))
        self.quantization = "int8"

    # === Math ===
    def call(self, inputs, padding_mask=None, training=None, first_token=False):
        """`inputs` (batch, seq, hidden) -> the block's output, the same shape. With
        `first_token=True`, a pair: that and the output at position 0 alone (batch,
        hidden), from that position's query only (`ops.attention.first_token_context`:
        no key or value is formed for it). Where only the pair's second item is used,
        the full output is dead code that `tf.function` and `jax.jit` drop, so the last
        block of a classifier costs its [CLS] row alone."""
        batch, seq = ops.shape(inputs)[0], ops.shape(inputs)[1]
        # The dense layers see rows (batch * seq, hidden): 2-D matmuls, which
        # TensorFlow's oneDNN rewrite fuses with their bias and GELU.
        x = ops.reshape(inputs, (batch * seq, self.hidden_dim))
        qkv = (self.query_dense, self.key_dense, self.value_dense)
        query, key, value = dispatch.projections(qkv, x, training)
        key, value = self._heads(key, batch, seq), self._heads(value, batch, seq)
        keep = None
        if padding_mask is not None:
            keep = ops.cast(padding_mask, "bool")[:, None, None, :]  # (batch, 1, 1, seq)
        if self.causal:
            keep = causal_keep(keep, seq)  # (batch, 1, seq, seq)
        context = self._attention(self._heads(query, batch, seq), key, value, keep, training)
        outputs = self._feedforward(x, context, training)
        outputs = ops.reshape(outputs, (batch, seq, self.hidden_dim))
        if not first_token:
            return outputs
        if self.causal:
            raise ValueError(
                f"{self.name}: first_token reads [CLS]'s row; a causal block has none."
            )
        x = inputs[:, 0, :]  # (batch, hidden)
        context = dispatch.first_token_context(
            inputs,
            dispatch.dense(self.query_dense, x, training),
            qkv[1:],
            self.num_heads,
            lambda scores: dispatch.attention_probabilities(
                scores, keep, self.compute_dtype, training, dropout=self._dropout(training)
            ),
            lambda query: self._attention(self._heads(query, batch, 1), key, value, keep, training),
        )
        return outputs, self._feedforward(x, context, training)

    def _heads(self, x, batch, seq):
        return ops.reshape(x, (batch, seq, self.num_heads, self.head_dim))

    def _dropout(self, training):
        """The attention dropout layer where it drops (training), else None."""
        return self.attention_dropout_layer if training and self.attention_dropout else None

    def _attention(self, query, key, value, keep, training):
        """Per-head `query` over `key`, `value` -> the context as rows (batch * queries,
        hidden)."""
        batch, queries = ops.shape(query)[0], ops.shape(query)[1]
        scale, dtype = 1.0 / math.sqrt(self.head_dim), self.compute_dtype
        dropout = self._dropout(training)
        context = dispatch.attention(query, key, value, keep, scale, dtype, training, dropout)
        return ops.reshape(context, (batch * queries, self.hidden_dim))

    def _feedforward(self, x, context, training):
        """The block after attention: `x` and `context` rows (rows, hidden) -> the same."""
        x = dispatch.dense_residual(
            self.attention_output_dense, context, x, self.dropout_layer, training
        )
        x = ops.cast(self.attention_layer_norm(x), self.compute_dtype)
        hidden = dispatch.dense(self.intermediate_dense, x, training, self.activation)
        x = dispatch.dense_residual(self.output_dense, hidden, x, self.dropout_layer, training)
        return ops.cast(self.output_layer_norm(x), self.compute_dtype)

    # === Config ===
    def compute_output_spec(self, inputs, padding_mask=None, training=None, first_token=False):
        outputs = keras.KerasTensor(inputs.shape, self.compute_dtype)
        if not first_token:
            return outputs
        return outputs, keras.KerasTensor((inputs.shape[0], inputs.shape[-1]), self.compute_dtype)

    def get_config(self):
        names = ("num_heads", "intermediate_dim", "activation", "dropout", "attention_dropout")
        names += ("layer_norm_epsilon", "initializer_range", "quantization", "causal")
        return {**super().get_config(), **{name: getattr(self, name) for name in names}}

"""The post-LN transformer block of BERT."""

import math

import keras
from keras import ops

from keras_bert.kernels import frozen_matmul, switches
from keras_bert.kernels.fused_attention import fused_attention
from keras_bert.layers.activations import gelu_exact_training, get_activation, is_gelu_exact
from keras_bert.layers.bert_layer_norm import BertLayerNorm
from keras_bert.layers.int8_dense import Int8Dense
from keras_bert.layers.mask_dropout import MaskDropout
from keras_bert.layers.softmax_dropout import softmax_dropout

DENSE_LAYERS = (
    "query_dense",
    "key_dense",
    "value_dense",
    "attention_output_dense",
    "intermediate_dense",
    "output_dense",
)
QUANTIZATIONS = (None, "int8")

# Backends whose `ops.dot_product_attention` serves inference (no attention dropout).
FUSED_ATTENTION = ("jax", "torch")


@keras.saving.register_keras_serializable(package="keras_bert")
class TransformerEncoder(keras.layers.Layer):
    """One BERT encoder block (post-LayerNorm, as in the released checkpoints).

    `x = LN(x + Drop(Dense(MHA(x))))`, then `x = LN(x + Drop(Dense(act(Dense(x)))))`.
    Query, key, value and output projections are plain `[hidden, hidden]` dense kernels,
    the layout of the original TF1 checkpoints. Scores are scaled by 1/sqrt(head_dim),
    padded keys are masked before the softmax, and softmax and LayerNorm run in float32
    under mixed precision (in CPU inference on TensorFlow, oneDNN's softmax takes the
    bfloat16 scores and computes in float32 inside: `keras_bert.kernels.softmax_onednn`). With
    `quantization="int8"` the six dense layers are `Int8Dense` (inference only;
    `quantize_int8()` converts a float block in place). Traced by `FrozenInference`
    (weights that never change), bfloat16 blocks on TensorFlow's CPUs run each dense
    layer on oneDNN's kept-weights kernel (`keras_bert.kernels.frozen_matmul`).

    Example:
    >>> block = TransformerEncoder(num_heads=2, intermediate_dim=10)
    >>> x = ops.ones((3, 7, 6))
    >>> tuple(block(x, padding_mask=ops.ones((3, 7), "int32")).shape)
    (3, 7, 6)
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
        get_activation(activation)  # Fail early on an unknown name.

    def _dense(self, units, name, activation=None):
        if self.quantization == "int8":
            return Int8Dense(units, activation=activation, name=name)
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
            dtype=self.dtype_policy,
            name=name,
        )

    def _layer_norm(self, name):
        return BertLayerNorm(epsilon=self.layer_norm_epsilon, dtype="float32", name=name)

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"hidden_dim {hidden_dim} is not divisible by num_heads {self.num_heads}."
            )
        self.hidden_dim = hidden_dim
        self.head_dim = hidden_dim // self.num_heads
        # Sublayers are created here, where hidden_dim is known, and named after TF1's.
        self.query_dense = self._dense(hidden_dim, "query")
        self.key_dense = self._dense(hidden_dim, "key")
        self.value_dense = self._dense(hidden_dim, "value")
        self.attention_output_dense = self._dense(hidden_dim, "attention_output")
        self.attention_layer_norm = self._layer_norm("attention_layer_norm")
        # Float blocks apply the activation after a linear intermediate layer (see
        # `_feedforward`); an int8 one applies it inside its `Int8Dense`.
        self.intermediate_dense = self._dense(
            self.intermediate_dim, "intermediate", self.activation if self.quantization else None
        )
        self._activation_fn = get_activation(self.activation)
        self.output_dense = self._dense(hidden_dim, "output")
        self.output_layer_norm = self._layer_norm("output_layer_norm")
        self.attention_dropout_layer = MaskDropout(
            self.attention_dropout, dtype=self.dtype_policy, name="attention_dropout"
        )
        self.dropout_layer = MaskDropout(self.dropout, dtype=self.dtype_policy, name="dropout")

        for layer in (self.query_dense, self.key_dense, self.value_dense, self.intermediate_dense):
            layer.build(inputs_shape)
        self.attention_output_dense.build(inputs_shape)
        self.attention_layer_norm.build(inputs_shape)
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.output_layer_norm.build(inputs_shape)
        self.built = True

    def quantize_int8(self):
        """Replaces the float dense layers by `Int8Dense` ones (weights quantized), in
        place, for inference; the block's config then says `quantization="int8"`, so a
        saved model reloads quantized."""
        if self.quantization == "int8":
            return
        if self.compute_dtype != "float32":
            raise ValueError(
                f"{self.name}: int8 quantization starts from a float32 model; this one "
                f"computes in {self.compute_dtype}."
            )
        tracker = self._tracker
        locked = tracker.locked
        tracker.unlock()
        for name in DENSE_LAYERS:
            dense = getattr(self, name)
            tracker.untrack(dense)
            activation = self.activation if name == "intermediate_dense" else None
            with keras.name_scope(self.name):  # Variable paths as in a built int8 block.
                setattr(self, name, Int8Dense.from_dense(dense, activation=activation))
        if locked:
            tracker.lock()
        self.quantization = "int8"

    def _split_heads(self, x, batch, seq):
        return ops.reshape(x, (batch, seq, self.num_heads, self.head_dim))

    def _projections(self, x, training):
        """Query, key and value of `x` (batch * seq, hidden), each the same shape."""
        if self.quantization == "int8":  # One quantization of x serves all three.
            codes = self.query_dense.quantize_inputs(x)
            return tuple(
                layer.matmul_codes(codes)
                for layer in (self.query_dense, self.key_dense, self.value_dense)
            )
        return tuple(
            self._linear(layer, x, training)
            for layer in (self.query_dense, self.key_dense, self.value_dense)
        )

    def _frozen_kernels(self, x, training):
        """Whether this float block's dense layers may run on `frozen_matmul`'s kernel
        for `x`: only while `FrozenInference` traces, in inference, on TensorFlow."""
        if (
            training
            or self.quantization is not None
            or not switches.weights_frozen()
            or keras.backend.backend() != "tensorflow"
        ):
            return False
        return frozen_matmul.usable(x)  # Imports TensorFlow: on TensorFlow only.

    def _frozen_dense(self, layer, x, activation=None, residual=None):
        return frozen_matmul.dense(
            x, ops.cast(layer.kernel, x.dtype), ops.cast(layer.bias, x.dtype), activation, residual
        )

    def _linear(self, layer, x, training):
        """`layer(x)`, a dense layer without activation, on rows."""
        if self._frozen_kernels(x, training):
            return self._frozen_dense(layer, x)
        return layer(x)

    def _residual(self, layer, x, residual, training):
        """`residual + Dropout(layer(x))` on rows: what a LayerNorm of the block takes."""
        if self._frozen_kernels(x, training):
            return self._frozen_dense(layer, x, residual=residual)
        return residual + self.dropout_layer(layer(x), training=training)

    def _attention(self, query, key, value, keep, training):
        """`query` is (batch, queries, heads, dim), `key` and `value` (batch, seq, heads,
        dim), `keep` the bool key mask (batch, 1, 1, seq) or None; returns the context,
        the attention before its output layer (batch * queries, hidden)."""
        batch, queries = ops.shape(query)[0], ops.shape(query)[1]
        scale = 1.0 / math.sqrt(self.head_dim)
        if keras.backend.backend() in FUSED_ATTENTION and not (
            training and self.attention_dropout > 0
        ):
            # No attention dropout: the backend's fused attention (cuDNN flash attention
            # on JAX GPUs). On TensorFlow it is einsums, slower than the matmuls below.
            context = fused_attention(query, key, value, keep, scale)
        else:
            # Explicit transposes and batched matmuls: on TensorFlow's CPU kernels 25-30%
            # faster than the same einsums, forward and backward.
            if training:  # Scaled here, the gradient's product is over the smaller tensor.
                query = query * ops.cast(scale, query.dtype)
            query = ops.transpose(query, (0, 2, 1, 3))  # (batch, heads, queries, dim)
            key = ops.transpose(key, (0, 2, 3, 1))  # (batch, heads, dim, seq)
            scores = ops.matmul(query, key)  # (batch, heads, queries, seq)
            # Scaled after the matmul in inference, with the mask added: TensorFlow's
            # oneDNN rewrite makes the three one kernel (a fused batched matmul).
            probs = self._probabilities(scores, keep, training, None if training else scale)
            value = ops.transpose(value, (0, 2, 1, 3))  # (batch, heads, seq, dim)
            context = ops.transpose(ops.matmul(probs, value), (0, 2, 1, 3))  # (b, q, n, d)
        return ops.reshape(context, (batch * queries, self.hidden_dim))

    def _probabilities(self, scores, keep, training, scale=None):
        """Attention probabilities (compute dtype) of `scores` (batch, heads, queries,
        seq): times `scale` if given, padded keys (`keep` False) masked, softmax over
        keys, then attention dropout in training."""
        # bfloat16 scores in CPU inference: oneDNN's softmax computes in float32 inside
        # and rounds once, the numbers of the casts, in one pass.
        direct = not training and _bfloat16_softmax(scores)
        if not direct:
            scores = ops.cast(scores, "float32")
        if scale is not None:
            scores = scores * ops.cast(scale, scores.dtype)
        if keep is not None:
            # Added, not selected: the gradient of an addition costs no pass.
            mask = ops.where(keep, 0.0, -1e9)  # (batch, 1, 1, seq)
            scores = scores + ops.cast(mask, scores.dtype)
        if training and self.attention_dropout > 0:
            # One gradient for both (one pass less over the largest tensors).
            drop = self.attention_dropout_layer.dropper(scores, self.compute_dtype)
            return softmax_dropout(scores, drop)
        return ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)

    def _first_token_context(self, inputs, query, keep, training):
        """The attention context of position 0 alone (batch, hidden) from the block's
        `inputs` (batch, seq, hidden) and that position's `query` (batch, hidden), with
        no key or value of any token formed.

        Per head `n`, with `q` position 0's scaled query and `W_k, b_k, W_v, b_v` the
        head's slices: its score of token `j` is `(x_j W_k + b_k) . q = x_j . (W_k q) +
        b_k . q`, and its context `sum_j p_j (x_j W_v + b_v) = (sum_j p_j x_j) W_v +
        (sum_j p_j) b_v` (the sum of `p` is 1 but under attention dropout). So the key
        kernel is folded into the query and the value kernel applied after the
        probabilities: a few products of (batch, heads, hidden) instead of two
        (batch * seq, hidden) x (hidden, hidden) projections, forward and backward.
        A classifier's last block then costs its [CLS] row's dense layers alone.
        """
        batch = ops.shape(inputs)[0]
        heads, dim, hidden = self.num_heads, self.head_dim, self.hidden_dim
        query = query * ops.cast(1.0 / math.sqrt(dim), query.dtype)
        query = ops.reshape(query, (batch, heads, dim))

        def head_kernels(layer):  # (heads, hidden, dim), (heads, dim)
            kernel = ops.reshape(ops.cast(layer.kernel, query.dtype), (hidden, heads, dim))
            bias = ops.reshape(ops.cast(layer.bias, query.dtype), (heads, dim))
            return ops.transpose(kernel, (1, 0, 2)), bias

        key_kernel, key_bias = head_kernels(self.key_dense)
        value_kernel, value_bias = head_kernels(self.value_dense)
        folded = ops.matmul(
            ops.transpose(query, (1, 0, 2)),  # (heads, batch, dim)
            ops.transpose(key_kernel, (0, 2, 1)),
        )  # (heads, batch, hidden)
        folded = ops.transpose(folded, (1, 0, 2))  # (batch, heads, hidden)
        scores = ops.einsum("bnh,bsh->bns", folded, inputs)  # (batch, heads, seq)
        scores = scores + ops.sum(query * key_bias, axis=-1, keepdims=True)
        probs = self._probabilities(scores[:, :, None, :], keep, training)[:, :, 0, :]
        mixed = ops.matmul(probs, inputs)  # (batch, heads, hidden)
        context = ops.matmul(ops.transpose(mixed, (1, 0, 2)), value_kernel)  # (heads, b, d)
        context = ops.transpose(context, (1, 0, 2))  # (batch, heads, dim)
        context = context + ops.sum(probs, axis=-1, keepdims=True) * value_bias
        return ops.reshape(context, (batch, hidden))

    def call(self, inputs, padding_mask=None, training=None, first_token=False):
        """`inputs` (batch, seq, hidden) -> the block's output, the same shape. With
        `first_token=True`, a pair: that and the output at position 0 alone (batch,
        hidden), computed from that position's query only (keys and values shared):
        what a head on [CLS] reads, at the cost of one row: in a float block no key or
        value is formed for it (`_first_token_context`). Where only it is used, the
        full output is dead code that `tf.function` and `jax.jit` drop, so the last
        block of a classifier costs its [CLS] row alone (Model Garden's
        `output_range=1` keeps the keys and values of every token)."""
        batch, seq = ops.shape(inputs)[0], ops.shape(inputs)[1]
        # The dense layers see (batch * seq, hidden): a 2-D matmul lets TensorFlow's
        # oneDNN rewrite fuse the bias and GELU into it (in bfloat16 that halves the
        # intermediate layer's time on CPU); on JAX the reshape is free.
        x = ops.reshape(inputs, (batch * seq, self.hidden_dim))
        query, key, value = self._projections(x, training)
        key = self._split_heads(key, batch, seq)  # (batch, seq, heads, dim)
        value = self._split_heads(value, batch, seq)
        keep = None
        if padding_mask is not None:
            keep = ops.cast(padding_mask, "bool")[:, None, None, :]  # (batch, 1, 1, seq)
        context = self._attention(self._split_heads(query, batch, seq), key, value, keep, training)
        outputs = ops.reshape(
            self._add_feedforward(x, context, training), (batch, seq, self.hidden_dim)
        )  # (batch, seq, hidden)
        if not first_token:
            return outputs
        x = inputs[:, 0, :]  # (batch, hidden)
        query = self._linear(self.query_dense, x, training)  # (batch, hidden)
        if self.quantization is None and not any(
            layer.quantization_mode for layer in (self.key_dense, self.value_dense)
        ):
            context = self._first_token_context(inputs, query, keep, training)
        else:  # int8 (ours or Keras's): the quantized keys and values of every token.
            query = self._split_heads(query, batch, 1)  # (batch, 1, heads, dim)
            context = self._attention(query, key, value, keep, training)
        return outputs, self._add_feedforward(x, context, training)  # (batch, hidden)

    def _add_feedforward(self, x, context, training):
        """The rest of the block after attention, on rows: `x` and the attention's
        `context` are (rows, hidden); returns the same."""
        x = self._residual(self.attention_output_dense, context, x, training)
        x = ops.cast(self.attention_layer_norm(x), self.compute_dtype)
        feedforward = self._residual(
            self.output_dense, self._intermediate(x, training), x, training
        )
        return ops.cast(self.output_layer_norm(feedforward), self.compute_dtype)

    def _intermediate(self, x, training):
        """The activated intermediate layer of `x` (rows, hidden): (rows, intermediate)."""
        if self._frozen_kernels(x, training) and self.activation in frozen_matmul.FUSED_ACTIVATIONS:
            return self._frozen_dense(self.intermediate_dense, x, activation=self.activation)
        hidden = self.intermediate_dense(x)  # (batch * seq, intermediate)
        if self.quantization is None:
            if training and is_gelu_exact(self.activation):
                # Its derivative formed in the forward pass: the backward pass is one
                # multiply (`gelu_exact_training`).
                hidden = gelu_exact_training(hidden)
            else:
                # Right after the matmul and bias: TensorFlow fuses all three.
                hidden = self._activation_fn(hidden)
        return hidden

    def compute_output_spec(self, inputs, padding_mask=None, training=None, first_token=False):
        outputs = keras.KerasTensor(inputs.shape, self.compute_dtype)
        if first_token:
            return outputs, keras.KerasTensor(
                (inputs.shape[0], inputs.shape[-1]), self.compute_dtype
            )
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            intermediate_dim=self.intermediate_dim,
            activation=self.activation,
            dropout=self.dropout,
            attention_dropout=self.attention_dropout,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
            quantization=self.quantization,
        )
        return config


def _bfloat16_softmax(scores):
    """Whether the softmax of these bfloat16 `scores` may run without the float32 casts
    (`keras_bert.kernels.softmax_onednn`: TensorFlow's CPUs with oneDNN, graphs, not exports)."""
    if keras.backend.backend() != "tensorflow":
        return False
    from keras_bert.kernels import softmax_onednn  # TensorFlow only.

    return softmax_onednn.usable(scores)

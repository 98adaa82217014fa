"""The one door from the layers to the fast paths: named entry points (dense layers,
projections, activations, attention, attention probabilities, LayerNorm, dropout,
int8 matmuls, the AdamW step), each of which runs a backend's kernel where its gate
allows and the portable keras.ops code (`keras_bert.ops`, or the layer's own call)
everywhere else. The layers read as BERT's math; every execution choice is made here.

The gates: a kernel of TensorFlow's CPUs serves only on TensorFlow and only where
`switches.kernel_may_run` says so (not in a portable export, not under XLA, in a graph
unless it has an eager form), after its own dtype, shape and probe checks; the
kept-weights dense kernels also need `switches.weights_constant()` and inference.

Example:
>>> import numpy as np
>>> layer = keras.layers.Dense(3)
>>> tuple(dense(layer, np.ones((2, 4), "float32"), activation="gelu").shape)
(2, 3)
"""

import keras
from keras import ops

from keras_bert.kernels import switches
from keras_bert.ops import dropout as portable_dropout
from keras_bert.ops.activations import gelu_exact_training, get_activation, is_gelu_exact
from keras_bert.ops.attention import attention_probabilities as portable_probabilities
from keras_bert.ops.attention import dot_product_context
from keras_bert.ops.attention import first_token_context as portable_first_token_context

# Backends whose `ops.dot_product_attention` serves inference (no attention dropout):
# cuDNN's flash attention on JAX GPUs. On TensorFlow it is einsums, slower than the
# explicit matmuls of `dot_product_context`.
FUSED_ATTENTION = ("jax", "torch")


def _tensorflow():
    return keras.backend.backend() == "tensorflow"


def _quantized(layer):
    """Whether `layer` holds int8 weights: ours (`Int8Dense`) or Keras's `quantize`."""
    return hasattr(layer, "quantize_inputs") or bool(getattr(layer, "quantization_mode", None))


def _kept_weights(layer, x, training):
    """Whether float `layer` may run on `constant_matmul`'s kept-weights kernel for `x`."""
    if training or _quantized(layer) or not (_tensorflow() and switches.weights_constant()):
        return False
    from keras_bert.kernels import constant_matmul  # TensorFlow only.

    return constant_matmul.usable(x)


def _constant_dense(layer, x, activation=None, residual=None):
    from keras_bert.kernels import constant_matmul

    return constant_matmul.dense(x, *_weights(layer, x.dtype), activation, residual)


def _weights(layer, dtype):
    """A float dense layer's (kernel, bias) in `dtype`."""
    return ops.cast(layer.kernel, dtype), ops.cast(layer.bias, dtype)


def dense(layer, x, training=None, activation=None):
    """`activation(layer(x))` for a dense `layer` without activation of its own (or one
    built with `activation`: int8's intermediate layer, which fuses it) on rows `x`."""
    if activation is not None and getattr(layer, "activation", None) == activation:
        return layer(x)
    if _kept_weights(layer, x, training):
        from keras_bert.kernels.constant_matmul import FUSED_ACTIVATIONS

        if activation is None or activation in FUSED_ACTIVATIONS:
            return _constant_dense(layer, x, activation=activation)
    y = layer(x)
    return y if activation is None else apply_activation(y, activation, training)


def dense_residual(layer, x, residual, dropout, training=None):
    """`residual + dropout(layer(x))` on rows: what a LayerNorm of the block takes."""
    if _kept_weights(layer, x, training):  # Inference: the dropout is the identity.
        return _constant_dense(layer, x, residual=residual)
    return residual + dropout(layer(x), training=training)


def projections(layers, x, training=None):
    """`layer(x)` for each of `layers` (the query, key and value of one input); int8
    layers share one quantization of `x`."""
    if all(hasattr(layer, "quantize_inputs") for layer in layers):
        codes = layers[0].quantize_inputs(x)
        return tuple(layer.matmul_codes(codes) for layer in layers)
    return tuple(dense(layer, x, training) for layer in layers)


def first_token_context(inputs, query, layers, num_heads, probabilities, attend):
    """The attention context of position 0 alone (batch, hidden):
    `ops.attention.first_token_context` with the key and value `layers`' float weights
    folded in; with int8 weights (codes, no float kernel to fold), `attend(query)` over
    the keys and values the block formed."""
    if any(_quantized(layer) for layer in layers):
        return attend(query)
    key_weights, value_weights = (_weights(layer, query.dtype) for layer in layers)
    return portable_first_token_context(
        inputs, query, key_weights, value_weights, num_heads, probabilities
    )


def apply_activation(x, name, training=None):
    """The config's activation `name` of `x`; in training the exact GELU with its slope
    formed in the forward pass (on TensorFlow by XLA kernels: `gelu_xla`)."""
    if training and is_gelu_exact(name):
        kernel = None
        if _tensorflow():
            from keras_bert.kernels.gelu_xla import gelu_and_slope as kernel
        return gelu_exact_training(x, kernel)
    return get_activation(name)(x)


def attention(query, key, value, keep, scale, dtype, training=None, dropout=None):
    """The context (batch, queries, heads, dim) of `query` over `key` and `value`
    (`ops.attention.dot_product_context`'s arguments); `dropout` is the attention
    dropout layer when it drops (training), else None."""
    if dropout is None and keras.backend.backend() in FUSED_ATTENTION:
        from keras_bert.kernels.fused_attention import fused_attention

        return fused_attention(query, key, value, keep, scale)

    def probabilities(scores, scale):
        return attention_probabilities(scores, keep, dtype, training, scale, dropout)

    return dot_product_context(query, key, value, probabilities, scale, bool(training))


def attention_probabilities(scores, keep, dtype, training=None, scale=None, dropout=None):
    """`ops.attention.attention_probabilities`; bfloat16 scores in CPU inference take
    oneDNN's softmax, which computes in float32 inside (`softmax_onednn`)."""
    in_float32 = True
    if not training and _tensorflow():
        from keras_bert.kernels import softmax_onednn

        in_float32 = not softmax_onednn.usable(scores)
    return portable_probabilities(scores, keep, dtype, scale, dropout, in_float32)


def layer_norm_kernel(x):
    """oneDNN's LayerNorm `kernel(x, gamma, beta, epsilon)` where it may serve `x` now,
    else None (`BertLayerNorm` then normalizes in keras.ops)."""
    if not _tensorflow():
        return None
    from keras_bert.kernels import layer_norm_onednn

    return layer_norm_onednn.layer_norm if layer_norm_onednn.usable(x) else None


def int8_kernels():
    """The module of oneDNN's int8 kernels (`int8_matmul`) where they may run now, else
    None (`Int8Dense` then computes the same formula in keras.ops)."""
    if not _tensorflow():
        return None
    from keras_bert.kernels import int8_matmul

    return int8_matmul if switches.kernel_may_run(eager=True) and int8_matmul.available() else None


def keep_mask(inputs, rate, seed_generator, dtype):
    """A dropout keep mask shaped like `inputs` (`ops.dropout.keep_mask`); on TensorFlow
    from 16 random bits per decision (`dropout_mask`)."""
    if _tensorflow():
        from keras_bert.kernels import dropout_mask

        return dropout_mask.keep_mask(inputs, rate, seed_generator.next(), dtype)
    return portable_dropout.keep_mask(inputs, rate, seed_generator, dtype)


def dropper(inputs, rate, seed_generator, dtype):
    """`drop(x) = cast(x, dtype) * mask` with the next mask shaped like `inputs`; on
    TensorFlow the mask is never written out (`dropout_mask.dropped`, one XLA kernel)."""
    if _tensorflow():
        from keras_bert.kernels import dropout_mask

        bits = dropout_mask.random_bits(inputs, seed_generator.next())
        return lambda x: dropout_mask.dropped(x, bits, rate, dtype)
    keep = portable_dropout.keep_mask(inputs, rate, seed_generator, dtype)
    return lambda x: ops.cast(x, dtype) * keep


def clip_by_global_norm(grads, clip_norm):
    """TensorFlow's global-norm clipping without materialized squares (`fused_adam`),
    or None on other backends (Keras's own then clips)."""
    if not _tensorflow():
        return None
    from keras_bert.kernels.fused_adam import clip_by_global_norm as clip

    return clip(grads, clip_norm)


def fused_adamw(variable):
    """The fused AdamW step (`fused_adam.adamw_update`) for a float32 variable on
    TensorFlow, else None (the optimizer's keras.ops step then runs)."""
    if not _tensorflow() or variable.dtype != "float32":
        return None
    from keras_bert.kernels.fused_adam import adamw_update

    return adamw_update

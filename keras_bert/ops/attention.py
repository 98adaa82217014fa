"""Scaled dot-product attention over heads in keras.ops: the probabilities, the context,
the key mask of a left-to-right model, and the context of position 0 alone with the key
kernel folded into its query. The portable forms that `keras_bert.kernels.dispatch`
falls back to."""

import math

from keras import ops

from keras_bert.ops.softmax_dropout import softmax_dropout


def attention_probabilities(scores, keep, dtype, scale=None, dropout=None, in_float32=True):
    """Attention probabilities in `dtype` of `scores` (batch, heads, queries, seq).

    `scores` times `scale` (if given), padded keys (`keep` False) masked, the softmax
    over keys, then `dropout`'s mask (if given).

    Example:
    >>> probs = attention_probabilities(ops.zeros((1, 1, 1, 3)), ops.array([True, True, False]),
    ...                                 "float32")
    >>> [round(v, 3) for v in ops.convert_to_numpy(probs).ravel().tolist()]
    [0.5, 0.5, 0.0]

    Args:
        scores: float tensor (batch, heads, queries, seq).
        keep: bool tensor broadcastable to `scores` (batch, 1, 1, seq), or None.
        dtype: str, the dtype of the probabilities.
        scale: float or None, multiplies the scores.
        dropout: None, or a `MaskDropout` whose `dropper` draws the next mask.
        in_float32: bool; False keeps the scores' own dtype (a softmax that computes
            in float32 inside: TensorFlow's oneDNN bfloat16 kernel).
    """
    if in_float32:
        scores = ops.cast(scores, "float32")
    if scale is not None:
        scores = scores * ops.cast(scale, scores.dtype)
    if keep is not None:
        # Added, not selected: the gradient of an addition costs no pass.
        scores = scores + ops.cast(ops.where(keep, 0.0, -1e9), scores.dtype)
    if dropout is not None:
        # One gradient for both (one pass less over the largest tensors).
        return softmax_dropout(scores, dropout.dropper(scores, dtype))
    return ops.cast(ops.softmax(scores, axis=-1), dtype)


def causal_keep(keep, seq):
    """The key mask of a left-to-right model: query `i` keeps key `j` where `j <= i` and
    `keep` (the padding mask, (batch, 1, 1, seq), or None) keeps it.

    Example:
    >>> mask = causal_keep(ops.array([True, True, False])[None, None, None, :], 3)
    >>> ops.convert_to_numpy(mask)[0, 0].astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 0]]

    Args:
        keep: bool tensor (batch, 1, 1, seq) or None.
        seq: int or scalar tensor, the sequence length.

    Returns: bool tensor (batch, 1, seq, seq) ((1, 1, seq, seq) without `keep`).
    """
    positions = ops.arange(seq)
    earlier = ops.greater_equal(positions[:, None], positions[None, :])[None, None, :, :]
    return earlier if keep is None else ops.logical_and(keep, earlier)


def dot_product_context(query, key, value, probabilities, scale, scale_query):
    """`probabilities(query . key)` applied to `value`, per head, with explicit
    transposes and batched matmuls.

    Args:
        query: (batch, queries, heads, dim).
        key, value: (batch, seq, heads, dim).
        probabilities: function of the scores (batch, heads, queries, seq) and a scale
            (float or None) -> the probabilities, the same shape.
        scale: float, the scores' factor (1 / sqrt(dim)).
        scale_query: bool; True scales the query before its matmul (in training the
            gradient's product is then over the smaller tensor), False the scores after
            it (TensorFlow's oneDNN rewrite fuses the matmul, scale and mask).

    Returns: the context (batch, queries, heads, dim).
    """
    if scale_query:
        query = query * ops.cast(scale, query.dtype)
    query = ops.transpose(query, (0, 2, 1, 3))  # (batch, heads, queries, dim)
    key = ops.transpose(key, (0, 2, 3, 1))  # (batch, heads, dim, seq)
    probs = probabilities(ops.matmul(query, key), None if scale_query else scale)
    value = ops.transpose(value, (0, 2, 1, 3))  # (batch, heads, seq, dim)
    return ops.transpose(ops.matmul(probs, value), (0, 2, 1, 3))  # (batch, queries, heads, dim)


def first_token_context(inputs, query, key_weights, value_weights, num_heads, probabilities):
    """The attention context of position 0 alone (batch, hidden), from the block's
    `inputs` (batch, seq, hidden) and that position's `query` (batch, hidden), with no
    key or value of any token formed.

    Per head, with `q` position 0's scaled query and `W_k, b_k, W_v, b_v` the head's
    slices: the score of token `j` is `(x_j W_k + b_k) . q = x_j . (W_k q) + b_k . q`,
    and the context `sum_j p_j (x_j W_v + b_v) = (sum_j p_j x_j) W_v + (sum_j p_j) b_v`
    (the sum of `p` is 1 but under attention dropout). So the key kernel is folded into
    the query and the value kernel applied after the probabilities: a few products of
    (batch, heads, hidden) instead of two (batch * seq, hidden) x (hidden, hidden)
    projections, forward and backward.

    Args:
        inputs: (batch, seq, hidden).
        query: (batch, hidden), position 0's query, not yet scaled.
        key_weights, value_weights: (kernel (hidden, hidden), bias (hidden,)) each, in
            the query's dtype.
        num_heads: int.
        probabilities: function of the scores (batch, heads, 1, seq) -> probabilities.
    """
    batch, hidden = ops.shape(inputs)[0], inputs.shape[-1]
    dim = hidden // num_heads
    query = query * ops.cast(1.0 / math.sqrt(dim), query.dtype)
    query = ops.reshape(query, (batch, num_heads, dim))

    def per_head(weights):  # (heads, hidden, dim), (heads, dim)
        kernel, bias = weights
        kernel = ops.transpose(ops.reshape(kernel, (hidden, num_heads, dim)), (1, 0, 2))
        return kernel, ops.reshape(bias, (num_heads, dim))

    key_kernel, key_bias = per_head(key_weights)
    value_kernel, value_bias = per_head(value_weights)
    folded = ops.matmul(
        ops.transpose(query, (1, 0, 2)), ops.transpose(key_kernel, (0, 2, 1))
    )  # (heads, batch, hidden)
    folded = ops.transpose(folded, (1, 0, 2))  # (batch, heads, hidden)
    scores = ops.einsum("bnh,bsh->bns", folded, inputs)  # (batch, heads, seq)
    scores = scores + ops.sum(query * key_bias, axis=-1, keepdims=True)
    probs = probabilities(scores[:, :, None, :])[:, :, 0, :]
    mixed = ops.matmul(probs, inputs)  # (batch, heads, hidden)
    context = ops.matmul(ops.transpose(mixed, (1, 0, 2)), value_kernel)  # (heads, batch, dim)
    context = ops.transpose(context, (1, 0, 2))  # (batch, heads, dim)
    context = context + ops.sum(probs, axis=-1, keepdims=True) * value_bias
    return ops.reshape(context, (batch, hidden))

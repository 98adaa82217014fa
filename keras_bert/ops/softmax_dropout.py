"""Softmax then dropout with one hand-written gradient (the attention probabilities)."""

from keras import ops


def softmax_dropout(scores, drop):
    """`drop(softmax(scores))`, with the gradient of both in one formula, for a dropout
    `drop(probs) = cast(probs, dtype) * keep` (see `MaskDropout.dropper`).

    With `P = softmax(S)` and `D = P * keep`, the chain rule through the dropout and then
    the softmax is `dS = P * (dD * keep - sum(dD * keep * P))`; since `P * keep = D` that
    is `dS = E - P * sum(E)` with `E = D * dD` (sums over the last axis). Taken
    separately, TensorFlow multiplies by the mask, then runs the softmax's own
    gradient: one full pass more over the largest tensors of a BERT step, and the mask
    kept alive for the backward pass. In mixed precision `E` is formed in the compute
    dtype and cast once (the separate path casts `dD * keep` instead).

    Example:
    >>> scores = ops.convert_to_tensor([[1.0, 2.0, 3.0]])
    >>> keep = ops.convert_to_tensor([[2.0, 0.0, 2.0]])
    >>> [round(v, 4) for v in ops.convert_to_numpy(
    ...     softmax_dropout(scores, lambda probs: probs * keep))[0].tolist()]
    [0.1801, 0.0, 1.3305]

    Args:
        scores: float32 tensor, softmax over its last axis.
        drop: function of the float32 probabilities, returning them dropped out in the
            compute dtype: `cast(probs, dtype) * keep` with `keep` the dropout's keep
            mask (`1 / (1 - rate)` kept, 0 dropped), without a gradient of its own.
    """

    @ops.custom_gradient
    def forward(scores):
        probs = ops.softmax(scores, axis=-1)  # float32
        dropped = drop(probs)

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            product = ops.cast(dropped * upstream, "float32")
            return product - probs * ops.sum(product, axis=-1, keepdims=True)

        return dropped, grad

    return forward(scores)

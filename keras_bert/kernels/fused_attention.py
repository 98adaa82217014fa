"""Attention through the backend's fused kernel (inference: no attention dropout).

On JAX, a padding mask that is a prefix (every row's real tokens first, at least one)
goes to the kernel as key lengths: cuDNN's padding mode, which skips the padded keys
instead of reading a mask tensor for every query (`benchmarks/gpu_mask_probe.py`
measures both; figures in `benchmarks/README.md`). Any other
mask (left padding, holes, an empty row) takes the mask-tensor path: `jax.lax.cond`
decides per batch, in the graph.
"""

import keras
from keras import ops


def prefix_lengths(keep):
    """`keep` is the bool key mask (batch, seq). Returns the real keys per row (batch,)
    int32, and a scalar bool: whether every row is a non-empty prefix, so that the
    lengths alone describe the mask.

    Example:
    >>> lengths, is_prefix = prefix_lengths(ops.array([[True, True, False]]))
    >>> ops.convert_to_numpy(lengths).tolist(), bool(is_prefix)
    ([2], True)
    """
    lengths = ops.sum(ops.cast(keep, "int32"), axis=-1)  # (batch,)
    positions = ops.arange(ops.shape(keep)[-1], dtype="int32")  # (seq,)
    as_prefix = ops.less(positions[None, :], lengths[:, None])  # (batch, seq)
    is_prefix = ops.logical_and(
        ops.all(ops.equal(keep, as_prefix)), ops.all(ops.greater(lengths, 0))
    )
    return lengths, is_prefix


def fused_attention(query, key, value, keep, scale):
    """`query` (batch, queries, heads, dim), `key` and `value` (batch, seq, heads, dim),
    `keep` the bool key mask (batch, 1, 1, seq), a mask per query (batch, 1, queries,
    seq) (a left-to-right model's), or None. Returns the context (batch, queries, heads,
    dim): softmax(scale * query . key) . value over the kept keys."""
    if keep is None:
        return ops.dot_product_attention(query, key, value, scale=scale)
    if keras.backend.backend() == "jax" and keep.shape[2] == 1:
        return _jax_attention(query, key, value, keep, scale)
    return _masked_attention(query, key, value, keep, scale)


def _masked_attention(query, key, value, keep, scale):
    batch, queries, seq = ops.shape(query)[0], ops.shape(query)[1], ops.shape(key)[1]
    # cuDNN's flash attention on JAX GPUs needs the mask for every query.
    keep = ops.broadcast_to(keep, (batch, 1, queries, seq))  # (batch, 1, queries, seq)
    return ops.dot_product_attention(query, key, value, mask=keep, scale=scale)


def _jax_attention(query, key, value, keep, scale):
    import jax

    lengths, is_prefix = prefix_lengths(keep[:, 0, 0, :])

    def by_lengths():
        return _jax_by_lengths(query, key, value, lengths, scale)

    def by_mask():
        return _masked_attention(query, key, value, keep, scale)

    return jax.lax.cond(is_prefix, by_lengths, by_mask)


def _jax_by_lengths(query, key, value, lengths, scale):
    import jax

    # cuDNN where Keras would pick it (a GPU it supports, these shapes and dtypes), else
    # XLA, which builds the mask from the lengths itself.
    if _cudnn_usable(query, key, value):
        try:
            return jax.nn.dot_product_attention(
                query,
                key,
                value,
                scale=scale,
                key_value_seq_lengths=lengths,
                implementation="cudnn",
            )
        except Exception:  # noqa: BLE001 - as Keras: cuDNN refuses some shapes at trace time.
            pass
    return jax.nn.dot_product_attention(
        query, key, value, scale=scale, key_value_seq_lengths=lengths, implementation="xla"
    )


def _cudnn_usable(query, key, value):
    """Keras's own test (a private function): an Ampere or newer GPU, cuDNN, and shapes
    and dtypes its flash attention takes. If Keras moved or changed it, XLA, which is
    always correct."""
    try:
        from keras.src.backend.jax.nn import _can_use_flash_attention

        return bool(_can_use_flash_attention(query, key, value, None))
    except Exception:  # noqa: BLE001
        return False

"""LayerNorm as oneDNN's fused kernel on TensorFlow's CPUs, for inference.

TensorFlow's x86 builds carry oneDNN's layer normalization (`_MklLayerNorm`: the
moments and the normalization, scale and shift in one op). TensorFlow's graph rewrite
puts it in place of tf.keras 2's LayerNormalization pattern only; Keras 3's formula is
eight TensorFlow ops (moments, rsqrt, products, sums), each a pass over the rows; the
kernel is one. `BertLayerNorm` calls it in inference (`benchmarks/layer_norm.py`
measures both, the op alone and the whole encoder; figures in `benchmarks/README.md`).

The kernel serves a call only where that is correct and safe (`usable`):
- `available()`: once per process, the kernel runs here and gives NumPy's numbers on a
  small case, and no GPU is visible (it is a CPU kernel). A build without the kernel
  fails the check (with `TF_ENABLE_ONEDNN_OPTS=0` TensorFlow 2.20 still runs it, with
  NumPy's numbers, so it is used);
- not inside an XLA-compiled function (XLA has no such kernel);
- not under `switches.portable()`, which `saved_models.export` holds while it traces: an exported
  SavedModel keeps TensorFlow's standard ops, so any TF Serving build loads it;
- float32 input of rank 2 or 3 (the kernel's own limits), normalized over the last axis.

Inside a traced function the op is added to the graph; run eagerly, it runs in a
small `tf.function` (the eager runtime does not find the kernel). TensorFlow is
imported lazily: `import keras_bert` does not load it.
"""

import functools

import numpy as np

from keras_bert.kernels import onednn_probe, switches

_AVAILABLE = None


def usable(x):
    """Whether `layer_norm` may normalize `x` (a TensorFlow tensor) here and now."""
    import tensorflow as tf

    if x.dtype != tf.float32 or x.shape.rank not in (2, 3):
        return False
    return switches.kernel_may_run(eager=True) and available()


def layer_norm(x, gamma, beta, epsilon):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over the last axis, by the
    oneDNN kernel (no gradient of its own: `BertLayerNorm` supplies it).

    Args:
        x: float32 tensor of rank 2 or 3.
        gamma, beta: float32 tensors (x's last dimension,).
        epsilon: float.
    """
    import tensorflow as tf

    # The kernel has no gradient: a tape must not try to form one through it.
    x, gamma, beta = (tf.stop_gradient(t) for t in (x, gamma, beta))
    if tf.executing_eagerly():
        return _eager_kernel(float(epsilon))(x, gamma, beta)
    return _add_op(x, gamma, beta, float(epsilon))


def _add_op(x, gamma, beta, epsilon):
    import tensorflow as tf
    from tensorflow.core.framework import attr_value_pb2

    attrs = {
        "T": attr_value_pb2.AttrValue(type=x.dtype.as_datatype_enum),
        "epsilon": attr_value_pb2.AttrValue(f=epsilon),
    }
    op = tf.compat.v1.get_default_graph().create_op(
        "_MklLayerNorm", [x, gamma, beta], [x.dtype], name="MklLayerNorm", attrs=attrs
    )
    return op.outputs[0]


@functools.cache
def _eager_kernel(epsilon):
    import tensorflow as tf

    @tf.function(autograph=False, reduce_retracing=True)
    def run(x, gamma, beta):
        return _add_op(x, gamma, beta, epsilon)

    return run


def available():
    """Whether the kernel runs here, on CPUs only, with NumPy's numbers (checked once)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        _AVAILABLE = onednn_probe.passes(_probe)
    return _AVAILABLE


def _probe():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(5, 16)) * 3 + 1).astype("float32")
    gamma, beta = (rng.normal(size=16).astype("float32") for _ in range(2))
    got = layer_norm(tf.constant(x), tf.constant(gamma), tf.constant(beta), 1e-12)
    x = x.astype("float64")
    centered = x - x.mean(-1, keepdims=True)
    want = centered / np.sqrt((centered**2).mean(-1, keepdims=True) + 1e-12)
    return np.allclose(got.numpy(), want * gamma + beta, rtol=1e-5, atol=1e-5)

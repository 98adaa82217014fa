"""int8 matmuls for `Int8Dense` on TensorFlow's CPU: oneDNN's u8 x s8 kernel.

Keras's own int8 path (`model.quantize("int8")`) runs its int8 x int8 matmul on
TensorFlow's generic kernels, slower than float32 on CPU. TensorFlow's x86 builds also
carry oneDNN's quantized matmul (`_QuantizedMatMul`: uint8 activations, int8 weights
with one scale per output column, int32 accumulation, float32 output with the scales,
the bias and an activation applied inside), several times the float32 matmul rate on
AVX-512 VNNI (`benchmarks/int8_kernel.py`). This module drives it.

The scheme: weights int8, symmetric, one scale per output column `s_w` (one scale per
matrix, PyTorch's default, loses too much on real BERT weights: the feed-forward
output matrix has outlier columns); activations uint8 with the minimum and maximum of
the whole input measured at each call (asymmetric, so GELU outputs and LayerNorm
outputs both use all 256 levels). With `s = (hi - lo) / 255`, `q = round((x - lo) / s)`
and `c = column_sums(w_int8)`,

    x @ w + b  ~  s * s_w * (q @ w_int8) + (b + lo * s_w * c)

oneDNN computes it all in one kernel: the matmul, both scales, the bias (the bracket,
a vector formed per call) and, for the intermediate layer, GELU (`FUSED_ACTIVATIONS`).
The kernel is told the codes are plain scaled ones (`SCALED`, zero at code 0): with
the offset `lo` in the bias, TensorFlow's own offset correction (`MIN_FIRST`, a
single-threaded pass over the weights at every call, a measurable share of an int8
encoder's time)
is not needed. `available()` checks once per process that the kernel exists and
computes exactly this (small cases against NumPy, with and without GELU); where it
does not (another backend, `TF_ENABLE_ONEDNN_OPTS=0`, a build without oneDNN)
`Int8Dense` computes the same formula with `keras.ops`.
Traced by `FrozenInference` (weights that never change), the kernel keeps its
prepared int8 weights between calls (`is_weight_const`: MiniLM +5%); anywhere else it
does not, since a model's weights are variables that may be reassigned.

TensorFlow is imported lazily: `import keras_bert` does not load it.
"""

import functools
import math

import numpy as np

from keras_bert.kernels import onednn_probe, switches

_AVAILABLE = None


def quantize(x):
    """`x` (rows, features) float32 -> (uint8 codes as quint8, lo, hi), one range."""
    import tensorflow as tf

    lo = tf.minimum(tf.reduce_min(x), 0.0)
    hi = tf.maximum(tf.reduce_max(x), 0.0)
    hi = tf.maximum(hi, lo + 1e-6)  # An all-zero input still gets a valid range.
    codes = tf.raw_ops.QuantizeV2(
        input=x, min_range=lo, max_range=hi, T=tf.quint8, mode="MIN_FIRST"
    )
    # The kernel may widen a tiny range; its own bounds define the codes.
    return codes.output, codes.output_min, codes.output_max


# Activation names of BERT configs -> the kernel's own (oneDNN's erf and tanh GELUs).
FUSED_ACTIVATIONS = {
    "gelu": "GeluExact",
    "gelu_approximate": "GeluApproximate",
    "gelu_new": "GeluApproximate",
    "gelu_pytorch_tanh": "GeluApproximate",
    "gelu_fast": "GeluApproximate",
    "relu": "Relu",
    "tanh": "Tanh",
}


def matmul(quantized, kernel, kernel_scale, bias, column_sums, activation=None):
    """`quantized` from `quantize`; kernel int8 (in, out), kernel_scale, bias and
    column_sums (out,); `activation` None or a key of `FUSED_ACTIVATIONS`, applied in
    the kernel -> float32 (rows, out)."""
    import tensorflow as tf

    codes, lo, hi = quantized
    activations = (FUSED_ACTIVATIONS[activation],) if activation else ()
    fused_ops = ("BiasAdd",) + activations + ("Dequantize",)
    inputs = [
        codes,
        tf.bitcast(kernel, tf.qint8),
        bias + lo * kernel_scale * column_sums,
        tf.zeros((), tf.float32),
        hi - lo,  # The input's scale: (hi - lo) / 255.
        -127.0 * kernel_scale,
        127.0 * kernel_scale,
    ]  # The columns' scales.
    if tf.executing_eagerly():
        return _eager_kernel(fused_ops)(*inputs)
    # Traced by `FrozenInference`, the weights never change: the kernel may keep them
    # prepared (never in the shared eager kernels, which serve every layer).
    return _add_op(inputs, fused_ops, weights_const=switches.weights_constant())


def _add_op(inputs, fused_ops, weights_const=False):
    import tensorflow as tf
    from tensorflow.core.framework import attr_value_pb2

    attr = attr_value_pb2.AttrValue

    def types(*dtypes):
        return attr(list=attr.ListValue(type=[d.as_datatype_enum for d in dtypes]))

    attrs = {
        "Tdevice_inputs": types(*(t.dtype for t in inputs)),
        "Thost_inputs": types(),
        "Tdevice_outputs": types(tf.float32),
        "Thost_outputs": types(),
        "T1": attr(type=tf.quint8.as_datatype_enum),
        "T2": attr(type=tf.qint8.as_datatype_enum),
        **{name: attr(type=tf.float32.as_datatype_enum) for name in ("Tbias", "U", "Tout")},
        "transpose_a": attr(b=False),
        "transpose_b": attr(b=False),
        # Kept between calls only for `FrozenInference`: a model's weights are
        # variables, which may be reassigned.
        "is_weight_const": attr(b=weights_const),
        "is_bias_const": attr(b=False),
        "fused_ops": attr(list=attr.ListValue(s=[op.encode() for op in fused_ops])),
        "input_quant_mode": attr(s=b"SCALED"),
        "output_quant_mode": attr(s=b"SCALED"),
    }
    op = tf.compat.v1.get_default_graph().create_op(
        "_QuantizedMatMul", inputs, [tf.float32], name="QuantizedMatMul", attrs=attrs
    )
    return op.outputs[0]


@functools.cache
def _eager_kernel(fused_ops):
    import tensorflow as tf

    @tf.function(autograph=False, reduce_retracing=True)
    def run(*inputs):
        return _add_op(list(inputs), fused_ops)

    return run


def _probe():
    """The kernel on small cases against NumPy: a missing kernel or other rounding
    (TensorFlow's non-oneDNN quantize rounds differently) both fail it."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 16)).astype("float32") + 0.25
    w = rng.integers(-127, 128, size=(16, 3)).astype("int8")
    b = rng.normal(size=3).astype("float32")
    scale = np.array([0.01, 0.02, 0.005], "float32")
    args = (
        tf.constant(w),
        tf.constant(scale),
        tf.constant(b),
        tf.constant(w.astype("float32").sum(0)),
    )
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    step = (hi - lo) / 255.0
    codes = np.clip(np.round((x - lo) / step), 0, 255)
    want = (codes * step + lo) @ (w.astype("float64") * scale) + b
    gelu = want * 0.5 * (1.0 + np.vectorize(math.erf)(want / math.sqrt(2.0)))
    return all(
        np.allclose(
            matmul(quantize(tf.constant(x)), *args, activation=act).numpy(),
            expected,
            rtol=1e-4,
            atol=1e-4,
        )
        for act, expected in ((None, want), ("gelu", gelu))
    )


def available():
    """Whether oneDNN's int8 kernels run here and give the expected numbers."""
    global _AVAILABLE
    if _AVAILABLE is None:
        # No GPU check: the kernel runs on the CPU beside a GPU too.
        _AVAILABLE = onednn_probe.passes(_probe, cpu_only=False)
    return _AVAILABLE

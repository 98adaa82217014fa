"""int8 matmuls for `Int8Dense` on TensorFlow's CPU: oneDNN's u8 x s8 kernel.

Keras's own int8 path (`model.quantize("int8")`) runs its int8 x int8 matmul on
TensorFlow's generic kernels, slower than float32 on CPU. TensorFlow's x86 builds also
carry oneDNN's quantized inner product (`QuantizedMatMulWithBiasAndDequantize`: uint8
activations, int8 weights, int32 accumulation, float32 output with the bias added),
which runs at 3x the float32 matmul rate on AVX-512 VNNI. This module drives it.

The scheme: weights int8, symmetric, one scale per output column `s_w` (one scale per
matrix, PyTorch's default, loses too much on real BERT weights: the feed-forward
output matrix has outlier columns); activations uint8 with the minimum and maximum of
the whole input measured at each call (asymmetric, so GELU outputs and LayerNorm
outputs both use all 256 levels). With `s = (hi - lo) / 255`, `q = round((x - lo) / s)`
and `c = column_sums(w_int8)`,

    x @ w + b  ~  s_w * (s * (q @ w_int8) + lo * c + b / s_w)

oneDNN computes the bracket (the matmul with int32 accumulation, its scale `s` and the
bias), one multiply applies the column scales. `available()` checks once per process
that the kernels exist and compute exactly this (a small case against NumPy); where they
do not (another backend, `TF_ENABLE_ONEDNN_OPTS=0`, a build without oneDNN) `Int8Dense`
computes the same formula with `keras.ops`.

TensorFlow is imported lazily: `import keras_bert` does not load it.
"""

import numpy as np

_AVAILABLE = None


def quantize(x):
    """`x` (rows, features) float32 -> (uint8 codes as quint8, lo, hi), one range."""
    import tensorflow as tf

    lo = tf.minimum(tf.reduce_min(x), 0.0)
    hi = tf.maximum(tf.reduce_max(x), 0.0)
    hi = tf.maximum(hi, lo + 1e-6)  # An all-zero input still gets a valid range.
    codes = tf.raw_ops.QuantizeV2(input=x, min_range=lo, max_range=hi, T=tf.quint8,
                                  mode="MIN_FIRST")
    # The kernel may widen a tiny range; its own bounds define the codes.
    return codes.output, codes.output_min, codes.output_max


def matmul(quantized, kernel, kernel_scale, bias, column_sums):
    """`quantized` from `quantize`; kernel int8 (in, out), kernel_scale, bias and
    column_sums (out,) -> float32 (rows, out)."""
    import tensorflow as tf

    codes, lo, hi = quantized
    scaled = tf.raw_ops.QuantizedMatMulWithBiasAndDequantize(
        a=codes,
        b=tf.bitcast(kernel, tf.qint8),
        bias=bias / kernel_scale + lo * column_sums,
        min_a=0.0,
        max_a=hi - lo,  # oneDNN's activation scale: (max_a - min_a) / 255 = s.
        min_b=-127.0,  # Weight scale 1: the column scales come after.
        max_b=127.0,
        min_freezed_output=0.0,  # Unused for a float32 output.
        max_freezed_output=1.0,
        Toutput=tf.float32,
        input_quant_mode="MIN_FIRST",
    )
    return scaled * kernel_scale  # (rows, out)


def _probe():
    """The kernels on a small case against NumPy: missing kernels or other rounding
    (TensorFlow's non-oneDNN quantize rounds differently) both fail it."""
    import tensorflow as tf

    with tf.init_scope():  # Eager even when first asked while tracing a tf.function.
        return _probe_eagerly(tf)


def _probe_eagerly(tf):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 16)).astype("float32") + 0.25
    w = rng.integers(-127, 128, size=(16, 3)).astype("int8")
    b = rng.normal(size=3).astype("float32")
    scale = np.array([0.01, 0.02, 0.005], "float32")
    got = matmul(quantize(tf.constant(x)), tf.constant(w), tf.constant(scale),
                 tf.constant(b), tf.constant(w.astype("float32").sum(0))).numpy()
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    step = (hi - lo) / 255.0
    codes = np.clip(np.round((x - lo) / step), 0, 255)
    want = (codes * step + lo) @ (w.astype("float64") * scale) + b
    return np.allclose(got, want, rtol=1e-4, atol=1e-4)


def available():
    """Whether oneDNN's int8 kernels run here and give the expected numbers."""
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            _AVAILABLE = bool(_probe())
        except Exception:  # No kernel registered (e.g. TF_ENABLE_ONEDNN_OPTS=0).
            _AVAILABLE = False
    return _AVAILABLE

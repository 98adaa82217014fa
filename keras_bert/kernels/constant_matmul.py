"""Dense layers whose weights oneDNN arranges once, for `FrozenInference` on TF CPUs.

TensorFlow's fused dense kernel on x86 (`_MklNativeFusedMatMul`: the matmul, its bias
and an activation or a residual add in one oneDNN call) hands oneDNN the weights in
TensorFlow's own layout. In bfloat16 oneDNN then runs a generic GEMM on them. Told the
weights are constant (`is_filter_const`), it runs its blocked bf16 kernels instead, on
a copy of the weights rearranged for them at the kernel's first call and kept in the
kernel: right only while the weights never change. So only `FrozenInference`, which
runs a model on a copy of its weights taken once, asks for it
(`switches.weights_constant()`). bfloat16 gains, with the same outputs; float32 does not
(its GEMM is already oneDNN's fastest), so only bfloat16 uses it (`benchmarks/README.md`).

Used where (`usable`): while `FrozenInference` traces, on TensorFlow with the kernel
(a check against NumPy, once per process, no GPU visible, on a CPU with AVX-512 BF16
or AMX: elsewhere oneDNN aborts the process rather than raise, so where Linux's CPU
flags cannot be read the check runs in a child process), in a graph (not eager, not
XLA), not in an export (`switches.portable()`), on bfloat16 rows (rank 2).
TensorFlow is imported lazily: `import keras_bert` does not load it.
"""

import math

import numpy as np

from keras_bert.kernels import onednn_probe, switches

# Activation names of BERT configs -> TensorFlow's fused-op names (the int8 kernel's too).
from keras_bert.kernels.int8_matmul import FUSED_ACTIVATIONS

# The CPUs whose oneDNN runs the kept-weights bfloat16 kernel: AVX-512 BF16 or AMX
# (Linux's names). On others (AVX2 only, say) oneDNN cannot build the kernel and throws
# a C++ exception that aborts the process, so it is never tried there.
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_AVAILABLE = None


def usable(x):
    """Whether a dense layer may multiply `x` (a TensorFlow tensor) by kept weights here."""
    import tensorflow as tf

    if not switches.weights_constant() or x.dtype != tf.bfloat16 or x.shape.rank != 2:
        return False
    return switches.kernel_may_run() and available()


def dense(x, kernel, bias, activation=None, residual=None):
    """`activation(x @ kernel + bias)`, or `x @ kernel + bias + residual`, as one kernel
    that keeps `kernel` rearranged after its first call (graphs only: see `usable`).

    Args:
        x: (rows, in) tensor.
        kernel: (in, out) tensor of x's dtype, the same values at every call.
        bias: (out,) tensor of x's dtype.
        activation: None or a key of `FUSED_ACTIVATIONS`.
        residual: None or a (rows, out) tensor added last (not with `activation`).
    """
    if activation is not None and residual is not None:
        raise ValueError(
            "constant_matmul.dense fuses an activation or a residual add, "
            f"not both (got activation={activation!r} and a residual)."
        )
    fused_ops = ["BiasAdd"]
    args = [bias]
    if activation is not None:
        fused_ops.append(FUSED_ACTIVATIONS[activation])
    elif residual is not None:
        fused_ops.append("Add")
        args.append(residual)
    return _add_op(x, kernel, args, fused_ops)


def _add_op(x, kernel, args, fused_ops):
    import tensorflow as tf
    from tensorflow.core.framework import attr_value_pb2

    attr = attr_value_pb2.AttrValue
    attrs = {
        "T": attr(type=x.dtype.as_datatype_enum),
        "transpose_a": attr(b=False),
        "transpose_b": attr(b=False),
        "num_args": attr(i=len(args)),
        "fused_ops": attr(list=attr.ListValue(s=[op.encode() for op in fused_ops])),
        "epsilon": attr(f=1e-4),
        "leakyrelu_alpha": attr(f=0.2),
        "is_filter_const": attr(b=True),  # Rearranged once, kept by the kernel.
        "_kernel": attr(s=b"MklNameChangeOp"),
    }  # The registration's label.
    op = tf.compat.v1.get_default_graph().create_op(
        "_MklNativeFusedMatMul",
        [x, kernel] + list(args),
        [x.dtype],
        name="ConstantMatMul",
        attrs=attrs,
    )
    return op.outputs[0]


def available():
    """Whether the kernel runs here and gives NumPy's numbers (bias, GELU, residual),
    checked once per process.

    Example:
    >>> isinstance(available(), bool)
    True
    """
    global _AVAILABLE
    if _AVAILABLE is None:
        flags = onednn_probe.cpu_flags()
        if flags is None:  # Unknown CPU: a kernel that aborts must end a child only.
            _AVAILABLE = onednn_probe.passes_in_child("keras_bert.kernels.constant_matmul:_probe")
        else:  # oneDNN aborts the process on bfloat16 weights without these.
            _AVAILABLE = bool(flags & BF16_CPU_FLAGS) and onednn_probe.passes(_probe)
    return _AVAILABLE


def _probe():
    """Two calls of one traced kernel per case (the second on the kept weights) against
    NumPy on the same bfloat16 values, to bfloat16 rounding."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rounded = lambda a: tf.cast(a.astype("float32"), tf.bfloat16)  # noqa: E731
    xs = [rounded(rng.normal(size=(9, 40))) for _ in range(2)]
    w, b, r = (
        rounded(rng.normal(size=(40, 24)) * 0.2),
        rounded(rng.normal(size=24)),
        rounded(rng.normal(size=(9, 24))),
    )
    erf = np.vectorize(math.erf)
    cases = {
        "gelu": lambda z: 0.5 * z * (1.0 + erf(z / math.sqrt(2.0))),
        None: lambda z: z + r.numpy().astype("float64"),
    }
    for activation, expected in cases.items():
        run = tf.function(
            lambda x, a=activation: dense(x, w, b, activation=a, residual=None if a else r),
            autograph=False,
        )
        for x in xs:
            z = x.numpy().astype("float64") @ w.numpy().astype("float64") + b.numpy()
            got = run(x).numpy().astype("float64")
            if not np.allclose(got, expected(z), rtol=2e-2, atol=2e-2):
                return False
    return True

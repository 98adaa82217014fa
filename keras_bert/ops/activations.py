"""Activation names as they appear in BERT configs, resolved to keras.ops functions, and
the exact GELU of training (its slope formed in the forward pass)."""

import keras
from keras import ops

from keras_bert.ops.gelu import gelu_erf_polynomial, gelu_float32, gelu_slope_float32

# The released Google and Hugging Face checkpoints use the exact (erf) GELU.
_GELU_EXACT = ("gelu",)
_GELU_TANH = ("gelu_approximate", "gelu_new", "gelu_pytorch_tanh", "gelu_fast")


def gelu_exact(x):
    """The exact (erf) GELU, `x * Phi(x)`. On JAX `gelu_erf_polynomial`, which XLA fuses
    with the GPU matmuls better than XLA's erf op (`benchmarks/gpu_variants.py` measures
    both); elsewhere the backend's own op (TensorFlow's oneDNN rewrite fuses it with the
    matmul before it on CPUs)."""
    if keras.backend.backend() == "jax":
        return gelu_erf_polynomial(x)
    return keras.activations.gelu(x, approximate=False)


def gelu_exact_training(x, gelu_and_slope=None):
    """The exact GELU `x * Phi(x)` for training: its derivative is formed in the forward
    pass, so the backward pass is one multiply.

    Autodiff of `gelu_exact` runs a chain of element-wise ops over the intermediate
    activations (the largest of a block's dense outputs) and, under mixed precision, runs
    them in bfloat16, which TensorFlow's CPU kernels do slowly. Here `Phi(x)` and the
    slope `Phi(x) + x * phi(x)` are computed together in float32, the output and the
    slope are cast once to the input's dtype, and only the slope is kept for the backward
    pass (the same memory as autodiff, which keeps `x`). The values are `gelu_exact`'s
    to float32 rounding (`Phi` from erf, as PyTorch and JAX form it; TensorFlow's own
    uses erfc, slower on its CPU kernels); in bfloat16 they are rounded once instead of
    at every op. Inference uses `gelu_exact`, which TensorFlow fuses into the preceding
    matmul.

    Example:
    >>> x = ops.convert_to_tensor([-1.0, 0.0, 2.0])
    >>> [round(v, 4) for v in ops.convert_to_numpy(gelu_exact_training(x)).tolist()]
    [-0.1587, 0.0, 1.9545]

    Args:
        x: float tensor of any shape.
        gelu_and_slope: None, or a function of `x` giving both in `x`'s dtype, each
            rounded once from float32 (a backend's compiled form:
            `keras_bert.kernels.dispatch.activation` passes TensorFlow's XLA kernels).
    """
    dtype = keras.backend.standardize_dtype(x.dtype)
    gelu_and_slope = gelu_and_slope or (lambda x: _gelu_and_slope(x, dtype))

    @ops.custom_gradient
    def forward(x):
        output, slope = gelu_and_slope(x)

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            return upstream * slope

        return output, grad

    return forward(x)


def _gelu_and_slope(x, dtype):
    """(GELU, slope) in `dtype`, each computed in float32 and rounded once."""
    x32 = ops.cast(x, "float32")
    return ops.cast(gelu_float32(x32), dtype), ops.cast(gelu_slope_float32(x32), dtype)


def gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


def is_gelu_exact(name):
    """Whether a config's activation name is the exact GELU."""
    return name in _GELU_EXACT


def get_activation(name):
    """Returns the function for a config's `hidden_act` string.

    >>> get_activation("gelu") is gelu_exact
    True
    """
    if name in _GELU_EXACT:
        return gelu_exact
    if name in _GELU_TANH:
        return gelu_tanh
    if name in ("relu", "tanh", "swish", "silu"):
        return keras.activations.get(name)
    known = ", ".join(_GELU_EXACT + _GELU_TANH + ("relu", "tanh", "swish", "silu"))
    raise ValueError(f"Unknown activation {name!r}; expected one of: {known}.")

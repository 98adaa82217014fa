"""Activation names as they appear in BERT configs, resolved to Keras functions."""

import keras

# The released Google and Hugging Face checkpoints use the exact (erf) GELU.
_GELU_EXACT = ("gelu",)
_GELU_TANH = ("gelu_approximate", "gelu_new", "gelu_pytorch_tanh", "gelu_fast")


def gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


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

"""A dense layer with int8 weights and dynamically quantized uint8 inputs (inference)."""

import keras
import numpy as np
from keras import ops

from keras_bert.kernels import dispatch
from keras_bert.ops.activations import get_activation


@keras.saving.register_keras_serializable(package="keras_bert")
class Int8Dense(keras.layers.Layer):
    """`activation(x @ kernel + bias)` with the kernel in int8, for inference.

    The kernel is stored as int8 with one float scale per output column (symmetric,
    `abs max / 127`); each call measures the input's range and codes it in uint8
    (asymmetric), then runs an 8-bit matmul with int32 accumulation: PyTorch's dynamic
    int8 quantization, with per-column weight scales. On TensorFlow's x86 CPUs the
    matmul, the dequantization, the bias and the activation (GELU, ReLU, tanh) are one
    oneDNN kernel; elsewhere
    `keras.ops` computes the same formula. The layer is not trainable. Make one from a
    float `keras.layers.Dense` with `from_dense`.

    Example:
    >>> dense = keras.layers.Dense(4)
    >>> _ = dense(np.ones((2, 3), "float32"))
    >>> int8 = Int8Dense.from_dense(dense)
    >>> tuple(int8(np.ones((2, 3), "float32")).shape)
    (2, 4)

    Args:
        units: int, output features.
        activation: str or None, an activation name of BERT configs (see
            `get_activation`).
    """

    def __init__(self, units, activation=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation
        self._activation_fn = get_activation(activation) if activation else None

    def build(self, inputs_shape):
        features = inputs_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(features, self.units),
            dtype="int8",
            initializer="zeros",
            trainable=False,
        )
        self.kernel_scale = self.add_weight(
            name="kernel_scale",
            shape=(self.units,),
            dtype="float32",
            initializer="ones",
            trainable=False,
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.units,), dtype="float32", initializer="zeros", trainable=False
        )
        # Sums of the int8 kernel's columns: the zero-point correction of the inputs.
        self.column_sums = self.add_weight(
            name="column_sums",
            shape=(self.units,),
            dtype="float32",
            initializer="zeros",
            trainable=False,
        )
        self.built = True

    @classmethod
    def from_dense(cls, dense, name=None, activation=None):
        """An `Int8Dense` with `dense`'s weights quantized (kernel in int8), applying
        `dense`'s activation, or `activation` (a config name) after a linear `dense`."""
        if not dense.use_bias:
            raise ValueError(f"Int8Dense needs a dense layer with a bias; {dense.name} has none.")
        own = _activation_name(dense.activation)
        if own and activation:
            raise ValueError(f"{dense.name} already applies {own}; cannot add {activation}.")
        kernel = np.asarray(ops.convert_to_numpy(dense.kernel), "float32")
        bias = np.asarray(ops.convert_to_numpy(dense.bias), "float32")
        layer = cls(kernel.shape[1], activation=own or activation, name=name or dense.name)
        layer.build((None, kernel.shape[0]))
        layer.set_quantized_weights(kernel, bias)
        return layer

    @classmethod
    def replace(cls, owner, name, activation=None):
        """Replaces the float dense layer `owner.<name>` by its `from_dense` int8 form,
        whose variable paths are those of an int8 layer built in `owner`."""
        tracker = owner._tracker
        locked = tracker.locked
        tracker.unlock()
        dense = getattr(owner, name)
        tracker.untrack(dense)
        with keras.name_scope(owner.name):
            setattr(owner, name, cls.from_dense(dense, activation=activation))
        if locked:
            tracker.lock()

    def set_quantized_weights(self, kernel, bias):
        """Quantizes a float `kernel` (in, out) and stores it with `bias`."""
        codes, scale = kernel_codes(kernel)
        self.kernel.assign(codes)
        self.kernel_scale.assign(scale)
        self.bias.assign(bias)
        self.column_sums.assign(codes.astype("float32").sum(axis=0))

    def quantize_inputs(self, x):
        """`x` (rows, features) -> codes for `matmul_codes`; share them between the
        layers that read the same input (query, key, value)."""
        kernels = dispatch.int8_kernels()
        if kernels is not None:
            return kernels.quantize(x)
        lo = ops.minimum(ops.min(x), 0.0)
        hi = ops.maximum(ops.max(x), 0.0)
        hi = ops.maximum(hi, lo + 1e-6)
        step = (hi - lo) / 255.0
        codes = ops.clip(ops.round((x - lo) / step), 0.0, 255.0)  # (rows, features)
        return codes, lo, hi

    def matmul_codes(self, quantized):
        kernels = dispatch.int8_kernels()
        if kernels is not None:
            # The kernel applies the activation itself where it has it (GELU, ...).
            fused = self.activation in kernels.FUSED_ACTIVATIONS
            y = kernels.matmul(
                quantized,
                self.kernel,
                self.kernel_scale,
                self.bias,
                self.column_sums,
                self.activation if fused else None,
            )
            if fused:
                return y
        else:
            codes, lo, hi = quantized
            step = (hi - lo) / 255.0
            y = ops.matmul(codes, ops.cast(self.kernel, "float32"))  # (rows, units)
            y = (y * step + lo * self.column_sums) * self.kernel_scale + self.bias
        return self._activation_fn(y) if self._activation_fn else y

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        shape = ops.shape(x)
        rows = ops.reshape(x, (-1, shape[-1]))  # (rows, features)
        y = self.matmul_codes(self.quantize_inputs(rows))
        return ops.reshape(y, tuple(shape[:-1]) + (self.units,))

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=self.activation)
        return config


def kernel_codes(kernel, largest=127):
    """A float `kernel` (in, out) -> (int8 codes in [-largest, largest], float32 scale
    per output column): symmetric, `abs max / largest` (an all-zero column gets 1).

    Example:
    >>> codes, scale = kernel_codes(np.array([[0.5, -2.0], [1.0, 0.0]], "float32"))
    >>> codes.tolist(), scale.tolist()
    ([[64, -127], [127, 0]], [0.007874015718698502, 0.015748031437397003])
    """
    peak = np.abs(kernel).max(axis=0)  # (out,)
    scale = np.where(peak > 0, peak / float(largest), 1.0).astype("float32")
    return np.clip(np.round(kernel / scale), -largest, largest).astype("int8"), scale


def _activation_name(function):
    """The config name of a dense layer's activation (None for linear)."""
    if function is None or function is keras.activations.linear:
        return None
    for name in ("gelu", "gelu_approximate", "relu", "tanh", "swish"):
        if get_activation(name) is function:
            return name
    raise ValueError(f"Int8Dense cannot express the activation {function!r}.")

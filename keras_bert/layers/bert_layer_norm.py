"""LayerNorm over the last axis with a hand-written gradient."""

import keras
from keras import ops

from keras_bert.kernels import dispatch


@keras.saving.register_keras_serializable(package="keras_bert")
class BertLayerNorm(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` (same weights, config and outputs to float
    rounding) whose gradient is written out instead of differentiated through the
    moments.

    With `xhat = (x - mean) / sqrt(var + eps)` and `g = dy * gamma`:
    `dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)`,
    `dgamma = sum(dy * xhat)`, `dbeta = sum(dy)`: about half the element-wise passes
    of automatic differentiation through Keras's formula (whose moments' gradient
    broadcasts and tiles). In inference on TensorFlow's CPUs the forward pass is
    oneDNN's fused kernel where it is usable (`kernels.dispatch.layer_norm_kernel`:
    not under XLA, not while exporting), with this gradient; otherwise inference is
    Keras's own call. Other axes, `rms_scaling`, or no `center`/`scale` always use Keras's call.

    Example:
    >>> norm = BertLayerNorm(epsilon=1e-12)
    >>> y = norm(ops.convert_to_tensor([[1.0, 2.0, 3.0, 6.0]]), training=True)
    >>> [round(v, 4) for v in ops.convert_to_numpy(y)[0].tolist()]
    [-1.069, -0.5345, 0.0, 1.6036]

    Args: those of `keras.layers.LayerNormalization`.
    """

    def _custom(self, inputs):
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        last = len(inputs.shape) - 1
        return (
            self.center
            and self.scale
            and not self.rms_scaling
            and [a % len(inputs.shape) for a in axes] == [last]
        )

    def call(self, inputs, training=None):
        if not self._custom(inputs):
            return super().call(inputs)
        x = ops.cast(inputs, "float32")
        kernel = None if training else dispatch.layer_norm_kernel(x)
        if not training and kernel is None:
            return super().call(inputs)
        # The weights are read here (a copy is a read): the function with the custom
        # gradient takes tensors, and their gradients flow back to the variables.
        gamma, beta = ops.copy(self.gamma), ops.copy(self.beta)
        outputs = _normalize(
            x, ops.cast(gamma, "float32"), ops.cast(beta, "float32"), self.epsilon, kernel
        )
        return ops.cast(outputs, self.compute_dtype)


def _normalize(x, gamma, beta, epsilon, kernel=None):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta` over the last axis; with a
    `kernel(x, gamma, beta, epsilon)`, the forward pass is the kernel's and the moments
    are formed only if a gradient is asked for."""
    outer = tuple(range(len(x.shape) - 1))

    def normalized(x):
        centered = x - ops.mean(x, axis=-1, keepdims=True)
        inv = ops.rsqrt(ops.mean(ops.square(centered), axis=-1, keepdims=True) + epsilon)
        return centered * inv, inv  # xhat, 1 / sqrt(var + epsilon)

    @ops.custom_gradient
    def forward(x, gamma, beta):
        if kernel is None:
            xhat, inv = normalized(x)
            outputs = xhat * gamma + beta
        else:
            outputs = kernel(x, gamma, beta, epsilon)

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            xhat_, inv_ = (xhat, inv) if kernel is None else normalized(x)
            g = upstream * gamma
            dx = inv_ * (
                g
                - ops.mean(g, axis=-1, keepdims=True)
                - xhat_ * ops.mean(g * xhat_, axis=-1, keepdims=True)
            )
            return dx, ops.sum(upstream * xhat_, axis=outer), ops.sum(upstream, axis=outer)

        return outputs, grad

    return forward(x, gamma, beta)

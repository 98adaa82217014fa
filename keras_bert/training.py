"""Training recipes: BERT's optimizer (AdamW or LAMB) and learning-rate schedule."""

import keras

from keras_bert.kernels import dispatch

# Not decayed, as in BERT: LayerNorm scales/offsets and every bias.
NO_DECAY = ["gamma", "beta", "bias"]


@keras.saving.register_keras_serializable(package="keras_bert")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to `peak` over `warmup_steps`, then linear decay to 0 at
    `total_steps`.

    Example:
    >>> schedule = WarmupLinearDecay(peak=1e-4, warmup_steps=10, total_steps=110)
    >>> [round(float(schedule(s)), 8) for s in (0, 5, 10, 60, 110, 200)]
    [0.0, 5e-05, 0.0001, 5e-05, 0.0, 0.0]
    """

    def __init__(self, peak, warmup_steps, total_steps):
        if total_steps <= 0 or not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"Need 0 <= warmup_steps ({warmup_steps}) <= total_steps ({total_steps}), "
                "total_steps > 0."
            )
        self.peak = peak
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = step / max(self.warmup_steps, 1)
        decay = (self.total_steps - step) / max(self.total_steps - self.warmup_steps, 1)
        factor = keras.ops.where(step < self.warmup_steps, warmup, decay)
        return self.peak * keras.ops.clip(factor, 0.0, 1.0)

    def get_config(self):
        return {
            "peak": self.peak,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
        }


def _dense(gradient):
    if type(gradient).__name__ == "IndexedSlices":  # TensorFlow only.
        import tensorflow as tf

        return tf.convert_to_tensor(gradient)
    return gradient


def adam_step(optimizer, gradient, variable, learning_rate):
    """Adam's Algorithm 1 in `keras.ops` (epsilon added to `sqrt(v / (1 - beta_2^t))`,
    as PyTorch's AdamW; see `fused_adam`), the moments of `optimizer`."""
    ops = keras.ops
    dtype = variable.dtype
    lr = ops.cast(learning_rate, dtype)
    gradient = ops.cast(gradient, dtype)
    step = ops.cast(optimizer.iterations + 1, dtype)
    first = 1 - ops.power(ops.cast(optimizer.beta_1, dtype), step)
    second = 1 - ops.power(ops.cast(optimizer.beta_2, dtype), step)
    index = optimizer._get_variable_index(variable)
    m, v = optimizer._momentums[index], optimizer._velocities[index]
    optimizer.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - optimizer.beta_1))
    optimizer.assign_add(
        v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - optimizer.beta_2)
    )
    step_size = ops.divide(lr, first)
    denominator = ops.add(ops.sqrt(ops.divide(v, second)), optimizer.epsilon)
    optimizer.assign_sub(variable, ops.divide(ops.multiply(m, step_size), denominator))


def _no_decay_optimizer(base, adamw=False):
    """`base` with BERT's weight-decay exclusions as config (they survive .keras reloads);
    `adamw`: Adam's step as Algorithm 1 (`adam_step`), on TensorFlow on its fused kernels
    (`keras_bert.kernels.fused_adam`)."""

    class Optimizer(base):
        def __init__(self, no_decay=tuple(NO_DECAY), **kwargs):
            super().__init__(**kwargs)
            self.no_decay = list(no_decay)
            self.exclude_from_weight_decay(var_names=self.no_decay)

        def apply(self, grads, trainable_variables=None):
            # TF gives the embeddings' gradients as IndexedSlices, one row per token:
            # their norm is not the gradient's when a token repeats, and Keras would clip
            # by it. Made dense, global-norm clipping sees the true gradient (as PyTorch's
            # clip_grad_norm_ does), alike on one device and on several replicas.
            grads = [_dense(g) for g in grads]
            return super().apply(grads, trainable_variables)

        def _fused(self, variable):
            """Whether TensorFlow's fused kernels take this variable's AdamW step."""
            return adamw and not self.amsgrad and dispatch.fused_adamw(variable) is not None

        def _clip_gradients(self, grads):
            clipped = None
            if self.global_clipnorm:
                clipped = dispatch.clip_by_global_norm(grads, self.global_clipnorm)
            return super()._clip_gradients(grads) if clipped is None else clipped

        def _apply_weight_decay(self, variables):
            # The fused step decays its variables itself.
            super()._apply_weight_decay([v for v in variables if not self._fused(v)])

        def update_step(self, gradient, variable, learning_rate):
            if self._fused(variable):
                return dispatch.fused_adamw(variable)(self, gradient, variable, learning_rate)
            if adamw and not self.amsgrad:  # AdamW on any backend: the same formulas.
                return adam_step(self, gradient, variable, learning_rate)
            return super().update_step(gradient, variable, learning_rate)

        def get_config(self):
            return dict(super().get_config(), no_decay=self.no_decay)

    Optimizer.__name__ = Optimizer.__qualname__ = f"Bert{base.__name__}"
    return keras.saving.register_keras_serializable(package="keras_bert")(Optimizer)


BertAdamW = _no_decay_optimizer(keras.optimizers.AdamW, adamw=True)
BertLamb = _no_decay_optimizer(keras.optimizers.Lamb)
OPTIMIZERS = {"adamw": BertAdamW, "lamb": BertLamb}


def make_optimizer(
    optimizer="adamw",
    learning_rate=1e-4,
    total_steps=10_000,
    warmup_steps=None,
    weight_decay=0.01,
    epsilon=1e-6,
    clipnorm=1.0,
    gradient_accumulation_steps=None,
):
    """BERT's optimizer: AdamW (or LAMB), eps 1e-6, weight decay 0.01 except on
    LayerNorm and biases, global-norm clipping at 1.0, warmup (10% by default) then
    linear decay to 0."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"Unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}."
        )
    warmup_steps = int(0.1 * total_steps) if warmup_steps is None else warmup_steps
    schedule = WarmupLinearDecay(learning_rate, warmup_steps, total_steps)
    return OPTIMIZERS[optimizer](
        learning_rate=schedule,
        weight_decay=weight_decay,
        epsilon=epsilon,
        global_clipnorm=clipnorm,
        gradient_accumulation_steps=gradient_accumulation_steps,
    )

"""Training recipes: BERT's optimizer (AdamW or LAMB) and learning-rate schedule."""

import keras

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
        return {"peak": self.peak, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps}


def make_optimizer(optimizer="adamw", learning_rate=1e-4, total_steps=10_000,
                   warmup_steps=None, weight_decay=0.01, epsilon=1e-6, clipnorm=1.0,
                   gradient_accumulation_steps=None):
    """BERT's optimizer: AdamW (or LAMB), eps 1e-6, weight decay 0.01 except on
    LayerNorm and biases, global-norm clipping at 1.0, warmup (10% by default) then
    linear decay to 0."""
    warmup_steps = int(0.1 * total_steps) if warmup_steps is None else warmup_steps
    schedule = WarmupLinearDecay(learning_rate, warmup_steps, total_steps)
    kwargs = dict(learning_rate=schedule, weight_decay=weight_decay, epsilon=epsilon,
                  global_clipnorm=clipnorm,
                  gradient_accumulation_steps=gradient_accumulation_steps)
    if optimizer == "adamw":
        result = keras.optimizers.AdamW(**kwargs)
    elif optimizer == "lamb":
        result = keras.optimizers.Lamb(**kwargs)
    else:
        raise ValueError(f"Unknown optimizer {optimizer!r}; expected 'adamw' or 'lamb'.")
    result.exclude_from_weight_decay(var_names=NO_DECAY)
    return result

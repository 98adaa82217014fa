"""BERT's AdamW step on TensorFlow's fused optimizer kernels.

Keras's AdamW, written in `keras.ops`, is about a dozen element-wise passes over every
weight and its two moments, and global-norm clipping squares every gradient into a
new tensor before summing it. Over the 22.7M weights of MiniLM that is ~0.2 s of op
time in a ~1.9 s training step on two CPU cores (`benchmarks/finetuning.py`). Here:
- the norm is `tf.nn.l2_loss` per gradient (one reading pass, nothing written);
- the decoupled weight decay is one multiply and one in-place subtract;
- the Adam update of the weight and both moments is `ResourceApplyAdam`, one
  multithreaded pass, with Adam's Algorithm 1 (as PyTorch's AdamW, and
  `training.adam_step` on other backends):
  `m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
  `w -= lr / (1 - beta_1^t) m / (sqrt(v / (1 - beta_2^t)) + epsilon)`.
  (Keras's `Adam` adds epsilon to `sqrt(v)` instead, so early in training a weight
  with small gradients moves less: with eps 1e-6 at step 1 its epsilon is in effect
  3e-5; fine-tuning then lags transformers' on the same batches.)

TensorFlow is imported lazily: `import keras_bert` does not load it.
"""

import weakref


def clip_by_global_norm(grads, clip_norm):
    """Keras's `clip_by_global_norm` (a NaN or infinite norm makes every gradient NaN),
    with the norm summed without materialized squares."""
    import tensorflow as tf

    present = [g for g in grads if g is not None]
    if not present:
        return grads
    halves = [tf.cast(tf.nn.l2_loss(g), tf.float32) for g in present]
    norm = tf.sqrt(2.0 * tf.add_n(halves))
    scale = clip_norm * tf.minimum(1.0 / norm, 1.0 / clip_norm) + (norm - norm)
    return [None if g is None else g * tf.cast(scale, g.dtype) for g in grads]


def _handle(variable):
    """The resource handle of a Keras variable or a tf.Variable (the replica's own one
    inside a `tf.distribute` update)."""
    import keras

    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


def adamw_update(optimizer, gradient, variable, learning_rate):
    """One AdamW step of `variable` (a float32 tf.Variable) with `optimizer`'s moments,
    hyperparameters and step count; the weight decay first, as Keras's AdamW does."""
    import tensorflow as tf

    dtype = variable.dtype
    scalars = _step_scalars(optimizer, learning_rate, dtype, variable.device)
    if optimizer.weight_decay and optimizer._use_weight_decay(variable):
        variable.assign_sub(variable * scalars["decay"])
    index = optimizer._get_variable_index(variable)
    m, v = optimizer._momentums[index], optimizer._velocities[index]
    tf.raw_ops.ResourceApplyAdam(
        var=_handle(variable),
        m=_handle(m),
        v=_handle(v),
        beta1_power=scalars["beta1_power"],
        beta2_power=scalars["beta2_power"],
        lr=scalars["lr"],
        beta1=scalars["beta1"],
        beta2=scalars["beta2"],
        epsilon=scalars["epsilon"],
        grad=tf.cast(gradient, dtype),
        use_locking=False,
    )


def _step_scalars(optimizer, learning_rate, dtype, device):
    """The step's hyperparameters as `dtype` scalars. In a traced step they are made
    once per graph, device and learning-rate tensor and shared by every variable's
    update (the same values: the step count changes only after all of them), instead
    of some fifteen ops per variable, which a step's tracing and graph optimization
    pay for."""
    import tensorflow as tf

    if tf.executing_eagerly():
        return _scalars(optimizer, learning_rate, dtype)
    graph = tf.compat.v1.get_default_graph()
    key = (optimizer, dtype, device, id(learning_rate))
    made = _SHARED.setdefault(graph, {})
    if key not in made:
        made[key] = (learning_rate, _scalars(optimizer, learning_rate, dtype))
    return made[key][1]


def _scalars(optimizer, learning_rate, dtype):
    import tensorflow as tf

    lr = tf.cast(learning_rate, dtype)
    step = tf.cast(optimizer.iterations + 1, dtype)
    beta_1 = tf.cast(optimizer.beta_1, dtype)
    beta_2 = tf.cast(optimizer.beta_2, dtype)
    beta2_power = tf.pow(beta_2, step)
    return {
        "lr": lr,
        "decay": lr * tf.cast(optimizer.weight_decay or 0.0, dtype),
        "beta1": beta_1,
        "beta2": beta_2,
        "beta1_power": tf.pow(beta_1, step),
        "beta2_power": beta2_power,
        # The kernel adds epsilon to sqrt(v) ("epsilon hat"); scaled by sqrt(1 -
        # beta_2^t) it is the epsilon of Adam's Algorithm 1, added to
        # sqrt(v / (1 - beta_2^t)).
        "epsilon": tf.cast(optimizer.epsilon, dtype) * tf.sqrt(1 - beta2_power),
    }


# graph -> {(optimizer, dtype, device, id(learning rate)): (learning rate, scalars)}; the
# learning-rate tensor is held so that its id is not reused while the graph lives.
_SHARED = weakref.WeakKeyDictionary()

"""The once-per-process check behind each oneDNN kernel module's `available()`.

TensorFlow is imported lazily: `import keras_bert` does not load it.
"""


def passes(probe, cpu_only=True):
    """Whether `probe()` (a small case against the expected numbers) returns true, run
    eagerly even when first asked while tracing a function. False where it raises (no
    such op or kernel in this build) and, with `cpu_only`, where a GPU is visible.

    Example:
    >>> passes(lambda: 1 / 0, cpu_only=False)
    False
    """
    import tensorflow as tf

    try:
        with tf.init_scope():
            if cpu_only and tf.config.list_logical_devices("GPU"):
                return False
            return bool(probe())
    except Exception:  # noqa: BLE001 - no such op or kernel in this build.
        return False

"""The execution switches: one thread-local table of the states, set around a trace,
that decide whether a kernel may serve a call, and the one gate every graph kernel
asks (`kernel_may_run`).

Fields (each set by a context manager, nestable, per thread):
- `portable`: functions traced inside use TensorFlow's standard ops only (an export,
  which a TF Serving build without oneDNN may load). `saved_models.export` sets it.
- `constant_weights`: the functions traced inside read weights that never change, so a
  kernel may keep them in a form of its own. `FrozenInference` sets it while it traces.

Names: "frozen" in this package means one thing, weights that training no longer
changes (`FrozenInference`, `FrozenFeatures`); a kernel's copy of such weights, kept
between calls, is "constant" (oneDNN's `is_weight_const`): `constant_matmul`.

Example:
>>> with constant_weights():
...     weights_constant(), is_portable()
(True, False)
>>> weights_constant()
False
"""

import contextlib
import threading

FIELDS = ("portable", "constant_weights")
_STATE = threading.local()


@contextlib.contextmanager
def _switched_on(field):
    depth = getattr(_STATE, field, 0)
    setattr(_STATE, field, depth + 1)
    try:
        yield
    finally:
        setattr(_STATE, field, depth)


def _on(field):
    return bool(getattr(_STATE, field, 0))


def portable():
    """A context: kernels stay out of what is traced inside (exports)."""
    return _switched_on("portable")


def constant_weights():
    """A context: what is traced inside reads weights that never change."""
    return _switched_on("constant_weights")


def is_portable():
    """Whether `portable()` is active in this thread."""
    return _on("portable")


def weights_constant():
    """Whether `constant_weights()` is active in this thread."""
    return _on("constant_weights")


def kernel_may_run(eager=False):
    """The gate of every oneDNN kernel, before its own dtype and shape checks: not in a
    portable trace, not under XLA (which has no such kernels), and in a graph unless
    the kernel has an eager form (`eager=True`). TensorFlow only."""
    import tensorflow as tf
    from tensorflow.python.ops import control_flow_util

    if is_portable():
        return False
    if tf.executing_eagerly():
        return eager
    return not control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())

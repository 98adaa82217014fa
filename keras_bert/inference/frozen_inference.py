"""`FrozenInference`: a model's inference, compiled, on a copy of its weights taken once."""

import keras
import numpy as np
from keras import ops

from keras_bert.inference import length_groups
from keras_bert.kernels.switches import constant_weights


class FrozenInference:
    """`model(inputs, training=False)`, compiled, on a copy of the model's weights taken
    when it is made: a snapshot, as an export is. Later changes to the model's weights
    (`fit`, `load_weights`, `assign`) do not reach it; make a new one to see them.

    Because its weights never change, the kernels may keep them rearranged once. On
    TensorFlow's x86 CPUs (oneDNN):
    - bfloat16 encoder blocks run each dense layer (with its bias, and its GELU or
      residual add) on oneDNN's blocked bf16 kernels (`keras_bert.kernels.constant_matmul`), the
      same outputs to bf16 rounding;
    - int8 blocks (`quantize_int8`) keep their int8 weights prepared;
    - float32 runs as the model's call does.
    (`benchmarks/inference.py` measures each against the model's own call.)
    Elsewhere (other backends, GPUs, XLA) it is the model's call on the copy, compiled
    (`tf.function`, `jax.jit`). The copy and the kept forms cost memory: about two more
    times the weights.

    Example:
    >>> import numpy as np, keras_bert
    >>> model = keras_bert.build("tiny", num_layers=1)
    >>> frozen = FrozenInference(model)
    >>> inputs = {"token_ids": np.full((2, 7), 5, "int32"),
    ...           "segment_ids": np.zeros((2, 7), "int32"),
    ...           "padding_mask": np.ones((2, 7), "int32")}
    >>> tuple(frozen(inputs)["sequence_output"].shape) == (2, 7, model.hidden_dim)
    True

    Args:
        model: a built keras.Model (a `BertBackbone` or a task model).
    """

    def __init__(self, model):
        if not model.built:
            raise ValueError(f"{model.name} is not built: call it once or build it first.")
        self.model = model
        # Copies: an assignment to a variable later gives it a new value, not these.
        self._trainable = [ops.copy(v) for v in model.trainable_variables]
        self._non_trainable = [ops.copy(v) for v in model.non_trainable_variables]
        self._function = self._compile()

    def _run(self, trainable, non_trainable, inputs):
        with constant_weights():
            outputs, _ = self.model.stateless_call(trainable, non_trainable, inputs, training=False)
        return outputs

    def _compile(self):
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            # The copies are captured: the same tensors at every call.
            return tf.function(
                lambda inputs: self._run(self._trainable, self._non_trainable, inputs),
                reduce_retracing=True,
                autograph=False,  # Layers' calls are never converted; nothing else to.
            )
        if backend == "jax":
            import jax

            run = jax.jit(self._run)  # The weights as arguments, not baked-in constants.
            return lambda inputs: run(self._trainable, self._non_trainable, inputs)
        return lambda inputs: self._run(self._trainable, self._non_trainable, inputs)

    def __call__(self, inputs):
        """The model's outputs for one batch of `inputs` (what the model takes)."""
        return self._function(inputs)

    def predict(self, data, batch_size=32, verbose=0, fill_value=0):
        """Outputs for every batch of `data`, as NumPy arrays joined along the batch
        axis, in the structure the model returns (as `model.predict`).

        Inputs given as arrays (the backbone's `token_ids`, `segment_ids` and
        `padding_mask`) are run shortest rows first, each batch padded only to its own
        longest row (rounded up to a multiple of 8): a batch of short texts costs what
        its tokens cost, not the full sequence length. The outputs come back in the
        input order; per-token outputs (a sequence axis, e.g. a tagger's logits) are
        padded back to the inputs' length with `fill_value`, where the model only saw
        padding.

        Args:
            data: a `tf.data.Dataset` or any iterable of input batches (of a tuple
                batch `(inputs, targets...)` the inputs are used); or the inputs as
                arrays (a dict of them, or one), cut into batches of `batch_size`.
            batch_size: int, for arrays.
            verbose: 0 silent, else a progress bar.
            fill_value: float, per-token outputs past a batch's longest row.

        Example:
        >>> import numpy as np, keras_bert
        >>> frozen = FrozenInference(keras_bert.build("tiny", num_layers=1))
        >>> mask = (np.arange(16) < np.array([[3], [16]])).astype("int32")
        >>> out = frozen.predict({"token_ids": mask * 5, "segment_ids": 0 * mask,
        ...                       "padding_mask": mask}, batch_size=1)
        >>> out["sequence_output"].shape[:2], float(np.abs(out["sequence_output"][0, 8:]).max())
        ((2, 16), 0.0)
        """
        if isinstance(data, dict) and self._by_length(data):
            return length_groups.predict_by_length(self, data, batch_size, verbose, fill_value)
        if isinstance(data, (dict, np.ndarray)):
            data = _array_batches(data, batch_size)
        progress = keras.utils.Progbar(None) if verbose else None
        batches = []
        for batch in data:
            if isinstance(batch, tuple):
                batch = batch[0]
            outputs = self(batch)
            batches.append(keras.tree.map_structure(ops.convert_to_numpy, outputs))
            if progress:
                progress.add(1)
        if not batches:
            raise ValueError("predict: the data has no batches.")
        return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *batches)

    def _by_length(self, data):
        """Whether rows of `data` may be grouped by length: the model takes exactly the
        backbone's three inputs (its per-token outputs are then those whose axis 1 has
        no fixed size)."""
        inputs = set(length_groups.SEQUENCE_INPUTS)
        return set(data) == inputs and set(self.model.input) == inputs


def _array_batches(arrays, batch_size):
    rows = len(keras.tree.flatten(arrays)[0])
    for start in range(0, rows, batch_size):
        yield keras.tree.map_structure(lambda a, start=start: a[start : start + batch_size], arrays)

"""Multiple choice reshapes: (batch, choices, seq) <-> (batch * choices, seq)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class ChoiceReshape(keras.layers.Layer):
    """Folds the choices into the batch, or unfolds per-choice scores out of it.

    `fold=True`: `(batch, choices, seq)` -> `(batch * choices, seq)`, so each
    (context, ending) pair runs through the encoder as its own sequence.
    `fold=False`: `(batch * choices, 1)` or `(batch * choices,)` -> `(batch, choices)`.

    Example:
    >>> x = ops.reshape(ops.arange(12), (2, 3, 2))
    >>> tuple(ChoiceReshape(3)(x).shape), tuple(ChoiceReshape(3, fold=False)(
    ...     ops.ones((6, 1))).shape)
    ((6, 2), (2, 3))
    """

    def __init__(self, num_choices, fold=True, **kwargs):
        super().__init__(**kwargs)
        self.num_choices = num_choices
        self.fold = fold

    def call(self, x):
        if self.fold:
            return ops.reshape(x, (-1, ops.shape(x)[-1]))
        return ops.reshape(x, (-1, self.num_choices))

    def compute_output_shape(self, shape):
        if self.fold:
            batch = None if shape[0] is None else shape[0] * shape[1]
            return (batch, shape[-1])
        batch = None if shape[0] is None else shape[0] // self.num_choices
        return (batch, self.num_choices)

    def get_config(self):
        return dict(super().get_config(), num_choices=self.num_choices, fold=self.fold)

"""Keras metrics for `fit`/`evaluate`: F1, Matthews correlation, Pearson correlation.

F1 and MCC accumulate a confusion matrix of integer counts, so their value over an
evaluation is exact (the same as `scores` on all predictions at once). Pearson
accumulates float32 sums: close, not exact, over long runs; `scores.pearson` is exact.
Spearman needs every prediction at once and is computed by `scores` at evaluation.
"""

import keras
from keras import ops


class _ConfusionMetric(keras.metrics.Metric):
    """Accumulates a confusion matrix from integer labels and logits (argmax)."""

    def __init__(self, num_classes=2, name=None, dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = num_classes
        self.matrix = self.add_variable(
            shape=(num_classes, num_classes), initializer="zeros", name="confusion_matrix"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        predicted = ops.reshape(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), (-1,))
        cells = labels * self.num_classes + predicted  # (batch,)
        weights = (
            ops.ones_like(cells, dtype=self.dtype)
            if sample_weight is None
            else ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        )
        one_hot = ops.one_hot(cells, self.num_classes**2, dtype=self.dtype)
        counts = ops.sum(one_hot * weights[:, None], axis=0)
        self.matrix.assign_add(ops.reshape(counts, (self.num_classes, self.num_classes)))

    def reset_state(self):
        self.matrix.assign(ops.zeros_like(self.matrix))

    def get_config(self):
        return dict(super().get_config(), num_classes=self.num_classes)


@keras.saving.register_keras_serializable(package="keras_bert")
class BinaryF1(_ConfusionMetric):
    """F1 of class 1 (MRPC and QQP's "F1"), from logits `(batch, 2)`."""

    def __init__(self, name="f1", dtype="float32"):
        super().__init__(num_classes=2, name=name, dtype=dtype)

    def result(self):
        tp, fp, fn = self.matrix[1, 1], self.matrix[0, 1], self.matrix[1, 0]
        return ops.divide_no_nan(2 * tp, 2 * tp + fp + fn)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="keras_bert")
class MatthewsCorrelation(_ConfusionMetric):
    """Matthews correlation (CoLA's metric; multi-class for the AX diagnostic)."""

    def __init__(self, num_classes=2, name="mcc", dtype="float32"):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype)

    def result(self):
        matrix = self.matrix
        total, correct = ops.sum(matrix), ops.trace(matrix)
        true, predicted = ops.sum(matrix, axis=1), ops.sum(matrix, axis=0)
        numerator = correct * total - ops.sum(true * predicted)
        denominator = ops.sqrt((total**2 - ops.sum(predicted**2)) * (total**2 - ops.sum(true**2)))
        return ops.divide_no_nan(numerator, denominator)


@keras.saving.register_keras_serializable(package="keras_bert")
class PearsonCorrelation(keras.metrics.Metric):
    """Pearson correlation of a regression output with its labels (STS-B)."""

    def __init__(self, name="pearson", dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.sums = self.add_variable(shape=(6,), initializer="zeros", name="sums")

    def update_state(self, y_true, y_pred, sample_weight=None):
        x = ops.reshape(ops.cast(y_pred, self.dtype), (-1,))
        y = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        self.sums.assign_add(
            ops.stack(
                [
                    ops.cast(ops.size(x), self.dtype),
                    ops.sum(x),
                    ops.sum(y),
                    ops.sum(x * x),
                    ops.sum(y * y),
                    ops.sum(x * y),
                ]
            )
        )

    def result(self):
        n, sx, sy, sxx, syy, sxy = [self.sums[i] for i in range(6)]
        covariance = n * sxy - sx * sy
        denominator = ops.sqrt(
            ops.maximum(n * sxx - sx * sx, 0.0) * ops.maximum(n * syy - sy * sy, 0.0)
        )
        return ops.divide_no_nan(covariance, denominator)

    def reset_state(self):
        self.sums.assign(ops.zeros_like(self.sums))

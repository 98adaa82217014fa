"""Exact evaluation scores in NumPy, as the official GLUE evaluation computes them
(scikit-learn's accuracy, F1 and Matthews correlation; SciPy's Pearson and Spearman).

Edge cases follow those libraries: F1 and MCC are 0 when undefined (no positive
predictions and labels, or a constant prediction); Pearson and Spearman are NaN when
either side is constant or holds a NaN or infinity. Spearman ranks ties by their
average rank.
"""

import numpy as np


def _labels(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.size} labels but {y_pred.size} predictions.")
    if y_true.size == 0:
        raise ValueError("No examples to score.")
    return y_true, y_pred


def accuracy(y_true, y_pred):
    y_true, y_pred = _labels(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def f1(y_true, y_pred, positive=1):
    """Binary F1 of the `positive` class."""
    y_true, y_pred = _labels(y_true, y_pred)
    tp = np.sum((y_pred == positive) & (y_true == positive))
    fp = np.sum((y_pred == positive) & (y_true != positive))
    fn = np.sum((y_pred != positive) & (y_true == positive))
    return float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0


def confusion_matrix(y_true, y_pred, num_classes=None):
    """(num_classes, num_classes) counts, rows = labels, columns = predictions."""
    y_true, y_pred = _labels(y_true, y_pred)
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    n = num_classes or int(max(y_true.max(), y_pred.max())) + 1
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def mcc_from_confusion(matrix):
    """Matthews correlation (multi-class, Gorodkin's R_K) from a confusion matrix."""
    matrix = np.asarray(matrix, np.float64)
    total, correct = matrix.sum(), np.trace(matrix)
    true, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    numerator = correct * total - true @ predicted
    denominator = np.sqrt((total**2 - predicted @ predicted) * (total**2 - true @ true))
    return float(numerator / denominator) if denominator else 0.0


def matthews_corrcoef(y_true, y_pred):
    return mcc_from_confusion(confusion_matrix(y_true, y_pred))


def pearson(x, y):
    x, y = (np.asarray(v, np.float64).ravel() for v in _labels(x, y))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x @ x) * (y @ y))
    return float(np.clip(x @ y / denominator, -1, 1)) if denominator else float("nan")


def rank(values):
    """1-based ranks, ties given their average rank (SciPy's rankdata 'average')."""
    values = np.asarray(values).ravel()
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], values.size] - 1
    ranks = np.empty(values.size)
    ranks[order] = (first[group] + last[group]) / 2 + 1
    return ranks


def spearman(x, y):
    x, y = (np.asarray(v, np.float64) for v in _labels(x, y))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return float("nan")  # Ranks would order NaN last and hide it.
    return pearson(rank(x), rank(y))

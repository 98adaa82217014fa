"""Task metrics: exact NumPy scores for evaluation and Keras metrics for `fit`."""

from keras_bert.metrics import scores
from keras_bert.metrics.streaming import BinaryF1, MatthewsCorrelation, PearsonCorrelation

__all__ = ["BinaryF1", "MatthewsCorrelation", "PearsonCorrelation", "scores"]

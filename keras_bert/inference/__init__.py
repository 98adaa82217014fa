"""Inference-only transformations of a trained model: `FrozenInference` (weights that
never change, so kernels may keep them rearranged) and `quantize_int8` (int8 dense
layers in place)."""

from keras_bert.inference.frozen_inference import FrozenInference
from keras_bert.inference.quantization import quantize_int8

__all__ = ["FrozenInference", "quantize_int8"]

"""Checkpoint readers and writers: Google TF1, Hugging Face safetensors, Model Garden."""

from keras_bert.checkpoints.google_tf1 import write_checkpoint as write_tf1_checkpoint
from keras_bert.checkpoints.loader import (
    FORMATS,
    detect_format,
    load_weights,
    read_config,
    read_weights,
)
from keras_bert.checkpoints.weight_map import assign, extract, variable_map

__all__ = [
    "FORMATS",
    "assign",
    "detect_format",
    "extract",
    "load_weights",
    "read_config",
    "read_weights",
    "variable_map",
    "write_tf1_checkpoint",
]

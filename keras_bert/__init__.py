"""keras_bert: BERT for Keras 3 on TensorFlow.

>>> import keras_bert
>>> encoder = keras_bert.build("tiny")
"""

from keras_bert import checkpoints, layers, tasks, training
from keras_bert.backbone import BertBackbone
from keras_bert.builder import TASKS, build
from keras_bert.presets import PARAMETER_COUNTS, PRESETS, get_preset
from keras_bert.tasks import BertPretrainer

__version__ = "0.1.0"

__all__ = [
    "PARAMETER_COUNTS",
    "PRESETS",
    "TASKS",
    "BertBackbone",
    "BertPretrainer",
    "build",
    "checkpoints",
    "get_preset",
    "layers",
    "tasks",
    "training",
]

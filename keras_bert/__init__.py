"""keras_bert: BERT for Keras 3 on TensorFlow.

>>> import keras_bert
>>> encoder = keras_bert.build("tiny")
"""

import os as _os
import sys as _sys


def _quiet_tensorflow_under_the_command_line():
    """`keras-bert` and `python -m keras_bert.cli` hide TensorFlow's C++ start-up lines
    (CUDA probing, oneDNN notes; some at error level though nothing is wrong) unless the
    user set TF_CPP_MIN_LOG_LEVEL. It must happen before TensorFlow loads, hence here;
    a plain `import keras_bert` in a program changes nothing."""
    argv = getattr(_sys, "orig_argv", _sys.argv)
    command = _os.path.basename(_sys.argv[0]) if _sys.argv else ""
    as_module = any(a == "-m" and b.startswith("keras_bert") for a, b in zip(argv, argv[1:]))
    if command in ("keras-bert", "keras-bert.exe") or as_module:
        _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


_quiet_tensorflow_under_the_command_line()

from keras_bert import checkpoints, distribute, layers, tasks, training  # noqa: E402
from keras_bert.backbone import BertBackbone  # noqa: E402
from keras_bert.builder import TASKS, build, task_options  # noqa: E402
from keras_bert.inference import FrozenInference, quantize_int8  # noqa: E402
from keras_bert.presets import PARAMETER_COUNTS, PRESETS, get_preset  # noqa: E402
from keras_bert.tasks import (  # noqa: E402
    BertClassifier,
    BertFeatureTagger,
    BertMultipleChoice,
    BertPretrainer,
    BertSpanExtractor,
    BertTask,
    BertTextEmbedder,
    BertTokenClassifier,
)

__version__ = "0.1.0"

__all__ = [
    "PARAMETER_COUNTS",
    "PRESETS",
    "TASKS",
    "BertBackbone",
    "BertClassifier",
    "BertFeatureTagger",
    "BertMultipleChoice",
    "BertPretrainer",
    "BertSpanExtractor",
    "BertTask",
    "BertTextEmbedder",
    "BertTokenClassifier",
    "FrozenInference",
    "build",
    "checkpoints",
    "distribute",
    "get_preset",
    "layers",
    "quantize_int8",
    "task_options",
    "tasks",
    "training",
]

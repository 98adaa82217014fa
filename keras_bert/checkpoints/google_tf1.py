"""Google's original TF1 BERT checkpoints (bert_config.json + bert_model.ckpt.*).

Reading and writing the TF checkpoint file format needs TensorFlow's checkpoint I/O
(`tf.train.load_checkpoint`, the SaveV2 op); this is file I/O, not model code.
"""

import glob
import json
import os
import shutil

import numpy as np

from keras_bert.checkpoints import weight_map
from keras_bert.checkpoints.bert_config import bert_config

_SKIPPED_SUFFIXES = ("/adam_m", "/adam_v")
_SKIPPED_NAMES = ("global_step",)


def find_prefix(path):
    """The checkpoint prefix for a folder or prefix path, or None when there is none."""
    import tensorflow as tf  # lazily: the model itself runs without TensorFlow

    if os.path.exists(path + ".index"):
        return path
    if not os.path.isdir(path):
        return None
    latest = tf.train.latest_checkpoint(path)  # Honours a `checkpoint` state file.
    if latest:
        return latest
    indexes = sorted(glob.glob(os.path.join(path, "*.index")))
    if len(indexes) > 1:
        raise ValueError(
            f"{path}: several checkpoints ({', '.join(map(os.path.basename, indexes))}); "
            "pass the prefix of the one to load."
        )
    return indexes[0][: -len(".index")] if indexes else None


def is_tf1_checkpoint(prefix):
    """True when the checkpoint holds Google's `bert/...` variable names."""
    import tensorflow as tf  # lazily: the model itself runs without TensorFlow

    try:
        names = {name for name, _ in tf.train.list_variables(prefix)}
    except (tf.errors.OpError, ValueError) as e:
        message = getattr(e, "message", None) or str(e)
        raise ValueError(
            f"{prefix}: cannot read the checkpoint index "
            f"({message.splitlines()[0]}); is {prefix}.index complete?"
        ) from None
    return "bert/embeddings/word_embeddings" in names


def read_weights(prefix):
    """{name: numpy array} of every model variable; optimizer slots are skipped."""
    import tensorflow as tf  # lazily: the model itself runs without TensorFlow

    try:
        reader = tf.train.load_checkpoint(prefix)
        weights = {}
        for name in reader.get_variable_to_shape_map():
            if name.endswith(_SKIPPED_SUFFIXES) or name in _SKIPPED_NAMES:
                continue
            weights[name] = reader.get_tensor(name)
    except (tf.errors.OpError, IndexError, ValueError) as e:
        message = getattr(e, "message", None) or str(e)
        raise ValueError(
            f"{prefix}: cannot read the checkpoint ({message.splitlines()[0]}); "
            "are its .index and .data-* files complete?"
        ) from None
    return weights


def write_weights(prefix, weights):
    """Writes {name: array} as a TF1-style (name-based) V2 checkpoint at `prefix`."""
    import tensorflow as tf  # lazily: the model itself runs without TensorFlow

    names = sorted(weights)
    tf.raw_ops.SaveV2(
        prefix=prefix,
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[tf.constant(np.asarray(weights[n], dtype=np.float32)) for n in names],
    )


def write_checkpoint(directory, model, heads=None, vocabulary=None, lowercase=None):
    """Writes a folder in Google's layout that other BERT tools read.

    `bert_config.json`, `bert_model.ckpt.{index,data-*}` (with a task model's heads,
    e.g. `cls/...` for pretraining or `output_weights` for a classifier) and, when
    `vocabulary` (a vocab.txt path) is given, a copy of it. `model` is a backbone or a
    task model; `heads` (`{tf1_prefix: layer}`) overrides the task's own.
    `lowercase`, when known, is stored as `do_lower_case` in the config so that the
    tokenizer setting travels with the vocabulary.
    """
    os.makedirs(directory, exist_ok=True)
    extra = {} if lowercase is None else {"do_lower_case": bool(lowercase)}
    backbone, heads = weight_map.model_parts(model, heads)
    config = bert_config(backbone, **extra)
    with open(os.path.join(directory, "bert_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    weights = weight_map.extract(backbone, heads)
    write_weights(os.path.join(directory, "bert_model.ckpt"), weights)
    if vocabulary is not None:
        target = os.path.join(directory, "vocab.txt")
        if os.path.abspath(vocabulary) != os.path.abspath(target):
            shutil.copyfile(vocabulary, target)
    return directory

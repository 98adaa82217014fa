"""Reading any supported checkpoint folder into (format, backbone config, TF1-named weights)."""

import os

from keras_bert.checkpoints import google_tf1, huggingface, weight_map
from keras_bert.checkpoints.bert_config import backbone_kwargs, find_config, read_json

FORMATS = ("google_tf1", "huggingface", "model_garden")


def read_config(directory):
    """BertBackbone arguments from a checkpoint folder's own config file."""
    path = find_config(directory)
    return backbone_kwargs(read_json(path), source=path)


def detect_format(directory):
    """Which of FORMATS a checkpoint folder is in; a clear error when it is none."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory}: not a directory (expected a checkpoint folder).")
    if huggingface.has_weights(directory):
        return "huggingface"
    prefix = google_tf1.find_prefix(directory)
    if prefix is not None:
        return "google_tf1" if google_tf1.is_tf1_checkpoint(prefix) else "model_garden"
    huggingface.check_loadable(directory)
    raise FileNotFoundError(
        f"{directory}: no checkpoint found (expected model.safetensors, or a TF checkpoint "
        "such as bert_model.ckpt.index + .data-*)."
    )


def read_weights(directory, config=None):
    """(format, {tf1_name: numpy array}) for a checkpoint folder."""
    fmt = detect_format(directory)
    if fmt == "huggingface":
        return fmt, huggingface.read_weights(directory)
    prefix = google_tf1.find_prefix(directory)
    if fmt == "google_tf1":
        return fmt, google_tf1.read_weights(prefix)
    from keras_bert.checkpoints import model_garden  # Needs the `tfm` extra.

    return fmt, model_garden.read_weights(prefix, config or read_config(directory))


def load_weights(model, directory, heads=None, heads_optional=False):
    """Loads a checkpoint folder into a backbone or a task model (its heads too).

    Fails loudly, naming the variables, on anything missing, unexpected or misshapen.
    With `heads_optional`, the task's heads are loaded only when the checkpoint has
    them (a pretrained encoder checkpoint leaves a new classifier as initialized; a
    fine-tuned one fills it). Returns the format.
    """
    fmt, weights = read_weights(directory)
    backbone, heads = weight_map.model_parts(model, heads)
    head_names = {
        name for prefix, layer in heads.items() for name in weight_map.head_variables(prefix, layer)
    }
    if heads_optional and not head_names & set(weights):
        heads = {}
    weight_map.assign(weights, backbone, heads, source=f"{directory} ({fmt})")
    return fmt

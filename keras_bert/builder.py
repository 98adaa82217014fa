"""`keras_bert.build`: an encoder from a preset name or a checkpoint folder in one line."""

import inspect
import os

from keras_bert.backbone import BertBackbone
from keras_bert.checkpoints import bert_config, loader
from keras_bert.presets import PRESETS, get_preset
from keras_bert.tasks.bert_pretrainer import build_pretrainer

# task name -> function(backbone, **task_options) returning a compiled task model.
TASKS = {"pretraining": build_pretrainer}
_BACKBONE_ARGS = set(inspect.signature(BertBackbone.__init__).parameters) - {"self", "kwargs"}

_FROM_SOURCE = object()


def _backbone_config(preset_or_dir):
    if preset_or_dir in PRESETS:
        return get_preset(preset_or_dir), None
    if os.path.isdir(preset_or_dir):
        return loader.read_config(preset_or_dir), preset_or_dir
    raise ValueError(
        f"{preset_or_dir!r} is neither a preset nor a checkpoint folder. "
        f"Valid presets: {', '.join(sorted(PRESETS))}."
    )


def build(preset_or_dir, task=None, weights=_FROM_SOURCE, **overrides):
    """Builds a BERT encoder (or, with `task=`, a compiled task model).

    Args:
        preset_or_dir: a preset name (`"base"`, `"L-4_H-256"`, ...) or a checkpoint
            folder (Google TF1, Hugging Face, Model Garden), whose own config is used.
        task: None for the bare `BertBackbone`; otherwise a key of `TASKS`.
        weights: a checkpoint folder to load. By default a folder given as
            `preset_or_dir` loads its own weights and a preset starts from random
            weights; pass `weights=None` for random weights with a folder's config.
        **overrides: backbone arguments to change (e.g. `dropout=0.0`, `dtype=...`)
            and, with a task, its recipe options (e.g. `optimizer="lamb"`,
            `learning_rate=1e-4`, `total_steps=...`, `jit_compile=True`). Changing a
            shape-deciding argument while loading weights is an error.

    Example:
    >>> model = build("tiny", dropout=0.0)
    >>> model.num_layers, model.hidden_dim
    (2, 128)
    """
    task_options = {k: v for k, v in overrides.items() if k not in _BACKBONE_ARGS}
    overrides = {k: v for k, v in overrides.items() if k in _BACKBONE_ARGS}
    if task is None and task_options:
        raise ValueError(f"Unknown BertBackbone argument(s): {', '.join(sorted(task_options))}.")
    config, source_dir = _backbone_config(preset_or_dir)
    if weights is _FROM_SOURCE:
        weights = source_dir
    if weights is not None and source_dir is None:
        # A preset with a checkpoint: the checkpoint's config must describe the preset.
        bert_config.check_agrees(config, loader.read_config(weights),
                                 f"preset {preset_or_dir!r}", f"checkpoint {weights}")
    if weights is not None:
        changed = [k for k in bert_config.STRUCTURAL if k in overrides
                   and overrides[k] != config.get(k)]
        if changed:
            raise ValueError(
                f"Cannot override {', '.join(changed)} while loading weights from {weights}."
            )
    config.update(overrides)
    if task is not None and task not in TASKS:
        known = ", ".join(sorted(TASKS)) or "none yet"
        raise ValueError(f"Unknown task {task!r}; known tasks: {known}.")
    backbone = BertBackbone(**config)
    if task is None:
        if weights is not None:
            loader.load_weights(backbone, weights)
        return backbone
    model = TASKS[task](backbone, **task_options)
    if weights is not None:
        loader.load_weights(model.backbone, weights, getattr(model, "mlm_head", None),
                            getattr(model, "nsp_head", None), heads_optional=True)
    return model


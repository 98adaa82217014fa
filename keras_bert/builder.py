"""`keras_bert.build`: an encoder from a preset name or a checkpoint folder in one line."""

import inspect
import os

from keras_bert.backbone import BertBackbone
from keras_bert.checkpoints import bert_config, loader
from keras_bert.presets import PRESETS, get_preset
from keras_bert.tasks.bert_task import RECIPE_ARGS
from keras_bert.tasks.registry import REGISTRY

# task name -> task model class (a BertTask: its constructor options and its recipe),
# read from the one registry (`keras_bert.tasks.registry`).
TASKS = {name: task.model for name, task in REGISTRY.items()}
BACKBONE_ARGS = tuple(
    n for n in inspect.signature(BertBackbone.__init__).parameters if n not in ("self", "kwargs")
)

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
        task: None for the bare `BertBackbone`; otherwise a key of `TASKS`
            ("pretraining", "classification", "embedding", "question_answering",
            "token_classification", "feature_tagging", "multiple_choice").
        weights: a checkpoint folder to load. By default a folder given as
            `preset_or_dir` loads its own weights and a preset starts from random
            weights; pass `weights=None` for random weights with a folder's config.
        **overrides: backbone arguments to change (e.g. `dropout=0.0`, `dtype=...`)
            and, with a task, the task's own options (e.g. `num_classes=3`,
            `head_dropout=0.1`; see `task_options(task)`) and its recipe options
            (e.g. `optimizer="lamb"`, `learning_rate=1e-4`, `total_steps=...`,
            `jit_compile=True`). No task or recipe option shares a name with a backbone
            argument. Changing a shape-deciding argument while loading weights is an
            error. With a task and a checkpoint, the task's heads are loaded when the
            checkpoint has them (e.g. a run_classifier.py checkpoint's classifier).

    Example:
    >>> model = build("tiny", dropout=0.0)
    >>> model.num_layers, model.hidden_dim
    (2, 128)
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; known tasks: {', '.join(sorted(TASKS))}.")
    task_options = {k: v for k, v in overrides.items() if k not in BACKBONE_ARGS}
    overrides = {k: v for k, v in overrides.items() if k in BACKBONE_ARGS}
    if task is None and task_options:
        raise ValueError(f"Unknown BertBackbone argument(s): {', '.join(sorted(task_options))}.")
    head_options, recipe = _split_task_options(task, task_options)
    config, source_dir = _backbone_config(preset_or_dir)
    if weights is _FROM_SOURCE:
        weights = source_dir
    if weights is not None and source_dir is None:
        # A preset with a checkpoint: the checkpoint's config must describe the preset.
        bert_config.check_agrees(
            config,
            loader.read_config(weights),
            f"preset {preset_or_dir!r}",
            f"checkpoint {weights}",
        )
    if weights is not None:
        changed = [
            k for k in bert_config.STRUCTURAL if k in overrides and overrides[k] != config.get(k)
        ]
        if changed:
            raise ValueError(
                f"Cannot override {', '.join(changed)} while loading weights from {weights}."
            )
    config.update(overrides)
    reads_cls_row = task is not None and TASKS[task].POOLED_OUTPUT_ONLY
    if reads_cls_row and not (config.get("causal") or head_options.get("bilstm")):
        config.setdefault("cls_row_alone", True)  # Its heads read only the [CLS] row.
    backbone = BertBackbone(**config)
    if task is None:
        if weights is not None:
            loader.load_weights(backbone, weights)
        return backbone
    model = TASKS[task](backbone, **head_options)
    if weights is not None:
        loader.load_weights(model, weights, heads_optional=True)
    return model.compile_recipe(**recipe)


def task_options(task):
    """The options `build(..., task=task)` accepts besides backbone arguments:
    (the task's own, the recipe's)."""
    return TASKS[task].task_options(), RECIPE_ARGS


def _split_task_options(task, options):
    if task is None:
        return {}, {}
    own, recipe = task_options(task)
    unknown = set(options) - set(own) - set(recipe)
    if unknown:
        raise ValueError(
            f"Unknown option(s) for task {task!r}: {', '.join(sorted(unknown))}. It takes "
            f"BertBackbone arguments, its own options ({', '.join(own) or 'none'}) and "
            f"recipe options ({', '.join(recipe)})."
        )
    return (
        {k: v for k, v in options.items() if k in own},
        {k: v for k, v in options.items() if k in recipe},
    )

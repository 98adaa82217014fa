"""Task kinds for `finetune`, `evaluate`, `predict` and `export`: what differs between
task families (how data is read and batched, the model built, validation scored,
predictions written and raw text answered), behind one interface, so the commands share
one training loop, run folder, resume logic and best-checkpoint rule.

The families are the registry's (`keras_bert.tasks.registry`): family `F` is the
`TaskKind` subclass in `keras_bert.cli.kinds.F` whose `family` is `F`.

Every kind has `task` (the `keras_bert.build` task), `metrics` (the first one picks the
best checkpoint) and, for a training run, `prepare()`, `epoch_data(epoch)`,
`steps_per_epoch`, `build_options()`, `describe()`, `run_info()`, `validate(model)` and
`results()`; loaded from a run folder (`from_run`), `evaluate(...)`, `predict_file(...)`,
`predict_rows(...)`, `format_row(row)`, `segments` and `export_options(...)`.
"""

import importlib

from keras_bert.cli.kinds.base import TaskKind
from keras_bert.tasks.registry import REGISTRY, families

DEFAULT_FAMILY = "classification"  # finetune's sources other than a family's own name


def kind_class(family):
    """The `TaskKind` subclass of a registry family."""
    module = importlib.import_module(f"keras_bert.cli.kinds.{family}")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, TaskKind) and value.family == family
    ]
    if len(found) != 1:
        raise LookupError(f"keras_bert.cli.kinds.{family} defines {len(found)} kinds of {family}")
    return found[0]


def for_args(args):
    """The kind of a `finetune` command line (`args.source`: a family's name, or a
    classification source such as glue/..., csv, folders)."""
    family = args.source if args.source in families() else DEFAULT_FAMILY
    return kind_class(family)(args)


def family_of_run(run):
    """The registry family of a run folder's run.json (by its task)."""
    task = REGISTRY.get(run.get("task", "classification"))
    return task.family if task is not None and task.family else DEFAULT_FAMILY


def for_run(run, run_dir, preprocessor=None, args=None):
    """The kind of a run folder (its run.json's task), for evaluate, predict and export;
    `preprocessor` is the run's `BertPreprocessor` (`run_model.load_run`); `args` the
    command's flags that change how it reads texts (`--long-documents`, ...)."""
    kind = kind_class(family_of_run(run)).from_run(run, run_dir, preprocessor)
    kind.run_dir = run_dir
    kind.use_windows(args)
    return kind

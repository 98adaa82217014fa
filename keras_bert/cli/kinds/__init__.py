"""Task kinds for `finetune`, `evaluate` and `predict`: what differs between task
families (how data is read and batched, the model built, validation scored, predictions
written and raw text answered), behind one interface, so the commands share one
training loop, run folder, resume logic and best-checkpoint rule.

Every kind has `task` (the `keras_bert.build` task), `metrics` (the first one picks the
best checkpoint) and, for a training run, `prepare()`, `epoch_data(epoch)`,
`steps_per_epoch`, `build_options()`, `describe()`, `run_info()`, `validate(model)` and
`results()`; loaded from a run folder (`from_run`), `evaluate(...)` and `predict(...)`.
"""

FAMILIES = ("squad", "conll", "swag")


def for_args(args):
    """The kind of a `finetune` command line (`args.source`)."""
    if args.source == "squad":
        from keras_bert.cli.kinds.squad import SquadKind

        return SquadKind(args)
    if args.source == "conll":
        from keras_bert.cli.kinds.conll import ConllKind

        return ConllKind(args)
    if args.source == "swag":
        from keras_bert.cli.kinds.swag import SwagKind

        return SwagKind(args)
    from keras_bert.cli.kinds.classification import ClassificationKind

    return ClassificationKind(args)


def for_run(run, run_dir):
    """The kind of a finished run folder (its run.json), for evaluate and predict; None
    for classification runs (evaluate.py and predict.py handle those)."""
    family = run.get("family")
    if family == "squad":
        from keras_bert.cli.kinds.squad import SquadKind

        return SquadKind.from_run(run, run_dir)
    if family == "conll":
        from keras_bert.cli.kinds.conll import ConllKind

        return ConllKind.from_run(run, run_dir)
    if family == "swag":
        from keras_bert.cli.kinds.swag import SwagKind

        return SwagKind.from_run(run, run_dir)
    return None

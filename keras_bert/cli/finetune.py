"""`keras-bert finetune`: fine-tune a pretrained checkpoint on sentence (pair)
classification or regression (GLUE `glue/<task>`, your own TSV/CSV/JSONL files, class
folders), SQuAD v1.1/v2.0 question answering (`squad`), CoNLL-2003 named entities
(`conll`, fine-tuned or feature-based) or SWAG multiple choice (`swag`).

Every epoch ends with validation by the task's official metrics (SQuAD's EM/F1,
conlleval's entity F1, accuracy, GLUE's); the best epoch's model
is kept as `best.keras`. Checkpoints are atomic and the data position is part of the
state, so a run killed at any moment and re-run with the same `--out` continues at the
same step with the same batches. See `run_model` for the run folder's layout.
"""

import argparse
import math
import time

import keras

from keras_bert.cli.common import (
    HelpFormatter,
    add_recipe_flags,
    log,
    non_negative_int,
    positive_int,
    probability,
    reading_inputs,
    save_model,
)
from keras_bert.cli.distributed import add_strategy_flags
from keras_bert.cli.kinds.long_documents import add_window_flags

# Flags a resumed run must keep (each named when it differs), besides the kind's own and
# its data (every field of the data's description, and a digest of the examples read).
_SETTINGS = (
    "source",
    "weights",
    "seq_len",
    "batch_size",
    "epochs",
    "learning_rate",
    "warmup_ratio",
    "weight_decay",
    "optimizer",
    "seed",
    "dtype",
    "grad_accum",
    "bilstm",
)
_NAMES = {
    "text_columns": "--text-column/--text-pair-column",
    "data": "--train",
    "label_names": "the labels (from --train)",
    "data_digest": "the data's contents",
    "total_steps": "the steps of the run",
}


def _settings(args, kind, total_steps):
    import os

    settings = {k: getattr(args, k) for k in _SETTINGS + tuple(kind.settings)}
    settings["weights"] = os.path.abspath(args.weights)
    settings.update({k: v for k, v in kind.spec.items() if k != "source"})
    settings.update(
        label_names=list(kind.run_info().get("label_names") or []) or None,
        data_digest=kind.data_digest(),
        total_steps=total_steps,
    )
    return settings


def _new_model(args, kind, total_steps):
    import keras_bert

    options = dict(
        task=kind.task,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        total_steps=total_steps,
        warmup_steps=round(args.warmup_ratio * total_steps),
        weight_decay=args.weight_decay,
        jit_compile=args.xla,
        gradient_accumulation_steps=args.grad_accum,
        **kind.build_options(),
    )
    if args.bilstm:
        options["bilstm"] = True
    if args.dtype:
        options["dtype"] = args.dtype
    return keras_bert.build(args.weights, **options)


def _validator(folder, model, kind, history):
    main = kind.metrics[0]

    def validate(epoch, step):
        values = kind.validate(model)
        log(f"epoch {epoch} validation: " + ", ".join(f"{k} {v:.4f}" for k, v in values.items()))
        best = history.get("best")
        if not math.isfinite(values[main]):
            log(f"{main} is {values[main]}: not a candidate for best.keras")
        elif best is None or values[main] > best["metrics"][main]:
            save_model(model, folder.file("best.keras"))
            history["best"] = {"epoch": epoch, "step": step, "metrics": values}
            kind.best_scored = kind.scored
            log(f"best so far ({main} {values[main]:.4f}): {folder.file('best.keras')}")
        history["epochs"].append({"epoch": epoch, "step": step, **values})

    return validate


def run(args):
    from keras_bert.cli.distributed import run_under_strategy

    return run_under_strategy(args, _run)


def _run(args, setup):
    from keras_bert.cli import kinds
    from keras_bert.cli.run_folder import RunFolder

    started = time.time()
    keras.utils.set_random_seed(args.seed)  # The new head's init and the data order.
    if setup.tpu and args.buckets:
        log("TPU: static shapes, so every batch is padded to --seq-len (no length buckets)")
        args.buckets = False
    kind = kinds.for_args(args)
    log("checking inputs")
    with reading_inputs():
        kind.prepare()
        folder = RunFolder(args.out, chief=setup.chief)
    try:
        history = _train(args, setup, kind, folder)
        _write_results(folder, kind, history, started)
    finally:
        folder.close()
    return 0


def _train(args, setup, kind, folder):
    from keras_bert.cli import run_model
    from keras_bert.cli.training_loop import train_in_segments

    steps_per_epoch = _tpu_steps(kind, args) if setup.tpu else kind.steps_per_epoch
    total = args.epochs * steps_per_epoch
    settings = _settings(args, kind, total)
    with reading_inputs():
        state = folder.state()
        if state is not None:
            folder.check_settings(state, settings, _NAMES)
    if state is not None:
        with setup.strategy.scope():
            model, step, history = folder.load_model(), state["step"], state["history"]
        log(f"resuming from step {step} of {total} ({folder.model_path})")
    else:
        log(kind.describe())
        with setup.strategy.scope():
            model, step, history = _new_model(args, kind, total), 0, {"epochs": []}
        run_model.write_run_files(
            folder.path,
            {
                "task": kind.task,
                "family": kind.family,
                "data": kind.spec,
                "metrics": kind.metrics,
                "sequence_length": args.seq_len,
                "weights": args.weights,
                **kind.run_info(),
            },
            kind.tokenizer,
        )
    log(kind.summary())
    every = args.checkpoint_every or steps_per_epoch
    validate = _validator(folder, model, kind, history) if kind.has_validation else None
    if validate is None:
        log("no validation data: the last epoch's model is the run's model (model.keras)")

    def next_stop(at):
        epoch_end = (at // steps_per_epoch + 1) * steps_per_epoch
        return min(at + every, epoch_end)

    def segment_data(at, count, input_context=None):
        from pipelines.replica_batches import replica_batches, static_batches

        epoch, offset = divmod(at, steps_per_epoch)
        data = kind.epoch_data(epoch)
        if setup.tpu:
            data = static_batches(data, args.batch_size)
        return replica_batches(data.skip(offset).take(count), input_context)

    def after_segment(at):
        if validate is not None and at % steps_per_epoch == 0:
            validate(at // steps_per_epoch, at)
        return {"history": history}

    train_in_segments(
        model,
        folder,
        step,
        total,
        next_stop,
        segment_data,
        verbose=args.verbose if setup.chief else 0,
        after_segment=after_segment,
        trainer=setup.trainer(model),
        state={
            "settings": settings,
            "history": history,
            "segments": (state or {}).get("segments", 0),
        },
    )
    save_model(model, folder.file("model.keras"))
    return history


def _tpu_steps(kind, args):
    """Full batches per epoch: a TPU takes no last partial batch (its shape would differ)."""
    rows = sum(
        int(keras.ops.shape(keras.tree.flatten(batch)[0])[0]) for batch in kind.epoch_data(0)
    )
    left = rows % args.batch_size
    if left:
        log(
            f"TPU: full batches only, so {left} of the {rows} examples are left out of each "
            "epoch (the last partial batch; shuffled, so not the same ones every epoch)"
        )
    return rows // args.batch_size


def _write_results(folder, kind, history, started):
    from keras_bert.cli import run_model

    best = history.get("best") or {}
    results = {
        "data": kind.spec,
        "metrics": kind.metrics,
        "validation": best.get("metrics"),
        "best_epoch": best.get("epoch"),
        "epochs": history["epochs"],
        **kind.results(),
        "calibration": _calibration(folder, kind),
        "seconds": round(time.time() - started, 1),
    }
    run_model.write_json(folder.file("results.json"), results)
    if results["validation"]:
        print(
            " ".join(f"{k}={v:.4f}" for k, v in results["validation"].items())
            + f" best_epoch={results['best_epoch']}"
        )


def _calibration(folder, kind):
    """The temperature fitted on the validation outputs of the model that evaluate,
    predict and export use (best.keras, else model.keras), with the expected calibration
    error and likelihood before and after; None for a family without one or no
    validation data."""
    import os

    from keras_bert.cli import run_model
    from keras_bert.metrics.calibration import calibration_report

    if not (kind.calibrated and kind.has_validation):
        return None
    scored = kind.best_scored if os.path.isfile(folder.file("best.keras")) else None
    if scored is None:  # resumed after its best epoch, or no best: that model's outputs
        best = folder.file("best.keras")
        path = best if os.path.isfile(best) else folder.file("model.keras")
        model = keras.saving.load_model(path)
        scored = kind.calibration_data(run_model.frozen_inference(model))
    report = calibration_report(*scored)
    log(
        f"calibration on {report['examples']} validation predictions: temperature "
        f"{report['temperature']:.3f}, ECE {report['ece_before']:.4f} -> "
        f"{report['ece_after']:.4f}, NLL {report['nll_before']:.4f} -> {report['nll_after']:.4f}"
    )
    return report


def add_parser(commands):
    from keras_bert.tasks.bert_feature_tagger import FEATURES
    from pipelines.text_table import ON_ERROR

    parser = commands.add_parser(
        "finetune",
        help="fine-tune a classifier or regressor (GLUE, your files, folders)",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    add = parser.add_argument
    add(
        "source",
        help="glue/<task> (cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli), "
        "tsv, csv, jsonl or folders (classification); squad (SQuAD v1.1/v2.0 "
        "JSON), conll (CoNLL-2003 column files) or swag (SWAG CSV/JSONL)",
    )
    add("--data-dir", help="GLUE's data folder (glue/<task>)")
    add("--train", help="training file (tsv/csv/jsonl), or the class folders' parent")
    add("--validation", help="validation file (tsv/csv/jsonl)")
    add(
        "--validation-split",
        type=probability,
        default=0.2,
        help="folders: share of each class held out for validation (seeded by --seed)",
    )
    add("--text-column", help="the text column (tsv/csv/jsonl)")
    add("--text-pair-column", help="the second text column, for sentence pairs")
    add("--label-column", help="the label column: class names or numbers, or scores")
    add("--regression", action="store_true", help="labels are scores (one output)")
    add(
        "--on-error",
        default="raise",
        choices=ON_ERROR,
        help="bad rows: an error naming file and line, or skipped and counted",
    )
    add(
        "--encoding-errors",
        default="strict",
        choices=("strict", "replace"),
        help="tsv/csv/jsonl/folders: invalid UTF-8 is an error naming the file and line, "
        "or replaced by U+FFFD (and listed)",
    )
    add(
        "--weights",
        required=True,
        help="pretrained checkpoint folder with vocab.txt (Google TF1, Hugging Face, Model Garden)",
    )
    add(
        "--lowercase",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="uncased/cased; default: do_lower_case from the checkpoint folder",
    )
    add("--out", required=True, help="run folder (re-run with the same --out to resume)")
    add("--epochs", type=positive_int, default=3, help="passes over the training data")
    add("--batch-size", type=positive_int, default=32, help="examples per step")
    add_recipe_flags(add, learning_rate=5e-5)
    add(
        "--warmup-ratio",
        type=probability,
        default=0.1,
        help="share of the steps with linear warmup (then linear decay to 0)",
    )
    add("--weight-decay", type=float, default=0.01, help="AdamW decay (not LayerNorm/bias)")
    add(
        "--seq-len",
        type=positive_int,
        default=None,
        help="tokens per example, [CLS] and [SEP] included (longer texts are truncated; "
        "SQuAD contexts and long CoNLL sentences are split into windows); default: "
        "384 for squad, else 128",
    )
    add(
        "--buckets",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="batch by length, padded to 32/48/64/96/128/... instead of always --seq-len",
    )
    add("--head-dropout", type=probability, default=0.1, help="dropout before the classifier")
    add(
        "--bilstm",
        action="store_true",
        help="a randomly initialised BiLSTM between the encoder and the head (the paper's "
        "LTR + BiLSTM row)",
    )
    add(
        "--checkpoint-every",
        type=non_negative_int,
        default=0,
        help="steps between checkpoints; 0: at each epoch's end",
    )
    long_documents = parser.add_argument_group("long documents (classification, regression)")
    add_window_flags(long_documents.add_argument)
    long_documents.add_argument(
        "--train-windows",
        default="all",
        choices=("all", "first"),
        help="with --long-documents windows: train on every window with its text's label, "
        "or on the first window only (the truncated text)",
    )
    squad = parser.add_argument_group("squad")
    squad.add_argument(
        "--doc-stride",
        type=positive_int,
        default=None,
        help="word pieces between the starts of a text's windows; default: 128 for "
        "squad contexts, half a window for --long-documents windows",
    )
    squad.add_argument(
        "--max-query-length", type=positive_int, default=64, help="question pieces kept"
    )
    squad.add_argument(
        "--n-best-size", type=positive_int, default=20, help="start and end candidates per window"
    )
    squad.add_argument(
        "--max-answer-length", type=positive_int, default=30, help="longest answer, in word pieces"
    )
    squad.add_argument(
        "--null-score-diff-threshold",
        type=float,
        default=0.0,
        help="SQuAD v2.0: no answer when the null score beats the best span's by more than this",
    )
    conll = parser.add_argument_group("conll")
    conll.add_argument(
        "--tag-scheme",
        default="iob2",
        choices=("iob2", "iobes"),
        help="the tags the model learns (files in IOB1/IOB2/IOBES are "
        "converted; scores are entity-level either way)",
    )
    conll.add_argument(
        "--features",
        default=None,
        choices=FEATURES,
        help="feature-based: freeze the encoder and train a BiLSTM tagger on these layers "
        "(the paper's rows: the embeddings, the second-to-last or last layer, a weighted sum "
        "or the concatenation of the last four, a weighted sum of all; default: fine-tune "
        "the encoder)",
    )
    conll.add_argument(
        "--lstm-units",
        type=positive_int,
        default=256,
        help="feature-based: units per direction of each BiLSTM layer",
    )
    conll.add_argument(
        "--lstm-layers", type=positive_int, default=2, help="feature-based: stacked BiLSTM layers"
    )
    swag = parser.add_argument_group("swag")
    swag.add_argument(
        "--num-choices",
        type=positive_int,
        default=4,
        help="endings per example (ending0, ending1, ...)",
    )
    add("--seed", type=int, default=0, help="seeds the shuffling (and the folders split)")
    add_strategy_flags(add)
    add(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="Keras progress: 1 a bar, 2 a line per segment",
    )
    parser.set_defaults(run=run)

"""`keras-bert finetune`: sentence (pair) classification or regression from a pretrained
checkpoint: GLUE (`glue/<task>`), your own TSV/CSV/JSONL files, or class folders.

Every epoch ends with validation by the task's official metrics; the best epoch's model
is kept as `best.keras`. Checkpoints are atomic and the data position is part of the
state, so a run killed at any moment and re-run with the same `--out` continues at the
same step with the same batches. See `run_model` for the run folder's layout.
"""

import argparse
import time

from keras_bert.cli import task_data
from keras_bert.cli.common import (
    HelpFormatter,
    UsageError,
    add_recipe_flags,
    log,
    non_negative_int,
    positive_int,
    probability,
    reading_inputs,
    save_atomically,
)

# Flags a resumed run must keep (each named when it differs).
_SETTINGS = ("source", "weights", "seq_len", "batch_size", "epochs", "learning_rate",
             "optimizer", "seed", "buckets", "dtype", "grad_accum", "head_dropout")


def _settings(args):
    return {k: getattr(args, k) for k in _SETTINGS}


def _prepare(args):
    """Reads and checks everything before any training: data, vocabulary, model size."""
    from keras_bert.checkpoints import read_config
    from pipelines import BertPreprocessor, BertTokenizer

    spec = task_data.source_spec(args)
    config = read_config(args.weights)
    if not 8 <= args.seq_len <= config.get("max_sequence_length", 512):
        raise UsageError(f"--seq-len {args.seq_len} must be in [8, "
                         f"{config.get('max_sequence_length', 512)}] (the model's maximum)")
    train = task_data.read(spec, "train")
    validation = task_data.read(spec, "validation", train.label_names)
    for name, examples in (("training", train), ("validation", validation)):
        if examples is not None:
            log(f"{name} data: {len(examples)} examples from {examples.source}"
                + (f"; {examples.skipped} bad rows skipped" if examples.skipped else ""))
            for problem in examples.problems:
                log(f"  {problem}")
    tokenizer = BertTokenizer.from_dir(args.weights, lowercase=args.lowercase)
    if tokenizer.vocabulary_size != config["vocabulary_size"]:
        raise UsageError(f"{args.weights}: vocab.txt has {tokenizer.vocabulary_size} tokens "
                         f"but the model has {config['vocabulary_size']}")
    preprocessor = BertPreprocessor(tokenizer, args.seq_len, config.get("num_segments", 2))
    return spec, train, validation, preprocessor


def _epoch_data(args, train, preprocessor):
    from pipelines.classification import classification_dataset

    def data(epoch):
        return classification_dataset(train, preprocessor, args.batch_size, shuffle=True,
                                      seed=args.seed * 1000 + epoch, bucket_lengths=args.buckets)

    steps = sum(1 for _ in data(0))  # Bucketed batches per epoch (the same every epoch).
    return data, steps


def _new_model(args, labels, total_steps):
    import keras_bert

    options = dict(task="classification", num_classes=len(labels) if labels else 1,
                   label_names=labels,
                   head_dropout=args.head_dropout, optimizer=args.optimizer,
                   learning_rate=args.learning_rate, total_steps=total_steps,
                   warmup_steps=round(args.warmup_ratio * total_steps),
                   weight_decay=args.weight_decay, jit_compile=args.xla,
                   gradient_accumulation_steps=args.grad_accum)
    if args.dtype:
        options["dtype"] = args.dtype
    return keras_bert.build(args.weights, **options)


def _validator(args, folder, model, preprocessor, validation, metrics, history):
    from keras_bert.cli import run_model

    def validate(epoch, step):
        outputs = run_model.predict(model, preprocessor, validation, args.batch_size)
        values = task_data.score(metrics, validation.labels,
                                 run_model.decide(outputs, validation.label_names))
        log(f"epoch {epoch} validation: " + ", ".join(f"{k} {v:.4f}" for k, v in
                                                         values.items()))
        best = history.get("best")
        if best is None or values[metrics[0]] > best["metrics"][metrics[0]]:
            save_atomically(model.save, folder.file("best.keras"))
            history["best"] = {"epoch": epoch, "step": step, "metrics": values}
            log(f"best so far ({metrics[0]} {values[metrics[0]]:.4f}): "
                f"{folder.file('best.keras')}")
        history["epochs"].append({"epoch": epoch, "step": step, **values})

    return validate


def run(args):
    import keras

    from keras_bert.cli import run_model
    from keras_bert.cli.run_folder import RunFolder
    from keras_bert.cli.training_loop import train_in_segments

    started = time.time()
    keras.utils.set_random_seed(args.seed)  # The new head's init and the data order.
    log("checking inputs")
    with reading_inputs():
        spec, train, validation, preprocessor = _prepare(args)
        folder = RunFolder(args.out)
        state = folder.state()
        if state is not None:
            folder.check_settings(state, _settings(args))
    labels = train.label_names
    metrics = task_data.metric_names(spec, labels)
    epoch_data, steps_per_epoch = _epoch_data(args, train, preprocessor)
    total = args.epochs * steps_per_epoch
    if state is not None:
        model, step, history = folder.load_model(), state["step"], state["history"]
        log(f"resuming from step {step} of {total} ({folder.model_path})")
    else:
        log(f"building the classifier on {args.weights} ({len(labels or [])} classes)"
            if labels else f"building a regressor on {args.weights}")
        model, step, history = _new_model(args, labels, total), 0, {"epochs": []}
        run_model.write_run_files(args.out, {
            "task": "classification", "data": spec, "label_names": labels,
            "metrics": metrics, "sequence_length": args.seq_len,
            "weights": args.weights}, preprocessor.tokenizer)
    log(f"{len(train)} training examples, {steps_per_epoch} steps per epoch "
        f"({'length buckets' if args.buckets else 'padded to ' + str(args.seq_len)}), "
        f"{args.epochs} epoch(s)")
    every = args.checkpoint_every or steps_per_epoch
    validate = (_validator(args, folder, model, preprocessor, validation, metrics, history)
                if validation is not None else None)

    def next_stop(at):
        epoch_end = (at // steps_per_epoch + 1) * steps_per_epoch
        return min(at + every, epoch_end)

    def segment_data(at, count):
        epoch, offset = divmod(at, steps_per_epoch)
        return epoch_data(epoch).skip(offset).take(count)

    def after_segment(at):
        if validate is not None and at % steps_per_epoch == 0:
            validate(at // steps_per_epoch, at)
        return {"history": history}

    train_in_segments(model, folder, step, total, next_stop, segment_data,
                      verbose=args.verbose, after_segment=after_segment,
                      state={"settings": _settings(args), "history": history,
                             "segments": (state or {}).get("segments", 0)})
    model.save(folder.file("model.keras"))
    results = {"data": spec, "label_names": labels, "metrics": metrics,
               "validation": (history.get("best") or {}).get("metrics"),
               "best_epoch": (history.get("best") or {}).get("epoch"),
               "epochs": history["epochs"], "train_examples": len(train),
               "validation_examples": len(validation) if validation else 0,
               "skipped_rows": train.skipped + (validation.skipped if validation else 0),
               "seconds": round(time.time() - started, 1)}
    run_model.write_json(folder.file("results.json"), results)
    if results["validation"]:
        print(" ".join(f"{k}={v:.4f}" for k, v in results["validation"].items())
              + f" best_epoch={results['best_epoch']}")
    return 0


def add_parser(commands):
    from pipelines.text_table import ON_ERROR

    parser = commands.add_parser(
        "finetune", help="fine-tune a classifier or regressor (GLUE, your files, folders)",
        description=__doc__, formatter_class=HelpFormatter)
    add = parser.add_argument
    add("source", help="glue/<task> (cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli), "
                       "tsv, csv, jsonl or folders")
    add("--data-dir", help="GLUE's data folder (glue/<task>)")
    add("--train", help="training file (tsv/csv/jsonl), or the class folders' parent")
    add("--validation", help="validation file (tsv/csv/jsonl)")
    add("--validation-split", type=probability, default=0.2,
        help="folders: share of each class held out for validation (seeded by --seed)")
    add("--text-column", help="the text column (tsv/csv/jsonl)")
    add("--text-pair-column", help="the second text column, for sentence pairs")
    add("--label-column", help="the label column: class names or numbers, or scores")
    add("--regression", action="store_true", help="labels are scores (one output)")
    add("--on-error", default="raise", choices=ON_ERROR,
        help="bad rows: an error naming file and line, or skipped and counted")
    add("--encoding-errors", default="strict", choices=("strict", "replace"),
        help="folders: invalid UTF-8 is an error naming the file, or replaced (and listed)")
    add("--weights", required=True,
        help="pretrained checkpoint folder with vocab.txt (Google TF1, Hugging Face, "
             "Model Garden)")
    add("--lowercase", action=argparse.BooleanOptionalAction, default=None,
        help="uncased/cased; default: do_lower_case from the checkpoint folder")
    add("--out", required=True, help="run folder (re-run with the same --out to resume)")
    add("--epochs", type=positive_int, default=3, help="passes over the training data")
    add("--batch-size", type=positive_int, default=32, help="examples per step")
    add_recipe_flags(add, learning_rate=5e-5)
    add("--warmup-ratio", type=probability, default=0.1,
        help="share of the steps with linear warmup (then linear decay to 0)")
    add("--weight-decay", type=float, default=0.01, help="AdamW decay (not LayerNorm/bias)")
    add("--seq-len", type=positive_int, default=128,
        help="tokens per example, [CLS] and [SEP] included (longer texts are truncated)")
    add("--buckets", action=argparse.BooleanOptionalAction, default=True,
        help="batch by length, padded to 32/48/64/96/128/... instead of always --seq-len")
    add("--head-dropout", type=probability, default=0.1, help="dropout before the classifier")
    add("--checkpoint-every", type=non_negative_int, default=0,
        help="steps between checkpoints; 0: at each epoch's end")
    add("--seed", type=int, default=0, help="seeds the shuffling (and the folders split)")
    add("--verbose", type=int, default=1, choices=(0, 1, 2),
        help="Keras progress: 1 a bar, 2 a line per segment")
    parser.set_defaults(run=run)

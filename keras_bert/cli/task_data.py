"""Where a fine-tuning run's examples come from, saved in its run folder (`run.json`), so
that `evaluate` and `predict` read new data exactly as training read its own.

Sources: `glue/<task>` (GLUE's data folder), `table` (your TSV/CSV/JSONL files with
named columns) and `folders` (one sub-folder of text files per class, split by seed).
"""

import os

from keras_bert.cli.common import UsageError

TABLE_FORMATS = ("tsv", "csv", "jsonl")


def source_spec(args):
    """The JSON-able description of the training data given on the command line."""
    source = args.source
    if source.startswith("glue/"):
        from pipelines import glue

        task = source.split("/", 1)[1]
        glue.get_task(task)
        if not args.data_dir:
            raise UsageError(f"finetune {source} needs --data-dir (GLUE's data folder)")
        return {
            "source": "glue",
            "task": task,
            "data_dir": os.path.abspath(args.data_dir),
            "on_error": args.on_error,
        }
    if source in TABLE_FORMATS + ("table",):
        missing = [f for f in ("train", "text_column", "label_column") if not getattr(args, f)]
        if missing:
            raise UsageError(
                f"finetune {source} needs " + ", ".join("--" + m.replace("_", "-") for m in missing)
            )
        columns = [args.text_column] + ([args.text_pair_column] if args.text_pair_column else [])
        if args.label_column in columns:
            raise UsageError(
                f"--label-column {args.label_column!r} is also a text column: "
                "the label must be a column of its own"
            )
        format = None if source == "table" else source
        for flag in ("train", "validation"):
            _check_format(f"--{flag}", getattr(args, flag), format)
        return {
            "source": "table",
            "format": format,
            "train": os.path.abspath(args.train),
            "validation": args.validation and os.path.abspath(args.validation),
            "text_columns": columns,
            "label_column": args.label_column,
            "regression": args.regression,
            "on_error": args.on_error,
            "encoding_errors": args.encoding_errors,
        }
    if source == "folders":
        if not args.train:
            raise UsageError("finetune folders needs --train DIR (one sub-folder per class)")
        return {
            "source": "folders",
            "data": os.path.abspath(args.train),
            "validation_split": args.validation_split,
            "seed": args.seed,
            "encoding_errors": args.encoding_errors,
        }
    raise UsageError(f"unknown data source {source!r}: use glue/<task>, tsv, csv, jsonl or folders")


def _check_format(flag, path, format):
    """A file whose name says another table format than the source word is refused: a
    .tsv read as CSV would fail with a confusing "no column" error."""
    from pipelines.text_table import FORMATS

    named = os.path.splitext(path or "")[1].lstrip(".").lower()
    if format and named in FORMATS and named != format:
        raise UsageError(
            f"{flag} {path} is named as {named.upper()} but `finetune {format}` "
            f"reads {format.upper()}: use `finetune {named}` (or `finetune "
            "table`, which takes each file's format from its name)"
        )


def read(spec, which, label_names=None):
    """`TextExamples` of a run's "train" or "validation" data, or of `which` given as a
    file (table sources) or a split name (GLUE; "dev", "test_matched", ...)."""
    from pipelines import glue
    from pipelines.text_folders import folder_examples
    from pipelines.text_table import read_examples

    if spec["source"] == "glue":
        split = {"validation": _glue_dev(spec["task"])}.get(which, which)
        return glue.glue_examples(spec["task"], split, spec["data_dir"], spec["on_error"])
    if spec["source"] == "folders":
        errors = spec.get("encoding_errors", "strict")
        if which not in ("train", "validation"):
            return folder_examples(which, "all", encoding_errors=errors)
        if which == "validation" and spec["validation_split"] == 0:
            return None  # --validation-split 0: the run trains without validation.
        return folder_examples(
            spec["data"], which, spec["validation_split"], spec["seed"], encoding_errors=errors
        )
    path = {"train": spec["train"], "validation": spec["validation"]}.get(which, which)
    if path is None:
        return None
    return read_examples(
        path,
        spec["text_columns"],
        spec["label_column"],
        label_names=label_names,
        regression=spec["regression"],
        format=spec["format"],
        on_error=spec["on_error"],
        encoding_errors=spec.get("encoding_errors", "strict"),
    )


def read_unlabelled(spec, path):
    """A table file's texts only (no label column needed), for predictions."""
    from pipelines.text_table import read_examples

    return read_examples(
        path,
        spec["text_columns"],
        format=spec.get("format"),
        on_error=spec.get("on_error", "raise"),
        encoding_errors=spec.get("encoding_errors", "strict"),
    )


def segment_count(spec):
    """How many texts an example has (1, or 2 for pairs)."""
    if spec["source"] == "glue":
        from pipelines import glue

        return len(glue.get_task(spec["task"]).text_columns)
    return len(spec.get("text_columns", [None]))


def _glue_dev(task):
    return "dev_matched" if task == "mnli" else "dev"


def metric_names(spec, label_names):
    """The metrics a run reports; the first one picks the best checkpoint."""
    if spec["source"] == "glue":
        from pipelines import glue

        return glue.get_task(spec["task"]).metrics
    if label_names is None:
        return ("spearman", "pearson")
    return ("accuracy", "f1") if len(label_names) == 2 else ("accuracy",)


def score(metrics, labels, predictions):
    """{metric: value} from labels and predictions (class ids or scores)."""
    from keras_bert.metrics import scores

    functions = {
        "accuracy": scores.accuracy,
        "f1": scores.f1,
        "mcc": scores.matthews_corrcoef,
        "pearson": scores.pearson,
        "spearman": scores.spearman,
    }
    return {name: functions[name](labels, predictions) for name in metrics}

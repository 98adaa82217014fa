"""`--long-documents windows`: a classifier (or regressor) reads every token of a long
text as overlapping windows and answers with the mean (or max) of their logits.

The setting lives in run.json (`long_documents`: null, or its `stride`, `aggregate`
and `train` windows); `evaluate`, `predict` and `export` use the run's unless their
own flags say otherwise (so a run trained on truncated texts can be evaluated on whole
ones).
"""

import numpy as np

from keras_bert.cli.common import UsageError, positive_int

MODES = ("truncate", "windows")


def add_window_flags(add, stride=False):
    """The flags every command shares (and `--doc-stride` where the command has none)."""
    add(
        "--long-documents",
        default=None,
        choices=MODES,
        help="texts longer than --seq-len: truncated (the default) or read as overlapping "
        "windows whose logits are combined (classification and regression, one text "
        "segment); evaluate, predict, export: default the run's",
    )
    add(
        "--window-aggregate",
        default=None,
        choices=("mean", "max"),
        help="with windows: a text's logits are the mean (default) or the max of its windows'",
    )
    if stride:
        add(
            "--doc-stride",
            type=positive_int,
            default=None,
            help="with windows: word pieces between window starts (default: the run's, "
            "else half a window)",
        )


def settings(args, sequence_length, segments, base=None):
    """run.json's `long_documents` for these flags over `base` (a run's own setting):
    None (truncation) or {"stride", "aggregate", "train"}; bad combinations are a
    UsageError naming the flag."""
    mode = getattr(args, "long_documents", None)
    if mode is None:
        mode = "windows" if base else "truncate"
    if mode == "truncate":
        return None
    base = base or {}
    if segments != 1:
        raise UsageError("--long-documents windows needs one text segment (not text pairs)")
    content = sequence_length - 2
    stride = getattr(args, "doc_stride", None) or base.get("stride") or content // 2
    if stride > content:
        raise UsageError(
            f"--doc-stride {stride} is more than a window holds ({content} word pieces "
            f"at --seq-len {sequence_length})"
        )
    return {
        "stride": int(stride),
        "aggregate": getattr(args, "window_aggregate", None) or base.get("aggregate", "mean"),
        "train": getattr(args, "train_windows", None) or base.get("train", "all"),
    }


def describe(windows):
    if not windows:
        return "texts truncated to the sequence length"
    return (
        f"long texts as windows {windows['stride']} word pieces apart, their logits' "
        f"{windows['aggregate']}"
    )


def document_outputs(model, preprocessor, texts, windows, batch_size, prepared=None):
    """Each text's output (logits, or scores) from its windows': `model.predict` over
    every window (a `FrozenInference` groups them by length), then the mean or max per
    text. `prepared`: the texts' `window_arrays`, when already made. Returns (outputs,
    window count)."""
    from pipelines.document_windows import aggregate, window_arrays

    if prepared is None:
        prepared = window_arrays(preprocessor, list(texts), windows["stride"])
    features, owner = prepared
    outputs = np.asarray(model.predict(features, batch_size=batch_size, verbose=0))
    combined = aggregate(outputs, owner, len(texts), windows["aggregate"])  # as the export
    return np.asarray(combined), len(owner)

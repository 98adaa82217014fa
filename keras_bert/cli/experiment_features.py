"""`keras-bert experiment features`: the BERT paper's feature-based table (its table 7)
on a CoNLL-format task.

With the encoder of `--weights` frozen, a two-layer BiLSTM tagger is trained on six
choices of its layers (the embeddings, the second-to-last layer, the last layer, a
learned weighted sum of the last four, their concatenation, a learned weighted sum of
all), and the same encoder is fine-tuned as the seventh row. Each row reports its dev
entity F1 (the official conlleval scoring); the table prints in the paper's layout
beside its BERT-base figures, with `results.json`.

Layout of `--out`: `<row>/`, a `finetune conll` run folder each.
"""

import os
import shlex

from keras_bert.cli.common import UsageError, log
from keras_bert.cli.experiment import check_task, finetune_argv, finetuned, write_results
from keras_bert.cli.experiment_report import text_table

# (row name, folder, --features or None for fine-tuning); Devlin et al. (2019) table 7,
# BERT-base, CoNLL-2003 dev F1.
ROWS = (
    ("Embeddings", "embeddings", "embeddings", 91.0),
    ("Second-to-Last Hidden", "second-to-last", "second_to_last", 95.6),
    ("Last Hidden", "last", "last", 94.9),
    ("Weighted Sum Last Four Hidden", "sum-last-four", "sum_last_four", 95.9),
    ("Concat Last Four Hidden", "concat-last-four", "last_four", 96.1),
    ("Weighted Sum All Layers", "sum-all", "scalar_mix", 95.5),
    ("Fine-tuning", "fine-tuning", None, 96.4),
)


def _argv(args, words, folder, features):
    extra = shlex.split(args.feature_flags) + ["--features", features] if features else []
    return finetune_argv(args, words, args.weights, os.path.join(args.out, folder), *extra)


def run(args):
    words = shlex.split(args.task)
    for _, folder, features, _ in ROWS:
        parsed = check_task(_argv(args, words, folder, features), "conll")
        if parsed.source != "conll":
            raise UsageError(f"--task {args.task!r}: the feature-based table needs a conll task")
    rows = []
    for number, (name, folder, features, paper) in enumerate(ROWS, 1):
        out = os.path.join(args.out, folder)
        phase = f"[{number}/{len(ROWS)}] {name}"
        cell = finetuned(_argv(args, words, folder, features), out, phase)
        rows.append({"row": name, "folder": folder, "features": features, **cell,
                     "paper": paper})  # fmt: skip
    metric = rows[0]["metric"]
    table = text_table(
        "System", [f"Dev {metric}", "paper (BERT-base)"],
        [(r["row"], [r["percent"], r["paper"]]) for r in rows],
        first_width=32,
    )  # fmt: skip
    print(table)
    path = write_results(args, {"rows": rows, "table": table})
    log(f"table and runs: {path}")
    return 0

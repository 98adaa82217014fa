"""`keras-bert glue`: the BERT paper's GLUE recipe over every task found in a data folder
(batch 32, 3 epochs, the learning rate picked on dev from 5e-5, 4e-5, 3e-5, 2e-5), a
paper-style table of the dev results beside the paper's BERT-base and BERT-large rows
(those are test-set figures), and the leaderboard's test-set prediction files.

Each (task, learning rate) is its own `finetune` run folder under `--out`: a killed
sweep re-run with the same flags skips finished runs and resumes the interrupted one.
"""

import argparse
import json
import os

from keras_bert.cli.common import HelpFormatter, UsageError, log, positive_int, reading_inputs

# Table 1 of Devlin et al. (2019): GLUE test results.
COLUMNS = ("MNLI-m", "MNLI-mm", "QQP", "QNLI", "SST-2", "CoLA", "STS-B", "MRPC", "RTE")
PAPER = {
    "BERT-base (paper, test)": (84.6, 83.4, 71.2, 90.5, 93.5, 52.1, 85.8, 88.9, 66.4),
    "BERT-large (paper, test)": (86.7, 85.9, 72.1, 92.7, 94.9, 60.5, 86.5, 89.3, 70.1),
}
# column -> (task, dev split, metric), the paper's metric for each column.
_CELLS = {
    "MNLI-m": ("mnli", "dev_matched", "accuracy"),
    "MNLI-mm": ("mnli", "dev_mismatched", "accuracy"),
    "QQP": ("qqp", "dev", "f1"),
    "QNLI": ("qnli", "dev", "accuracy"),
    "SST-2": ("sst2", "dev", "accuracy"),
    "CoLA": ("cola", "dev", "mcc"),
    "STS-B": ("stsb", "dev", "spearman"),
    "MRPC": ("mrpc", "dev", "f1"),
    "RTE": ("rte", "dev", "accuracy"),
}


def _finetune(args, task, learning_rate, out):
    import argparse

    from keras_bert.cli import finetune

    parser = argparse.ArgumentParser(prog="keras-bert")
    finetune.add_parser(parser.add_subparsers())
    argv = [
        "finetune",
        f"glue/{task}",
        "--data-dir",
        args.data_dir,
        "--weights",
        args.weights,
        "--out",
        out,
        "--learning-rate",
        str(learning_rate),
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--seq-len",
        str(args.seq_len),
        "--seed",
        str(args.seed),
        "--on-error",
        args.on_error,
        "--verbose",
        str(args.verbose),
    ]
    return finetune.run(parser.parse_args(argv))


def _sweep(args, task):
    """The best run folder of a task (by its main dev metric) and its dev metrics."""
    best = None
    for rate in args.learning_rates:
        out = os.path.join(args.out, task, f"lr-{rate:g}")
        results_path = os.path.join(out, "results.json")
        if not os.path.isfile(results_path):
            log(f"GLUE {task}: learning rate {rate:g}")
            _finetune(args, task, rate, out)
        with open(results_path) as f:
            results = json.load(f)
        main = results["metrics"][0]
        if best is None or results["validation"][main] > best[1]["validation"][main]:
            best = (out, results)
    log(
        f"GLUE {task}: best learning rate {os.path.basename(best[0])[3:]} "
        f"({best[1]['metrics'][0]} {best[1]['validation'][best[1]['metrics'][0]]:.4f})"
    )
    return best[0]


def _table(rows):
    lines = [f"{'':<26}" + "".join(f"{c:>9}" for c in COLUMNS) + f"{'Average':>9}"]
    for name, values in rows.items():
        cells = "".join(f"{'-' if v is None else f'{v:.1f}':>9}" for v in values)
        known = [v for v in values if v is not None]
        average = f"{sum(known) / len(known):.1f}" if len(known) == len(values) else "-"
        lines.append(f"{name:<26}{cells}{average:>9}")
    return "\n".join(lines)


def run(args):
    from keras_bert.cli import evaluate, predict
    from pipelines import glue

    with reading_inputs():
        found = [t for t in glue.tasks_in(args.data_dir) if t != "ax"]
        tasks = [t for t in (args.tasks or found) if t in found]
        missing = sorted(set(args.tasks or []) - set(found))
        if missing or not tasks:
            raise UsageError(
                f"{args.data_dir}: no GLUE data for {', '.join(missing) or 'any task'}"
                " (expected GLUE's folders, e.g. MRPC/train.tsv)"
            )
        for task in tasks:  # Every file the sweep and its submission read, before training.
            for split in glue.get_task(task).splits:
                glue.split_path(task, split, args.data_dir)
    best = {task: _sweep(args, task) for task in tasks}
    ours = []
    for column in COLUMNS:
        task, split, metric = _CELLS[column]
        if task not in best:
            ours.append(None)
            continue
        result = evaluate.evaluate(best[task], split)
        ours.append(100 * result["metrics"][metric])
    table = _table({"this run (dev)": ours, **PAPER})
    print(table)
    submission = os.path.join(args.out, "submission")
    for task, run_dir in best.items():
        spec = glue.get_task(task)
        for split in (s for s in spec.splits if s.startswith("test")):
            predict.predict_file(run_dir, split, os.path.join(submission, spec.submission[split]))
    if "mnli" in best and "ax" in glue.tasks_in(args.data_dir):
        predict.predict_file(
            best["mnli"],
            glue.split_path("ax", "test", args.data_dir),
            os.path.join(submission, "AX.tsv"),
        )
    with open(os.path.join(args.out, "glue.json"), "w") as f:
        json.dump({"best_runs": best, "dev": dict(zip(COLUMNS, ours)), "table": table}, f, indent=2)
    return 0


def _names(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no task")
    return names


_names.__name__ = "task list"  # argparse names the type in its messages.


def _rates(text):
    rates = []
    for word in text.split(","):
        try:
            rate = float(word)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{word.strip()!r} in {text!r} is not a number"
            ) from None
        if not 0 < rate < float("inf"):
            raise argparse.ArgumentTypeError(f"{word.strip()} must be > 0")
        rates.append(rate)
    return rates


_rates.__name__ = "learning rates"


def add_parser(commands):
    from pipelines.text_table import ON_ERROR

    parser = commands.add_parser(
        "glue",
        help="the BERT paper's GLUE recipe and table",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    add = parser.add_argument
    add("--data-dir", required=True, help="GLUE's data folder (CoLA/, SST-2/, MRPC/, ...)")
    add("--weights", required=True, help="pretrained checkpoint folder with vocab.txt")
    add("--out", required=True, help="sweep folder: one run folder per task and rate")
    add(
        "--tasks",
        type=_names,
        default=None,
        help="comma-separated tasks (default: every task found)",
    )
    add(
        "--learning-rates",
        type=_rates,
        default=[5e-5, 4e-5, 3e-5, 2e-5],
        help="comma-separated learning rates, the grid picked on dev",
    )
    add("--epochs", type=positive_int, default=3, help="passes over each training set")
    add("--batch-size", type=positive_int, default=32, help="examples per step")
    add("--seq-len", type=positive_int, default=128, help="tokens per example")
    add(
        "--on-error",
        default="raise",
        choices=ON_ERROR,
        help="bad rows (QQP's train has some): an error, or skipped and counted",
    )
    add("--seed", type=int, default=0, help="seeds the shuffling")
    add("--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras progress")
    parser.set_defaults(run=run)

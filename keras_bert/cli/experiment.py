"""`keras-bert experiment`: the BERT paper's experiments on your corpus and tasks.

- `objectives`: the pretraining-task ablation (table 5): BERT (MLM + NSP), No NSP, LTR
  & No NSP, and + BiLSTM, each fine-tuned on every `--task`; plus the convergence
  figure (held-out LM accuracy against steps).
- `sizes`: model sizes (table 6): a grid of (layers, hidden, heads) pretrained with one
  budget, with held-out masked-LM perplexity and every task's dev score; plus a picture
  of perplexity against parameters.
- `features`: the feature-based approach (table 7) on a CoNLL task: a BiLSTM tagger on
  six choices of frozen layers, against fine-tuning.

Every run is a run folder under `--out` (`pretrain` folders, and `finetune` folders that
`evaluate`, `predict` and `export` take). A killed experiment re-run with the same flags
reuses the finished runs and resumes the interrupted one. `results.json` holds the
table's numbers; the table prints in the paper's layout.
"""

import argparse
import json
import os
import re
import shlex

from keras_bert.cli.common import (
    HelpFormatter,
    UsageError,
    log,
    model_size,
    positive_int,
    reading_inputs,
)


def task_specs(specs):
    """[(name, [finetune words])] from `--task [NAME=]SPEC` values; names are unique."""
    tasks, seen = [], set()
    for spec in specs:
        name, _, rest = spec.partition("=") if re.match(r"^[\w.-]+=", spec) else ("", "", spec)
        words = shlex.split(rest)
        if not words:
            raise UsageError(f"--task {spec!r} names no finetune task")
        name = name or re.sub(r"[^\w.-]+", "-", words[0]).strip("-")
        if name in seen:
            raise UsageError(f"--task {spec!r}: two tasks named {name!r}; use NAME=SPEC")
        seen.add(name)
        tasks.append((name, words))
    return tasks


def check_parses(argv, what):
    """`argv` parsed; fails before any training when it is not a valid command line."""
    from keras_bert.cli import _parser

    try:
        return _parser().parse_args(argv)
    except SystemExit:  # argparse printed the reason.
        raise UsageError(f"{what} is not a valid command: keras-bert {shlex.join(argv)}") from None


def check_task(argv, name):
    """Fails before any training when a task's finetune command names no data; returns
    its parsed flags."""
    from keras_bert.cli.kinds import families
    from keras_bert.cli.task_data import source_spec

    args = check_parses(argv, f"--task {name}")
    try:
        with reading_inputs():
            if args.source not in families():
                source_spec(args)
            elif not args.train:
                raise UsageError(f"finetune {args.source} needs --train")
    except UsageError as e:
        raise UsageError(f"--task {name}: {e}") from None
    return args


def pretrain_argv(args, out, *extra):
    """The `pretrain` command of one experiment row: the shared corpus and budget."""
    argv = ["pretrain", "--train", *args.train, "--validation", *args.validation]
    argv += ["--vocab", args.vocab, "--format", args.format]
    if args.lowercase is not None:
        argv.append("--lowercase" if args.lowercase else "--no-lowercase")
    argv += ["--encoding-errors", args.encoding_errors, "--seq-len", str(args.seq_len)]
    argv += ["--batch-size", str(args.batch_size), "--steps", str(args.steps)]
    argv += ["--checkpoint-every", str(args.checkpoint_every or max(1, args.steps // 10))]
    argv += ["--learning-rate", str(args.learning_rate), "--seed", str(args.seed)]
    argv += ["--verbose", str(args.verbose), "--out", out, *extra]
    return argv + shlex.split(args.pretrain_flags)


def finetune_argv(args, words, weights, out, *extra):
    argv = ["finetune", *words, "--weights", weights, "--out", out]
    argv += ["--verbose", str(args.verbose)] + shlex.split(args.finetune_flags)
    return argv + list(extra)


def call(argv, phase):
    from keras_bert import cli

    if cli.main(argv) != 0:
        raise UsageError(f"{phase} failed (its message is above): keras-bert {shlex.join(argv)}")


def pretrained(argv, out, steps, phase):
    """The pretraining run's metrics.json, training (or resuming) it unless finished."""
    path = os.path.join(out, "metrics.json")
    if os.path.isfile(path) and json.load(open(path)).get("steps") == steps:
        log(f"{phase}: reusing {out}")
    else:
        log(phase)
        call(argv, phase)
    with open(path) as f:
        return json.load(f)


def finetuned(argv, out, phase):
    """{"metric", "value", "percent"}: the fine-tuning run's main validation metric, run
    unless finished; `percent` is the value on a 0-100 scale for the tables (SQuAD's
    scores are percentages already, as the official script gives them; the others are
    fractions)."""
    path = os.path.join(out, "results.json")
    if os.path.isfile(path):
        log(f"{phase}: reusing {out}")
    else:
        log(phase)
        call(argv, phase)
    with open(path) as f:
        results = json.load(f)
    from keras_bert.cli.run_model import read_run

    task = read_run(out).get("task")
    metric = results["metrics"][0]
    value = results["validation"][metric]
    percent = value if task == "question_answering" else 100 * value
    return {"metric": metric, "value": value, "percent": percent}


def write_results(args, results):
    """`OUT/results.json`, atomically, with the experiment's settings."""
    results = dict(results, settings={k: v for k, v in vars(args).items() if k != "run"})
    path = os.path.join(args.out, "results.json")
    os.makedirs(args.out, exist_ok=True)
    with open(path + ".partial", "w") as f:
        json.dump(results, f, indent=2)
    os.replace(path + ".partial", path)
    return path


def run(args):
    import importlib

    return importlib.import_module(f"keras_bert.cli.experiment_{args.experiment}").run(args)


def _corpus_flags(add):
    from keras_bert.presets import PRESETS
    from pipelines.documents import ENCODING_ERRORS, FORMATS

    add("--train", required=True, nargs="+", help="pretraining text files or globs")
    add("--validation", required=True, nargs="+", help="held-out text files or globs")
    add("--vocab", required=True, help="vocab.txt (special tokens included)")
    add("--lowercase", action=argparse.BooleanOptionalAction, default=None, help="uncased/cased")
    add("--format", default="sentences", choices=FORMATS, help="the corpus's layout")
    add("--encoding-errors", default="strict", choices=ENCODING_ERRORS, help="invalid UTF-8")
    add("--preset", default="tiny", choices=sorted(PRESETS), metavar="PRESET", help="model size")
    add("--seq-len", type=positive_int, default=128, help="pretraining tokens per example")
    add("--batch-size", type=positive_int, default=32, help="pretraining examples per step")
    add("--steps", type=positive_int, required=True, help="pretraining steps of every row")
    add("--checkpoint-every", type=positive_int, help="steps between checkpoints and held-out "
        "scores (the curves' points); default: a tenth of --steps")  # fmt: skip
    add("--learning-rate", type=float, default=1e-4, help="pretraining peak rate")
    add("--seed", type=int, default=0, help="the same for every row")
    add("--pretrain-flags", default="", help="more flags for every pretrain run")


def _task_flags(add, required=True):
    add(
        "--task",
        required=required,
        action="append",
        default=[],
        help='[NAME=]SPEC: a finetune task and its data, e.g. "mrpc=glue/mrpc --data-dir '
        'glue_data" or "csv --train a.csv --validation b.csv --text-column text '
        '--label-column label"; repeatable',
    )
    add("--finetune-flags", default="", help='flags for every finetune run, e.g. "--epochs 3"')


def _common_flags(add):
    add("--out", required=True, help="the experiment's folder (re-run to resume)")
    add("--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras progress")


def _grid(text):
    return [model_size(size) for size in text.split(",")]


_grid.__name__ = "grid"

SIZES_GRID = "3x128x2,6x128x1,6x128x2,12x128x2,12x256x4,24x256x4"


def add_parser(commands):
    parser = commands.add_parser(
        "experiment",
        help="the paper's experiments on your data",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    kinds = parser.add_subparsers(dest="experiment", required=True)

    def sub(name, help):
        module = f"keras_bert.cli.experiment_{name}"
        doc = __import__(module, fromlist=["__doc__"]).__doc__
        made = kinds.add_parser(name, help=help, description=doc, formatter_class=HelpFormatter)
        return made.add_argument

    add = sub("objectives", "the pretraining-task ablation (MLM + NSP, MLM, LTR, + BiLSTM)")
    _corpus_flags(add)
    _task_flags(add)
    _common_flags(add)
    add = sub("sizes", "model sizes: held-out perplexity and dev scores over a grid")
    _corpus_flags(add)
    add("--grid", type=_grid, default=_grid(SIZES_GRID), metavar="LxHxA,...",
        help="the sizes (layers x hidden x heads); the default scales the paper's six rows "
        "(hidden 768 -> 128, 1024 -> 256) to a CPU's hour; 3x768x12,6x768x3,6x768x12,"
        "12x768x12,12x1024x16,24x1024x16 is the paper's")  # fmt: skip
    _task_flags(add, required=False)
    _common_flags(add)
    add = sub("features", "feature-based NER: six choices of frozen layers against fine-tuning")
    add("--weights", required=True, help="the pretrained checkpoint (folder) to read features from")
    add("--task", required=True, help='a finetune conll spec: "conll --train T --validation D"')
    add("--finetune-flags", default="", help="flags for the fine-tuning row")
    add("--feature-flags", default="", help="flags for the six feature rows (e.g. --lstm-units)")
    _common_flags(add)
    parser.set_defaults(run=run)

"""`keras-bert experiment objectives`: the BERT paper's pretraining-task ablation (its
table 5) on your corpus and tasks.

Pretrains the three objectives with one budget (the same corpus, steps, batch, model
size and seed): BERT (masked LM + next sentence), "No NSP" (masked LM alone) and "LTR &
No NSP" (a left-to-right LM); fine-tunes each on every `--task` (any `finetune` task
spec), plus the LTR model with a randomly initialised BiLSTM under its head; then prints
the table in the paper's layout, writes `results.json` and `curves.png` (held-out
masked-token accuracy against steps for the masked LMs, next-token accuracy for the
left-to-right one: the paper's convergence figure).

Layout of `--out`: `pretrain-<objective>/` (a `pretrain` run folder) and
`<row>/<task>/` (a `finetune` run folder, which `evaluate`, `predict` and `export`
take). A killed experiment re-run with the same flags reuses the finished runs and
resumes the interrupted one.
"""

import argparse
import json
import os
import re
import shlex

from keras_bert.cli.common import HelpFormatter, UsageError, log, positive_int, reading_inputs
from keras_bert.cli.experiment_report import learning_curves, text_table

# (row name, folder, objective, BiLSTM) in the order of the paper's table 5.
ROWS = (
    ("BERT (MLM + NSP)", "bert", "mlm_nsp", False),
    ("No NSP", "no-nsp", "mlm", False),
    ("LTR & No NSP", "ltr", "ltr", False),
    ("  + BiLSTM", "ltr-bilstm", "ltr", True),
)
CURVE_LEGENDS = {
    "mlm_nsp": "MLM + NSP (masked-token accuracy)",
    "mlm": "MLM (masked-token accuracy)",
    "ltr": "LTR (next-token accuracy)",
}


def _tasks(specs):
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


def _check_parses(argv, what):
    """`argv` parsed; fails before any training when it is not a valid command line."""
    from keras_bert.cli import _parser

    try:
        return _parser().parse_args(argv)
    except SystemExit:  # argparse printed the reason.
        raise UsageError(f"{what} is not a valid command: keras-bert {shlex.join(argv)}") from None


def _check_task(argv, name):
    """Fails before any training when a task's finetune command names no data."""
    from keras_bert.cli.kinds import families
    from keras_bert.cli.task_data import source_spec

    args = _check_parses(argv, f"--task {name}")
    try:
        with reading_inputs():
            if args.source not in families():
                source_spec(args)
            elif not args.train:
                raise UsageError(f"finetune {args.source} needs --train")
    except UsageError as e:
        raise UsageError(f"--task {name}: {e}") from None


def _pretrain_argv(args, objective):
    argv = ["pretrain", "--objective", objective, "--train", *args.train]
    argv += ["--validation", *args.validation, "--vocab", args.vocab]
    if args.lowercase is not None:
        argv.append("--lowercase" if args.lowercase else "--no-lowercase")
    argv += ["--preset", args.preset, "--seq-len", str(args.seq_len)]
    argv += ["--batch-size", str(args.batch_size), "--steps", str(args.steps)]
    argv += ["--checkpoint-every", str(args.checkpoint_every or max(1, args.steps // 10))]
    argv += ["--learning-rate", str(args.learning_rate), "--seed", str(args.seed)]
    argv += ["--format", args.format, "--encoding-errors", args.encoding_errors]
    argv += ["--verbose", str(args.verbose), "--out", _pretrain_dir(args, objective)]
    return argv + shlex.split(args.pretrain_flags)


def _pretrain_dir(args, objective):
    return os.path.join(args.out, f"pretrain-{objective}")


def _finetune_argv(args, words, objective, bilstm, out):
    weights = os.path.join(_pretrain_dir(args, objective), "tf1")
    argv = ["finetune", *words, "--weights", weights, "--out", out]
    argv += ["--verbose", str(args.verbose)] + shlex.split(args.finetune_flags)
    return argv + (["--bilstm"] if bilstm else [])


def _call(argv, phase):
    from keras_bert import cli

    if cli.main(argv) != 0:
        raise UsageError(f"{phase} failed (its message is above): keras-bert {shlex.join(argv)}")


def _pretrained(args, objective, phase):
    """The pretraining run's metrics.json, training (or resuming) it unless finished."""
    path = os.path.join(_pretrain_dir(args, objective), "metrics.json")
    if os.path.isfile(path) and json.load(open(path)).get("steps") == args.steps:
        log(f"{phase}: reusing {os.path.dirname(path)}")
    else:
        log(f"{phase}")
        _call(_pretrain_argv(args, objective), phase)
    with open(path) as f:
        return json.load(f)


def _finetuned(argv, out, phase):
    """The fine-tuning run's main validation metric (name, value), run unless finished."""
    path = os.path.join(out, "results.json")
    if os.path.isfile(path):
        log(f"{phase}: reusing {out}")
    else:
        log(f"{phase}")
        _call(argv, phase)
    with open(path) as f:
        results = json.load(f)
    metric = results["metrics"][0]
    return metric, results["validation"][metric]


def objectives(args):
    tasks = _tasks(args.task)
    plans = {objective: _pretrain_argv(args, objective) for _, _, objective, _ in ROWS}
    for objective, argv in plans.items():
        _check_parses(argv, f"pretraining {objective}")
    for _, folder, objective, bilstm in ROWS:
        for name, words in tasks:
            out = os.path.join(args.out, folder, name)
            _check_task(_finetune_argv(args, words, objective, bilstm, out), name)
    phases = len(plans) + len(ROWS) * len(tasks)
    done, pretrained, rows = 0, {}, []
    for objective in plans:
        done += 1
        pretrained[objective] = _pretrained(
            args, objective, f"[{done}/{phases}] pretraining {objective}"
        )
    for row, folder, objective, bilstm in ROWS:
        cells = {}
        for name, words in tasks:
            done += 1
            out = os.path.join(args.out, folder, name)
            phase = f"[{done}/{phases}] fine-tuning {row.strip()} on {name}"
            argv = _finetune_argv(args, words, objective, bilstm, out)
            cells[name] = dict(zip(("metric", "value"), _finetuned(argv, out, phase)))
        held_out = pretrained[objective].get("validation", {})
        rows.append(
            {"row": row.strip(), "folder": folder, "objective": objective, "bilstm": bilstm,
             "held_out": held_out, "tasks": cells}
        )  # fmt: skip
    return _report(args, tasks, rows, pretrained)


def _report(args, tasks, rows, pretrained):
    columns = ["held-out LM acc"] + [
        f"{name} ({rows[0]['tasks'][name]['metric']})" for name, _ in tasks
    ]
    table = text_table(
        "Pretraining tasks",
        columns,
        [
            (
                ROWS[i][0],
                [100 * row["held_out"]["lm_accuracy"] if not row["bilstm"] else None]
                + [100 * row["tasks"][name]["value"] for name, _ in tasks],
            )
            for i, row in enumerate(rows)
        ],
    )
    print(table)
    curves = {
        CURVE_LEGENDS[objective]: [
            (point["step"], point["lm_accuracy"]) for point in metrics.get("validation_curve", [])
        ]
        for objective, metrics in pretrained.items()
    }
    picture = learning_curves(
        os.path.join(args.out, "curves.png"),
        curves,
        f"Held-out LM accuracy while pretraining ({args.preset}, batch {args.batch_size})",
        "held-out accuracy",
    )
    results = {"rows": rows, "table": table, "curves": curves, "picture": picture}
    results["settings"] = {k: v for k, v in vars(args).items() if k not in ("run",)}
    path = os.path.join(args.out, "results.json")
    with open(path + ".partial", "w") as f:
        json.dump(results, f, indent=2)
    os.replace(path + ".partial", path)
    log(f"table, curves and runs: {path}" + (f", {picture}" if picture else ""))
    return 0


def run(args):
    return objectives(args)


def add_parser(commands):
    from keras_bert.presets import PRESETS
    from pipelines.documents import ENCODING_ERRORS, FORMATS

    parser = commands.add_parser(
        "experiment", help="the paper's experiments on your data", formatter_class=HelpFormatter
    )
    kinds = parser.add_subparsers(dest="experiment", required=True)
    sub = kinds.add_parser(
        "objectives",
        help="the pretraining-task ablation (MLM + NSP, MLM, LTR, LTR + BiLSTM)",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    add = sub.add_argument
    add("--train", required=True, nargs="+", help="pretraining text files or globs")
    add("--validation", required=True, nargs="+", help="held-out text files or globs")
    add("--vocab", required=True, help="vocab.txt (special tokens included)")
    add("--lowercase", action=argparse.BooleanOptionalAction, default=None, help="uncased/cased")
    add("--format", default="sentences", choices=FORMATS, help="the corpus's layout")
    add("--encoding-errors", default="strict", choices=ENCODING_ERRORS, help="invalid UTF-8")
    add("--preset", default="tiny", choices=sorted(PRESETS), metavar="PRESET", help="model size")
    add("--seq-len", type=positive_int, default=128, help="pretraining tokens per example")
    add("--batch-size", type=positive_int, default=32, help="pretraining examples per step")
    add("--steps", type=positive_int, required=True, help="pretraining steps, each objective")
    add("--checkpoint-every", type=positive_int, help="steps between checkpoints and held-out "
        "scores (the curve's points); default: a tenth of --steps")  # fmt: skip
    add("--learning-rate", type=float, default=1e-4, help="pretraining peak rate")
    add("--seed", type=int, default=0, help="the same for every objective")
    add(
        "--task",
        required=True,
        action="append",
        help='[NAME=]SPEC: a finetune task and its data, e.g. "mrpc=glue/mrpc --data-dir '
        'glue_data" or "csv --train a.csv --validation b.csv --text-column text '
        '--label-column label"; repeatable',
    )
    add("--finetune-flags", default="", help='flags for every finetune run, e.g. "--epochs 3"')
    add("--pretrain-flags", default="", help="more flags for every pretrain run")
    add("--out", required=True, help="the experiment's folder (re-run to resume)")
    add("--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras progress")
    parser.set_defaults(run=run)

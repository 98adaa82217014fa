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
`<row>/<task>/` (a `finetune` run folder).
"""

import os

from keras_bert.cli.common import log
from keras_bert.cli.experiment import (
    check_parses,
    check_task,
    finetune_argv,
    finetuned,
    pretrain_argv,
    pretrained,
    task_specs,
    write_results,
)
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
# Table 5 of Devlin et al. (2019), BERT-base, dev sets: MNLI-m, QNLI, MRPC, SST-2 (Acc),
# SQuAD v1.1 (F1).
PAPER = {
    "BERT (MLM + NSP)": (84.4, 88.4, 86.7, 92.7, 88.5),
    "No NSP": (83.9, 84.9, 86.5, 92.6, 87.9),
    "LTR & No NSP": (82.1, 84.3, 77.5, 92.1, 77.8),
    "  + BiLSTM": (82.1, 84.1, 75.7, 91.6, 84.9),
}
PAPER_COLUMNS = ("MNLI-m", "QNLI", "MRPC", "SST-2", "SQuAD")


def _pretrain(args, objective):
    out = os.path.join(args.out, f"pretrain-{objective}")
    return pretrain_argv(args, out, "--objective", objective), out


def _finetune(args, words, objective, bilstm, out):
    weights = os.path.join(args.out, f"pretrain-{objective}", "tf1")
    return finetune_argv(args, words, weights, out, *(["--bilstm"] if bilstm else []))


def run(args):
    tasks = task_specs(args.task)
    objectives = list(dict.fromkeys(objective for *_, objective, _ in ROWS))
    for objective in objectives:
        check_parses(_pretrain(args, objective)[0], f"pretraining {objective}")
    for *_, objective, bilstm in ROWS:
        for name, words in tasks:
            check_task(_finetune(args, words, objective, bilstm, args.out), name)
    phases, done = len(objectives) + len(ROWS) * len(tasks), 0
    metrics = {}
    for objective in objectives:
        done += 1
        argv, out = _pretrain(args, objective)
        phase = f"[{done}/{phases}] pretraining {objective}"
        metrics[objective] = pretrained(argv, out, args.steps, phase)
    rows = []
    for row, folder, objective, bilstm in ROWS:
        cells = {}
        for name, words in tasks:
            done += 1
            out = os.path.join(args.out, folder, name)
            phase = f"[{done}/{phases}] fine-tuning {row.strip()} on {name}"
            cells[name] = finetuned(_finetune(args, words, objective, bilstm, out), out, phase)
        held_out = metrics[objective].get("validation", {})
        rows.append(
            {"row": row.strip(), "folder": folder, "objective": objective, "bilstm": bilstm,
             "held_out": held_out, "tasks": cells}
        )  # fmt: skip
    return _report(args, tasks, rows, metrics)


def _report(args, tasks, rows, metrics):
    columns = ["held-out LM acc"] + [
        f"{name} ({rows[0]['tasks'][name]['metric']})" for name, _ in tasks
    ]
    values = [
        [None if row["bilstm"] else 100 * row["held_out"]["lm_accuracy"]]
        + [row["tasks"][name]["percent"] for name, _ in tasks]
        for row in rows
    ]
    table = text_table("Pretraining tasks", columns, list(zip(PAPER, values)))
    paper = text_table("Devlin et al. (table 5)", PAPER_COLUMNS, list(PAPER.items()))
    print(table + "\n\n" + paper)
    curves = {
        CURVE_LEGENDS[objective]: [
            (point["step"], point["lm_accuracy"]) for point in run.get("validation_curve", [])
        ]
        for objective, run in metrics.items()
    }
    picture = learning_curves(
        os.path.join(args.out, "curves.png"),
        curves,
        f"Held-out LM accuracy while pretraining ({args.preset}, batch {args.batch_size})",
        "held-out accuracy",
    )
    path = write_results(args, {"rows": rows, "table": table, "curves": curves, "picture": picture})
    log(f"table, curves and runs: {path}" + (f", {picture}" if picture else ""))
    return 0

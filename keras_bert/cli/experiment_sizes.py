"""`keras-bert experiment sizes`: the BERT paper's model-size table (its table 6) on your
corpus and tasks.

Pretrains every size of `--grid` (layers x hidden x heads, feed-forward 4H) with one
budget (MLM + NSP; the same corpus, steps, batch and seed), reports each one's held-out
masked-LM perplexity and its dev score on every `--task`, prints the table in the
paper's layout and writes `results.json` and `perplexity.png` (held-out perplexity
against the encoder's parameters).

Layout of `--out`: `<L>x<H>x<A>/pretrain/` (a `pretrain` run folder) and
`<L>x<H>x<A>/<task>/` (a `finetune` run folder).
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
from keras_bert.cli.experiment_report import pyplot, text_table

# Table 6 of Devlin et al. (2019): (#L, #H, #A) -> LM perplexity (held-out training
# data), MNLI-m, MRPC, SST-2 dev accuracy.
PAPER = {
    (3, 768, 12): (5.84, 77.9, 79.8, 88.4),
    (6, 768, 3): (5.24, 80.6, 82.2, 90.7),
    (6, 768, 12): (4.68, 81.9, 84.8, 91.3),
    (12, 768, 12): (3.99, 84.4, 86.7, 92.9),
    (12, 1024, 16): (3.54, 85.7, 86.9, 93.3),
    (24, 1024, 16): (3.23, 86.6, 87.8, 93.7),
}


def _name(size):
    return "x".join(str(n) for n in size)


def _pretrain(args, size):
    out = os.path.join(args.out, _name(size), "pretrain")
    return pretrain_argv(args, out, "--size", _name(size)), out


def run(args):
    tasks = task_specs(args.task)
    sizes = list(dict.fromkeys(args.grid))
    for size in sizes:
        check_parses(_pretrain(args, size)[0], f"pretraining {_name(size)}")
        for name, words in tasks:
            check_task(finetune_argv(args, words, args.out, args.out), name)
    phases, done, rows = len(sizes) * (1 + len(tasks)), 0, []
    for size in sizes:
        done += 1
        argv, out = _pretrain(args, size)
        metrics = pretrained(argv, out, args.steps, f"[{done}/{phases}] pretraining {_name(size)}")
        cells = {}
        for name, words in tasks:
            done += 1
            run_dir = os.path.join(args.out, _name(size), name)
            phase = f"[{done}/{phases}] fine-tuning {_name(size)} on {name}"
            weights = os.path.join(out, "tf1")
            cells[name] = finetuned(finetune_argv(args, words, weights, run_dir), run_dir, phase)
        rows.append(
            {"size": list(size), "parameters": _parameters(out),
             "held_out": metrics.get("validation", {}), "tasks": cells}
        )  # fmt: skip
    return _report(args, tasks, rows)


def _parameters(pretrain_dir):
    """The encoder's parameters, counted from the run's saved model."""
    import keras

    import keras_bert  # noqa: F401  (registers the classes)

    model = keras.saving.load_model(os.path.join(pretrain_dir, "model.keras"), compile=False)
    return int(model.backbone.count_params())


def _report(args, tasks, rows):
    columns = ["params (M)", "LM (ppl)"] + [
        f"{name} ({rows[0]['tasks'][name]['metric']})" for name, _ in tasks
    ]
    values = [
        (
            f"{row['size'][0]:>3} {row['size'][1]:>5} {row['size'][2]:>3}",
            [row["parameters"] / 1e6, row["held_out"].get("perplexity")]
            + [row["tasks"][name]["percent"] for name, _ in tasks],
        )
        for row in rows
    ]
    table = text_table(" #L    #H  #A", columns, values)
    paper_rows = [(f"{L:>3} {H:>5} {A:>3}", list(v)) for (L, H, A), v in PAPER.items()]
    paper = text_table(" #L    #H  #A (paper)", ["LM (ppl)", "MNLI-m", "MRPC", "SST-2"], paper_rows)
    print(table + "\n\n" + paper)
    picture = _picture(args, rows)
    path = write_results(args, {"rows": rows, "table": table, "picture": picture})
    log(f"table and runs: {path}" + (f", {picture}" if picture else ""))
    return 0


def _picture(args, rows):
    plt = pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(7, 4.2))
    rows = [r for r in rows if r["held_out"].get("perplexity") is not None]
    points = [(r["parameters"], r["held_out"]["perplexity"]) for r in rows]
    if points:
        axes.plot(*zip(*points), marker="o")
    for row, point in zip(rows, points):
        axes.annotate(_name(row["size"]), point, textcoords="offset points", xytext=(4, 4))
    axes.set_xscale("log")
    axes.margins(x=0.2)  # room for the last point's label
    axes.set_xlabel("encoder parameters")
    axes.set_ylabel("held-out masked-LM perplexity")
    axes.set_title(f"Model size against held-out perplexity ({args.steps} steps each)")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path = os.path.join(args.out, "perplexity.png")
    figure.savefig(path + ".partial.png", dpi=120)
    plt.close(figure)
    os.replace(path + ".partial.png", path)
    return path

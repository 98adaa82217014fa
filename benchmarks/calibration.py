"""Not speed: how well a fine-tuned classifier's probabilities are calibrated on its
held-out data, before and after temperature scaling.

Three rows, each with the expected calibration error (15 equal-width bins of the top
probability) and the negative log-likelihood:
- the softmax as trained;
- with the temperature finetune fitted on these same examples (in-sample: what
  results.json reports, and what predict and the export apply);
- 2-fold cross-fitted: each half scored with the temperature fitted on the other half
  (an honest estimate of what the temperature does for texts it was not fitted on).
A reliability diagram (accuracy against confidence per bin, as trained and
cross-fitted) is written as a PNG.

    keras-bert demo   # or any classification run folder
    python benchmarks/calibration.py runs/bbc-news --png docs/images/calibration-bbc.png
"""

import argparse
import os
import sys

import numpy as np

from keras_bert.metrics.calibration import (
    expected_calibration_error,
    fit_temperature,
    reliability,
    softmax,
)


def held_out_logits(run_dir, batch_size=32):
    """(logits, labels, temperature) of a classification run on its validation data."""
    from keras_bert.cli import kinds, run_model, task_data

    model, preprocessor, run = run_model.load_run(run_dir)
    kind = kinds.for_run(run, run_dir, preprocessor)
    if run.get("task") != "classification" or not run.get("label_names"):
        raise SystemExit(f"{run_dir}: not a classification run")
    examples = task_data.read(kind.spec, "validation", kind.labels)
    logits = kind._outputs(run_model.frozen_inference(model), examples, batch_size)
    return np.asarray(logits, np.float64), np.asarray(examples.labels), kind.temperature()


def cross_fitted(logits, labels, seed=0):
    """Every example's probabilities under the temperature fitted on the other half."""
    order = np.random.default_rng(seed).permutation(len(labels))
    halves = [order[: len(order) // 2], order[len(order) // 2 :]]
    probabilities = np.zeros_like(logits)
    temperatures = []
    for scored, fitted in (halves, halves[::-1]):
        temperature = fit_temperature(logits[fitted], labels[fitted])
        probabilities[scored] = softmax(logits[scored], temperature)
        temperatures.append(temperature)
    return probabilities, temperatures


def draw(curves, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, rows in curves:
        confidence, accuracy, count = (np.array(x) for x in zip(*rows))
        axes.plot(confidence, accuracy, marker="o", label=name)
        for c, a, n in zip(confidence, accuracy, count):
            axes.annotate(str(n), (c, a), fontsize=6, xytext=(2, -8), textcoords="offset points")
    axes.set_xlabel("confidence (top probability), mean per bin")
    axes.set_ylabel("accuracy in the bin")
    axes.set_title(title, fontsize=9)
    axes.legend(loc="lower right", fontsize=8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", help="a classification run folder (finetune --out)")
    parser.add_argument("--png", help="write the reliability diagram here")
    parser.add_argument("--seed", type=int, default=0, help="the 2-fold split's seed")
    args = parser.parse_args(argv)

    logits, labels, temperature = held_out_logits(args.run_dir)
    crossed, temperatures = cross_fitted(logits, labels, args.seed)
    rows = [
        ("as trained (temperature 1)", softmax(logits)),
        (f"run's temperature {temperature:.3f} (in-sample)", softmax(logits, temperature)),
        ("2-fold cross-fitted (" + ", ".join(f"{t:.3f}" for t in temperatures) + ")", crossed),
    ]
    accuracy = float((logits.argmax(-1) == labels).mean())
    print(f"{len(labels)} held-out examples of {args.run_dir}, accuracy {accuracy:.4f}\n")
    print(f"{'probabilities':<48} {'ECE':>7} {'NLL':>7}")
    for name, probabilities in rows:
        picked = probabilities[np.arange(len(labels)), labels]
        nll = float(-np.mean(np.log(np.maximum(picked, 1e-300))))
        ece = expected_calibration_error(probabilities, labels)
        print(f"{name:<48} {ece:>7.4f} {nll:>7.4f}")
    if args.png:
        curves = [("as trained", reliability(rows[0][1], labels))]
        curves.append(("2-fold cross-fitted temperature", reliability(crossed, labels)))
        draw(curves, args.png, f"{args.run_dir}: {len(labels)} held-out examples, 15 bins")
        print(f"\nreliability diagram: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

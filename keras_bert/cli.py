"""The `keras-bert` command line: the one place that wires model code and pipelines."""

import argparse
import os
import sys

DEMO_PAIRS = [
    ("A man is playing a guitar.", "Someone is playing a musical instrument.", "related"),
    ("Stock markets fell sharply on Monday.", "Share prices dropped at the start of the week.",
     "related"),
    ("The striker scored twice in the final.", "He got two goals in the cup final.", "related"),
    ("A man is playing a guitar.", "Stock markets fell sharply on Monday.", "unrelated"),
    ("The striker scored twice in the final.", "The recipe needs two cups of flour.",
     "unrelated"),
    ("A cat sleeps on the sofa.", "Parliament passed the new budget bill.", "unrelated"),
]


def _log(message):
    print(f"[keras-bert] {message}", file=sys.stderr, flush=True)


def sentence_similarities(model_dir, pairs, sequence_length=128, lowercase=None):
    """Cosine similarities of mean-pooled `sequence_output` for (a, b) text pairs."""
    import numpy as np

    import keras_bert
    from pipelines import BertPreprocessor

    _log(f"loading checkpoint {model_dir}")
    model = keras_bert.build(model_dir)
    preprocessor = BertPreprocessor.from_dir(model_dir, lowercase=lowercase,
                                             sequence_length=sequence_length)
    _log(f"tokenizing {2 * len(pairs)} sentences in-graph and encoding them")
    texts = [a for a, _ in pairs] + [b for _, b in pairs]
    features = preprocessor(texts)
    outputs = model.predict(features, verbose=0)
    mask = np.asarray(features["padding_mask"], "float32")[..., None]
    embeddings = (outputs["sequence_output"] * mask).sum(1) / mask.sum(1)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    first, second = embeddings[: len(pairs)], embeddings[len(pairs):]
    return (first * second).sum(1)


def _similarity(args):
    if args.pair:
        pairs = [(a, b, "") for a, b in args.pair]
    else:
        pairs = DEMO_PAIRS
    scores = sentence_similarities(args.model, [(a, b) for a, b, _ in pairs],
                                   args.sequence_length, args.lowercase)
    width = max(len(a) for a, _, _ in pairs)
    print(f"{'cosine':>7}  {'label':<9}  {'sentence A':<{width}}  sentence B")
    for (a, b, label), score in zip(pairs, scores):
        print(f"{score:7.4f}  {label:<9}  {a:<{width}}  {b}")
    related = [s for (_, _, label), s in zip(pairs, scores) if label == "related"]
    unrelated = [s for (_, _, label), s in zip(pairs, scores) if label == "unrelated"]
    if related and unrelated:
        ok = min(related) > max(unrelated)
        print(f"lowest related {min(related):.4f} vs highest unrelated {max(unrelated):.4f}: "
              + ("related pairs score higher" if ok else "NOT separated"))
        return 0 if ok else 1
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="keras-bert", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    similarity = commands.add_parser(
        "similarity", help="cosine similarity of sentence pairs (mean-pooled encoder output)")
    similarity.add_argument("--model", required=True,
                            help="checkpoint folder (Google TF1, Hugging Face, Model Garden) "
                                 "with vocab.txt")
    similarity.add_argument("--pair", nargs=2, action="append", metavar=("A", "B"),
                            help="a sentence pair (repeatable); default: a built-in demo set")
    similarity.add_argument("--sequence-length", type=int, default=128)
    similarity.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=None,
                            help="override the folder's do_lower_case")
    similarity.set_defaults(run=_similarity)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if getattr(args, "model", None) and not os.path.isdir(args.model):
        print(f"keras-bert: error: --model {args.model}: no such folder", file=sys.stderr)
        return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

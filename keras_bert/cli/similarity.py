"""`keras-bert similarity`: cosine similarity of sentence pairs with a real checkpoint."""

import argparse

from keras_bert.cli.common import HelpFormatter, UsageError, log, positive_int, reading_inputs

DEMO_PAIRS = [
    ("A man is playing a guitar.", "Someone is playing a musical instrument.", "related"),
    (
        "Stock markets fell sharply on Monday.",
        "Share prices dropped at the start of the week.",
        "related",
    ),
    ("The striker scored twice in the final.", "He got two goals in the cup final.", "related"),
    ("A man is playing a guitar.", "Stock markets fell sharply on Monday.", "unrelated"),
    ("The striker scored twice in the final.", "The recipe needs two cups of flour.", "unrelated"),
    ("A cat sleeps on the sofa.", "Parliament passed the new budget bill.", "unrelated"),
]


def load(model_dir, sequence_length=128, lowercase=None):
    """(embedder, preprocessor) of a checkpoint folder; bad input is a UsageError."""
    import os

    import keras_bert
    from keras_bert.cli.tokenizers import folder_tokenizer
    from pipelines import BertPreprocessor

    with reading_inputs():
        if not os.path.isdir(model_dir):
            raise UsageError(f"--model {model_dir}: no such folder")
        limit = keras_bert.checkpoints.read_config(model_dir).get("max_sequence_length", 512)
        if not 3 <= sequence_length <= limit:
            raise UsageError(
                f"--sequence-length {sequence_length} must be in [3, {limit}] "
                f"(the model's max_position_embeddings)"
            )
        log(f"loading checkpoint {model_dir}")
        model = keras_bert.build(model_dir, task="embedding", pooling="mean", normalize=True)
        preprocessor = BertPreprocessor(
            folder_tokenizer(model_dir, lowercase),
            sequence_length=sequence_length,
            num_segments=model.backbone.num_segments,
        )
    return model, preprocessor


def sentence_similarities(model_dir, pairs, sequence_length=128, lowercase=None):
    """Cosine similarities of mean-pooled `sequence_output` (BertTextEmbedder) for
    (a, b) text pairs."""
    model, preprocessor = load(model_dir, sequence_length, lowercase)
    log(f"tokenizing {2 * len(pairs)} sentences in-graph and encoding them")
    texts = [a for a, _ in pairs] + [b for _, b in pairs]
    embeddings = model.predict(preprocessor(texts), verbose=0)  # Unit length.
    first, second = embeddings[: len(pairs)], embeddings[len(pairs) :]
    return (first * second).sum(1)


def run(args):
    if args.pair:
        pairs = [(a, b, "") for a, b in args.pair]
    else:
        pairs = DEMO_PAIRS
    scores = sentence_similarities(
        args.model, [(a, b) for a, b, _ in pairs], args.sequence_length, args.lowercase
    )
    width = max(len(a) for a, _, _ in pairs)
    print(f"{'cosine':>7}  {'label':<9}  {'sentence A':<{width}}  sentence B")
    for (a, b, label), score in zip(pairs, scores):
        print(f"{score:7.4f}  {label:<9}  {a:<{width}}  {b}")
    related = [s for (_, _, label), s in zip(pairs, scores) if label == "related"]
    unrelated = [s for (_, _, label), s in zip(pairs, scores) if label == "unrelated"]
    if related and unrelated:
        ok = min(related) > max(unrelated)
        print(
            f"lowest related {min(related):.4f} vs highest unrelated {max(unrelated):.4f}: "
            + ("related pairs score higher" if ok else "NOT separated")
        )
        return 0 if ok else 1
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "similarity",
        help="cosine similarity of sentence pairs (mean-pooled encoder output)",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--model",
        required=True,
        help="checkpoint folder (Google TF1, Hugging Face, Model Garden) with vocab.txt",
    )
    parser.add_argument(
        "--pair",
        nargs=2,
        action="append",
        metavar=("A", "B"),
        help="a sentence pair (repeatable); default: a built-in demo set",
    )
    parser.add_argument(
        "--sequence-length",
        type=positive_int,
        default=128,
        help="tokens per sentence, [CLS] and [SEP] included",
    )
    parser.add_argument(
        "--lowercase",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="override the folder's do_lower_case",
    )
    parser.set_defaults(run=run)

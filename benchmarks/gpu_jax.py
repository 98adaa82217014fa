"""BERT-base on a GPU: our `BertBackbone` on Keras's JAX backend against keras-hub's
(same backend) and Hugging Face transformers (PyTorch), on the same GPU in one run.

Not run in CI (it needs a GPU, JAX with CUDA, PyTorch with CUDA). Cases, random
weights (speed does not depend on them), every token real (no padding; `--padded`
right-pads each batch to random lengths, as a tokenized corpus is, for every peer):
- inference b64 s128 and b16 s512: bf16 weights; ours and keras-hub jitted
  `stateless_call`, PyTorch eager with SDPA attention under `inference_mode`;
- a fine-tuning step b32 s128 (classification, dropout 0.1, AdamW): Keras models in
  `mixed_bfloat16` (float32 weights) as one jitted step, PyTorch with bf16 autocast.
`ours` uses BERT's exact (erf) GELU, as the checkpoints were trained; `ours_tanh` is the
same model with the tanh approximation keras-hub's BERT uses (`activation=
"gelu_approximate"`), which XLA fuses into cuBLASLt's matmul epilogue on GPUs.
Each framework runs in its own process (so no two allocate the GPU at once) and prints
sequences/s, achieved TFLOP/s (model FLOPs: matmuls, attention included, the same count
for every peer) and the share of the GPU's dense bf16 peak; the table ends with the
ratio to the fastest peer. In the fine-tuning step ours computes only the [CLS] row of
the last block past its keys and values (the classifier reads nothing else), 7% fewer
FLOPs than that count: its TFLOP/s there is model FLOPs per second, not work done.

    KERAS_BACKEND=jax python benchmarks/gpu_jax.py [--steps 30] [--peak-tflops 989] [--padded]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

BASE = dict(
    vocabulary_size=30522,
    num_layers=12,
    num_heads=12,
    hidden_dim=768,
    intermediate_dim=3072,
    max_sequence_length=512,
)
ATTENTION = {}  # the attention implementation PyTorch used, printed with the results
CASES = [("inference", 64, 128), ("inference", 16, 512), ("fine-tune step", 32, 128)]
PEAKS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0}  # dense bf16 TFLOP/s


def flops_per_sequence(seq, shape, train):
    """Matmul FLOPs of one sequence through the encoder (x3 with the backward pass)."""
    h, inner, layers = shape["hidden_dim"], shape["intermediate_dim"], shape["num_layers"]
    dense = 2 * seq * (4 * h * h + 2 * h * inner)
    attention = 2 * 2 * seq * seq * h
    return layers * (dense + attention) * (3 if train else 1)


PADDED = []  # `--padded`: right padding to random lengths, the same for every peer


def random_batch(batch, seq, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), "int32")
    if PADDED:  # lengths from a quarter of the sequence to all of it
        lengths = rng.integers(seq // 4, seq + 1, batch)
        mask = (np.arange(seq)[None] < lengths[:, None]).astype("int32")
    return {
        "token_ids": rng.integers(1, BASE["vocabulary_size"], (batch, seq)).astype("int32"),
        "segment_ids": np.zeros((batch, seq), "int32"),
        "padding_mask": mask,
    }


def timed(run, steps, warmup=3):
    """Seconds per step, median of `steps` single-step timings after `warmup`."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# --- Keras (ours, keras-hub) on JAX -----------------------------------------------------


def keras_models(name, dtype, classifier):
    if name.startswith("ours"):
        import keras_bert

        options = {"task": "classification", "num_classes": 2} if classifier else {}
        if name == "ours_tanh":  # keras-hub's BERT uses the tanh approximation of GELU.
            options["activation"] = "gelu_approximate"
        return keras_bert.build("base", dtype=dtype, **dict(BASE, **options))
    import keras_hub

    backbone = keras_hub.models.BertBackbone(**BASE, dtype=dtype)
    if not classifier:
        return backbone
    return keras_hub.models.BertTextClassifier(
        backbone, num_classes=2, preprocessor=None, dtype=dtype
    )


def keras_inference(name, batch, seq, steps):
    import jax

    model = keras_models(name, "bfloat16", classifier=False)
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]
    x = jax.device_put(random_batch(batch, seq))

    @jax.jit
    def infer(trainable, frozen, x):
        outputs, _ = model.stateless_call(trainable, frozen, x, training=False)
        return outputs["sequence_output"], outputs["pooled_output"]

    return timed(lambda: jax.block_until_ready(infer(trainable, frozen, x)), steps)


def keras_train_step(name, batch, seq, steps):
    import jax
    import keras

    model = keras_models(name, "mixed_bfloat16", classifier=True)
    optimizer = keras.optimizers.AdamW(2e-5)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    state = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in optimizer.variables],
    )
    x = jax.device_put(random_batch(batch, seq))
    y = jax.device_put(np.arange(batch) % 2)

    def loss(trainable, frozen, x, y):
        logits, frozen = model.stateless_call(trainable, frozen, x, training=True)
        return loss_fn(y, logits), frozen

    gradient = jax.value_and_grad(loss, has_aux=True)

    @jax.jit
    def step(state, x, y):
        trainable, frozen, slots = state
        (value, frozen), grads = gradient(trainable, frozen, x, y)
        trainable, slots = optimizer.stateless_apply(slots, grads, trainable)
        return value, (trainable, frozen, slots)

    def run():
        nonlocal state
        value, state = step(state, x, y)
        jax.block_until_ready(value)

    return timed(run, steps)


# --- PyTorch (transformers) -----------------------------------------------------------


def device():
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def synchronize():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def torch_config():
    import transformers

    return transformers.BertConfig(
        vocab_size=BASE["vocabulary_size"],
        hidden_size=BASE["hidden_dim"],
        num_hidden_layers=BASE["num_layers"],
        num_attention_heads=BASE["num_heads"],
        intermediate_size=BASE["intermediate_dim"],
        max_position_embeddings=BASE["max_sequence_length"],
        num_labels=2,
    )


def torch_model(cls):
    """The model with PyTorch's SDPA attention (the default where supported)."""
    try:
        model = cls._from_config(torch_config(), attn_implementation="sdpa")
    except Exception as e:  # older/newer transformers: the constructor's default
        print(f"sdpa request failed ({type(e).__name__}); default attention", file=sys.stderr)
        model = cls(torch_config())
    ATTENTION["torch"] = getattr(model.config, "_attn_implementation", "?")
    return model


def torch_inference(batch, seq, steps):
    import torch
    import transformers

    model = torch_model(transformers.BertModel).to(device()).to(torch.bfloat16).eval()
    x = {k: torch.tensor(v).long().to(device()) for k, v in random_batch(batch, seq).items()}
    inputs = {
        "input_ids": x["token_ids"],
        "token_type_ids": x["segment_ids"],
        "attention_mask": x["padding_mask"],
    }

    def run():
        with torch.inference_mode():
            model(**inputs)
        synchronize()

    return timed(run, steps)


def torch_train_step(batch, seq, steps):
    import torch
    import transformers

    model = torch_model(transformers.BertForSequenceClassification).to(device()).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    x = {k: torch.tensor(v).long().to(device()) for k, v in random_batch(batch, seq).items()}
    inputs = {
        "input_ids": x["token_ids"],
        "token_type_ids": x["segment_ids"],
        "attention_mask": x["padding_mask"],
        "labels": (torch.arange(batch) % 2).to(device()),
    }

    def run():
        with torch.autocast(device(), dtype=torch.bfloat16):
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize()

    return timed(run, steps)


def use_tiny_shapes():
    """`--tiny`: a 2-layer model and small batches, to check the script on a CPU."""
    BASE.update(
        vocabulary_size=1000,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=64,
    )
    CASES[:] = [("inference", 4, 32), ("inference", 2, 64), ("fine-tune step", 4, 32)]


def worker(peer, steps):
    """One framework's cases: {case: seconds per step}; a case that fails says why."""
    results = {}
    for kind, batch, seq in CASES:
        key = f"{kind} b{batch} s{seq}"
        try:
            if peer == "torch":
                fn = torch_inference if kind == "inference" else torch_train_step
                results[key] = fn(batch, seq, steps)
            else:
                fn = keras_inference if kind == "inference" else keras_train_step
                results[key] = fn(peer, batch, seq, steps)
        except Exception as e:  # reported in the table, the other cases still run
            import traceback

            where = traceback.extract_tb(e.__traceback__)[-1]
            results[key] = (
                f"{type(e).__name__}: {str(e)[:200]} "
                f"({os.path.basename(where.filename)}:{where.lineno})"
            )
    if peer in ATTENTION:
        results["attention"] = ATTENTION[peer]
    print("RESULT " + json.dumps(results), flush=True)


def gpu_name():
    try:
        return subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown GPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--peers", default="ours,ours_tanh,keras_hub,torch")
    parser.add_argument(
        "--peak-tflops",
        type=float,
        default=None,
        help="the GPU's dense bf16 peak (default: from its name)",
    )
    parser.add_argument("--tiny", action="store_true", help=use_tiny_shapes.__doc__)
    parser.add_argument(
        "--padded",
        action="store_true",
        help="right-pad every batch to random lengths (s/4 to s), for "
        "every peer; TFLOP/s still count the full length",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tiny:
        use_tiny_shapes()
    if args.padded:
        PADDED.append(True)
    if args.worker:
        return worker(args.worker, args.steps)
    name = gpu_name()
    peak = args.peak_tflops or next((v for k, v in PEAKS.items() if k in name), None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # keras_bert
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        XLA_PYTHON_CLIENT_PREALLOCATE="false",
        PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
    )
    results = {}
    for peer in args.peers.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--worker", peer, "--steps", str(args.steps)]
            + ["--tiny"] * args.tiny
            + ["--padded"] * args.padded,
            capture_output=True,
            text=True,
            env=env,
        )
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
        results[peer] = (
            json.loads(lines[-1][7:])
            if lines
            else {"error": done.stderr.strip().splitlines()[-1:] or ["no output"]}
        )
    shape = (
        ("tiny" if args.tiny else "BERT-base")
        + " shapes"
        + (", right-padded" if args.padded else "")
    )
    print(
        f"{name}, bf16, {shape}, {args.steps} steps; peak {peak} TFLOP/s; "
        f"PyTorch attention: {results.get('torch', {}).get('attention', '-')}"
    )
    print(
        f"{'case':24s} {'peer':10s} {'seq/s':>9s} {'TFLOP/s':>8s} {'% peak':>7s} "
        f"{'vs best peer':>12s}"
    )
    for kind, batch, seq in CASES:
        key = f"{kind} b{batch} s{seq}"
        rates = {p: batch / r[key] for p, r in results.items() if isinstance(r.get(key), float)}
        peers = [rate for p, rate in rates.items() if not p.startswith("ours")]
        best = max(peers) if peers else None
        for peer, r in results.items():
            value = r.get(key, r.get("error"))
            if not isinstance(value, float):
                print(f"{key:24s} {peer:10s} failed: {value}")
                continue
            tflops = rates[peer] * flops_per_sequence(seq, BASE, kind != "inference") / 1e12
            share = f"{100 * tflops / peak:6.1f}%" if peak else "     -"
            ratio = f"{rates[peer] / best:11.2f}x" if best else "           -"
            print(f"{key:24s} {peer:10s} {rates[peer]:9.0f} {tflops:8.1f} {share} {ratio}")


if __name__ == "__main__":
    main()

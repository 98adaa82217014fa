"""Where our encoder's GPU time goes: BERT-base bf16 inference on Keras's JAX backend, in
one process, for our `BertBackbone` as is (`ops.dot_product_attention`, the exact GELU
as `gelu_erf_polynomial`), with the einsum attention instead, with the tanh
approximation of GELU (what keras-hub's BERT uses; BERT's checkpoints were trained with
erf), with the exact GELU from XLA's erf op (what ours used before), and keras-hub's
backbone. Not run in CI (it needs a GPU); run from the repository root:

    KERAS_BACKEND=jax python benchmarks/gpu_variants.py [--tiny]
"""

import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402

import keras_bert.kernels.dispatch as dispatch  # noqa: E402
import keras_bert.ops.activations as act  # noqa: E402
from benchmarks import gpu_jax as g  # noqa: E402


def gelu_xla_erf(x):
    """The exact GELU from XLA's erf op (`jax.nn.gelu`): what `gelu_exact` was on JAX."""
    return keras.activations.gelu(x, approximate=False)


def run(label, batch, seq, steps=30):
    dt = g.keras_inference("hub" if label == "keras-hub" else "ours", batch, seq, steps)
    flops = g.flops_per_sequence(seq, g.BASE, False) * batch / dt / 1e12
    print(f"{label:28s} b{batch} s{seq}: {batch / dt:9.0f} seq/s {flops:6.1f} TFLOP/s", flush=True)


if "--tiny" in sys.argv:
    g.use_tiny_shapes()  # To check the script on a CPU.
fused = dispatch.FUSED_ATTENTION
for batch, seq in [(b, s) for kind, b, s in g.CASES if kind == "inference"]:
    dispatch.FUSED_ATTENTION = fused
    run("ours (fused attention)", batch, seq)
    dispatch.FUSED_ATTENTION = ()
    run("ours (einsum attention)", batch, seq)
    dispatch.FUSED_ATTENTION = fused
    exact = act.gelu_exact
    act.gelu_exact = act.gelu_tanh
    run("ours (tanh gelu, info)", batch, seq)
    act.gelu_exact = gelu_xla_erf
    run("ours (XLA erf gelu, before)", batch, seq)
    act.gelu_exact = exact
    run("keras-hub", batch, seq)
    run("ours (fused, again)", batch, seq)

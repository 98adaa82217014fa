"""Where our encoder's GPU time goes: BERT-base bf16 inference on Keras's JAX backend, in
one process, for our `BertBackbone` as is (`ops.dot_product_attention`, exact erf GELU),
with the einsum attention instead, with the tanh approximation of GELU (what keras-hub's
BERT uses; BERT's checkpoints were trained with erf), and keras-hub's backbone. Not run in
CI (it needs a GPU); run from the repository root:

    KERAS_BACKEND=jax python benchmarks/gpu_variants.py
"""
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("KERAS_BACKEND", "jax")
from benchmarks import gpu_jax as g  # noqa: E402
import keras_bert.layers.activations as act  # noqa: E402
import keras_bert.layers.transformer_encoder as te  # noqa: E402


def run(label, batch, seq, steps=30):
    dt = g.keras_inference("hub" if label == "keras-hub" else "ours", batch, seq, steps)
    flops = g.flops_per_sequence(seq, g.BASE, False) * batch / dt / 1e12
    print(f"{label:28s} b{batch} s{seq}: {batch/dt:9.0f} seq/s {flops:6.1f} TFLOP/s", flush=True)


fused = te.FUSED_ATTENTION
for batch, seq in ((64, 128), (16, 512)):
    te.FUSED_ATTENTION = fused
    run("ours (fused attention)", batch, seq)
    te.FUSED_ATTENTION = ()
    run("ours (einsum attention)", batch, seq)
    te.FUSED_ATTENTION = fused
    exact = act.gelu_exact
    act.gelu_exact = act.gelu_tanh
    run("ours (tanh gelu, info)", batch, seq)
    act.gelu_exact = exact
    run("keras-hub", batch, seq)
    run("ours (fused, again)", batch, seq)

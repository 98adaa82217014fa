"""Attention's padding mask on GPUs: a mask tensor (what ours passes to
`ops.dot_product_attention`), key lengths (cuDNN's padding mode, through
`jax.nn.dot_product_attention(key_value_seq_lengths=...)`), or no mask (a bound: right
only when nothing is padded). BERT-base bf16 inference on Keras's JAX backend, every
token real, in one process. A probe for the next change, not the product: key lengths
describe right padding only, so ours cannot use them unchecked. Not run in CI:

    KERAS_BACKEND=jax python benchmarks/gpu_mask_probe.py [--tiny]
"""
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("KERAS_BACKEND", "jax")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from keras import ops as kops  # noqa: E402

from benchmarks import gpu_jax as g  # noqa: E402
import keras_bert.layers.transformer_encoder as te  # noqa: E402

IMPL = None if "--tiny" in sys.argv else "cudnn"


class Shim:
    def __init__(self, mode):
        self.mode = mode

    def __getattr__(self, name):
        return getattr(kops, name)

    def dot_product_attention(self, q, k, v, mask=None, scale=None):
        if self.mode == "nomask":
            return kops.dot_product_attention(q, k, v, scale=scale)
        lengths = jnp.sum(mask[:, 0, 0, :].astype(jnp.int32), axis=-1)
        return jax.nn.dot_product_attention(q, k, v, scale=scale, implementation=IMPL,
                                            key_value_seq_lengths=lengths)


def run(label, batch, seq, steps=30):
    try:
        dt = g.keras_inference("ours", batch, seq, steps)
        print(f"{label:28s} b{batch} s{seq}: {batch/dt:9.0f} seq/s", flush=True)
    except Exception as e:  # noqa: BLE001
        print(f"{label:28s} b{batch} s{seq}: failed {type(e).__name__}: {str(e)[:300]}")


if "--tiny" in sys.argv:
    g.use_tiny_shapes()
for batch, seq in [(b, s) for kind, b, s in g.CASES if kind == "inference"][::-1]:
    te.ops = kops
    run("ours (mask tensor)", batch, seq)
    te.ops = Shim("lengths")
    run("ours (key lengths)", batch, seq)
    te.ops = Shim("nomask")
    run("ours (no mask, bound)", batch, seq)
    te.ops = kops
    run("ours (mask, again)", batch, seq)

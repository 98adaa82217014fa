"""Attention's padding mask on GPUs, BERT-base bf16 inference on Keras's JAX backend, in
one process, each variant of `keras_bert.layers.fused_attention` swapped in turn:
- ours: key lengths (cuDNN's padding mode) when every row is a non-empty prefix, else
  the mask tensor, chosen per batch by `jax.lax.cond`;
- the mask tensor always (ours before the key-lengths path);
- key lengths unchecked (what the prefix check and the cond cost);
- no mask (a bound: right only when nothing is padded).
Two kinds of batch: every token real, and right-padded to random lengths between a
quarter of the sequence and all of it (as a tokenized corpus is). Not run in CI:

    KERAS_BACKEND=jax python benchmarks/gpu_mask_probe.py [--tiny]
"""
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from benchmarks import gpu_jax as g  # noqa: E402
from keras_bert.layers import fused_attention as fa  # noqa: E402

OURS = fa._jax_attention
VARIANTS = {
    "ours (checked key lengths)": OURS,
    "mask tensor": fa._masked_attention,
    "key lengths, unchecked": lambda q, k, v, keep, scale: fa._jax_by_lengths(
        q, k, v, fa.prefix_lengths(keep[:, 0, 0, :])[0], scale),
    "no mask (bound)": lambda q, k, v, keep, scale: ops.dot_product_attention(
        q, k, v, scale=scale),
}
ALL_REAL = g.random_batch


def right_padded(batch, seq, seed=0):
    features = ALL_REAL(batch, seq, seed)
    lengths = np.random.default_rng(seed + 1).integers(seq // 4, seq + 1, batch)
    features["padding_mask"] = (np.arange(seq) < lengths[:, None]).astype("int32")
    return features


def run(label, batch, seq, steps=30):
    try:
        dt = g.keras_inference("ours", batch, seq, steps)
        print(f"{label:40s} b{batch} s{seq}: {batch / dt:9.0f} seq/s", flush=True)
    except Exception as e:  # noqa: BLE001
        print(f"{label:40s} b{batch} s{seq}: failed {type(e).__name__}: {str(e)[:300]}")


if "--tiny" in sys.argv:
    g.use_tiny_shapes()
for batch, seq in [(b, s) for kind, b, s in g.CASES if kind == "inference"][::-1]:
    for padding, make in (("all real", ALL_REAL), ("right-padded", right_padded)):
        g.random_batch = make
        for name, variant in [*VARIANTS.items(), ("ours, again", OURS)]:
            if padding == "right-padded" and name.startswith("no mask"):
                continue  # not the same computation
            fa._jax_attention = variant
            run(f"{padding}: {name}", batch, seq)
fa._jax_attention = OURS
g.random_batch = ALL_REAL

"""Attention's padding mask on GPUs, BERT-base bf16 inference on Keras's JAX backend, in
one process, each variant of `keras_bert.kernels.fused_attention` swapped in turn:
- ours: key lengths (cuDNN's padding mode) when every row is a non-empty prefix, else
  the mask tensor, chosen per batch by `jax.lax.cond`;
- the mask tensor always (ours before the key-lengths path);
- key lengths unchecked (what the prefix check and the cond cost; wrong on masks that
  are not prefixes);
- key lengths after moving every row's real keys first (a stable argsort of the mask,
  then a gather of keys and values: exact for any mask with a real key, no cond; an
  alternative to the cond, which XLA runs on GPUs by copying its predicate to the host);
- no mask (a bound: right only when nothing is padded).
Before timing, each variant's attention is compared with the mask tensor's on random
right-padded and left-padded masks (the largest difference is printed).
Two kinds of batch: every token real, and right-padded to random lengths between a
quarter of the sequence and all of it (as a tokenized corpus is). Not run in CI:

    KERAS_BACKEND=jax python benchmarks/gpu_mask_probe.py [--tiny]
"""

import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("KERAS_BACKEND", "jax")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from benchmarks import gpu_jax as g  # noqa: E402
from keras_bert.kernels import fused_attention as fa  # noqa: E402

OURS = fa._jax_attention


def real_keys_first(q, k, v, keep, scale):
    keep = keep[:, 0, 0, :]  # (batch, seq)
    order = jnp.argsort(jnp.logical_not(keep), axis=-1, stable=True)[:, :, None, None]
    k, v = (jnp.take_along_axis(t, order, axis=1) for t in (k, v))
    return fa._jax_by_lengths(q, k, v, fa.prefix_lengths(keep)[0], scale)


VARIANTS = {
    "ours (checked key lengths)": OURS,
    "mask tensor": fa._masked_attention,
    "key lengths, unchecked": lambda q, k, v, keep, scale: fa._jax_by_lengths(
        q, k, v, fa.prefix_lengths(keep[:, 0, 0, :])[0], scale
    ),
    "key lengths, real keys first": real_keys_first,
    "no mask (bound)": lambda q, k, v, keep, scale: ops.dot_product_attention(q, k, v, scale=scale),
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
        print(f"{label:44s} b{batch} s{seq}: {batch / dt:9.0f} seq/s", flush=True)
    except Exception as e:  # noqa: BLE001
        print(f"{label:44s} b{batch} s{seq}: failed {type(e).__name__}: {str(e)[:300]}")


def check(batch=4, seq=64, heads=12, dim=64):
    """Each variant against the mask tensor, on right- and left-padded masks."""
    rng = np.random.default_rng(0)
    dtype = "float32" if "--tiny" in sys.argv else "bfloat16"
    q, k, v = (jnp.asarray(rng.normal(size=(batch, seq, heads, dim)), dtype) for _ in "qkv")
    lengths = rng.integers(1, seq + 1, batch)
    right = np.arange(seq)[None] < lengths[:, None]
    for label, keep in (("right-padded", right), ("left-padded", right[:, ::-1])):
        keep = jnp.asarray(keep)[:, None, None, :]
        want = np.asarray(fa._masked_attention(q, k, v, keep, 0.125), "float32")
        for name, variant in VARIANTS.items():
            if name.startswith("no mask"):
                continue
            got = np.asarray(jax.jit(variant, static_argnums=4)(q, k, v, keep, 0.125), "float32")
            print(f"check {label:12s} {name:30s} max |diff| {np.abs(got - want).max():.2e}")


if "--tiny" in sys.argv:
    g.use_tiny_shapes()
check()
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

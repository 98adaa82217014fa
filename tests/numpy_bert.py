"""An independent NumPy (float64) BERT forward pass over TF1-named weights.

Written from the BERT paper / google-research/bert modeling.py's equations, sharing no
code with keras_bert, so tests can check the Keras model against it.
"""

import math

import numpy as np

_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def random_weights(
    rng, vocab, hidden, layers, intermediate, max_positions=16, type_vocab=2, heads=True, scale=0.5
):
    """TF1-named float32 weights, as Google's checkpoints store them."""

    def r(*shape):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {
        "bert/embeddings/word_embeddings": r(vocab, hidden),
        "bert/embeddings/position_embeddings": r(max_positions, hidden),
        "bert/embeddings/token_type_embeddings": r(type_vocab, hidden),
        "bert/embeddings/LayerNorm/gamma": 1 + r(hidden),
        "bert/embeddings/LayerNorm/beta": r(hidden),
        "bert/pooler/dense/kernel": r(hidden, hidden),
        "bert/pooler/dense/bias": r(hidden),
    }
    for i in range(layers):
        p = f"bert/encoder/layer_{i}"
        for name in (
            "attention/self/query",
            "attention/self/key",
            "attention/self/value",
            "attention/output/dense",
        ):
            w[f"{p}/{name}/kernel"] = r(hidden, hidden)
            w[f"{p}/{name}/bias"] = r(hidden)
        w[f"{p}/intermediate/dense/kernel"] = r(hidden, intermediate)
        w[f"{p}/intermediate/dense/bias"] = r(intermediate)
        w[f"{p}/output/dense/kernel"] = r(intermediate, hidden)
        w[f"{p}/output/dense/bias"] = r(hidden)
        for name in ("attention/output/LayerNorm", "output/LayerNorm"):
            w[f"{p}/{name}/gamma"] = 1 + r(hidden)
            w[f"{p}/{name}/beta"] = r(hidden)
    if heads:
        w["cls/predictions/transform/dense/kernel"] = r(hidden, hidden)
        w["cls/predictions/transform/dense/bias"] = r(hidden)
        w["cls/predictions/transform/LayerNorm/gamma"] = 1 + r(hidden)
        w["cls/predictions/transform/LayerNorm/beta"] = r(hidden)
        w["cls/predictions/output_bias"] = r(vocab)
        w["cls/seq_relationship/output_weights"] = r(2, hidden)
        w["cls/seq_relationship/output_bias"] = r(2)
    return w


def forward(w, token_ids, segment_ids, padding_mask, num_heads, num_layers, causal=False):
    """(sequence_output, pooled_output, [every layer's output]) in float64. With
    `causal`, a left-to-right model (HF's `is_decoder`): query i sees keys j <= i, and
    the pooler reads the last real token instead of the first."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    batch, seq = token_ids.shape
    x = (
        w["bert/embeddings/word_embeddings"][token_ids]
        + w["bert/embeddings/position_embeddings"][:seq][None]
        + w["bert/embeddings/token_type_embeddings"][segment_ids]
    )
    x = layer_norm(x, w["bert/embeddings/LayerNorm/gamma"], w["bert/embeddings/LayerNorm/beta"])
    hidden = x.shape[-1]
    size = hidden // num_heads
    adder = (1.0 - padding_mask[:, None, None, :].astype(np.float64)) * -10000.0
    if causal:
        later = np.arange(seq)[None, :] > np.arange(seq)[:, None]  # (queries, keys)
        adder = adder + later[None, None] * -10000.0
    layers = []
    for i in range(num_layers):
        p = f"bert/encoder/layer_{i}"

        def dense(v, name, p=p):
            return v @ w[f"{p}/{name}/kernel"] + w[f"{p}/{name}/bias"]

        def heads(v):  # [B, T, N, H] -> [B, N, T, H]
            return v.reshape(batch, seq, num_heads, size).transpose(0, 2, 1, 3)

        q, k, v = (heads(dense(x, f"attention/self/{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + adder
        context = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        attention = dense(context, "attention/output/dense")
        x = layer_norm(
            x + attention,
            w[f"{p}/attention/output/LayerNorm/gamma"],
            w[f"{p}/attention/output/LayerNorm/beta"],
        )
        ffn = dense(gelu(dense(x, "intermediate/dense")), "output/dense")
        x = layer_norm(x + ffn, w[f"{p}/output/LayerNorm/gamma"], w[f"{p}/output/LayerNorm/beta"])
        layers.append(x)
    first = x[np.arange(batch), padding_mask.sum(1) - 1] if causal else x[:, 0]
    pooled = np.tanh(first @ w["bert/pooler/dense/kernel"] + w["bert/pooler/dense/bias"])
    return x, pooled, layers


def pretraining_heads(w, sequence_output, pooled_output, mask_positions=None):
    """(mlm_logits [B, P, vocab], nsp_logits [B, 2]) as in run_pretraining.py; without
    `mask_positions`, the LM logits of every position [B, T, vocab]."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    gathered = sequence_output
    if mask_positions is not None:
        gathered = np.take_along_axis(sequence_output, mask_positions[:, :, None], axis=1)
    h = gelu(
        gathered @ w["cls/predictions/transform/dense/kernel"]
        + w["cls/predictions/transform/dense/bias"]
    )
    h = layer_norm(
        h,
        w["cls/predictions/transform/LayerNorm/gamma"],
        w["cls/predictions/transform/LayerNorm/beta"],
    )
    mlm = h @ w["bert/embeddings/word_embeddings"].T + w["cls/predictions/output_bias"]
    nsp = (
        pooled_output @ w["cls/seq_relationship/output_weights"].T
        + w["cls/seq_relationship/output_bias"]
    )
    return mlm, nsp

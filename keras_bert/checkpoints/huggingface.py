"""Hugging Face BERT folders (config.json + model.safetensors), read without torch."""

import os
import re

import numpy as np

# HF names (after an optional `bert.` prefix) -> TF1 names; Linear weights are [out, in].
_RENAMES = [
    (r"embeddings\.word_embeddings\.weight", "bert/embeddings/word_embeddings"),
    (r"embeddings\.position_embeddings\.weight", "bert/embeddings/position_embeddings"),
    (r"embeddings\.token_type_embeddings\.weight", "bert/embeddings/token_type_embeddings"),
    (r"embeddings\.LayerNorm\.(weight|gamma)", "bert/embeddings/LayerNorm/gamma"),
    (r"embeddings\.LayerNorm\.(bias|beta)", "bert/embeddings/LayerNorm/beta"),
    (
        r"encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.(weight|bias)",
        r"bert/encoder/layer_\1/attention/self/\2/\3",
    ),
    (
        r"encoder\.layer\.(\d+)\.attention\.output\.dense\.(weight|bias)",
        r"bert/encoder/layer_\1/attention/output/dense/\2",
    ),
    (
        r"encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.(weight|bias|gamma|beta)",
        r"bert/encoder/layer_\1/attention/output/LayerNorm/\2",
    ),
    (
        r"encoder\.layer\.(\d+)\.intermediate\.dense\.(weight|bias)",
        r"bert/encoder/layer_\1/intermediate/dense/\2",
    ),
    (
        r"encoder\.layer\.(\d+)\.output\.dense\.(weight|bias)",
        r"bert/encoder/layer_\1/output/dense/\2",
    ),
    (
        r"encoder\.layer\.(\d+)\.output\.LayerNorm\.(weight|bias|gamma|beta)",
        r"bert/encoder/layer_\1/output/LayerNorm/\2",
    ),
    (r"pooler\.dense\.(weight|bias)", r"bert/pooler/dense/\1"),
    (r"cls\.predictions\.transform\.dense\.(weight|bias)", r"cls/predictions/transform/dense/\1"),
    (
        r"cls\.predictions\.transform\.LayerNorm\.(weight|bias|gamma|beta)",
        r"cls/predictions/transform/LayerNorm/\1",
    ),
    (r"cls\.predictions\.bias", "cls/predictions/output_bias"),
    (r"cls\.seq_relationship\.weight", "cls/seq_relationship/output_weights"),
    (r"cls\.seq_relationship\.bias", "cls/seq_relationship/output_bias"),
]
# Buffers and tied copies that carry no weights of their own.
_IGNORED = re.compile(r"(embeddings\.position_ids|cls\.predictions\.decoder\.(weight|bias))$")
_LEAF = {"weight": "kernel", "bias": "bias"}
_NORM_LEAF = {"weight": "gamma", "bias": "beta", "gamma": "gamma", "beta": "beta"}


def has_weights(directory):
    return os.path.exists(os.path.join(directory, "model.safetensors"))


def check_loadable(directory):
    """Raises a helpful error for a folder with only PyTorch pickles."""
    for name in ("pytorch_model.bin", "tf_model.h5"):
        if os.path.exists(os.path.join(directory, name)) and not has_weights(directory):
            raise ValueError(
                f"{directory}: only {name} is present; keras_bert reads model.safetensors "
                "(no torch needed). Convert it once with torch installed: "
                '`python -c "import torch, safetensors.torch as st; '
                f"st.save_file(torch.load('{name}'), 'model.safetensors')\"` "
                "or `transformers`' save_pretrained(..., safe_serialization=True)."
            )


def _tf1_name(hf_name):
    """(tf1_name, needs_transpose) for an HF tensor name, or (None, False)."""
    for pattern, replacement in _RENAMES:
        match = re.fullmatch(pattern, hf_name)
        if not match:
            continue
        name = match.expand(replacement)
        head, _, leaf = name.rpartition("/")
        if "LayerNorm" in head:
            return f"{head}/{_NORM_LEAF[leaf]}", False
        if leaf in _LEAF:  # A torch Linear: weight [out, in] -> kernel [in, out].
            return f"{head}/{_LEAF[leaf]}", leaf == "weight"
        return name, False  # Embedding tables, output_bias, output_weights ([2, H]).
    return None, False


def read_weights(directory):
    """{tf1_name: numpy array} from model.safetensors; unknown tensors are an error."""
    from safetensors.numpy import load_file

    path = os.path.join(directory, "model.safetensors")
    try:
        tensors = load_file(path)
    except Exception as e:  # safetensors raises its own error type without the path.
        raise ValueError(
            f"{path}: cannot read the safetensors file ({e}); is it truncated or corrupt?"
        ) from None
    weights, unknown = {}, []
    for hf_name, value in tensors.items():
        bare = hf_name[len("bert.") :] if hf_name.startswith("bert.") else hf_name
        if _IGNORED.search(bare):
            continue
        name, transpose = _tf1_name(bare)
        if name is None:
            unknown.append(hf_name)
            continue
        value = np.asarray(value, dtype=np.float32)
        if transpose:
            value = value.T
        weights[name] = value
    if unknown:
        raise ValueError(f"{path}: tensors with no BERT counterpart: {', '.join(unknown[:12])}")
    return weights

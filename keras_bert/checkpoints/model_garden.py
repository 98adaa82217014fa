"""TF Model Garden `BertEncoder` checkpoints (object-based, tf.train.Checkpoint).

Needs the `tfm` extra (tf-models-official). It runs on tf_keras (Keras 2), so it is
imported here only, lazily: its encoder restores the checkpoint, and its variables are
renamed to the TF1 names, with the per-head attention kernels reshaped to [H, H].
"""

import re

import numpy as np

_PROBE = "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"
_RENAMES = [
    (r"word_embeddings/embeddings", "bert/embeddings/word_embeddings"),
    (r"position_embedding/embeddings", "bert/embeddings/position_embeddings"),
    (r"type_embeddings/embeddings", "bert/embeddings/token_type_embeddings"),
    (r"embeddings/layer_norm/(gamma|beta)", r"bert/embeddings/LayerNorm/\1"),
    (
        r"transformer/layer_(\d+)/self_attention/(query|key|value)/(kernel|bias)",
        r"bert/encoder/layer_\1/attention/self/\2/\3",
    ),
    (
        r"transformer/layer_(\d+)/self_attention/attention_output/(kernel|bias)",
        r"bert/encoder/layer_\1/attention/output/dense/\2",
    ),
    (
        r"transformer/layer_(\d+)/self_attention_layer_norm/(gamma|beta)",
        r"bert/encoder/layer_\1/attention/output/LayerNorm/\2",
    ),
    (
        r"transformer/layer_(\d+)/intermediate/(kernel|bias)",
        r"bert/encoder/layer_\1/intermediate/dense/\2",
    ),
    (r"transformer/layer_(\d+)/output/(kernel|bias)", r"bert/encoder/layer_\1/output/dense/\2"),
    (
        r"transformer/layer_(\d+)/output_layer_norm/(gamma|beta)",
        r"bert/encoder/layer_\1/output/LayerNorm/\2",
    ),
    (r"pooler_transform/(kernel|bias)", r"bert/pooler/dense/\1"),
]


def _import_tfm():
    try:
        from official.nlp.modeling import networks
    except ImportError:
        raise ImportError(
            "Reading Model Garden checkpoints needs the `tfm` extra: "
            "pip install 'keras-bert-zoo[tfm]' (tf-models-official~=2.20.0)."
        ) from None
    return networks


def _encoder_path(prefix):
    """The object path of the encoder inside the checkpoint, e.g. ['encoder']."""
    import tensorflow as tf  # lazily: the model itself runs without TensorFlow

    for name, _ in tf.train.list_variables(prefix):
        if name.endswith(_PROBE):
            return name[: -len(_PROBE)].strip("/").split("/")
    raise ValueError(f"{prefix}: no BertEncoder found in this TF2 checkpoint.")


def _tf1_name(name, value, hidden):
    name = name.split(":")[0]
    for pattern, replacement in _RENAMES:
        if re.fullmatch(pattern, name):
            # Per-head layouts [H, heads, d], [heads, d] and [heads, d, H] -> [H, H], [H].
            if value.ndim == 3:
                value = value.reshape(hidden, hidden)
            elif value.ndim == 2 and "self_attention/" in name and name.endswith("bias"):
                value = value.reshape(hidden)
            return re.sub(pattern, replacement, name), value
    raise ValueError(f"Model Garden variable {name!r} has no BERT counterpart.")


def read_weights(prefix, config):
    """{tf1_name: numpy array} from a Model Garden checkpoint described by `config`
    (BertBackbone arguments); fails when the checkpoint does not fill the encoder."""
    import tensorflow as tf  # lazily: the model itself runs without TensorFlow

    networks = _import_tfm()
    encoder = networks.BertEncoder(
        vocab_size=config["vocabulary_size"],
        hidden_size=config["hidden_dim"],
        num_layers=config["num_layers"],
        num_attention_heads=config["num_heads"],
        max_sequence_length=config.get("max_sequence_length", 512),
        type_vocab_size=config.get("num_segments", 2),
        inner_dim=config["intermediate_dim"],
    )
    ids = tf.zeros((1, 1), tf.int32)
    encoder(dict(input_word_ids=ids, input_mask=ids, input_type_ids=ids))
    root = encoder
    for part in reversed(_encoder_path(prefix)):
        root = tf.train.Checkpoint(**{part: root})
    try:
        root.read(prefix).assert_existing_objects_matched().expect_partial()
    except (AssertionError, ValueError) as e:
        raise ValueError(f"{prefix}: does not match the config's encoder: {e}") from None
    except (tf.errors.OpError, IndexError) as e:
        message = getattr(e, "message", None) or str(e)
        raise ValueError(
            f"{prefix}: cannot read the checkpoint ({message.splitlines()[0]}); "
            "are its .index and .data-* files complete?"
        ) from None
    weights = {}
    for variable in encoder.weights:
        name, value = _tf1_name(variable.name, variable.numpy(), config["hidden_dim"])
        weights[name] = np.asarray(value, np.float32)
    return weights

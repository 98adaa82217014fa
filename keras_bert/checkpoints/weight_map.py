"""The one name table: TF1 BERT variable names <-> our Keras variables.

Every checkpoint format is read into a dict of numpy arrays under the original Google
TF1 names, then assigned here; writers go the other way. TF1 dense kernels are
[in, out] like Keras; `cls/seq_relationship/output_weights` is [out, in].
"""

import numpy as np

# Task heads in Google's checkpoints: `cls/...` (pretraining, SQuAD) and the top-level
# `output_weights`/`output_bias` of run_classifier.py. A model without such a head
# ignores them (an encoder loads from a pretraining or fine-tuned checkpoint).
HEADS_PREFIX = "cls/"
TOP_LEVEL_HEAD_NAMES = ("output_weights", "output_bias")


def is_head_name(name):
    return name.startswith(HEADS_PREFIX) or name in TOP_LEVEL_HEAD_NAMES


def _dense(prefix, layer):
    return {f"{prefix}/kernel": (layer.kernel, False), f"{prefix}/bias": (layer.bias, False)}


def _layer_norm(prefix, layer):
    return {f"{prefix}/gamma": (layer.gamma, False), f"{prefix}/beta": (layer.beta, False)}


def _join(prefix, name):
    return f"{prefix}/{name}" if prefix else name


def head_variables(prefix, layer):
    """{tf1_name: (variable, transposed)} of one task head stored under `prefix`.

    A masked-LM head (anything with `transform_dense`) keeps Google's
    `transform/{dense,LayerNorm}` + `output_bias`; any other head is one dense layer
    (the layer, or its `dense`) stored as `output_weights` `[out, in]` + `output_bias`,
    as run_pretraining.py (NSP), run_classifier.py (prefix "") and run_squad.py do.
    """
    if hasattr(layer, "transform_dense"):
        return {
            **_dense(_join(prefix, "transform/dense"), layer.transform_dense),
            **_layer_norm(_join(prefix, "transform/LayerNorm"), layer.layer_norm),
            _join(prefix, "output_bias"): (layer.output_bias, False),
        }
    dense = getattr(layer, "dense", layer)
    return {
        _join(prefix, "output_weights"): (dense.kernel, True),
        _join(prefix, "output_bias"): (dense.bias, False),
    }


def model_parts(model, heads=None):
    """(backbone, heads map) of a backbone or a task model (`checkpoint_heads()`)."""
    if heads is None and hasattr(model, "checkpoint_heads"):
        heads = model.checkpoint_heads()
    return getattr(model, "backbone", model), dict(heads or {})


def variable_map(backbone, heads=None):
    """{tf1_name: (keras variable, transposed)} for a backbone and its heads.

    Args:
        backbone: BertBackbone.
        heads: dict, `{tf1_prefix: layer}` of task heads, e.g. `{"cls/predictions":
            mlm_head, "cls/seq_relationship": nsp_head}` or `{"": classifier_dense}`.
    """
    emb = backbone.embeddings
    table = {
        "bert/embeddings/word_embeddings": (emb.token_embedding.embeddings, False),
        "bert/embeddings/position_embeddings": (emb.position_embeddings, False),
        "bert/embeddings/token_type_embeddings": (emb.segment_embedding.embeddings, False),
        **_layer_norm("bert/embeddings/LayerNorm", emb.layer_norm),
        **_dense("bert/pooler/dense", backbone.pooler_dense),
    }
    for i, block in enumerate(backbone.encoder_layers):
        p = f"bert/encoder/layer_{i}"
        table.update(_dense(f"{p}/attention/self/query", block.query_dense))
        table.update(_dense(f"{p}/attention/self/key", block.key_dense))
        table.update(_dense(f"{p}/attention/self/value", block.value_dense))
        table.update(_dense(f"{p}/attention/output/dense", block.attention_output_dense))
        table.update(_layer_norm(f"{p}/attention/output/LayerNorm", block.attention_layer_norm))
        table.update(_dense(f"{p}/intermediate/dense", block.intermediate_dense))
        table.update(_dense(f"{p}/output/dense", block.output_dense))
        table.update(_layer_norm(f"{p}/output/LayerNorm", block.output_layer_norm))
    for prefix, layer in (heads or {}).items():
        table.update(head_variables(prefix, layer))
    return table


def _listing(names, limit=12):
    names = sorted(names)
    more = f" ... and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def assign(weights, model, heads=None, source="checkpoint"):
    """Assigns TF1-named numpy arrays; fails loudly, naming variables, on any mismatch.

    `model` is a backbone or a task model (whose `checkpoint_heads()` are loaded too);
    `heads` overrides them. Task-head variables in the checkpoint that the model has no
    head for are allowed to go unused (loading an encoder from a pretraining or
    fine-tuned checkpoint); anything else unused is an error.
    """
    backbone, heads = model_parts(model, heads)
    table = variable_map(backbone, heads)
    missing = set(table) - set(weights)
    if missing:
        raise ValueError(f"{source}: missing variable(s): {_listing(missing)}")
    unexpected = {name for name in set(weights) - set(table) if not is_head_name(name)}
    if unexpected:
        raise ValueError(
            f"{source}: unexpected variable(s) the model has no place for (is the "
            f"config right?): {_listing(unexpected)}"
        )
    mismatched = []
    for name, (variable, transposed) in table.items():
        value = np.asarray(weights[name])
        value = value.T if transposed else value
        if tuple(value.shape) != tuple(variable.shape):
            mismatched.append(
                f"{name}: checkpoint {tuple(value.shape)} vs model {tuple(variable.shape)}"
            )
    if mismatched:
        raise ValueError(
            f"{source}: shape mismatch (the config disagrees with the weights): "
            + "; ".join(mismatched[:12])
        )
    for name, (variable, transposed) in table.items():
        value = np.asarray(weights[name])
        variable.assign(value.T if transposed else value)


def extract(model, heads=None):
    """{tf1_name: numpy array} of a backbone's (or task model's) current weights."""
    out = {}
    for name, (variable, transposed) in variable_map(*model_parts(model, heads)).items():
        value = np.asarray(variable.numpy(), dtype=np.float32)
        out[name] = value.T if transposed else value
    return out

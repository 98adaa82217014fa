"""The one name table: TF1 BERT variable names <-> our Keras variables.

Every checkpoint format is read into a dict of numpy arrays under the original Google
TF1 names, then assigned here; writers go the other way. TF1 dense kernels are
[in, out] like Keras; `cls/seq_relationship/output_weights` is [out, in].
"""

import numpy as np

HEADS_PREFIX = "cls/"


def _dense(prefix, layer):
    return {f"{prefix}/kernel": (layer.kernel, False), f"{prefix}/bias": (layer.bias, False)}


def _layer_norm(prefix, layer):
    return {f"{prefix}/gamma": (layer.gamma, False), f"{prefix}/beta": (layer.beta, False)}


def variable_map(backbone, mlm_head=None, nsp_head=None):
    """{tf1_name: (keras variable, transposed)} for a backbone and optional heads."""
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
        table.update(_layer_norm(f"{p}/attention/output/LayerNorm",
                                 block.attention_layer_norm))
        table.update(_dense(f"{p}/intermediate/dense", block.intermediate_dense))
        table.update(_dense(f"{p}/output/dense", block.output_dense))
        table.update(_layer_norm(f"{p}/output/LayerNorm", block.output_layer_norm))
    if mlm_head is not None:
        table.update(_dense("cls/predictions/transform/dense", mlm_head.transform_dense))
        table.update(_layer_norm("cls/predictions/transform/LayerNorm", mlm_head.layer_norm))
        table["cls/predictions/output_bias"] = (mlm_head.output_bias, False)
    if nsp_head is not None:
        table["cls/seq_relationship/output_weights"] = (nsp_head.dense.kernel, True)
        table["cls/seq_relationship/output_bias"] = (nsp_head.dense.bias, False)
    return table


def _listing(names, limit=12):
    names = sorted(names)
    more = f" ... and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def assign(weights, backbone, mlm_head=None, nsp_head=None, source="checkpoint"):
    """Assigns TF1-named numpy arrays; fails loudly, naming variables, on any mismatch.

    Pretraining-head variables (`cls/...`) in the checkpoint are allowed to go unused
    when no head is passed (loading just the encoder); anything else unused is an error.
    """
    table = variable_map(backbone, mlm_head, nsp_head)
    missing = set(table) - set(weights)
    if missing:
        raise ValueError(f"{source}: missing variable(s): {_listing(missing)}")
    unexpected = {
        name for name in set(weights) - set(table)
        if not (name.startswith(HEADS_PREFIX) and (mlm_head is None or nsp_head is None))
    }
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


def extract(backbone, mlm_head=None, nsp_head=None):
    """{tf1_name: numpy array} of a backbone's (and heads') current weights."""
    out = {}
    for name, (variable, transposed) in variable_map(backbone, mlm_head, nsp_head).items():
        value = np.asarray(variable.numpy(), dtype=np.float32)
        out[name] = value.T if transposed else value
    return out

"""`bert_config.json` / HF `config.json` <-> BertBackbone constructor arguments."""

import json
import os

# config-file key -> backbone argument
_KEYS = {
    "vocab_size": "vocabulary_size",
    "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_heads",
    "hidden_size": "hidden_dim",
    "intermediate_size": "intermediate_dim",
    "hidden_dropout_prob": "dropout",
    "attention_probs_dropout_prob": "attention_dropout",
    "max_position_embeddings": "max_sequence_length",
    "type_vocab_size": "num_segments",
    "hidden_act": "activation",
    "initializer_range": "initializer_range",
    "layer_norm_eps": "layer_norm_epsilon",
    "is_decoder": "causal",  # Hugging Face's flag for a left-to-right (causal) BERT.
}
_REQUIRED = (
    "vocab_size",
    "num_hidden_layers",
    "num_attention_heads",
    "hidden_size",
    "intermediate_size",
)
# Arguments that decide the shapes of the weights (a mismatch is never a "default").
STRUCTURAL = (
    "vocabulary_size",
    "num_layers",
    "num_heads",
    "hidden_dim",
    "intermediate_dim",
    "max_sequence_length",
    "num_segments",
)


def backbone_kwargs(config, source="config"):
    """Maps a BERT config dict to BertBackbone arguments; `source` names it in errors."""
    missing = [key for key in _REQUIRED if key not in config]
    if missing:
        raise ValueError(f"{source}: missing required key(s) {', '.join(missing)}.")
    embedding_type = config.get("position_embedding_type", "absolute")
    if embedding_type != "absolute":
        raise ValueError(
            f"{source}: position_embedding_type={embedding_type!r} is not supported "
            "(only BERT's learned absolute positions)."
        )
    if config.get("model_type", "bert") != "bert":
        raise ValueError(f"{source}: model_type={config['model_type']!r} is not 'bert'.")
    kwargs = {arg: config[key] for key, arg in _KEYS.items() if key in config}
    if kwargs["hidden_dim"] % kwargs["num_heads"]:
        raise ValueError(
            f"{source}: hidden_size {kwargs['hidden_dim']} is not divisible by "
            f"num_attention_heads {kwargs['num_heads']}."
        )
    return kwargs


def bert_config(backbone, **extra):
    """The `bert_config.json` dict (Google's key names) describing a backbone."""
    values = {
        "vocabulary_size": backbone.vocabulary_size,
        "num_layers": backbone.num_layers,
        "num_heads": backbone.num_heads,
        "hidden_dim": backbone.hidden_dim,
        "intermediate_dim": backbone.intermediate_dim,
        "dropout": backbone.dropout,
        "attention_dropout": backbone.attention_dropout,
        "max_sequence_length": backbone.max_sequence_length,
        "num_segments": backbone.num_segments,
        "activation": backbone.activation,
        "initializer_range": backbone.initializer_range,
        "layer_norm_epsilon": backbone.layer_norm_epsilon,
        "causal": backbone.causal,
    }
    config = {key: values[arg] for key, arg in _KEYS.items()}
    if not config["is_decoder"]:
        del config["is_decoder"]  # BERT's own files: Google's keys only.
    config.update(extra)
    return config


def read_json(path):
    """Reads a JSON object, naming the file in any error."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object.")
    return value


def find_config(directory):
    """The path of a checkpoint folder's config (bert_config.json or config.json)."""
    for name in ("bert_config.json", "config.json"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(
        f"{directory}: no bert_config.json or config.json (a BERT checkpoint folder needs one)."
    )


def check_agrees(expected, actual, expected_source, actual_source):
    """Raises when two backbone configs disagree on anything that shapes the weights."""
    diffs = [
        f"{arg}: {expected.get(arg)} vs {actual.get(arg)}"
        for arg in STRUCTURAL
        if arg in expected and arg in actual and expected[arg] != actual[arg]
    ]
    if diffs:
        raise ValueError(f"{expected_source} and {actual_source} disagree: " + "; ".join(diffs))

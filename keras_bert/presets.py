"""Architecture presets: BERT-base/large and the 24 small BERTs (Turc et al., 2019).

Every preset uses the uncased English WordPiece vocabulary size (30522), 512 positions
and 2 segment types, like the released checkpoints. `PARAMETER_COUNTS` are the
originals' figures (encoder + pooler, no pretraining heads); tests assert them.
"""

_COMMON = {
    "vocabulary_size": 30522,
    "max_sequence_length": 512,
    "num_segments": 2,
    "dropout": 0.1,
    "activation": "gelu",
}


def _preset(num_layers, hidden_dim, num_heads=None, intermediate_dim=None):
    return dict(
        _COMMON,
        num_layers=num_layers,
        hidden_dim=hidden_dim,
        num_heads=num_heads or hidden_dim // 64,
        intermediate_dim=intermediate_dim or 4 * hidden_dim,
    )


PRESETS = {
    "tiny": _preset(2, 128),
    "mini": _preset(4, 256),
    "small": _preset(4, 512),
    "medium": _preset(8, 512),
    "base": _preset(12, 768),
    "large": _preset(24, 1024, num_heads=16),
}
# The small-BERT grid, named like the released folders (uncased_L-4_H-256_A-4 etc.).
for _layers in (2, 4, 6, 8, 10, 12):
    for _hidden in (128, 256, 512, 768):
        PRESETS[f"L-{_layers}_H-{_hidden}"] = _preset(_layers, _hidden)

PARAMETER_COUNTS = {
    "base": 109_482_240,
    "large": 335_141_888,
}


def get_preset(name):
    """Returns a copy of a preset's backbone config; unknown names list the valid ones."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}. Valid presets: {', '.join(sorted(PRESETS))}.")
    return dict(PRESETS[name])

"""`assets.extra/model_card.json`: what an export is, written beside it. TF Serving
ignores `assets.extra/` (apart from its warm-up file), so the card travels with every
copy of the version folder without changing what is served. `keras-bert inspect` prints
it."""

import datetime
import hashlib
import json
import os

CARD_FILE = os.path.join("assets.extra", "model_card.json")
# The exports' answers equal the Keras model's within this (tests/test_export.py).
PARITY_TOLERANCE = 1e-5


def _package_version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _signature(function):
    """{"inputs": {name: {dtype, shape}}, "outputs": [names]} of a concrete function."""
    args, kwargs = function.structured_input_signature
    specs = list(args) + list(kwargs.values())
    inputs = {
        spec.name: {"dtype": spec.dtype.name, "shape": [d for d in spec.shape.as_list()]}
        for spec in specs
    }
    return {"inputs": inputs, "outputs": sorted(function.structured_outputs)}


def _sha256(folder):
    """The sha256 of the vocabulary among an export's assets (None without one)."""
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.startswith("vocab"):
            with open(os.path.join(folder, name), "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()
    return None


def model_card(version_dir, model, preprocessor, signatures, **extra):
    """The card's dict for an export being written in `version_dir`.

    Args:
        version_dir: str, the version folder (its assets/ are written already).
        model: the exported task model (or backbone).
        preprocessor: its `BertPreprocessor`.
        signatures: {name: concrete function}, the export's signatures.
        **extra: what the caller knows besides (the run, its weights, its metrics).
    """
    import keras
    import tensorflow as tf

    from keras_bert.tasks.registry import task_name

    backbone = getattr(model, "backbone", model)
    tokenizer = preprocessor.tokenizer
    return {
        "task": task_name(model),
        "model_class": type(model).__name__,
        "label_names": getattr(model, "label_names", None),
        "sequence_length": preprocessor.sequence_length,
        "lowercase": tokenizer.lowercase,
        "vocabulary": {
            "size": tokenizer.vocabulary_size,
            "sha256": _sha256(os.path.join(version_dir, "assets")),
        },
        "encoder": {
            name: getattr(backbone, name)
            for name in (
                "num_layers",
                "hidden_dim",
                "num_heads",
                "intermediate_dim",
                "max_sequence_length",
                "causal",
            )
        },  # fmt: skip
        "signatures": {name: _signature(f) for name, f in sorted(signatures.items())},
        "parity_tolerance": PARITY_TOLERANCE,
        "versions": {
            "keras_bert": _package_version("keras-bert-zoo"),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def write_model_card(version_dir, card):
    path = os.path.join(version_dir, CARD_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2, default=str)
    return path


def read_model_card(path):
    """The card of an export: `path` is a version folder, or a model's base path (its
    newest version)."""
    if not os.path.isfile(os.path.join(path, CARD_FILE)):
        numbered = [n for n in os.listdir(path) if n.isdigit()] if os.path.isdir(path) else []
        if numbered:
            path = os.path.join(path, max(numbered, key=int))
    card = os.path.join(path, CARD_FILE)
    if not os.path.isfile(card):
        raise FileNotFoundError(f"{path}: no {CARD_FILE} (not a keras-bert export, or older)")
    with open(card, encoding="utf-8") as f:
        return json.load(f)

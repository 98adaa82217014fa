"""A fine-tuning run folder's model, preprocessing and settings, for evaluate/predict.

Layout written by `finetune`: `run.json` (data source, label names, sequence length,
metrics), `vocab/` (vocab.txt + do_lower_case), `best.keras` (best on validation) and
`model.keras` (last), `results.json`, `checkpoints/`, `logs/`.
"""

import json
import math
import os
import shutil

import numpy as np

from keras_bert.cli.common import UsageError, log, save_atomically


def write_run_files(out, run, tokenizer):
    """Writes run.json and the vocabulary (with its casing) into the run folder."""
    vocab = os.path.join(out, "vocab")
    os.makedirs(vocab, exist_ok=True)
    shutil.copyfile(tokenizer.vocabulary_path, os.path.join(vocab, "vocab.txt"))
    with open(os.path.join(vocab, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"do_lower_case": tokenizer.lowercase}, f)
    write_json(os.path.join(out, "run.json"), run)


def _checkpoint(run_dir):
    """The last checkpoint's model file of a run still training ([] when none)."""
    try:
        with open(os.path.join(run_dir, "checkpoints", "state.json"), encoding="utf-8") as f:
            name = json.load(f).get("model", "latest.keras")
    except (OSError, ValueError, AttributeError):
        return []
    return [os.path.join(run_dir, "checkpoints", name)]


def write_json(path, value):
    """`value` as JSON, atomically; NaN and infinities become null (JSON has no such
    numbers, and a file with a bare NaN token is not JSON)."""

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_finite(value), f, indent=2, allow_nan=False)
            f.write("\n")

    save_atomically(write, path)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def read_run(run_dir):
    """The run's settings (run.json); a missing or damaged file is a UsageError naming it."""
    path = os.path.join(run_dir, "run.json")
    if not os.path.isfile(path):
        raise UsageError(f"{run_dir}: not a fine-tuning run folder (no run.json)")
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: unreadable ({e}); the run folder is damaged") from None
    missing = [k for k in ("data", "sequence_length") if not isinstance(run, dict) or k not in run]
    if missing:
        raise UsageError(
            f"{path}: not a run description (no {', '.join(missing)}); the run folder is damaged"
        )
    return run


def _load_model(run_dir):
    """The run's best model, else its last, else its latest checkpoint: the first that
    loads (a damaged file is named, and the next one tried)."""
    import keras

    candidates = [os.path.join(run_dir, n) for n in ("best.keras", "model.keras")]
    candidates = [p for p in candidates + _checkpoint(run_dir) if os.path.isfile(p)]
    if not candidates:
        raise UsageError(f"{run_dir}: holds no trained model yet")
    for model_path in candidates:
        try:
            model = keras.saving.load_model(model_path)
        except Exception as e:  # Keras reports a damaged zip as "file not found".
            log(f"{model_path} cannot be loaded ({type(e).__name__}: damaged?)")
            continue
        log(f"loaded {model_path}")
        return model
    raise UsageError(
        f"{run_dir}: no model file loads ({', '.join(candidates)}): the run "
        "folder is damaged; fine-tune again"
    )


def load_run(run_dir, int8=False):
    """(model, preprocessor, run) of a finished (or running) fine-tuning run folder;
    `int8` quantizes the encoder for CPU inference (`keras_bert.quantize_int8`)."""
    import keras_bert  # (also registers the classes .keras files name)
    from keras_bert.cli.tokenizers import folder_tokenizer
    from pipelines import BertPreprocessor

    run = read_run(run_dir)
    model = _load_model(run_dir)
    if int8:
        keras_bert.quantize_int8(model)
        log("encoder quantized to int8 (inference only)")
    preprocessor = BertPreprocessor(
        folder_tokenizer(os.path.join(run_dir, "vocab")),
        sequence_length=run["sequence_length"],
        num_segments=model.backbone.num_segments,
    )
    return model, preprocessor, run


def predict(model, preprocessor, examples, batch_size=32, frozen=False, features=None):
    """Raw outputs (logits, or scores) for `TextExamples`, in their order. With `frozen`
    (`evaluate`, `predict`: the weights no longer change) through
    `keras_bert.FrozenInference`, whose bfloat16 and int8 kernels keep their weights
    and which runs rows grouped by length (each batch padded to its longest row).
    `features`: the examples' `example_features`, when already made."""
    if features is None:
        features = example_features(preprocessor, examples, batch_size)
    runner = frozen_inference(model) if frozen else model
    return np.asarray(runner.predict(features, batch_size=batch_size, verbose=0))


def example_features(preprocessor, examples, batch_size=32):
    """The packed features of `TextExamples`, in their order, as one dict of arrays
    (each (examples, sequence_length)); {} for no examples."""
    from pipelines.packed_examples import packed_arrays

    return packed_arrays(preprocessor, examples.texts, max(batch_size, 256))


def calibration(run_dir):
    """results.json's `calibration` (the fitted temperature, ECE and likelihood before
    and after) of a run folder; None when the run has none (or no results yet)."""
    path = os.path.join(run_dir or "", "results.json")
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f).get("calibration")
    except (OSError, ValueError, AttributeError):
        return None
    temperature = (value or {}).get("temperature") if isinstance(value, dict) else None
    if temperature is not None and not (isinstance(temperature, (int, float)) and temperature > 0):
        raise UsageError(
            f"{path}: calibration temperature {temperature!r} is not a positive number"
        )
    return value if temperature is not None else None


def frozen_inference(model):
    """`keras_bert.FrozenInference(model)`: the model's inference (with a Keras-like
    `predict`) on a snapshot of its weights, for commands that no longer change them."""
    import keras_bert

    return keras_bert.FrozenInference(model)


def model_inputs(arrays):
    """The backbone inputs among a dict of prepared arrays (windows, choices, ...)."""
    return {k: arrays[k] for k in ("token_ids", "segment_ids", "padding_mask")}


def decide(outputs, label_names):
    """Class ids (argmax) for classification; the scores themselves for regression."""
    return outputs if label_names is None else outputs.argmax(-1)


def probabilities(logits):
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)

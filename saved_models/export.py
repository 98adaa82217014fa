"""`export`: a task model and its preprocessing as a TF Serving version folder."""

import os
import re
import shutil
import tempfile

import tensorflow as tf

from keras_bert.kernels import switches
from saved_models.model_card import model_card, write_model_card
from saved_models.serving_files import write_warmup
from saved_models.serving_module import ServingModule


def versions(export_dir):
    """The integer version folders under `export_dir`, sorted."""
    if not os.path.isdir(export_dir):
        return []
    return sorted(int(n) for n in os.listdir(export_dir) if re.fullmatch(r"\d+", n))


def export(
    model,
    preprocessor,
    export_dir,
    version=None,
    segments=1,
    windower=None,
    model_name="model",
    card=None,
    pad_to_longest=True,
    **decoding,
):
    """Writes `export_dir/<version>/` (saved_model.pb, variables/, assets/ with the
    vocabulary) for TF Serving and returns its path.

    Without `version`, the next free integer. An existing version is never
    overwritten. The version is written to a temporary folder beside it and renamed
    into place, so a crash never leaves a half-written version a server would load.
    Its folders get the mode the umask gives any new folder (0755 under the usual
    022), so a server running as another user can read it.

    Args:
        model: a keras_bert task model or BertBackbone.
        preprocessor: pipelines.BertPreprocessor used in training.
        export_dir: str, the model's base path (TF Serving's `base_path`).
        version: int or None.
        segments: int, text inputs of a classifier or encoder (2 for pairs).
        windower: pipelines.SquadWindower, for a span extractor.
        model_name: str, the name TF Serving serves it under (warm-up requests name it).
        card: dict or None, more for `assets.extra/model_card.json` (the run, its
            starting weights, its validation metrics); the card always says what the
            export is (`saved_models.model_card`).
        pad_to_longest: bool, raw-text requests padded to each batch's longest row
            (rounded up to a multiple of 8), not to the sequence length; the same
            replies for less work (`ServingModule`).
        **decoding: SQuAD decoding options (`n_best_size`, `max_answer_length`,
            `null_threshold`), NER's `max_entities`, and the `temperature` and
            `min_confidence` of classification and multiple choice and a classifier's
            `long_documents` windows, see `ServingModule`.

    Example:
    >>> import keras_bert, tempfile
    >>> from pipelines import BertPreprocessor
    >>> pre = BertPreprocessor.from_vocab("tests/data/vocab.txt", lowercase=True,
    ...                                   sequence_length=16)
    >>> model = keras_bert.build("tiny", task="classification", num_classes=2,
    ...                          vocabulary_size=71, num_layers=1, hidden_dim=6,
    ...                          num_heads=2, intermediate_dim=10, max_sequence_length=16)
    >>> path = export(model, pre, tempfile.mkdtemp())
    >>> os.path.basename(path), sorted(os.listdir(path))
    ('1', ['assets', 'assets.extra', 'fingerprint.pb', 'saved_model.pb', 'variables'])
    """
    _refuse_int8(model)
    if version is None:
        version = (versions(export_dir) or [0])[-1] + 1
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer, not {version!r}.")
    target = os.path.join(export_dir, str(version))
    if os.path.exists(target):
        raise ValueError(
            f"{target} exists: versions are never overwritten (TF Serving may "
            "be serving it); pick another version."
        )
    created = not os.path.exists(export_dir)
    os.makedirs(export_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{version}.tmp-", dir=export_dir)
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would hide it from a server
        # running as another user (TF Serving in a pod with runAsNonRoot).
        # Standard TensorFlow ops only (no oneDNN-only kernels): any TF Serving loads it.
        with switches.portable():
            module = ServingModule(
                model, preprocessor, segments, windower, pad_to_longest=pad_to_longest, **decoding
            )
            signatures = module.signatures()
            tf.saved_model.save(module, staging, signatures=signatures)
        write_warmup(staging, module.example_requests(), model_name)
        described = model_card(
            staging,
            model,
            preprocessor,
            signatures,
            padding="batch_longest_multiple_of_8" if pad_to_longest else "sequence_length",
            temperature=module.temperature,
            min_confidence=module.min_confidence,
            long_documents=module.long_documents,
            **(card or {}),
        )
        write_model_card(staging, described)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not os.listdir(export_dir):  # A refused first export leaves no
            os.rmdir(export_dir)  # empty folder behind (another writer's files are kept).
        raise
    return target


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _refuse_int8(model):
    """An int8 encoder runs on oneDNN-only kernels that TF Serving's builds may lack:
    refused before anything is written."""
    for layer in model._flatten_layers(include_self=True):
        if getattr(layer, "quantization", None) == "int8":
            raise ValueError(
                f"{model.name}: its encoder {layer.name} is quantized to int8, which runs "
                "on oneDNN-only kernels that TF Serving may lack; export the float32 model "
                "(before keras_bert.quantize_int8)."
            )

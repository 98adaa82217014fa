"""Exports any server can read (folder modes from the umask, not mkdtemp's 0700) and whose
signatures check what they are fed: a server passes any shape through, so a wrong one
gets an error that names the input and the shape expected, never a deep op's."""

import os
import stat

import pytest

import keras_bert
from pipelines import BertPreprocessor
from saved_models import export
from tests.test_export import (  # noqa: F401  (fixtures)
    SEQ,
    TINY,
    shared_exports,
    vocabulary,
)


def _served(tmp_path, vocabulary, model, segments=1):  # noqa: F811
    import tensorflow as tf

    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    path = export(model, pre, str(tmp_path / "export"), segments=segments)
    return path, tf.saved_model.load(path).signatures


def test_an_export_is_readable_by_other_users(tmp_path, vocabulary):  # noqa: F811
    model = keras_bert.build("tiny", task="classification", num_classes=2, **TINY)
    previous = os.umask(0o022)
    try:
        path, _ = _served(tmp_path, vocabulary, model)
    finally:
        os.umask(previous)
    for folder, _, files in os.walk(path):
        mode = stat.S_IMODE(os.stat(folder).st_mode)
        assert mode & 0o005 == 0o005, (folder, oct(mode))  # others may list and enter
        for name in files:
            assert os.stat(os.path.join(folder, name)).st_mode & 0o004, name


def test_text_of_the_wrong_rank_is_named(shared_exports):  # noqa: F811
    import tensorflow as tf

    _, _, path = shared_exports(2, 2, ["neg", "pos"])
    served = tf.saved_model.load(path).signatures["serving_default"]
    for text in (tf.constant([["a dog", "a cat"]]), tf.constant("a dog")):
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"text_must_be_1D_batch(.|\n)*not compatible with expected "
            r"shape \[\?\]",
        ):
            served(text=text, text_pair=tf.constant(["x"]))
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="text and text_pair must have one batch size"
    ):
        served(text=tf.constant(["a", "b"]), text_pair=tf.constant(["c"]))
    assert served(text=tf.constant(["a"]), text_pair=tf.constant(["b"]))["probabilities"].shape == (
        1,
        2,
    )


def test_token_ids_of_different_shapes_are_named(shared_exports):  # noqa: F811
    import tensorflow as tf

    _, _, path = shared_exports(2, 2, ["neg", "pos"])  # The text signature's export.
    served = tf.saved_model.load(path).signatures["serve_token_ids"]
    ones = tf.ones([2, SEQ], tf.int32)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="token_ids and segment_ids must have one shape"
    ):
        served(token_ids=ones, segment_ids=tf.ones([2, SEQ - 3], tf.int32), padding_mask=ones)
    with pytest.raises(tf.errors.InvalidArgumentError, match="padding_mask_must_be_2D"):
        served(token_ids=ones, segment_ids=ones, padding_mask=tf.ones([2], tf.int32))
    assert served(token_ids=ones, segment_ids=ones, padding_mask=ones)["logits"].shape == (2, 2)


def test_swag_endings_must_be_batch_by_choices(tmp_path, vocabulary):  # noqa: F811
    import tensorflow as tf

    model = keras_bert.build("tiny", task="multiple_choice", num_choices=3, **TINY)
    _, signatures = _served(tmp_path, vocabulary, model)
    served = signatures["serving_default"]
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"endings_must_be_2D_batch_by_3(.|\n)*\[2,2\] is not compatible",
    ):
        served(context=tf.constant(["a", "b"]), endings=tf.constant([["x", "y"]] * 2))
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="context and endings must have one batch size"
    ):
        served(context=tf.constant(["a"]), endings=tf.constant([["x", "y", "z"]] * 2))
    assert served(context=tf.constant(["a"]), endings=tf.constant([["x", "y", "z"]]))[
        "label_id"
    ].shape == (1,)

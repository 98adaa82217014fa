"""Paying for real tokens: an export pads each request batch to its longest row, and
`FrozenInference.predict` (evaluate, predict) groups rows by length; both answer as the
fixed-length padding does, on every task family (exports called in a fresh process)."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert.inference.length_groups import batch_width, row_lengths
from pipelines import BertPreprocessor, BertTokenizer
from pipelines.packing import trim_padding
from pipelines.squad_windows import SquadWindower
from saved_models import export
from saved_models.serving_module import ServingModule
from tests.serving_checks import call_in_fresh_process
from tests.test_export import vocabulary  # noqa: F401 (a fixture)
from tests.tiny import tiny

SEQ = 40
TINY = tiny(vocabulary_size=71, num_layers=1, max_sequence_length=SEQ, dropout=0.0)
SHORT = ["dog", "The quick brown fox.", "", "the stock price fell in Istanbul today"]
PAIRS = ["a lazy dog", "news", "the stock price fell", "good day"]
WORDS = "the quick brown fox jump over the lazy dog news market day good bad stock".split()
MANY = [" ".join(WORDS[: (7 * i) % 16]) for i in range(37)]


def _reference_width(mask, multiple=8):
    """NumPy: one past the last real token of any row, rounded up, capped."""
    mask = np.asarray(mask)
    mask = mask.reshape(len(mask), int(np.prod(mask.shape[1:-1])), mask.shape[-1])
    ends = [max([i + 1 for i in np.flatnonzero(row)] or [0]) for rows in mask for row in rows]
    longest = max(ends + [1])
    return min(mask.shape[-1], multiple * int(np.ceil(longest / multiple)))


@pytest.mark.parametrize(
    "ends,shape",
    [([3, 1, 0], (3, 12)), ([12, 2], (2, 12)), ([8], (1, 12)), ([], (0, 12)), ([5, 9], (2, 20))],
)
def test_trim_padding_cuts_to_the_longest_row_rounded_up(ends, shape):
    mask = (np.arange(shape[1]) < np.array(ends, int)[:, None]).astype("int32").reshape(shape)
    if len(ends) > 1:
        mask[0, 0] = 0  # a leading hole: the length is one past the last real token
    features = {
        "padding_mask": tf.constant(mask),
        "token_ids": tf.constant(mask * 7),
        "token_starts": tf.constant(mask - 1),
        "example_index": tf.range(shape[0]),
    }
    got = trim_padding(features)
    width = _reference_width(mask)
    assert got["padding_mask"].shape == (shape[0], width)
    np.testing.assert_array_equal(got["token_ids"], mask[:, :width] * 7)
    np.testing.assert_array_equal(got["token_starts"], mask[:, :width] - 1)
    assert got["example_index"] is features["example_index"]
    assert batch_width(row_lengths(mask), shape[1]) == width


def test_trim_padding_of_choices_uses_the_longest_choice():
    mask = np.zeros((2, 3, 24), "int32")
    mask[1, 2, :11] = 1
    got = trim_padding({"padding_mask": tf.constant(mask)})
    assert got["padding_mask"].shape == (2, 3, 16)
    np.testing.assert_array_equal(row_lengths(mask), [0, 11])


def _ragged_inputs(rng, rows, shape_tail):
    lengths = rng.integers(1, SEQ + 1, (rows, *shape_tail))
    mask = (np.arange(SEQ) < lengths[..., None]).astype("int32")
    return {
        "token_ids": (rng.integers(1, 70, mask.shape) * mask).astype("int32"),
        "segment_ids": ((np.arange(SEQ) > lengths[..., None] // 2) * mask).astype("int32"),
        "padding_mask": mask,
    }


@pytest.mark.parametrize(
    "task,options",
    [
        (None, {}),
        ("classification", {"num_classes": 3}),
        ("classification", {"num_classes": 2, "causal": True}),
        ("token_classification", {"num_classes": 5}),
        ("question_answering", {}),
        ("multiple_choice", {"num_choices": 3}),
    ],
)
def test_frozen_predict_by_length_equals_fixed_padding_in_input_order(task, options):
    model = keras_bert.build("tiny", task=task, **TINY, **options)
    frozen = keras_bert.FrozenInference(model)
    inputs = _ragged_inputs(np.random.default_rng(1), 13, (3,) if task == "multiple_choice" else ())
    grouped = frozen.predict(inputs, batch_size=4, fill_value=-7.0)
    fixed = [
        frozen({k: v[i : i + 4] for k, v in inputs.items()}) for i in range(0, 13, 4)
    ]  # every batch at SEQ, in the input order
    fixed = tf.nest.map_structure(lambda *p: np.concatenate([np.asarray(x) for x in p]), *fixed)
    mask = inputs["padding_mask"].astype(bool)
    order = np.argsort(row_lengths(mask), kind="stable")
    widths = [batch_width(row_lengths(mask[order[i : i + 4]]), SEQ) for i in range(0, 13, 4)]
    assert min(widths) < SEQ  # some batch ran shorter
    for got, want in zip(tf.nest.flatten(grouped), tf.nest.flatten(fixed)):
        assert got.shape == want.shape
        if want.ndim >= 2 and want.shape[1] == SEQ:  # per token: real positions equal
            real = mask if want.ndim == 2 else mask[..., None].repeat(want.shape[-1], -1)
            np.testing.assert_allclose(got[real], want[real], atol=1e-5)
        else:
            np.testing.assert_allclose(got, want, atol=1e-5)
    if task == "token_classification":  # past the shortest batch's width: the fill value
        assert np.all(grouped[order[:4]][:, widths[0] :] == -7.0)


def _family(name, vocabulary):  # noqa: F811
    """(model, export options, request) of one task family."""
    tokenizer = BertTokenizer(vocabulary, lowercase=True)
    if name == "classification":  # 37 rows of many lengths: three groups of 16, reordered
        model = keras_bert.build("tiny", task="classification", num_classes=3, **TINY)
        return model, {"segments": 2}, {"text": MANY, "text_pair": MANY[::-1]}
    if name == "embedding":
        return keras_bert.build("tiny", task="embedding", **TINY), {}, {"text": MANY}
    if name == "encoder":
        return keras_bert.build("tiny", **TINY), {}, {"text": SHORT}
    if name == "multiple_choice":
        model = keras_bert.build("tiny", task="multiple_choice", num_choices=2, **TINY)
        return model, {}, {"context": PAIRS, "endings": [[a, b] for a, b in zip(SHORT, PAIRS)]}
    if name == "squad":  # n best >= SEQ: the n-best lists hold every candidate either way
        model = keras_bert.build("tiny", task="question_answering", **TINY)
        windower = SquadWindower(tokenizer, sequence_length=SEQ, max_query_length=6, doc_stride=8)
        options = {"windower": windower, "n_best_size": SEQ, "null_threshold": 0.0}
        return model, options, {"question": PAIRS, "context": SHORT}
    names = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    model = keras_bert.build(
        "tiny", task="token_classification", num_classes=5, label_names=names, **TINY
    )
    model.get_layer("token_logits").bias.assign(np.array([0, 1, 1, 1, 1], "float32"))
    return model, {}, {"text": SHORT}


def _fixed_reply(model, pre, options, request):
    """The reply with every batch padded to the sequence length (the raw-text step run
    in this process, eagerly), as lists of Python values."""
    options = dict(options)
    module = ServingModule(
        model, pre, options.pop("segments", 1), options.pop("windower", None),
        pad_to_longest=False, **options,
    )  # fmt: skip
    specs, run = module._step
    reply = run(module, *[tf.constant(request[spec.name]) for spec in specs])
    return {
        k: np.vectorize(lambda b: b.decode(), otypes=[object])(v.numpy()).tolist()
        if v.dtype == tf.string
        else v.numpy()
        for k, v in reply.items()
    }


@pytest.mark.parametrize(
    "family", ["classification", "embedding", "encoder", "multiple_choice", "squad", "ner"]
)
def test_export_padded_to_the_longest_row_answers_as_fixed_padding(
    tmp_path,
    vocabulary,  # noqa: F811
    family,
):
    model, options, request = _family(family, vocabulary)
    pre = BertPreprocessor.from_vocab(vocabulary, lowercase=True, sequence_length=SEQ)
    path = export(model, pre, str(tmp_path / "export"), **options)
    fixed = _fixed_reply(model, pre, options, request)
    shutil.rmtree(os.path.dirname(vocabulary))
    shorter = call_in_fresh_process(path, {"serving_default": request}, str(tmp_path))
    shorter = shorter["serving_default"]
    assert set(shorter) == set(fixed)
    for name, want in fixed.items():
        got = shorter[name]
        if family == "encoder" and name == "sequence_output":
            got = np.asarray(got)
            assert got.shape == want.shape == (len(SHORT), SEQ, TINY["hidden_dim"])
            # The longest request is 10 pieces with [CLS] and [SEP]: the batch ran at 16.
            np.testing.assert_allclose(got[:, :10], want[:, :10], atol=1e-5)
            assert np.all(got[:, 16:] == 0) and np.any(want[:, 16:] != 0)
        elif isinstance(want, list):
            assert got == want, name
        else:
            np.testing.assert_allclose(got, want, atol=1e-5, err_msg=name)

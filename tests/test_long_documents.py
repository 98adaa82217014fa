"""Long documents as overlapping windows: the windows against a pure-Python reference,
the aggregation against NumPy, and end to end a classifier whose label is decided at
the end of each text (past the first window), through finetune, evaluate, predict and
an export called on raw text."""

import json
import os
import random

import numpy as np
import pytest
import tensorflow as tf

from keras_bert import cli
from pipelines import BertPreprocessor
from pipelines.classification import classification_dataset
from pipelines.document_windows import aggregate, document_windows, window_arrays
from pipelines.text_table import TextExamples
from tests.conftest import DATA
from tests.serving_checks import call_in_fresh_process
from tests.test_cli_finetune import checkpoint, run_args  # noqa: F401 (a fixture)

VOCAB = os.path.join(DATA, "vocab.txt")
CLS, SEP, PAD = 2, 3, 0


def _reference_windows(ids, sequence_length, stride):
    """[(document, window pieces)] by the definition: starts 0, stride, ... until a
    window reaches the document's end."""
    content = sequence_length - 2
    out = []
    for doc, pieces in enumerate(ids):
        start = 0
        while True:
            out.append((doc, pieces[start : start + content]))
            if start + content >= len(pieces):
                break
            start += stride
    return out


@pytest.mark.parametrize("sequence_length,stride", [(7, 1), (7, 3), (7, 5), (12, 4), (9, 7)])
def test_windows_cover_every_piece_as_the_reference_does(sequence_length, stride):
    rng = random.Random(sequence_length * 10 + stride)
    ids = [[rng.randrange(5, 70) for _ in range(n)] for n in (0, 1, 5, 6, 13, 31, 4)]
    features, owner = document_windows(
        tf.ragged.constant(ids, dtype=tf.int32), sequence_length, stride, CLS, SEP, PAD
    )
    want = _reference_windows(ids, sequence_length, stride)
    assert owner.numpy().tolist() == [doc for doc, _ in want]
    for row, (_, pieces) in enumerate(want):
        packed = [CLS, *pieces, SEP]
        padded = packed + [PAD] * (sequence_length - len(packed))
        assert features["token_ids"][row].numpy().tolist() == padded
        assert features["padding_mask"][row].numpy().tolist() == [1] * len(packed) + [0] * (
            sequence_length - len(packed)
        )
        assert not features["segment_ids"][row].numpy().any()
    # The first window of each document is the truncated input of today's packing.
    pre = BertPreprocessor.from_vocab(VOCAB, lowercase=True, sequence_length=sequence_length)
    text = tf.constant(["the quick brown fox jump over the lazy dog " * 3, "dog"])
    windows, owner = window_arrays(pre, [t.decode() for t in text.numpy()], stride)
    first = np.searchsorted(owner, [0, 1])
    np.testing.assert_array_equal(windows["token_ids"][first], pre(text)["token_ids"])


def test_a_bad_stride_is_named():
    with pytest.raises(ValueError, match=r"stride must be in \[1, 5\]"):
        document_windows(tf.ragged.constant([[5]]), 7, 6, CLS, SEP, PAD)


@pytest.mark.parametrize("how", ["mean", "max"])
def test_aggregate_equals_numpy(how):
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=(9, 3)).astype("float32")
    owner = np.array([0, 0, 1, 2, 2, 2, 3, 4, 4])
    got = aggregate(tf.constant(outputs), tf.constant(owner), 5, how).numpy()
    reduce = np.mean if how == "mean" else np.max
    want = np.stack([reduce(outputs[owner == d], axis=0) for d in range(5)])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="mean, max"):
        aggregate(tf.constant(outputs), tf.constant(owner), 5, "sum")


def test_training_windows_carry_their_documents_label():
    pre = BertPreprocessor.from_vocab(VOCAB, lowercase=True, sequence_length=8)
    texts = ["the dog " * n for n in (1, 4, 9, 2, 7)]
    examples = TextExamples([texts], [0, 1, 0, 1, 1], ["a", "b", "c", "d", "e"], ["x", "y"], "m")
    _, owner = window_arrays(pre, texts, 3)
    data = classification_dataset(examples, pre, 4, shuffle=True, seed=1, windows_stride=3)
    seen = [
        (tuple(features["token_ids"][i].numpy()), int(label[i]))
        for features, label in data
        for i in range(len(label))
    ]
    windows, _ = window_arrays(pre, texts, 3)
    want = sorted(
        (tuple(row), examples.labels[doc]) for row, doc in zip(windows["token_ids"], owner)
    )
    assert sorted(seen) == want and len(seen) == len(owner) > len(texts)


FILLER = "the quick brown fox jump over the lazy dog and the cat a day"  # 14 pieces


def _long_table(path, rows, seed):
    """Texts whose label is decided by their last words, after 14 filler pieces (the
    whole first window at --seq-len 16)."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for _ in range(rows):
            label = rng.choice(["good", "bad"])
            ending = "stock price rose good" if label == "good" else "market fell bad news"
            f.write(f"{FILLER} {ending}\t{label}\n")
    return str(path)


@pytest.fixture(scope="module")
def windowed_run(tmp_path_factory, checkpoint):  # noqa: F811
    folder = tmp_path_factory.mktemp("long")
    train = _long_table(folder / "train.tsv", 64, 0)
    dev = _long_table(folder / "dev.tsv", 12, 1)
    args = run_args(train, dev, checkpoint, folder / "run", "--verbose", "0", "--epochs", "8")
    assert cli.main([*args, "--long-documents", "windows", "--doc-stride", "7"]) == 0
    return folder


def test_windows_read_what_truncation_cannot(windowed_run, tmp_path, capsys):
    run = str(windowed_run / "run")
    results = json.loads(open(os.path.join(run, "results.json")).read())
    settings = json.loads(open(os.path.join(run, "run.json")).read())["long_documents"]
    assert settings == {"stride": 7, "aggregate": "mean", "train": "all"}
    assert results["validation"]["accuracy"] == 1.0  # the ending is in a later window
    capsys.readouterr()
    assert cli.main(["evaluate", run, "--long-documents", "truncate"]) == 0
    truncated = json.loads(capsys.readouterr().out)["metrics"]["accuracy"]
    assert truncated < 0.9  # the first 14 pieces are filler in every text

    # predict (NumPy's mean over windows) and the export (the graph's) agree.
    texts = [
        f"{FILLER} stock price rose good",
        f"{FILLER} market fell bad news",
        f"{FILLER} {FILLER} {FILLER} stock price rose good",  # four windows
        "good",
        "",  # one window: [CLS] [SEP]
        "bad " + "the dog " * 12_500,  # 100,004 characters: 3,572 windows
    ]
    assert cli.main(["predict", run, "--jsonl", *texts]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in rows[:2]] == ["good", "bad"]
    want = np.array([[r["probabilities"][n] for n in ("bad", "good")] for r in rows])
    assert cli.main(["export", run, "--out", str(tmp_path / "export")]) == 0
    path = capsys.readouterr().out.strip()
    card = json.loads(open(os.path.join(path, "assets.extra", "model_card.json")).read())
    assert card["long_documents"] == settings
    requests = {"serving_default": {"text": texts}}
    reply = call_in_fresh_process(path, requests, str(tmp_path))["serving_default"]
    np.testing.assert_allclose(reply["probabilities"], want, atol=1e-5)
    empty = call_in_fresh_process(path, {"serving_default": {"text": []}}, str(tmp_path))
    assert empty["serving_default"]["probabilities"] == []
    # The max over windows instead of the mean: the flag overrides the run's setting in
    # predict and export alike.
    assert cli.main(["predict", run, "--jsonl", "--window-aggregate", "max", *texts]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_max = np.array([[r["probabilities"][n] for n in ("bad", "good")] for r in rows])
    assert np.abs(by_max - want).max() > 1e-3
    out = str(tmp_path / "export-max")
    assert cli.main(["export", run, "--out", out, "--window-aggregate", "max"]) == 0
    path = capsys.readouterr().out.strip()
    reply = call_in_fresh_process(path, requests, str(tmp_path))["serving_default"]
    np.testing.assert_allclose(reply["probabilities"], by_max, atol=1e-5)


def test_window_flags_are_checked(windowed_run, checkpoint, tmp_path, capsys):  # noqa: F811
    run = str(windowed_run / "run")
    assert cli.main(["evaluate", run, "--doc-stride", "15"]) == 2
    assert "--doc-stride 15 is more than a window holds (14" in capsys.readouterr().err
    train = _long_table(tmp_path / "t.tsv", 8, 2)
    pairs = [*run_args(train, train, checkpoint, tmp_path / "pairs"), "--long-documents"]
    pairs += ["windows", "--text-pair-column", "text"]
    assert cli.main(pairs) == 2
    assert "needs one text segment" in capsys.readouterr().err

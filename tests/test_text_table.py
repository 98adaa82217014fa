"""Your own files: TSV, CSV and JSONL with named columns; bad rows named by line."""

import json
import os

import numpy as np
import pytest

from pipelines import BertPreprocessor
from pipelines.classification import (
    batch_count,
    bucket_shapes,
    classification_dataset,
    default_buckets,
)
from pipelines.packed_examples import PackedExamples
from pipelines.text_folders import folder_examples
from pipelines.text_table import read_examples


def test_csv_with_quoted_commas_and_newlines(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('text,label\n"Hello, world",pos\n"two\nlines",neg\nplain,pos\n')
    examples = read_examples(str(path), ["text"], "label")
    assert examples.texts == [["Hello, world", "two\nlines", "plain"]]
    assert examples.label_names == ("neg", "pos") and examples.labels == [1, 0, 1]


def test_jsonl_pairs_with_numeric_labels_in_numeric_order(tmp_path):
    path = tmp_path / "data.jsonl"
    rows = [
        {"a": "x one", "b": "y one", "label": 10},
        {"a": "x two", "b": "y two", "label": 9},
        {"a": "x three", "b": "y three", "label": 2},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    examples = read_examples(str(path), ["a", "b"], "label")
    assert examples.label_names == ("2", "9", "10") and examples.labels == [2, 1, 0]
    assert examples.texts[1] == ["y one", "y two", "y three"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("text\tlabel\nfine\tpos\nnot fine\n", r"data\.tsv:3: expected 2 columns \(text, label\)"),
        ("text\tlabel\nfine\tpos\n \tneg\n", r"data\.tsv:3: empty text in column 'text'"),
        ("text\tscore\nfine\t0.5\nbad\tn/a\n", r"data\.tsv:3: score 'n/a' is not a number"),
    ],
)
def test_bad_rows_are_errors_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "data.tsv"
    path.write_text(content)
    regression = "score" in content
    label = "score" if regression else "label"
    with pytest.raises(ValueError, match=message):
        read_examples(str(path), ["text"], label, regression=regression)
    skipped = read_examples(str(path), ["text"], label, regression=regression, on_error="skip")
    assert len(skipped) == 1 and skipped.skipped == 1


def test_label_outside_the_given_set_and_missing_column(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("text\tlabel\nfine\tpos\nodd\tmaybe\n")
    with pytest.raises(ValueError, match=r"data\.tsv:3: label 'maybe' is not one of neg, pos"):
        read_examples(str(path), ["text"], "label", label_names=["neg", "pos"])
    with pytest.raises(ValueError, match=r"data\.tsv:2: no column 'sentence'"):
        read_examples(str(path), ["sentence"], "label")
    with pytest.raises(ValueError, match="unknown format 'txt'"):
        read_examples(str(tmp_path / "data.txt"), ["text"])


def _examples(tmp_path, n=41):
    rng = np.random.default_rng(0)
    words = ["the", "dog", "cat", "quick", "brown", "fox", "jump", "over", "lazy"]
    lines = ["text\tlabel"] + [
        " ".join(rng.choice(words, rng.integers(1, 40))) + f"\t{i % 3}" for i in range(n)
    ]
    (tmp_path / "d.tsv").write_text("\n".join(lines) + "\n")
    return read_examples(str(tmp_path / "d.tsv"), ["text"], "label")


def test_buckets_pad_to_boundaries_and_keep_every_example(tmp_path, vocab_path):
    examples = _examples(tmp_path)
    pre = BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=48)
    assert default_buckets(48) == [32, 48] and default_buckets(128) == [32, 48, 64, 96, 128]
    assert default_buckets(512)[-4:] == [192, 256, 384, 512] and default_buckets(100)[-1] == 100
    bucketed = classification_dataset(examples, pre, 4, bucket_lengths=[16, 32, 48])
    assert set(bucket_shapes(bucketed)) <= {16, 32, 48} and len(set(bucket_shapes(bucketed))) > 1
    seen = []
    for features, labels in bucketed:
        real = features["padding_mask"].numpy().sum(1)
        length = features["token_ids"].shape[1]
        assert real.max() <= length and (length == 16 or real.max() > {32: 16, 48: 32}[length])
        for ids, n, label in zip(features["token_ids"].numpy(), real, labels.numpy()):
            seen.append((tuple(ids[:n]), int(label)))
    full = classification_dataset(examples, pre, 4)
    expected = []
    for features, labels in full:
        for ids, mask, label in zip(
            features["token_ids"].numpy(), features["padding_mask"].numpy(), labels.numpy()
        ):
            expected.append((tuple(ids[: mask.sum()]), int(label)))
    assert sorted(seen) == sorted(expected) and len(seen) == len(examples)


def test_bucketed_batches_give_the_same_logits(tmp_path, vocab_path):
    import keras_bert
    from tests.task_checks import TINY

    examples = _examples(tmp_path, n=9)
    pre = BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=48)
    model = keras_bert.build(
        "tiny",
        task="classification",
        num_classes=3,
        **dict(TINY, vocabulary_size=pre.tokenizer.vocabulary_size, max_sequence_length=48),
    )
    padded = model.predict(classification_dataset(examples, pre, 3), verbose=0)
    order, logits = [], []
    for features, _ in classification_dataset(examples, pre, 3, bucket_lengths=[16, 32, 48]):
        logits.append(model.predict(features, verbose=0))
        order += [tuple(r) for r in features["token_ids"].numpy()[:, :10]]
    full_order = [
        tuple(r)
        for features, _ in classification_dataset(examples, pre, 3)
        for r in features["token_ids"].numpy()[:, :10]
    ]
    index = [full_order.index(key) for key in order]
    np.testing.assert_allclose(np.concatenate(logits), padded[index], atol=1e-5)


def test_unlabelled_examples_and_shuffling_are_seeded(tmp_path, vocab_path):
    examples = _examples(tmp_path)
    unlabelled = read_examples(str(tmp_path / "d.tsv"), ["text"])
    pre = BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=48)
    batch = next(iter(classification_dataset(unlabelled, pre, 4)))
    assert len(batch) == 1 and batch[0]["token_ids"].shape == (4, 48)

    def first_labels(seed):
        data = classification_dataset(examples, pre, 8, shuffle=True, seed=seed)
        return next(iter(data))[1].numpy().tolist()

    assert first_labels(3) == first_labels(3)
    assert first_labels(3) != [i % 3 for i in range(8)]  # File order, unshuffled.


def test_examples_packed_once_give_the_same_batches(tmp_path, vocab_path):
    """A run packs its training texts once (`PackedExamples`) and makes every epoch's
    dataset from them: the same batches, in the same order, as tokenizing in the
    dataset; `batch_count` counts them without making them."""
    examples = _examples(tmp_path, n=23)
    pairs = type(examples)(
        [examples.texts[0], examples.texts[0][::-1]],
        examples.labels,
        examples.ids,
        examples.label_names,
        examples.source,
    )
    pre = BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=48)
    for texts, options in [
        (examples, dict(bucket_lengths=[16, 32, 48], shuffle=True, seed=5)),
        (pairs, dict(bucket_lengths=[16, 32, 48], drop_remainder=True)),
        (pairs, dict(shuffle=True, seed=2)),
        (examples, dict(drop_remainder=True)),
    ]:
        packed = PackedExamples.pack(texts, pre, chunk=5)  # Chunks join in order.
        assert len(packed) == len(texts) == len(packed.lengths)
        expected = list(classification_dataset(texts, pre, 4, **options).as_numpy_iterator())
        got = list(classification_dataset(packed, pre, 4, **options).as_numpy_iterator())
        assert len(got) == len(expected) > 3
        for (features, labels), (want, want_labels) in zip(got, expected):
            np.testing.assert_array_equal(labels, want_labels)
            assert sorted(features) == sorted(want)
            for name in want:
                assert features[name].dtype == want[name].dtype
                np.testing.assert_array_equal(features[name], want[name])
        count = batch_count(
            packed.lengths, 4, 48, options.get("bucket_lengths"), options.get("drop_remainder")
        )
        assert count == len(expected)
    short = BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=32)
    with pytest.raises(ValueError, match="packed for sequence length 48"):
        classification_dataset(packed, short, 4)


def _folders(root, counts):
    for name, count in counts.items():
        os.makedirs(root / name)
        for i in range(count):
            (root / name / f"{i:03d}.txt").write_text(f"{name} text number {i}.")
    return str(root)


def test_class_folders_split_is_seeded_stratified_and_complete(tmp_path):
    root = _folders(tmp_path / "data", {"b": 10, "a": 20, "c": 5})
    train = folder_examples(root, "train", 0.2, seed=1)
    held_out = folder_examples(root, "validation", 0.2, seed=1)
    assert train.label_names == ("a", "b", "c")
    assert sorted(train.ids + held_out.ids) == sorted(folder_examples(root).ids)
    assert not set(train.ids) & set(held_out.ids)
    assert [held_out.labels.count(k) for k in range(3)] == [4, 2, 1]  # 20% of each class.
    assert folder_examples(root, "validation", 0.2, seed=1).ids == held_out.ids
    assert folder_examples(root, "validation", 0.2, seed=2).ids != held_out.ids
    text, label = train.texts[0][0], train.label_names[train.labels[0]]
    assert text.startswith(label + " text")


def test_class_folder_errors_name_the_file(tmp_path):
    root = _folders(tmp_path / "data", {"a": 2, "b": 2})
    (tmp_path / "data" / "b" / "001.txt").write_bytes(b"caf\xe9 \xa315")  # Latin-1.
    with pytest.raises(
        ValueError,
        match=r"b/001\.txt: not valid UTF-8 \(invalid byte at "
        r"offset 3\)",
    ):
        folder_examples(root)
    replaced = folder_examples(root, encoding_errors="replace")
    assert "\ufffd" in replaced.texts[0][3] and "b/001.txt" in replaced.problems[0]
    (tmp_path / "data" / "a" / "000.txt").write_text("  \n")
    with pytest.raises(ValueError, match=r"a/000\.txt: empty file"):
        folder_examples(root, encoding_errors="replace")
    with pytest.raises(ValueError, match="found 1 class folder"):
        folder_examples(_folders(tmp_path / "one", {"only": 3}))

"""SWAG: the reader (CSV with SWAG's real columns, JSONL), errors, and choice batches."""

import json
import os

import numpy as np
import pytest

from pipelines import BertPreprocessor
from pipelines.swag import choice_arrays, choice_dataset, pack_choices, read_swag
from tests.conftest import DATA, SHARED_SAMPLES

# SWAG's real header (train/val.csv): an unnamed index column first.
HEADER = (
    ",video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label\n"
)
ROWS = [
    '0,anetv_1,5,"The dog runs. The cat",The dog runs.,The cat,gold,fell.,rose.,'
    '"sat, then ran.",jumped.,2\n',
    "1,lsmdc_2,7,The market fell. Stock,The market fell.,Stock,gen,rose.,fell.,good.,bad.,1\n",
]


def test_reads_swag_csv_and_jsonl(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(HEADER + "".join(ROWS))
    data = read_swag(str(path))
    assert data.contexts == ["The dog runs.", "The market fell."]
    assert data.endings[0] == [
        "The cat fell.",
        "The cat rose.",
        "The cat sat, then ran.",
        "The cat jumped.",
    ]
    assert data.labels == [2, 1] and data.ids == ["2", "3"]
    sample_path = os.path.join(SHARED_SAMPLES, "swag/sample.jsonl")
    sample = read_swag(sample_path)
    first = json.loads(open(sample_path).readline())
    assert sample.labels[0] == first["label"]
    assert sample.endings[0][1] == f"{first['sent2']} {first['ending1']}"
    # The test file has no labels.
    test = tmp_path / "test.csv"
    test.write_text(HEADER.replace(",label", "") + ROWS[0].rsplit(",", 1)[0] + "\n")
    assert read_swag(str(test)).labels is None


def test_bad_rows_name_file_and_line(tmp_path):
    path = tmp_path / "val.csv"
    path.write_text(HEADER + ROWS[0] + ROWS[1].replace(",1\n", ",7\n"))
    with pytest.raises(ValueError, match=r"val.csv:3: label '7' is not 0..3"):
        read_swag(str(path))
    skipped = read_swag(str(path), on_error="skip")
    assert len(skipped) == 1 and skipped.skipped == 1
    missing = tmp_path / "m.csv"
    missing.write_text("sent1,sent2,ending0,label\nA,B,C,0\n")
    with pytest.raises(ValueError, match=r"m.csv:2: no column 'ending1'"):
        read_swag(str(missing))


def test_choice_batches_pack_each_pair(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(HEADER + "".join(ROWS))
    data = read_swag(str(path))
    pre = BertPreprocessor.from_vocab(
        os.path.join(DATA, "vocab.txt"), lowercase=True, sequence_length=12
    )
    features, labels = next(iter(choice_dataset(data, pre, batch_size=2)))
    assert tuple(features["token_ids"].shape) == (2, 4, 12)
    assert labels.numpy().tolist() == [2, 1]
    for e in range(2):
        for c in range(4):
            expected = pre((data.contexts[e], data.endings[e][c]))
            for k in features:
                np.testing.assert_array_equal(features[k][e, c], expected[k])


def test_choices_packed_once_give_the_same_batches(tmp_path):
    """A run packs its choices once (`pack_choices`) for every epoch's dataset, and
    evaluation packs them without a dataset (`choice_arrays`): the same features, in the
    same (shuffled) order, as packing inside the dataset."""
    path = tmp_path / "train.csv"
    rows = [r.replace("0,anetv_1", f"{i},anetv_{i}", 1) for i in range(4) for r in ROWS[:1]]
    path.write_text(HEADER + "".join(rows + ROWS[1:] * 3))
    data = read_swag(str(path))
    pre = BertPreprocessor.from_vocab(
        os.path.join(DATA, "vocab.txt"), lowercase=True, sequence_length=12
    )
    packed = pack_choices(data, pre, chunk=3)
    expected = list(choice_dataset(data, pre, 3, shuffle=True, seed=4).as_numpy_iterator())
    got = list(choice_dataset(data, pre, 3, shuffle=True, seed=4, packed=packed))
    assert len(got) == len(expected) == 3
    for (features, labels), (want, want_labels) in zip(got, expected):
        np.testing.assert_array_equal(labels.numpy(), want_labels)
        for k in want:
            assert features[k].dtype == want[k].dtype
            np.testing.assert_array_equal(features[k].numpy(), want[k])
    arrays = choice_arrays(data, pre, chunk=2)
    in_order = list(choice_dataset(data, pre, 7).as_numpy_iterator())[0][0]
    assert arrays.keys() == in_order.keys()
    for k in in_order:
        np.testing.assert_array_equal(arrays[k], in_order[k])

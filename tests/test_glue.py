"""GLUE readers on a folder written in the real layout, quirks included."""

import pytest

from pipelines import glue
from tests.glue_files import SENTENCES, write_glue

ROWS = 6


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_glue(str(tmp_path_factory.mktemp("glue")), rows=ROWS)


@pytest.mark.parametrize("task", [t for t in glue.TASKS if t not in ("ax", "qqp")])
def test_every_task_reads_train_and_dev_with_its_labels(data_dir, task):
    spec = glue.TASKS[task]
    for split in spec.splits:
        if split.startswith("test"):
            continue
        examples = glue.glue_examples(task, split, data_dir)
        assert len(examples) == ROWS and len(examples.texts) == len(spec.text_columns)
        assert all(t in SENTENCES for t in examples.texts[0])
        if spec.regression:
            assert examples.label_names is None
            assert examples.labels[:3] == pytest.approx([0.0, 0.8, 1.6])
        else:
            assert examples.label_names == spec.label_names
            assert set(examples.labels) <= set(range(len(spec.label_names)))


@pytest.mark.parametrize("task", list(glue.TASKS))
def test_test_splits_are_unlabelled_with_ids(data_dir, task):
    for split in (s for s in glue.TASKS[task].splits if s.startswith("test")):
        examples = glue.glue_examples(task, split, data_dir)
        assert examples.labels is None and examples.ids == [str(i) for i in range(ROWS)]


def test_cola_headerless_train_and_headed_test(data_dir):
    train = glue.glue_examples("cola", "train", data_dir)
    assert train.texts[0][0] == SENTENCES[0] and train.labels[:2] == [0, 1]
    assert glue.glue_examples("cola", "test", data_dir).texts[0][0] == SENTENCES[0]


def test_unbalanced_quotes_and_byte_order_marks_are_read_as_is(data_dir):
    mrpc = glue.glue_examples("mrpc", "train", data_dir)
    assert 'He said " no way .' in mrpc.texts[0] + mrpc.texts[1]
    dev = glue.glue_examples("sst2", "dev", data_dir)  # This file starts with a BOM.
    assert dev.texts[0][0] == SENTENCES[0] and len(dev) == ROWS


def test_a_malformed_row_is_an_error_naming_file_and_line_or_skipped(data_dir):
    with pytest.raises(ValueError, match=r"QQP/train\.tsv:4: expected 6 columns .* found 4"):
        glue.glue_examples("qqp", "train", data_dir)
    examples = glue.glue_examples("qqp", "train", data_dir, on_error="skip")
    assert len(examples) == ROWS and examples.skipped == 1
    assert "train.tsv:4" in examples.problems[0]


def test_mnli_matched_and_mismatched_and_tfds_split_names(data_dir):
    matched = glue.glue_examples("mnli", "validation_matched", data_dir)
    mismatched = glue.glue_examples("mnli", "dev_mismatched", data_dir)
    assert matched.label_names == ("entailment", "neutral", "contradiction")
    assert len(matched) == len(mismatched) == ROWS
    with pytest.raises(ValueError, match="no split 'dev'; its splits: train, dev_matched"):
        glue.glue_examples("mnli", "dev", data_dir)


def test_missing_data_and_unknown_task_errors(tmp_path, data_dir):
    with pytest.raises(FileNotFoundError, match=r"RTE/train\.tsv: not found.*download script"):
        glue.glue_examples("rte", "train", str(tmp_path))
    with pytest.raises(ValueError, match="Unknown GLUE task 'sst-2'"):
        glue.glue_examples("sst-2", "train", data_dir)
    assert glue.tasks_in(data_dir) == list(glue.TASKS)
    assert glue.tasks_in(str(tmp_path)) == []


def test_submission_file_format(tmp_path):
    path = glue.write_submission(str(tmp_path / "out" / "STS-B.tsv"), ["0", "1"], [3.25, 0.5])
    assert open(path).read() == "index\tprediction\n0\t3.250\n1\t0.500\n"
    path = glue.write_submission(str(tmp_path / "RTE.tsv"), ["7"], ["not_entailment"])
    assert open(path).read() == "index\tprediction\n7\tnot_entailment\n"


def test_tfds_path_fails_fast_when_not_prepared(tmp_path):
    import time

    start = time.time()
    with pytest.raises(
        FileNotFoundError,
        match=r"glue/mrpc is not prepared in .*tfds build "
        r"glue/mrpc",
    ):
        glue.tfds_examples("mrpc", "train", data_dir=str(tmp_path))
    assert time.time() - start < 30  # No download attempts, no retries.


@pytest.mark.parametrize("task", ["mrpc", "stsb", "mnli"])
def test_tfds_path_reads_prepared_data(task):
    """tfds's own mock of a prepared dataset (random texts, the real feature spec)."""
    import tensorflow_datasets as tfds

    split = "validation_matched" if task == "mnli" else "validation"
    with tfds.testing.mock_data(num_examples=5):
        examples = glue.tfds_examples(task, split, data_dir="/nonexistent")
    spec = glue.TASKS[task]
    assert len(examples) == 5 and len(examples.texts) == len(spec.text_columns)
    assert all(isinstance(t, str) for t in examples.texts[1])
    if spec.regression:
        assert examples.label_names is None and all(isinstance(v, float) for v in examples.labels)
    else:
        assert examples.label_names == spec.label_names
        assert set(examples.labels) <= set(range(len(spec.label_names)))

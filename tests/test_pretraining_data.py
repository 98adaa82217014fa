import os

import numpy as np
import pytest
import tensorflow as tf

from pipelines import BertTokenizer
from pipelines.documents import check_utf8, document_dataset, list_files, split_sentences
from pipelines.pretraining import default_max_predictions, pretraining_dataset


@pytest.fixture
def tokenizer(vocab_path):
    return BertTokenizer(vocab_path, lowercase=True)


@pytest.fixture
def corpus_path(vocab_path):
    return os.path.join(os.path.dirname(vocab_path), "corpus.txt")


def first_batch(dataset):
    return {k: v.numpy() for k, v in next(iter(dataset)).items()}


def test_formats(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("One here. Two here!\nThree.\n\n  \nFour (4.) five?\r\n")
    sentences = [d.numpy().tolist() for d in document_dataset(str(path), "sentences")]
    assert sentences == [[b"One here. Two here!", b"Three."], [b"Four (4.) five?"]]
    lines = [d.numpy().tolist() for d in document_dataset(str(path), "lines")]
    assert lines == [[b"One here.", b"Two here!"], [b"Three."], [b"Four (4.)", b"five?"]]
    files = [d.numpy().tolist() for d in document_dataset(str(path), "files")]
    assert files == [[b"One here.", b"Two here!", b"Three.", b"Four (4.)", b"five?"]]
    assert split_sentences(tf.constant(['He said "Go." Then left.'])).to_list() == [
        [b'He said "Go."', b"Then left."]
    ]


def test_corpus_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No files match"):
        list_files(str(tmp_path / "*.txt"))
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueError, match="corpus is empty"):
        list_files(str(tmp_path / "*.txt"))
    with pytest.raises(ValueError, match="Unknown corpus format"):
        document_dataset(str(tmp_path / "empty.txt"), "xml")


def test_a_folder_is_not_a_corpus(tmp_path):
    (tmp_path / "a.txt").write_text("Some text.")
    with pytest.raises(ValueError, match="is a folder; give files or a glob such as"):
        list_files(str(tmp_path))
    assert list_files(str(tmp_path / "*")) == [str(tmp_path / "a.txt")]


BINARY = b"line one\nline two \xff\xfe bad\n" + bytes(range(256))


@pytest.mark.parametrize("format", ["sentences", "lines", "files"])
def test_invalid_utf8_is_an_error_naming_file_and_line(tmp_path, format):
    (tmp_path / "a.txt").write_text("Fine text.\nMore here.\n")
    (tmp_path / "b.bin").write_bytes(BINARY)
    files = [str(tmp_path / "a.txt"), str(tmp_path / "b.bin")]
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"b\.bin\] \[line\] \[2\] \[is not valid UTF-8"
    ):
        list(document_dataset(files, format))


def test_invalid_utf8_replaced_on_request(tmp_path):
    (tmp_path / "b.bin").write_bytes(BINARY)
    documents = list(document_dataset(str(tmp_path / "b.bin"), "files", errors="replace"))
    text = b" ".join(documents[0].numpy()).decode("utf-8")  # Valid now.
    assert "two \ufffd\ufffd bad" in text


@pytest.mark.parametrize("chunk_bytes", [3, 1 << 20])
def test_check_utf8_names_file_line_and_offset(tmp_path, chunk_bytes):
    (tmp_path / "a.txt").write_text("Fine text, caf\u00e9 \ufffd.\n")  # Valid, even U+FFFD.
    (tmp_path / "b.bin").write_bytes(BINARY)
    check_utf8([str(tmp_path / "a.txt")], chunk_bytes=chunk_bytes)
    with pytest.raises(
        ValueError,
        match=r"b\.bin:2: not valid UTF-8 \(invalid byte at "
        r"offset 18\)",
    ):
        check_utf8([str(tmp_path / "a.txt"), str(tmp_path / "b.bin")], chunk_bytes=chunk_bytes)


def test_max_predictions_defaults():
    assert default_max_predictions(128) == 20 and default_max_predictions(512) == 76
    assert default_max_predictions(64) == 10


def test_batches_have_the_pretraining_features(tokenizer, corpus_path):
    data = pretraining_dataset(
        corpus_path, tokenizer, sequence_length=24, batch_size=4, seed=3, for_fit=False
    )
    batch = first_batch(data)
    assert batch["token_ids"].shape == (4, 24) and batch["mask_positions"].shape == (4, 4)
    assert {v.dtype for k, v in batch.items() if k != "mask_weights"} == {np.dtype("int32")}
    assert batch["mask_weights"].dtype == np.float32
    assert set(np.unique(batch["next_sentence_label"])) <= {0, 1}
    for row in range(4):
        ids = batch["token_ids"][row]
        length = batch["padding_mask"][row].sum()
        assert ids[0] == tokenizer.cls_id and ids[length - 1] == tokenizer.sep_id
        assert (ids == tokenizer.sep_id).sum() == 2
        assert (batch["segment_ids"][row][:length] == 1).sum() >= 2  # B and its [SEP].


def test_seeded_datasets_repeat_and_start_step_reseeds(tokenizer, corpus_path):
    def make(seed, step=0):
        return first_batch(
            pretraining_dataset(
                corpus_path, tokenizer, 24, 4, seed=seed, start_step=step, for_fit=False
            )
        )

    a, b, c = make(5), make(5), make(5, step=100)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["token_ids"], c["token_ids"])


def test_exact_masking_with_full_rates(tokenizer, corpus_path):
    data = pretraining_dataset(
        corpus_path,
        tokenizer,
        24,
        4,
        seed=1,
        selection_rate=1.0,
        mask_token_rate=1.0,
        random_token_rate=0.0,
        max_predictions=24,
        for_fit=False,
    )
    batch = first_batch(data)
    ids, mask = batch["token_ids"], batch["padding_mask"].astype(bool)
    structure = np.isin(ids, [tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id])
    assert (ids[mask & ~structure] == tokenizer.mask_id).all()
    count = (mask & ~structure).sum(1)
    np.testing.assert_array_equal(batch["mask_weights"].sum(1), count)
    words = tokenizer.detokenize(
        tf.ragged.boolean_mask(batch["mask_ids"], batch["mask_weights"] > 0)
    )
    text = open(corpus_path).read().lower()
    for sentence in words.numpy():
        for word in sentence.decode().split():
            assert word == "[UNK]" or word in text


def test_for_fit_structure(tokenizer, corpus_path):
    x, y, w = next(iter(pretraining_dataset(corpus_path, tokenizer, 24, 2, seed=0)))
    assert sorted(x) == ["mask_positions", "padding_mask", "segment_ids", "token_ids"]
    assert sorted(y) == ["mlm", "nsp"] and sorted(w) == ["mlm", "nsp"]
    np.testing.assert_array_equal(w["nsp"], [1.0, 1.0])

"""Distributed input: every builder's `input_context` gives each replica its slice of the
global batch one device would see; pretraining on many files shards by file; the TPU
path (static shapes, no strings) is checked on the datasets the commands feed."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.distribute.distributed_trainer import check_static
from pipelines import BertPreprocessor, BertTokenizer
from pipelines.classification import classification_dataset
from pipelines.pretraining import pretraining_dataset
from pipelines.replica_batches import replica_batches, static_batches
from pipelines.swag import ChoiceExamples, choice_dataset
from pipelines.text_table import TextExamples

DATA = os.path.join(os.path.dirname(__file__), "data")
VOCAB, CORPUS = os.path.join(DATA, "vocab.txt"), os.path.join(DATA, "corpus.txt")
WORDS = "the dog is good a quick fox cat jump over lazy brown".split()


def contexts(replicas, pipelines):
    return [tf.distribute.InputContext(pipelines, p, replicas) for p in range(pipelines)]


def rows(structure):
    return tf.nest.map_structure(lambda t: np.asarray(t), structure)


def joined(pieces):
    return tf.nest.map_structure(lambda *p: np.concatenate(p), *pieces)


def assert_split_like_global(make, replicas, pipelines, steps):
    """make(context) -> dataset; per step, the replicas' slices, in replica order, are
    the global batch (one device's step)."""
    whole = [rows(b) for b in make(None).take(steps)]
    per_pipeline = [
        [rows(b) for b in make(c).take(steps * replicas // pipelines)]
        for c in contexts(replicas, pipelines)
    ]
    local = replicas // pipelines
    for step, batch in enumerate(whole):
        pieces = [per_pipeline[p][step * local + r] for p in range(pipelines) for r in range(local)]
        # Equal arrays: the same rows, and every replica padded to the step's length.
        tf.nest.map_structure(np.testing.assert_array_equal, joined(pieces), batch)


def test_replica_batches_cut_each_global_batch_in_replica_order():
    data = tf.data.Dataset.range(13).batch(5)  # 5, 5, 3 rows; 4 replicas on 2 pipelines.
    got = [[b.numpy().tolist() for b in replica_batches(data, c)] for c in contexts(4, 2)]
    assert got[0] == [[0], [1], [5], [6], [], [10]]
    assert got[1] == [[2], [3, 4], [7], [8, 9], [11], [12]]  # 3 rows: 0 + 1 + 1 + 1.
    even = replica_batches(
        tf.data.Dataset.range(8).batch(4, drop_remainder=True), contexts(2, 1)[0]
    )
    assert even.element_spec.shape.as_list() == [2]  # Static when it divides (TPU).


def test_classification_and_choice_datasets_split_like_one_device():
    preprocessor = BertPreprocessor(BertTokenizer(VOCAB, lowercase=True), sequence_length=16)
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, rng.integers(1, 12))) for _ in range(23)]
    examples = TextExamples(
        [texts], [int(i % 2) for i in range(23)], [str(i) for i in range(23)], ("a", "b"), "memory"
    )
    for buckets in (None, True):
        assert_split_like_global(
            lambda c, buckets=buckets: classification_dataset(
                examples,
                preprocessor,
                8,
                shuffle=True,
                seed=3,
                bucket_lengths=buckets,
                input_context=c,
            ),
            replicas=4,
            pipelines=2,
            steps=3,
        )
    swag = ChoiceExamples(
        texts[:10],
        [[t, t[::-1]] for t in texts[:10]],
        [0, 1] * 5,
        [str(i) for i in range(10)],
        "memory",
    )
    assert_split_like_global(
        lambda c: choice_dataset(swag, preprocessor, 4, shuffle=True, seed=1, input_context=c),
        replicas=2,
        pipelines=2,
        steps=2,
    )


def test_pretraining_splits_by_data_with_one_file_and_by_file_with_several(tmp_path):
    tokenizer = BertTokenizer(VOCAB, lowercase=True)

    def make(files, context):
        return pretraining_dataset(
            files, tokenizer, 24, 4, seed=5, for_fit=False, input_context=context
        )

    assert_split_like_global(lambda c: make(CORPUS, c), replicas=2, pipelines=2, steps=2)
    text = open(CORPUS, encoding="utf-8").read().split("\n\n")
    files = []
    for i in range(2):
        path = tmp_path / f"part{i}.txt"
        path.write_text("\n\n".join(text[i::2]), encoding="utf-8")
        files.append(str(path))
    per_pipeline = [next(iter(make(files, c))) for c in contexts(2, 2)]
    for p, batch in enumerate(per_pipeline):
        assert batch["token_ids"].shape == (2, 24)  # Global 4 over 2 workers' own files.
        alone = next(
            iter(pretraining_dataset(files[p], tokenizer, 24, 2, seed=5 + 7_919 * p, for_fit=False))
        )
        np.testing.assert_array_equal(batch["token_ids"], alone["token_ids"])
    with pytest.raises(ValueError, match="global batch 3 must be a multiple of the 2"):
        pretraining_dataset(files, tokenizer, 24, 3, input_context=contexts(2, 2)[0])


def test_tpu_input_is_static_and_holds_no_strings():
    tokenizer = BertTokenizer(VOCAB, lowercase=True)
    context = contexts(2, 1)[0]
    pretraining = pretraining_dataset(CORPUS, tokenizer, 24, 4, seed=0, input_context=context)
    check_static(pretraining)  # Fixed length, full batches, tokenized in tf.data.
    preprocessor = BertPreprocessor(tokenizer, sequence_length=16)
    examples = TextExamples(
        [WORDS[:7]], [0, 1, 0, 1, 0, 1, 0], list("abcdefg"), ("x", "y"), "memory"
    )
    fixed = classification_dataset(examples, preprocessor, 3)  # 3, 3, 1 rows.
    with pytest.raises(ValueError, match=r"field '0/token_ids' has shape \(None, 16\)"):
        check_static(fixed)
    tpu = replica_batches(static_batches(fixed, 2), context)  # What finetune feeds a TPU.
    check_static(tpu)
    assert sum(1 for _ in tpu) == 6  # 3 full batches of 2, one row each replica.
    with pytest.raises(ValueError, match="shape"):
        check_static(
            classification_dataset(
                examples, preprocessor, 2, bucket_lengths=True, drop_remainder=True
            )
        )
    raw = tf.data.Dataset.from_tensors({"text": tf.constant(["a b"])})
    with pytest.raises(ValueError, match="field 'text' holds strings"):
        check_static(raw)

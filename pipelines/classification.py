"""Classification datasets: `TextExamples` -> batches of packed backbone inputs and
labels, tokenized in the graph by the same `BertPreprocessor` that serving uses (or
`PackedExamples`, packed by it once, for a dataset per epoch that does not tokenize again).

With `bucket_lengths`, batches are grouped by length and padded only to their bucket's
length (32, 48, 64, 96 or 128) instead of always to `sequence_length`: on real sentence
lengths most of the padding, and so most of the compute, goes away, while the train
step is traced only once per bucket. Bucket boundaries sit at length + 1 and every
batch is padded to its bucket's full length (the Model Garden's convention).
"""

import numpy as np
import tensorflow as tf

from pipelines.document_windows import window_dataset
from pipelines.packed_examples import PackedExamples, padding_values
from pipelines.plain_graphs import plain
from pipelines.replica_batches import replica_batches


def default_buckets(sequence_length):
    """32, 48, 64, 96, 128, 192, ... (powers of two and the halfway steps between them)
    below `sequence_length`, then `sequence_length` itself. Halfway steps keep the mean
    padding of real sentence lengths near 1/6 of a bucket for a couple more traces."""
    lengths, length = [], 32
    while length < sequence_length:
        lengths.append(length)
        length = length * 3 // 2 if length & (length - 1) == 0 else length * 4 // 3
    return lengths + [sequence_length]


def ordered(data, count, shuffle=False, seed=None, repeat=False):
    """Shuffles all `count` examples (seeded, again on every pass) and repeats: the
    example order every task's dataset uses."""
    if shuffle:
        data = data.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return data.repeat() if repeat else data


def _source(examples, preprocessor):
    if isinstance(examples, PackedExamples):
        if examples.sequence_length != preprocessor.sequence_length:
            raise ValueError(
                f"The examples were packed for sequence length {examples.sequence_length}, "
                f"not the preprocessor's {preprocessor.sequence_length}."
            )
        return examples.dataset()
    texts = tuple(tf.constant(segment, tf.string) for segment in examples.texts)
    if examples.labels is None:
        return tf.data.Dataset.from_tensor_slices((texts,))
    dtype = tf.int32 if examples.label_names is not None else tf.float32
    return tf.data.Dataset.from_tensor_slices((texts, tf.constant(examples.labels, dtype)))


def classification_dataset(
    examples,
    preprocessor,
    batch_size,
    shuffle=False,
    seed=None,
    bucket_lengths=None,
    drop_remainder=False,
    repeat=False,
    input_context=None,
    windows_stride=None,
):
    """A dataset of `(features, label)` batches (`(features,)` without labels).

    Args:
        examples: TextExamples (one or two text segments), or PackedExamples (the
            same examples packed by `preprocessor` once: the same batches).
        preprocessor: pipelines.BertPreprocessor (its sequence_length is the maximum).
        batch_size: int, examples per (global) batch.
        shuffle: bool, shuffle all examples (seeded by `seed`) on every pass.
        seed: int or None.
        bucket_lengths: None to pad every batch to `sequence_length`; True for
            `default_buckets`; or a list of padded lengths (the last must be the
            preprocessor's sequence_length).
        drop_remainder: bool, drop a last partial batch (static batch shapes).
        repeat: bool, repeat forever.
        input_context: tf.distribute.InputContext or None; with one, this input
            pipeline's per-replica slices of every global batch (`replica_batches`).
        windows_stride: None, or every window of each (one-segment) text, this many
            word pieces apart, as an example with the text's label
            (`pipelines.document_windows`); padded to `sequence_length`, shuffled
            within a 1,024-window buffer after the texts are.
    """
    length = preprocessor.sequence_length
    packed = isinstance(examples, PackedExamples)
    data = ordered(_source(examples, preprocessor), len(examples), shuffle, seed, repeat)
    padding = padding_values(preprocessor.tokenizer.pad_id)
    labelled = examples.labels is not None
    if windows_stride:
        if packed:
            raise ValueError("Windows of long documents are cut from texts, not packed examples.")
        if len(examples.texts) != 1:
            raise ValueError("Windows of long documents need one text segment, not pairs.")
        data = data.batch(256).map(plain(lambda texts, *label: (texts[0],) + label))
        data = window_dataset(data, preprocessor, windows_stride)
        if shuffle:
            data = data.shuffle(1024, seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size, drop_remainder=drop_remainder)
        return replica_batches(data, input_context).prefetch(tf.data.AUTOTUNE)
    if not bucket_lengths and packed:
        data = data.padded_batch(
            batch_size,
            padded_shapes=({k: [length] for k in padding},) + (([],) if labelled else ()),
            padding_values=(padding,) + ((None,) if labelled else ()),
            drop_remainder=drop_remainder,
        )
        return replica_batches(data, input_context).prefetch(tf.data.AUTOTUNE)
    if not bucket_lengths:
        data = data.batch(batch_size, drop_remainder=drop_remainder)
        data = data.map(
            plain(lambda texts, *label: (preprocessor.traced(texts),) + label),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return replica_batches(data, input_context).prefetch(tf.data.AUTOTUNE)
    buckets = _buckets(bucket_lengths, length)

    def unpadded(texts, *label):
        features = preprocessor.traced(texts)  # Scalar texts: (sequence_length,) features.
        real = tf.reduce_sum(features["padding_mask"])
        return ({k: v[:real] for k, v in features.items()},) + label

    if not packed:
        data = data.map(plain(unpadded), num_parallel_calls=tf.data.AUTOTUNE)
    data = data.bucket_by_sequence_length(
        plain(lambda features, *label: tf.shape(features["token_ids"])[0]),
        bucket_boundaries=[b + 1 for b in buckets],
        bucket_batch_sizes=[batch_size] * (len(buckets) + 1),
        padding_values=(padding,) + ((None,) if labelled else ()),
        pad_to_bucket_boundary=True,
        drop_remainder=drop_remainder,
    )
    return replica_batches(data, input_context).prefetch(tf.data.AUTOTUNE)


def _buckets(bucket_lengths, length):
    buckets = default_buckets(length) if bucket_lengths is True else list(bucket_lengths)
    if buckets[-1] != length or buckets != sorted(set(buckets)):
        raise ValueError(
            f"bucket_lengths must increase and end at the sequence length {length}, not {buckets}."
        )
    return buckets


def batch_count(lengths, batch_size, sequence_length, bucket_lengths=None, drop_remainder=False):
    """How many batches one pass of `classification_dataset` (without windows) yields for
    examples of these packed lengths, counted without making them: each bucket's
    examples fill batches of `batch_size`, its last one partial (or dropped).

    Example:
    >>> batch_count([5, 40, 40, 9, 100], 2, 128, bucket_lengths=True)  # 32: 2, 48: 2, 128: 1
    3
    """
    lengths = np.asarray(lengths, np.int64)
    if bucket_lengths:
        buckets = _buckets(bucket_lengths, sequence_length)
        sizes = np.bincount(np.searchsorted(buckets, lengths), minlength=len(buckets))
    else:
        sizes = [len(lengths)]
    whole = (lambda n: n // batch_size) if drop_remainder else (lambda n: -(-n // batch_size))
    return int(sum(whole(int(n)) for n in sizes))


def bucket_shapes(dataset, limit=None):
    """The padded lengths a dataset yields (for tests and benchmarks)."""
    lengths = []
    for element in dataset.take(limit) if limit else dataset:
        lengths.append(int(element[0]["token_ids"].shape[1]))
    return lengths

"""Long documents as overlapping windows: every token of a text longer than the sequence
length is read, and a classifier's answer for the document combines its windows'.

A document of `n` word pieces, with `content = sequence_length - 2` pieces per window
(after `[CLS]`, before `[SEP]`), gets windows starting at 0, `stride`, `2 * stride`, ...
until one reaches its end: `1 + ceil(max(n - content, 0) / stride)` windows, the last
one possibly shorter. A document that fits is one window, exactly today's packing; the
first window of any document is today's truncated input. Only core TensorFlow ops: the
same function runs in `tf.data`, in evaluation and inside an exported graph.
"""

import tensorflow as tf

from pipelines.packing import pack_segments
from pipelines.plain_graphs import kept_function, plain

AGGREGATES = ("mean", "max")


def window_counts(lengths, sequence_length, stride):
    """Windows per document of `lengths` word pieces (int64 tensor)."""
    content = sequence_length - 2
    lengths = tf.cast(lengths, tf.int64)
    over = tf.maximum(lengths - tf.constant(content, tf.int64), tf.constant(0, tf.int64))
    stride = tf.constant(stride, tf.int64)
    return 1 + (over + stride - 1) // stride


def document_windows(token_ids, sequence_length, stride, cls_id, sep_id, pad_id):
    """Packed windows of tokenized documents, and the document each came from.

    Args:
        token_ids: RaggedTensor (documents, None) of word-piece ids.
        sequence_length: int, the packed length of a window.
        stride: int in [1, sequence_length - 2], word pieces between window starts.
        cls_id, sep_id, pad_id: the vocabulary's ids.

    Returns:
        (features, owner): the backbone's int32 inputs, (windows, sequence_length), in
        document order; and `owner`, int32 (windows,), each window's document.

    Example:
    >>> ids = tf.ragged.constant([[5, 6, 7, 8, 9], [5]])
    >>> features, owner = document_windows(ids, 5, 2, 1, 2, 0)
    >>> features["token_ids"].numpy().tolist(), owner.numpy().tolist()
    ([[1, 5, 6, 7, 2], [1, 7, 8, 9, 2], [1, 5, 2, 0, 0]], [0, 0, 1])
    """
    content = sequence_length - 2
    if not 1 <= stride <= content:
        raise ValueError(
            f"The window stride must be in [1, {content}] (sequence length {sequence_length} "
            f"less [CLS] and [SEP]), not {stride}."
        )
    token_ids = tf.cast(token_ids, tf.int32).with_row_splits_dtype(tf.int64)
    lengths = token_ids.row_lengths()
    counts = window_counts(lengths, sequence_length, stride)
    owner = tf.repeat(tf.range(tf.size(counts, tf.int64)), counts)
    start = tf.ragged.range(counts).flat_values * tf.constant(stride, tf.int64)  # in its document
    length = tf.minimum(tf.constant(content, tf.int64), tf.gather(lengths, owner) - start)
    first = tf.gather(token_ids.row_starts(), owner) + start
    positions = tf.ragged.range(first, first + tf.maximum(length, 0))
    pieces = tf.gather(token_ids.flat_values, positions)
    features = pack_segments([pieces], sequence_length, cls_id, sep_id, pad_id)
    return features, tf.cast(owner, tf.int32)


def aggregate(window_outputs, owner, documents, how="mean"):
    """Each document's output from its windows' (`mean` or elementwise `max`).

    Args:
        window_outputs: float tensor (windows, ...): logits, or regression scores.
        owner: int (windows,), each window's document (every document has one).
        documents: int scalar, the number of documents.
        how: "mean" or "max".
    """
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, not {how!r}.")
    combine = tf.math.unsorted_segment_mean if how == "mean" else tf.math.unsorted_segment_max
    return combine(window_outputs, owner, documents)


def text_windows(preprocessor, texts, stride):
    """`document_windows` of raw texts with a `BertPreprocessor`'s tokenizer and
    sequence length: (features, owner) as tensors."""
    tokenizer = preprocessor.tokenizer
    return document_windows(
        tokenizer.tokenize(texts),
        preprocessor.sequence_length,
        stride,
        tokenizer.cls_id,
        tokenizer.sep_id,
        tokenizer.pad_id,
    )


def window_arrays(preprocessor, texts, stride, chunk=256):
    """`text_windows` of a list of texts as NumPy arrays, `chunk` texts at a time:
    ({token_ids, segment_ids, padding_mask}, owner), owner indexing `texts`."""
    import numpy as np

    parts, owners = [], []
    run = _kept_windows(preprocessor, stride)
    for first in range(0, len(texts), chunk):
        features, owner = run(tf.constant(texts[first : first + chunk], tf.string))
        parts.append({k: v.numpy() for k, v in features.items()})
        owners.append(owner.numpy() + first)
    if not parts:
        empty = np.zeros((0, preprocessor.sequence_length), "int32")
        return {k: empty for k in ("token_ids", "segment_ids", "padding_mask")}, np.zeros(
            0, "int32"
        )
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}, np.concatenate(owners)


def _kept_windows(preprocessor, stride):
    """`text_windows` of a 1-D batch of texts, traced once per preprocessor and stride: a
    run makes a dataset for every epoch and evaluation, and validates every epoch."""
    return kept_function(
        preprocessor,
        ("windows", stride),
        lambda pre: lambda t: text_windows(pre, t, stride),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )


def window_dataset(data, preprocessor, stride):
    """A dataset of `(texts,)` or `(texts, labels)` batches (texts: a 1-D batch of one
    segment) as one element per window: `(features,)` or `(features, label)`, the
    document's label on each of its windows."""
    run = _kept_windows(preprocessor, stride)

    def windows(texts, *labels):
        features, owner = run(texts)
        return (features,) + tuple(tf.gather(label, owner) for label in labels)

    return data.map(plain(windows), num_parallel_calls=tf.data.AUTOTUNE).unbatch()

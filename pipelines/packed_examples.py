"""PackedExamples: text examples tokenized and packed once, kept as unpadded rows.

A training run makes a new dataset for every epoch (and every checkpoint segment), and
each new iterator of a dataset that tokenizes in `Dataset.map` instantiates and
optimizes the tokenizer's graph again (about a third of a second, however few the
texts). Packed once, the examples feed every epoch from their token ids. The packing is
the same `BertPreprocessor` call that serving makes (its traced function, run eagerly
on chunks of texts), so the ids are the same as tokenizing inside the dataset.
"""

import numpy as np
import tensorflow as tf

from pipelines.plain_graphs import plain

FEATURES = ("token_ids", "segment_ids", "padding_mask")


def packed_chunks(preprocessor, texts, chunk=1024):
    """Yields the packed features (a dict of int32 NumPy arrays, each (rows,
    sequence_length)) of `texts`' examples, `chunk` examples at a time, in order.

    Args:
        preprocessor: pipelines.BertPreprocessor.
        texts: a list of segments, each a list of strings (one per example).
        chunk: int, examples per call of the preprocessor.
    """
    count = len(texts[0]) if texts else 0
    for start in range(0, count, chunk):
        segments = tuple(tf.constant(s[start : start + chunk], tf.string) for s in texts)
        features = preprocessor.traced(segments)
        yield {k: features[k].numpy() for k in FEATURES}


def packed_arrays(preprocessor, texts, chunk=1024):
    """All of `packed_chunks` joined: a dict of int32 arrays, each (examples,
    sequence_length), in order; {} for no examples."""
    chunks = list(packed_chunks(preprocessor, texts, chunk))
    return {k: np.concatenate([c[k] for c in chunks]) for k in FEATURES} if chunks else {}


def padding_values(pad_id):
    """What each feature is padded with (the preprocessor's own padding)."""
    return {"token_ids": pad_id, "segment_ids": 0, "padding_mask": 0}


class PackedExamples:
    """Examples as the backbone's inputs without padding, and their labels.

    Args:
        features: dict of `FEATURES` names -> tf.RaggedTensor, (examples, None) int32.
        labels: None, or the labels (class ids, or scores for regression).
        label_names: None (regression, or unlabelled), or the class names.
        sequence_length: int, the length the examples were packed for.

    Example:
    >>> from pipelines import BertPreprocessor
    >>> from pipelines.text_table import TextExamples
    >>> pre = BertPreprocessor.from_vocab("tests/data/vocab.txt", lowercase=True,
    ...                                   sequence_length=16)
    >>> texts = TextExamples([["the dog", "a lazy dog barks"]], [0, 1], ["0", "1"],
    ...                      ["no", "yes"], "example")
    >>> packed = PackedExamples.pack(texts, pre)
    >>> packed.lengths.tolist()  # [CLS] the dog [SEP]; [CLS] a lazy dog barks [SEP]
    [4, 6]
    """

    def __init__(self, features, labels, label_names, sequence_length):
        self.features = features
        self.labels = labels
        self.label_names = label_names
        self.sequence_length = sequence_length

    @classmethod
    def pack(cls, examples, preprocessor, chunk=1024):
        """Packs `TextExamples` (one or more segments) with `preprocessor`."""
        values = {k: [] for k in FEATURES}
        lengths = []
        for features in packed_chunks(preprocessor, examples.texts, chunk):
            real = features["padding_mask"].astype(bool)  # [CLS] ... [SEP] first, then pads
            lengths.append(real.sum(axis=1))
            for k in FEATURES:
                values[k].append(features[k][real])
        lengths = np.concatenate(lengths) if lengths else np.zeros([0], np.int64)
        features = {
            k: tf.RaggedTensor.from_row_lengths(
                np.concatenate(v) if v else np.zeros([0], np.int32), lengths, validate=False
            )
            for k, v in values.items()
        }
        return cls(features, examples.labels, examples.label_names, preprocessor.sequence_length)

    def __len__(self):
        return int(self.features["token_ids"].nrows())

    @property
    def lengths(self):
        """The examples' packed lengths ([CLS] and [SEP]s included), a NumPy array."""
        return self.features["token_ids"].row_lengths().numpy()

    def dataset(self):
        """A dataset of `(features,)` or `(features, label)`, one unpadded example each."""
        if self.labels is None:
            data = tf.data.Dataset.from_tensor_slices((self.features,))
        else:
            dtype = tf.int32 if self.label_names is not None else tf.float32
            labels = tf.constant(self.labels, dtype)
            data = tf.data.Dataset.from_tensor_slices((self.features, labels))
        # A slice of a ragged row is a dense tensor, but its spec stays ragged (which
        # padded batching refuses); an identity map gives it a tensor spec.
        return data.map(
            plain(
                lambda features, *label: ({k: tf.identity(v) for k, v in features.items()},) + label
            )
        )

"""BertPreprocessor: raw text segments to the backbone's inputs, in one graph."""

import tensorflow as tf

from pipelines.packing import check_same_batch, pack_segments
from pipelines.plain_graphs import kept_function
from pipelines.tokenizer import BertTokenizer
from pipelines.vocabulary import vocabulary_file


class BertPreprocessor(tf.Module):
    """Tokenizes one or more text segments and packs them as `[CLS] A [SEP] B [SEP]`.

    The same object serves training (inside `Dataset.map`) and serving (tracked in
    an exported SavedModel), so there is no train/serve skew. A call takes a string or
    a batch of strings for one segment, or a tuple of them for several segments; the
    result is exactly the backbone's input dict.

    Example:
    >>> pre = BertPreprocessor.from_vocab("tests/data/vocab.txt", lowercase=True,
    ...                                   sequence_length=16)
    >>> features = pre(("The first sentence.", "The second one."))
    >>> sorted(features)
    ['padding_mask', 'segment_ids', 'token_ids']
    """

    def __init__(self, tokenizer, sequence_length=512, num_segments=None, name=None):
        super().__init__(name=name)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        # The model's segment count (`BertBackbone.num_segments`), when known: a call
        # with more segments would produce segment ids the model has no embedding for.
        self.num_segments = num_segments

    @classmethod
    def from_vocab(
        cls, vocabulary, lowercase=None, sequence_length=512, num_segments=None, **kwargs
    ):
        """A preprocessor for a vocab.txt; `kwargs` go to `BertTokenizer`."""
        return cls(
            BertTokenizer(vocabulary, lowercase=lowercase, **kwargs), sequence_length, num_segments
        )

    @classmethod
    def from_dir(cls, directory, lowercase=None, sequence_length=512, num_segments=None, **kwargs):
        """Uses a checkpoint folder's vocab.txt and its do_lower_case setting."""
        return cls.from_vocab(
            vocabulary_file(directory), lowercase, sequence_length, num_segments, **kwargs
        )

    def __call__(self, segments):
        return self._features(segments, self._pack)

    def traced(self, segments):
        """`self(segments)`, computed by one traced function per sequence length and
        segment count, kept for the tokenizer's life: what `tf.data` pipelines call.
        Tracing the tokenizer takes about a second, and a training run makes a dataset
        per epoch and per evaluation; each of them then adds one call. Exports call the
        preprocessor itself, so their graphs hold its ops inline.

        Example:
        >>> pre = BertPreprocessor.from_vocab("tests/data/vocab.txt", lowercase=True,
        ...                                   sequence_length=8)
        >>> text = tf.constant(["The first sentence."])
        >>> bool(tf.reduce_all(pre.traced(text)["token_ids"] == pre(text)["token_ids"]))
        True
        """
        return self._features(segments, self._pack_traced)

    def _features(self, segments, pack):
        segments = segments if isinstance(segments, tuple) else (segments,)
        if self.num_segments is not None and len(segments) > self.num_segments:
            raise ValueError(
                f"{len(segments)} text segments given, but the model has only "
                f"{self.num_segments} segment embeddings (num_segments)."
            )
        segments = [tf.convert_to_tensor(s, tf.string) for s in segments]
        scalar = segments[0].shape.rank == 0
        for s in segments:
            if s.shape.rank not in (0, 1):
                raise ValueError(
                    f"Text segments must be a string or a 1-D batch of strings, "
                    f"not shape {s.shape}."
                )
            if s.shape.rank != segments[0].shape.rank:
                raise ValueError("All segments must be strings, or all batches of strings.")
        segments = [tf.reshape(s, [-1]) for s in segments]
        names = ["first segment", "second segment", "third segment"][: len(segments)]
        names += [f"segment {i}" for i in range(len(names), len(segments))]
        with tf.control_dependencies(check_same_batch(segments, names)):
            segments = [tf.identity(s) for s in segments]
        features = pack(segments)
        if scalar:
            features = {k: v[0] for k, v in features.items()}
        return features

    def _pack(self, segments):
        """Tokenized and packed 1-D batches of strings: the backbone's inputs."""
        return _pack(self.tokenizer, self.sequence_length, segments)

    def _pack_traced(self, segments):
        # Kept per tokenizer, not per preprocessor: runs in one process that share a
        # tokenizer (keras_bert.cli.tokenizers) trace it once per length and count.
        length = self.sequence_length
        return kept_function(
            self.tokenizer,
            ("packing", length, len(segments)),
            lambda tokenizer: lambda *segments: _pack(tokenizer, length, list(segments)),
            input_signature=[tf.TensorSpec([None], tf.string)] * len(segments),
        )(*segments)


def _pack(tokenizer, sequence_length, segments):
    ids = [tokenizer.tokenize(s) for s in segments]
    return pack_segments(ids, sequence_length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id)

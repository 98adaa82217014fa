"""SquadWindower: a question and its context to BERT windows, in TF graph ops.

As in BERT's run_squad.py, the question (at most `max_query_length` pieces) is followed
by a window of the context: `[CLS] question [SEP] context-window [SEP]`, padded to
`sequence_length`. Windows start every `doc_stride` context pieces until one reaches
the context's end, so a long context gives several overlapping windows. Each window
keeps what decoding needs: for every position the context piece's character span
(`token_starts`, `token_ends`; -1 outside the context) and whether this window is the
piece's "maximum context" (the window where the piece has the most context on its
shorter side, plus 0.01 x the window length; the first such window on ties).

An answer's character span is mapped to pieces through the tokenizer's offsets: the
first piece ending after the answer's start, the last piece starting before its end.
A window that does not contain the whole answer, and an impossible question, points
both positions at [CLS] (0).
"""

import tensorflow as tf

# The per-window features (besides the backbone inputs) that decoding reads.
DECODING_FEATURES = ("token_starts", "token_ends", "max_context")


class SquadWindower(tf.Module):
    """Turns one (question, context) into `(windows, sequence_length)` features.

    Args:
        tokenizer: pipelines.BertTokenizer.
        sequence_length: int, each window's length (384 in run_squad.py).
        max_query_length: int, question pieces kept (64).
        doc_stride: int, context pieces between window starts (128).

    Example:
    >>> from pipelines import BertTokenizer
    >>> windower = SquadWindower(BertTokenizer("tests/data/vocab.txt", lowercase=True),
    ...                          sequence_length=16, max_query_length=4, doc_stride=3)
    >>> w = windower("who is it?", "the quick brown fox jumps over the lazy dog.")
    >>> tuple(w["token_ids"].shape)
    (2, 16)
    """

    def __init__(
        self, tokenizer, sequence_length=384, max_query_length=64, doc_stride=128, name=None
    ):
        super().__init__(name=name)
        if sequence_length - max_query_length - 3 < 1:
            raise ValueError(
                f"sequence_length {sequence_length} leaves no room for context "
                f"after a question of max_query_length {max_query_length}."
            )
        if doc_stride < 1:
            raise ValueError(f"doc_stride must be positive, not {doc_stride}.")
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.max_query_length = max_query_length
        self.doc_stride = doc_stride

    def __call__(self, question, context, answer_start=-1, answer_end=-1):
        """Windows of one example (scalar strings; answer character span or -1).

        Returns a dict of `(windows, sequence_length)` tensors: `token_ids`,
        `segment_ids`, `padding_mask` (int32), `token_starts`, `token_ends` (int32
        character offsets into `context`, -1 outside it), `max_context` (bool), and
        `(windows,)` int32 `start_positions`, `end_positions` (0 = [CLS]).
        """
        t, length = self.tokenizer, self.sequence_length
        question_ids = t.tokenize(question)[: self.max_query_length]  # (q,)
        ids, starts, ends = t.tokenize_with_offsets(context)  # (n,) each
        starts, ends = tf.cast(starts, tf.int32), tf.cast(ends, tf.int32)
        q = tf.size(question_ids)
        n = tf.size(ids)
        budget = length - q - 3  # context per window
        stride = tf.minimum(self.doc_stride, budget)
        count = 1 + tf.maximum(0, (n - budget + stride - 1) // stride)  # windows
        window_starts = tf.range(count) * stride  # (w,)
        window_lengths = tf.minimum(n - window_starts, budget)  # (w,)
        # Where each position of a window reads from, as dense (w, length) ops (ragged
        # concatenation builds many times the graph, traced in every SQuAD pipeline and
        # export): the prefix, the window's context pieces, one suffix, then padding.
        width = tf.range(length)[None, :]  # (1, length)
        offset = width - (q + 2)  # position among the window's context pieces
        inside = (offset >= 0) & (offset < window_lengths[:, None])  # (w, length)
        at = tf.clip_by_value(window_starts[:, None] + offset, 0, n)  # n: the padding slot

        def with_context(prefix, values, suffix, pad):
            """(w, length): prefix, the window's values, suffix, padding."""
            head = tf.gather(prefix, tf.minimum(width, q + 1))
            body = tf.gather(tf.concat([values, [pad]], axis=0), at)
            tail = tf.where(tf.equal(offset, window_lengths[:, None]), suffix, pad)
            return tf.where(offset < 0, head, tf.where(inside, body, tail))

        prefix = tf.concat([[t.cls_id], question_ids, [t.sep_id]], axis=0)
        token_ids = with_context(prefix, ids, t.sep_id, t.pad_id)
        none = -tf.ones_like(prefix)
        token_starts = with_context(none, starts, -1, -1)
        token_ends = with_context(none, ends, -1, -1)
        index = with_context(none, tf.range(n), -1, -1)  # context piece at each position

        width = tf.range(length)[None, :]
        used = q + 3 + window_lengths[:, None]
        padding_mask = tf.cast(width < used, tf.int32)
        segment_ids = tf.cast((width >= q + 2) & (width < used), tf.int32)
        return {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": padding_mask,
            "token_starts": token_starts,
            "token_ends": token_ends,
            "max_context": self._max_context(index, window_starts, window_lengths),
            **self._positions(
                starts, ends, answer_start, answer_end, window_starts, window_lengths, q
            ),
        }

    def _max_context(self, index, window_starts, window_lengths):
        # score[w, piece]: min(left, right) context of the piece in window w + 0.01 * len.
        pieces = tf.maximum(index, 0)[:, :, None]  # (w, length, 1)
        starts = window_starts[None, None, :]  # (1, 1, w)
        lengths = window_lengths[None, None, :]
        left = pieces - starts
        right = starts + lengths - 1 - pieces
        inside = (left >= 0) & (right >= 0)
        score = tf.cast(tf.minimum(left, right), tf.float32) + 0.01 * tf.cast(lengths, tf.float32)
        score = tf.where(inside, score, -1.0)  # (w, length, w)
        best = tf.argmax(score, axis=-1, output_type=tf.int32)  # first max on ties
        own = tf.range(tf.shape(index)[0])[:, None]
        return (index >= 0) & tf.equal(best, own)

    def _positions(self, starts, ends, answer_start, answer_end, window_starts, window_lengths, q):
        answer_start = tf.cast(answer_start, tf.int32)
        answer_end = tf.cast(answer_end, tf.int32)
        # First piece ending after the answer's start; last piece starting before its end.
        first = tf.reduce_sum(tf.cast(ends <= answer_start, tf.int32))
        last = tf.reduce_sum(tf.cast(starts < answer_end, tf.int32)) - 1
        has = (answer_start >= 0) & (first <= last)
        inside = has & (first >= window_starts) & (last < window_starts + window_lengths)
        offset = q + 2 - window_starts
        return {
            "start_positions": tf.where(inside, first + offset, 0),
            "end_positions": tf.where(inside, last + offset, 0),
        }

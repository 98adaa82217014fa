"""BasicTokenizer: BERT's text cleaning, normalization and word splitting as TF ops."""

import tensorflow as tf

from pipelines import unicode_tables as ut


class BasicTokenizer(tf.Module):
    """Splits raw text into normalized words the way BERT's reference tokenizer does.

    Control characters are deleted (joining their neighbours), CJK ideographs and
    punctuation become words of their own, whitespace splits, and for uncased
    vocabularies text is NFD-normalized, stripped of accents and lowercased. Every
    character is classified by a table lookup (see `unicode_tables`).

    Example:
    >>> basic = BasicTokenizer(lowercase=True)
    >>> basic.split(["Héllo, WORLD!"]).to_list()
    [[b'hello', b',', b'world', b'!']]
    """

    def __init__(self, lowercase=True, name=None):
        super().__init__(name=name)
        self.lowercase = lowercase
        flags, index, replacements = ut.tables(lowercase)
        self._flags = tf.constant(flags, dtype=tf.uint8)
        self._index = tf.constant(index, dtype=tf.int32)
        self._replacements = tf.constant(replacements, dtype=tf.int32)

    def split(self, texts):
        """Normalized words of a (batch,) string tensor: ragged (batch, words)."""
        texts = tf.convert_to_tensor(texts, tf.string)
        words, rows = self.split_with_spans(tf.reshape(texts, [-1]))[:2]
        return tf.RaggedTensor.from_value_rowids(
            words, rows, nrows=tf.size(texts, out_type=tf.int64), validate=False
        )

    def split_with_spans(self, texts):
        """Normalized words of a (batch,) string tensor, with character spans.

        Returns (words, word_rows, word_begins, word_ends, word_first_chars,
        char_starts, char_positions): the last three map a byte of a normalized word
        back to the input character it came from (indices are among kept characters).
        """
        code_points = tf.strings.unicode_decode(
            texts, "UTF-8", errors="replace", replacement_char=0xFFFD
        )  # ragged (batch, chars)
        cps = code_points.flat_values
        rows = code_points.value_rowids()
        positions = tf.range(tf.size(cps, out_type=tf.int64)) - tf.gather(
            code_points.row_starts(), rows
        )  # index of each character in its own string
        flags = tf.cast(tf.gather(self._flags, cps), tf.int32)
        is_space = tf.bitwise.bitwise_and(flags, ut.WHITESPACE) > 0
        deleted = tf.bitwise.bitwise_and(flags, ut.DELETE) > 0
        isolated = tf.bitwise.bitwise_and(flags, ut.ISOLATE) > 0
        spaces_before = tf.cumsum(tf.cast(is_space, tf.int32))

        index = tf.where(tf.logical_not(is_space | deleted))[:, 0]  # kept characters
        k_rows = tf.gather(rows, index)
        k_spaces = tf.gather(spaces_before, index)
        k_isolated = tf.gather(isolated, index)
        k_positions = tf.gather(positions, index)
        slots = self._normalized_slots(tf.gather(cps, index))  # (kept, width), -1 padded
        # A kept character starts a word after a row change, a space, or an isolated char.
        boundary = (
            tf.not_equal(k_rows[1:], k_rows[:-1])
            | tf.not_equal(k_spaces[1:], k_spaces[:-1])
            | k_isolated[1:]
            | k_isolated[:-1]
        )
        first = tf.ones([tf.minimum(tf.size(index), 1)], tf.bool)
        starts = tf.concat([first, boundary], axis=0)
        word_ids = tf.cumsum(tf.cast(starts, tf.int64)) - 1
        num_words = tf.reduce_sum(tf.cast(starts, tf.int64))

        valid = slots >= 0
        counts = tf.reduce_sum(tf.cast(valid, tf.int64), axis=1)  # code points per char
        word_cps = tf.RaggedTensor.from_value_rowids(
            tf.boolean_mask(slots, valid),
            tf.repeat(word_ids, counts),
            nrows=num_words,
            validate=False,
        )
        words = tf.strings.unicode_encode(word_cps, "UTF-8")
        word_rows = tf.boolean_mask(k_rows, starts)
        word_begins = tf.math.unsorted_segment_min(k_positions, word_ids, num_words)
        word_ends = tf.math.unsorted_segment_max(k_positions, word_ids, num_words) + 1
        word_first_chars = tf.where(starts)[:, 0]
        utf8_bytes = (
            1
            + tf.cast(slots >= 0x80, tf.int64)
            + tf.cast(slots >= 0x800, tf.int64)
            + tf.cast(slots >= 0x10000, tf.int64)
        )
        char_bytes = tf.reduce_sum(tf.where(valid, utf8_bytes, 0), axis=1)
        char_starts = tf.cumsum(char_bytes, exclusive=True)
        return (
            words,
            word_rows,
            word_begins,
            word_ends,
            word_first_chars,
            char_starts,
            k_positions,
        )

    def _normalized_slots(self, cps):
        """(n, width) code points each character normalizes to, padded with -1."""
        width = self._replacements.shape[1]
        limit = tf.shape(self._index)[0] - 1
        row = tf.where(cps <= limit, tf.gather(self._index, tf.minimum(cps, limit)), -1)
        replaced = tf.gather(self._replacements, tf.maximum(row, 0))
        same = tf.concat([cps[:, None], tf.fill([tf.size(cps), width - 1], -1)], axis=1)
        return tf.where(row[:, None] >= 0, replaced, same)

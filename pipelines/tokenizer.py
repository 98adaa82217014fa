"""BertTokenizer: BERT's BasicTokenizer + WordPiece as TensorFlow graph ops."""

import tensorflow as tf
import tensorflow_text as tf_text

from pipelines.basic_tokenizer import BasicTokenizer
from pipelines.vocabulary import (
    read_vocabulary,
    resolve_lowercase,
    special_token_ids,
    vocabulary_file,
)

# A line the fast path tokenizes: printable ASCII, tab, newline, carriage return (no
# control characters to delete, nothing to normalize but ASCII case).
ASCII_LINE = "[\t\n\r -~]*"


class BertTokenizer(tf.Module):
    """Raw text to WordPiece ids inside the TF graph (tf.data, tf.function, SavedModel).

    It does what BERT's reference tokenizer does: drop control characters (joining
    their neighbours), put spaces around CJK ideographs, split on whitespace and
    punctuation, and for uncased vocabularies apply NFD, drop accents and lowercase;
    then greedy longest-match-first WordPiece with `##`, and [UNK] for words longer
    than `max_chars_per_word` characters. Character handling is a lookup in tables
    precomputed from Python's `unicodedata` (see `unicode_tables`).

    The vocabulary file is a tracked asset (it travels with an exported SavedModel);
    special token ids are looked up in it. `wordpiece="fast"` (default) uses
    tensorflow-text's FastWordpieceTokenizer (and sends lines of printable ASCII
    through its end-to-end mode, several times faster, same ids and offsets),
    `"classic"` its WordpieceTokenizer op (older TF Serving builds have only that one);
    both give the same ids. `lowercase` comes from the argument or the folder's config
    (`do_lower_case`), never from a path name.

    Example:
    >>> tokenizer = BertTokenizer("tests/data/vocab.txt", lowercase=True)
    >>> ids = tokenizer.tokenize(["Hello, world!"])          # ragged (batch, tokens)
    >>> ids, starts, ends = tokenizer.tokenize_with_offsets("Hello, world!")
    >>> text = tokenizer.detokenize(ids)
    """

    def __init__(
        self, vocabulary, lowercase=None, max_chars_per_word=200, wordpiece="fast", name=None
    ):
        super().__init__(name=name)
        self.vocabulary_path = vocabulary
        self.tokens = read_vocabulary(vocabulary)
        self.vocabulary_size = len(self.tokens)
        self.lowercase = resolve_lowercase(vocabulary, lowercase)
        self.max_chars_per_word = max_chars_per_word
        ids = special_token_ids(self.tokens, vocabulary)
        self.pad_id, self.unk_id = ids["[PAD]"], ids["[UNK]"]
        self.cls_id, self.sep_id, self.mask_id = ids["[CLS]"], ids["[SEP]"], ids["[MASK]"]
        self.special_ids = sorted(ids[t] for t in ("[PAD]", "[CLS]", "[SEP]", "[MASK]"))

        self.basic_tokenizer = BasicTokenizer(self.lowercase)
        self._token_to_id = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                vocabulary,
                tf.string,
                tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER,
            ),
            default_value=-1,
        )
        self._id_to_token = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                vocabulary,
                tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER,
                tf.string,
                tf.lookup.TextFileIndex.WHOLE_LINE,
            ),
            default_value="[UNK]",
        )
        self.wordpiece = wordpiece
        self._wordpiece = self._wordpiece_op(wordpiece, 4 * max_chars_per_word + 4)
        self._ascii_wordpiece = None
        if wordpiece == "fast":
            self._ascii_wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=self.tokens,
                suffix_indicator="##",
                max_bytes_per_word=max_chars_per_word,
                token_out_type=tf.int64,
                unknown_token="[UNK]",
                no_pretokenization=False,
            )

    def _wordpiece_op(self, kind, max_bytes):
        # Both give the same ids (greedy longest-match-first, whole word -> [UNK]).
        if kind == "fast":  # LinMaxMatch: about twice as fast overall here.
            return tf_text.FastWordpieceTokenizer(
                vocab=self.tokens,
                suffix_indicator="##",
                max_bytes_per_word=max_bytes,
                token_out_type=tf.int64,
                unknown_token="[UNK]",
                no_pretokenization=True,
            )
        if kind == "classic":  # The op every TF Serving build with tf-text has.
            return tf_text.WordpieceTokenizer(
                self._token_to_id,
                suffix_indicator="##",
                max_bytes_per_word=max_bytes,
                token_out_type=tf.int64,
                unknown_token="[UNK]",
            )
        raise ValueError(f"wordpiece must be 'fast' or 'classic', not {kind!r}.")

    @classmethod
    def from_dir(cls, directory, lowercase=None, **kwargs):
        """The tokenizer of a checkpoint folder (its vocab.txt and do_lower_case)."""
        return cls(vocabulary_file(directory), lowercase=lowercase, **kwargs)

    def _tokenize(self, texts, with_offsets):
        texts = tf.convert_to_tensor(texts, tf.string)
        scalar = texts.shape.rank == 0
        batch = tf.reshape(texts, [-1])
        if self._ascii_wordpiece is None:
            out = self._tokenize_any(batch, with_offsets)
        else:
            # Lines of printable ASCII (plus tab and newlines) need no Unicode work: one
            # end-to-end WordPiece op splits them exactly as the full path does.
            simple = tf.strings.regex_full_match(batch, ASCII_LINE)
            fast_rows = tf.where(simple)[:, 0]
            other_rows = tf.where(tf.logical_not(simple))[:, 0]
            fast = self._tokenize_ascii(tf.gather(batch, fast_rows), with_offsets)
            other = self._tokenize_any(tf.gather(batch, other_rows), with_offsets)
            back = tf.math.invert_permutation(tf.concat([fast_rows, other_rows], 0))
            out = [tf.gather(tf.concat([a, b], 0), back) for a, b in zip(fast, other)]
        if scalar:
            out = [x.flat_values for x in out]
        return tuple(out)

    def _tokenize_ascii(self, batch, with_offsets):
        """Printable-ASCII lines: lowercase (uncased) and the end-to-end op, whose
        whitespace/punctuation split and per-word [UNK] limit (bytes = characters
        here) are BERT's; its byte offsets are character offsets."""
        text = tf.strings.lower(batch) if self.lowercase else batch
        ids, starts, ends = self._ascii_wordpiece.tokenize_with_offsets(text)
        out = [tf.cast(ids, tf.int32)]
        if with_offsets:
            out += [starts, ends]
        return out

    def _tokenize_any(self, batch, with_offsets):
        (
            words,
            word_rows,
            word_begins,
            word_ends,
            word_first_chars,
            char_starts,
            char_positions,
        ) = self.basic_tokenizer.split_with_spans(batch)
        ids, piece_starts, piece_ends = self._wordpiece.tokenize_with_offsets(words)
        piece_words = ids.value_rowids()
        values = ids.flat_values

        # Words over max_chars_per_word characters become one [UNK] spanning the word.
        too_long = tf.strings.length(words, unit="UTF8_CHAR") > self.max_chars_per_word
        piece_long = tf.gather(too_long, piece_words)
        piece_index = tf.range(tf.size(values, out_type=tf.int64)) - tf.gather(
            ids.row_starts(), piece_words
        )
        keep = tf.logical_not(piece_long) | tf.equal(piece_index, 0)
        values = tf.where(piece_long, tf.constant(self.unk_id, tf.int64), values)
        piece_rows = tf.boolean_mask(tf.gather(word_rows, piece_words), keep)

        def ragged(x):
            return tf.RaggedTensor.from_value_rowids(
                tf.boolean_mask(x, keep),
                piece_rows,
                nrows=tf.size(batch, out_type=tf.int64),
                validate=False,
            )

        out = [ragged(tf.cast(values, tf.int32))]
        if with_offsets:
            # Piece byte offsets within normalized words -> input character offsets.
            word_bytes = tf.gather(char_starts, tf.gather(word_first_chars, piece_words))
            first_byte = word_bytes + piece_starts.flat_values
            last_byte = word_bytes + piece_ends.flat_values - 1
            first_char = tf.searchsorted(char_starts, first_byte, side="right") - 1
            last_char = tf.searchsorted(char_starts, last_byte, side="right") - 1
            begins = tf.gather(char_positions, first_char)
            ends = tf.gather(char_positions, last_char) + 1
            begins = tf.where(piece_long, tf.gather(word_begins, piece_words), begins)
            ends = tf.where(piece_long, tf.gather(word_ends, piece_words), ends)
            out += [ragged(begins), ragged(ends)]
        return out

    def tokenize(self, texts):
        """Token ids (int32): a ragged (batch, tokens) for a batch, 1-D for a string."""
        return self._tokenize(texts, with_offsets=False)[0]

    def tokenize_with_offsets(self, texts):
        """(ids, starts, ends): starts/ends are character (code point) offsets into
        each input string, so `text[start:end]` in Python is the token's source text."""
        return self._tokenize(texts, with_offsets=True)

    def id_to_token(self, ids):
        return self._id_to_token.lookup(tf.cast(ids, tf.int64))

    def token_to_id(self, tokens):
        return tf.cast(self._token_to_id.lookup(tokens), tf.int32)

    def detokenize(self, ids, skip_special_tokens=True):
        """Ids (1-D, or (batch, seq) dense or ragged) back to text, joining `##` pieces."""
        ids = ids if isinstance(ids, tf.RaggedTensor) else tf.convert_to_tensor(ids)
        scalar = ids.shape.rank == 1
        if scalar:
            ids = ids[None, :]
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        ids = tf.cast(ids, tf.int64)
        if skip_special_tokens:
            special = tf.reduce_any(
                tf.equal(ids.flat_values[:, None], tf.constant(self.special_ids, tf.int64)),
                axis=1,
            )
            ids = tf.ragged.boolean_mask(ids, ids.with_flat_values(tf.logical_not(special)))
        tokens = ids.with_flat_values(self.id_to_token(ids.flat_values))
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        text = tf.strings.regex_replace(text, r" ##", "")
        text = tf.strings.regex_replace(text, r"^##", "")
        return text[0] if scalar else text

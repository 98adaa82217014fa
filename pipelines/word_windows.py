"""Raw sentences -> CoNLL-style words -> word-piece windows, in TF graph ops (serving NER).

Words are runs of letters, digits, marks and `_` (joined by an inner - ' . or ,, as in
"major-league", "O'Neill", "1,000"), or any other single non-space character. Each word
is tokenized on its own; a word with no pieces becomes one [UNK]. Windows hold at most
`sequence_length - 2` pieces and break between words, greedily, exactly as
`TokenLabeler.windows` does for training and evaluation.
"""

import tensorflow as tf
import tensorflow_text as tf_text

_WORD_CHAR = r"[\p{L}\p{N}\p{M}_]"
WORD_PATTERN = rf"{_WORD_CHAR}+(?:[-'.,]{_WORD_CHAR}+)*|[^\s\p{{L}}\p{{N}}\p{{M}}_]"


def split_words(texts):
    """(words, starts, ends) of a (batch,) string tensor: ragged (batch, words) strings
    and int32 character offsets (`text[start:end]` in Python is the word)."""
    texts = tf.convert_to_tensor(texts, tf.string)
    tokens, begins, ends = tf_text.regex_split_with_offsets(
        texts, WORD_PATTERN, keep_delim_regex_pattern=WORD_PATTERN
    )
    keep = tf.logical_not(tf.strings.regex_full_match(tokens, r"\s*"))
    tokens, begins, ends = (tf.ragged.boolean_mask(x, keep) for x in (tokens, begins, ends))
    _, char_bytes = tf.strings.unicode_decode_with_offsets(texts, "UTF-8", errors="replace")
    return tokens, _characters(char_bytes, begins), _characters(char_bytes, ends)


def _characters(char_bytes, offsets):
    """Byte offsets into each text -> character offsets (chars starting before them)."""
    rows = offsets.value_rowids()
    padded = char_bytes.to_tensor(default_value=tf.int64.max)  # (batch, chars)
    below = tf.gather(padded, rows) < offsets.flat_values[:, None]  # (words, chars)
    count = tf.reduce_sum(tf.cast(below, tf.int32), axis=1)
    return offsets.with_flat_values(count)


def word_pieces(tokenizer, words):
    """Ragged (words, pieces) ids of a flat string tensor of words; a word without
    pieces gets one [UNK] (as `TokenLabeler`)."""
    ids = tokenizer.tokenize(words)
    empty = tf.cast(tf.equal(ids.row_lengths(), 0), tf.int64)
    unk = tf.RaggedTensor.from_row_lengths(
        tf.fill([tf.reduce_sum(empty)], tf.constant(tokenizer.unk_id, tf.int32)), empty
    )
    return tf.concat([ids, unk], axis=1)


def window_bounds(first, budget):
    """[start, end) piece ranges of one sentence's windows: at most `budget` pieces,
    broken before a word's first piece when one is in reach (`first`: (pieces,) bool)."""
    n = tf.size(first)
    word_starts = tf.cast(tf.where(first)[:, 0], tf.int32)

    def step(start, bounds):
        end = tf.minimum(start + budget, n)
        reachable = word_starts[(word_starts > start) & (word_starts <= end)]
        end = tf.where(
            (end < n) & (tf.size(reachable) > 0), tf.reduce_max(tf.concat([reachable, [0]], 0)), end
        )
        return end, bounds.write(bounds.size(), tf.stack([start, end]))

    _, bounds = tf.while_loop(
        lambda start, _: start < n,
        step,
        (tf.constant(0), tf.TensorArray(tf.int32, size=0, dynamic_size=True)),
    )
    bounds = bounds.stack()
    return tf.cond(
        n > 0, lambda: tf.reshape(bounds, [-1, 2]), lambda: tf.constant([[0, 0]], tf.int32)
    )


def sentence_windows(tokenizer, texts, sequence_length):
    """Windows of raw sentences for a token classifier.

    Returns (words, starts, ends) from `split_words`, and a dict of `(windows,
    sequence_length)` tensors: `token_ids`, `segment_ids`, `padding_mask`, `word_index`
    (the word, numbered across the batch, of each word's first piece; -1 elsewhere),
    plus `(windows,)` `sentence_index`.
    """
    words, starts, ends = split_words(texts)
    pieces = word_pieces(tokenizer, words.flat_values)  # (all words, pieces)
    piece_word = tf.cast(pieces.value_rowids(), tf.int32)  # global word of each piece
    first = tf.equal(
        tf.range(tf.size(pieces.flat_values, tf.int64)),
        tf.gather(pieces.row_starts(), pieces.value_rowids()),
    )
    sentence_pieces = tf.RaggedTensor.from_row_lengths(  # (batch, pieces) positions
        tf.range(tf.size(pieces.flat_values)),
        tf.math.unsorted_segment_sum(pieces.row_lengths(), words.value_rowids(), words.nrows()),
    )
    budget = sequence_length - 2
    length = sequence_length

    def one(positions):
        bounds = window_bounds(tf.gather(first, positions), budget)
        rows = tf.ragged.range(bounds[:, 0], bounds[:, 1])
        at = tf.gather(positions, rows)  # (w, None) flat piece index
        count = tf.shape(bounds)[0]

        def packed(values, head, tail, pad):
            edge = [tf.RaggedTensor.from_tensor(tf.fill([count, 1], v)) for v in (head, tail)]
            row = tf.concat([edge[0], tf.gather(values, at), edge[1]], axis=1)
            return row.to_tensor(default_value=pad, shape=[None, length])

        labelled = tf.where(first, piece_word, -1)
        return {
            "token_ids": packed(
                pieces.flat_values, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id
            ),
            "word_index": packed(labelled, -1, -1, -1),
            "padding_mask": packed(tf.ones_like(piece_word), 1, 1, 0),
        }

    spec = {
        k: tf.RaggedTensorSpec([None, length], tf.int32, ragged_rank=0)
        for k in ("token_ids", "word_index", "padding_mask")
    }
    windows = tf.map_fn(one, sentence_pieces, fn_output_signature=spec)
    out = {k: tf.reshape(v.values, [-1, length]) for k, v in windows.items()}
    out["segment_ids"] = tf.zeros_like(out["token_ids"])
    out["sentence_index"] = tf.cast(windows["token_ids"].value_rowids(), tf.int32)
    return (words, starts, ends), out

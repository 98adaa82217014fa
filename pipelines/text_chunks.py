"""Single-segment pretraining examples: each document's tokens, in order, cut into chunks
that fill the sequence. What the objectives without NSP train on (the paper's "No NSP"
and "LTR & No NSP" models), in-graph.

Unlike NSP pairs, a chunk never joins two documents and never skips text: a document of
`n` tokens gives `ceil(n / length)` chunks, all of `length` tokens but its last.
"""

import tensorflow as tf


def chunk_documents(documents, length):
    """Cuts every document into consecutive chunks of at most `length` tokens.

    Example:
    >>> docs = tf.ragged.constant([[[1, 2], [3]], [[4, 5, 6, 7, 8]]])  # (docs, sentences, tokens)
    >>> chunk_documents(docs, 2).to_list()
    [[1, 2], [3], [4, 5], [6, 7], [8]]

    Args:
        documents: ragged int tensor (docs, sentences, tokens).
        length: int, the most tokens per chunk.

    Returns: ragged (chunks, tokens), in document order.
    """
    if length < 1:
        raise ValueError(f"chunk length must be at least 1, got {length}.")
    tokens = documents.merge_dims(1, 2)  # (docs, tokens)
    position = tf.ragged.range(tokens.row_lengths())  # Within its document.
    chunks_per_doc = (tokens.row_lengths() + length - 1) // length
    first_chunk = tf.cumsum(chunks_per_doc, exclusive=True)  # (docs,)
    chunk = (position // length + first_chunk[:, None]).flat_values
    return tf.RaggedTensor.from_value_rowids(
        tokens.flat_values, chunk, nrows=tf.reduce_sum(chunks_per_doc), validate=False
    )  # `chunk` never decreases: positions run in order within each document.


def next_token_labels(token_ids, padding_mask):
    """A left-to-right LM's targets: position `t` predicts token `t + 1`.

    Example:
    >>> ids, weights = next_token_labels(tf.constant([[2, 5, 6, 3, 0]]),
    ...                                  tf.constant([[1, 1, 1, 1, 0]]))
    >>> ids.numpy().tolist(), weights.numpy().tolist()
    ([[5, 6, 3, 0, 0]], [[1.0, 1.0, 1.0, 0.0, 0.0]])

    Args:
        token_ids, padding_mask: int tensors (batch, seq).

    Returns: `(next_ids, next_weights)`, (batch, seq) int32 and float32: the token after
    each position (0 past the end) and 1.0 where that token is a real one.
    """
    pad = tf.zeros_like(token_ids[:, :1])
    next_ids = tf.concat([token_ids[:, 1:], pad], axis=1)
    next_real = tf.concat([padding_mask[:, 1:], tf.zeros_like(padding_mask[:, :1])], axis=1)
    return tf.cast(next_ids, tf.int32), tf.cast(next_real, tf.float32)

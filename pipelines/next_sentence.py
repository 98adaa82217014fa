"""Next-sentence (NSP) and sentence-order (SOP) pairs from tokenized documents, in-graph.

For a batch of documents (ragged `(docs, sentences, tokens)`), every document is cut
into chunks of consecutive sentences that fill a target length (`max_num_tokens`, or
with probability `short_seq_prob` a random shorter one, drawn per document). Each chunk
gives one example: segment A is its first k sentences (k uniform in [1, n - 1]); with
probability 0.5 segment B is the text that follows A in the document (label 0, IsNext),
otherwise a run of sentences from a random other document of the batch, starting at a
random sentence (label 1). When A ends its document, B is random (as in the original).
The pair is then cut to `max_num_tokens` by trimming the longer segment, one token at
a time, from a random end. With `sentence_order=True`, B is always the continuation and
the label says whether A and B were swapped (ALBERT's SOP).

All randomness is stateless, from `seed` (a shape [2] int tensor).
"""

import tensorflow as tf


def _uniform(seed, shape):
    return tf.random.stateless_uniform(shape, seed)


def _randint(seed, low, high):
    """Per-element integer in [low, high) for tensors low/high (high > low)."""
    u = _uniform(seed, tf.shape(low))
    span = tf.cast(high - low, tf.float32)
    return low + tf.minimum(tf.cast(tf.floor(u * span), low.dtype), high - low - 1)


def _longest_first(len_a, len_b, budget):
    """Final lengths after removing tokens from the longer segment (ties: B) until
    len_a + len_b <= budget."""
    excess = tf.maximum(len_a + len_b - budget, 0)
    only_a = len_a - len_b >= excess
    only_b = len_b - len_a >= excess
    half_up = (budget + 1) // 2
    final_a = tf.where(only_a, len_a - excess, tf.where(only_b, len_a, half_up))
    final_b = tf.where(only_a, len_b, tf.where(only_b, len_b - excess, budget - half_up))
    return final_a, final_b


def _trim(seed, start, length, final):
    """Drops `length - final` tokens, each from the front or the back with p=0.5."""
    removed = length - final
    front = tf.random.stateless_binomial(
        tf.shape(removed), seed, tf.cast(removed, tf.float32), 0.5, output_dtype=tf.int64
    )
    return start + tf.cast(front, start.dtype)


def make_pairs(sentences, max_num_tokens, seed, short_seq_prob=0.1, sentence_order=False):
    """Returns (segment_a, segment_b, labels): two ragged (examples, tokens) and int32 labels.

    `sentences` is a ragged int tensor (docs, sentences, tokens) whose documents and
    sentences are all non-empty.
    """
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 9))
    flat = sentences.values  # (all sentences, tokens)
    tokens = flat.values
    sent_start, sent_len = flat.row_starts(), flat.row_lengths()
    sent_doc = sentences.value_rowids()
    doc_first, doc_count = sentences.row_starts(), sentences.row_lengths()
    num_docs = sentences.nrows()
    doc_tok_start = tf.gather(sent_start, doc_first)
    doc_tok_end = doc_tok_start + tf.math.unsorted_segment_sum(sent_len, sent_doc, num_docs)

    # A target length per document; chunks are the runs of sentences that fill it.
    short = _uniform(seeds[0], [num_docs]) < short_seq_prob
    max_len = tf.constant(max_num_tokens, tf.int64)
    short_len = _randint(
        seeds[1], tf.fill([num_docs], tf.constant(2, tf.int64)), tf.fill([num_docs], max_len + 1)
    )
    target = tf.where(short, short_len, max_len)
    within = tf.cumsum(sent_len, exclusive=True) - tf.gather(
        tf.cumsum(sent_len, exclusive=True), tf.gather(doc_first, sent_doc)
    )
    key = within // tf.gather(target, sent_doc)
    first_of_doc = tf.equal(
        tf.range(tf.size(sent_doc, out_type=tf.int64)), tf.gather(doc_first, sent_doc)
    )
    new_chunk = first_of_doc | tf.concat([[True], tf.not_equal(key[1:], key[:-1])], 0)
    chunk_first = tf.where(new_chunk)[:, 0]
    chunk_id = tf.cumsum(tf.cast(new_chunk, tf.int64)) - 1
    num_chunks = tf.size(chunk_first, out_type=tf.int64)
    chunk_n = tf.math.unsorted_segment_sum(tf.ones_like(chunk_id), chunk_id, num_chunks)
    chunk_doc = tf.gather(sent_doc, chunk_first)
    chunk_target = tf.gather(target, chunk_doc)

    # Segment A: the chunk's first k sentences.
    k = _randint(seeds[2], tf.ones_like(chunk_n), tf.maximum(chunk_n, 2))
    a_last = chunk_first + k - 1
    a_start = tf.gather(sent_start, chunk_first)
    a_end = tf.gather(sent_start, a_last) + tf.gather(sent_len, a_last)
    has_next = a_last < tf.gather(doc_first + doc_count - 1, chunk_doc)
    b_budget = tf.maximum(chunk_target - (a_end - a_start), 1)
    doc_end = tf.gather(doc_tok_end, chunk_doc)

    if sentence_order:
        keep = has_next
        is_random = tf.zeros_like(has_next)
    else:
        is_random = (_uniform(seeds[3], tf.shape(has_next)) < 0.5) | tf.logical_not(has_next)
        keep = tf.logical_not(is_random) | (num_docs > 1)
    other_doc = (
        chunk_doc
        + _randint(
            seeds[4], tf.ones_like(chunk_doc), tf.maximum(num_docs, 2) + tf.zeros_like(chunk_doc)
        )
    ) % num_docs
    other_sent = tf.gather(doc_first, other_doc) + _randint(
        seeds[5], tf.zeros_like(other_doc), tf.gather(doc_count, other_doc)
    )
    b_start = tf.where(is_random, tf.gather(sent_start, other_sent), a_end)
    b_limit = tf.where(is_random, tf.gather(doc_tok_end, other_doc), doc_end)
    b_end = tf.minimum(b_start + b_budget, b_limit)

    len_a, len_b = a_end - a_start, b_end - b_start
    final_a, final_b = _longest_first(len_a, len_b, max_len)
    a_start = _trim(seeds[6], a_start, len_a, final_a)
    b_start = _trim(seeds[7], b_start, len_b, final_b)

    def segment(start, length):
        start, length = tf.boolean_mask(start, keep), tf.boolean_mask(length, keep)
        return tf.gather(tokens, tf.ragged.range(start, start + length))

    segment_a, segment_b = segment(a_start, final_a), segment(b_start, final_b)
    if sentence_order:
        swap = _uniform(seeds[8], [tf.shape(segment_a.row_lengths())[0]]) < 0.5
        labels = tf.cast(swap, tf.int32)
        segment_a, segment_b = _swap_rows(segment_a, segment_b, swap)
    else:
        labels = tf.cast(tf.boolean_mask(is_random, keep), tf.int32)
    return segment_a, segment_b, labels


def _swap_rows(a, b, swap):
    """Rows of (a, b) with rows where `swap` exchanged."""
    n = tf.shape(swap, out_type=tf.int64)[0]
    index = tf.range(n)
    both = tf.concat([a, b], axis=0)
    first = tf.gather(both, tf.where(swap, index + n, index))
    second = tf.gather(both, tf.where(swap, index, index + n))
    return first, second

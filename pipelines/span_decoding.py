"""Answer spans from start/end logits, in TF graph ops (evaluation and serving share it).

The rules of BERT's run_squad.py: in every window take the `n_best_size` highest start
logits and the `n_best_size` highest end logits; a pair is a candidate when both are
context pieces, the start is in its maximum-context window, the end is not before the
start and the span is at most `max_answer_length` pieces. Candidates of all of a
question's windows are ranked by start + end logit; the same character span found in
two windows counts once. The null score (v2.0) is the smallest [CLS] start + end logit
over the question's windows. Spans are character offsets into the original context.
"""

import tensorflow as tf

NEG = -1e30  # the score of "no candidate"


def window_candidates(
    start_logits,
    end_logits,
    token_starts,
    token_ends,
    max_context,
    n_best_size=20,
    max_answer_length=30,
):
    """The best `n_best_size` candidates of each window.

    Args:
        start_logits, end_logits: float (windows, seq).
        token_starts, token_ends: int (windows, seq) character spans (-1 outside the
            context), from `SquadWindower`.
        max_context: bool (windows, seq).
        n_best_size: int.
        max_answer_length: int, in word pieces.

    Returns:
        scores (windows, n_best) float32 (NEG where no candidate), start_chars and
        end_chars (windows, n_best) int32, null_scores (windows,) float32.
    """
    start_logits = tf.cast(start_logits, tf.float32)
    end_logits = tf.cast(end_logits, tf.float32)
    length = start_logits.shape[-1]  # None in an export that pads to each batch's longest
    k = min(n_best_size, length) if length else tf.minimum(n_best_size, tf.shape(start_logits)[-1])
    top_start, start_index = tf.math.top_k(start_logits, k)  # (w, k)
    top_end, end_index = tf.math.top_k(end_logits, k)  # (w, k)
    is_context = token_starts >= 0
    start_ok = tf.gather(is_context & max_context, start_index, batch_dims=1)
    end_ok = tf.gather(is_context, end_index, batch_dims=1)
    span = end_index[:, None, :] - start_index[:, :, None]  # (w, k_start, k_end)
    valid = start_ok[:, :, None] & end_ok[:, None, :] & (span >= 0) & (span < max_answer_length)
    scores = tf.where(valid, top_start[:, :, None] + top_end[:, None, :], NEG)
    w = tf.shape(scores)[0]
    scores = tf.reshape(scores, [w, k * k])
    starts = tf.reshape(tf.broadcast_to(start_index[:, :, None], [w, k, k]), [w, k * k])
    ends = tf.reshape(tf.broadcast_to(end_index[:, None, :], [w, k, k]), [w, k * k])
    best, order = tf.math.top_k(scores, k)
    start_chars = tf.gather(token_starts, tf.gather(starts, order, batch_dims=1), batch_dims=1)
    end_chars = tf.gather(token_ends, tf.gather(ends, order, batch_dims=1), batch_dims=1)
    null_scores = start_logits[:, 0] + end_logits[:, 0]
    return best, start_chars, end_chars, null_scores


def best_spans(
    start_logits,
    end_logits,
    token_starts,
    token_ends,
    max_context,
    window_example,
    num_examples,
    n_best_size=20,
    max_answer_length=30,
):
    """The n-best answer spans of each question over all its windows.

    Args:
        start_logits, end_logits, token_starts, token_ends, max_context: as in
            `window_candidates`, for all windows of a batch of questions.
        window_example: int (windows,), the question (0 .. num_examples - 1) of each
            window.
        num_examples: int scalar, the number of questions.

    Returns:
        dict of `scores` (examples, n_best) float32 (best first, NEG for none),
        `start_chars`, `end_chars` (examples, n_best) int32 (-1 for none), and
        `null_scores` (examples,) float32 (+inf for a question without windows).

    Example:
    >>> logits = tf.constant([[0., 0., 5., 1., 4.]])  # one window, 5 positions
    >>> chars = tf.constant([[-1, -1, 0, 4, 8]])
    >>> out = best_spans(logits, logits, chars, chars + 3, chars >= 0, [0], 1, 2)
    >>> out["start_chars"].numpy().tolist(), out["end_chars"].numpy().tolist()
    ([[0, 0]], [[3, 11]])
    """
    scores, start_chars, end_chars, null_scores = window_candidates(
        start_logits,
        end_logits,
        token_starts,
        token_ends,
        max_context,
        n_best_size,
        max_answer_length,
    )
    window_example = tf.cast(window_example, tf.int64)
    num_examples = tf.cast(num_examples, tf.int64)
    k = tf.shape(scores)[1]
    per_example = tf.repeat(window_example, k)

    def grouped(x, default):
        ragged = tf.RaggedTensor.from_value_rowids(
            tf.reshape(x, [-1]), per_example, nrows=num_examples
        )
        return ragged.to_tensor(default_value=default)

    scores = grouped(scores, NEG)  # (examples, windows * k)
    start_chars = grouped(start_chars, -1)
    end_chars = grouped(end_chars, -1)
    order = tf.argsort(scores, axis=1, direction="DESCENDING", stable=True)
    scores = tf.gather(scores, order, batch_dims=1)
    start_chars = tf.gather(start_chars, order, batch_dims=1)
    end_chars = tf.gather(end_chars, order, batch_dims=1)
    # A span already ranked higher (found in an overlapping window) counts once.
    same = tf.equal(start_chars[:, :, None], start_chars[:, None, :]) & tf.equal(
        end_chars[:, :, None], end_chars[:, None, :]
    )
    size = tf.shape(scores)[1]
    earlier = tf.range(size)[None, :] < tf.range(size)[:, None]  # (i, j): j before i
    duplicate = tf.reduce_any(same & earlier[None], axis=2)
    keep = tf.logical_not(duplicate) & (scores > NEG / 2)
    scores = tf.where(keep, scores, NEG)
    order = tf.argsort(scores, axis=1, direction="DESCENDING", stable=True)[:, :n_best_size]
    scores = tf.gather(scores, order, batch_dims=1)
    none = scores <= NEG / 2
    start_chars = tf.where(none, -1, tf.gather(start_chars, order, batch_dims=1))
    end_chars = tf.where(none, -1, tf.gather(end_chars, order, batch_dims=1))
    pad = tf.maximum(n_best_size - tf.shape(scores)[1], 0)
    scores = tf.pad(scores, [[0, 0], [0, pad]], constant_values=NEG)
    start_chars = tf.pad(start_chars, [[0, 0], [0, pad]], constant_values=-1)
    end_chars = tf.pad(end_chars, [[0, 0], [0, pad]], constant_values=-1)
    null_scores = tf.math.unsorted_segment_min(null_scores, window_example, num_examples)
    return {
        "scores": scores,
        "start_chars": start_chars,
        "end_chars": end_chars,
        "null_scores": null_scores,
    }


def choose_answers(spans, null_score_diff_threshold=None):
    """Each question's answer span: the best candidate, or none (-1, -1) when there
    is no candidate or, with a threshold (SQuAD v2.0), when the null score beats the
    best span's score by more than the threshold.

    Returns start_chars, end_chars (examples,) int32 and score_diffs (examples,)
    float32 (null score minus best span score: v2.0's `null_odds.json`).
    """
    best = spans["scores"][:, 0]
    diffs = spans["null_scores"] - best
    answer = best > NEG / 2
    if null_score_diff_threshold is not None:
        answer &= diffs <= null_score_diff_threshold
    start = tf.where(answer, spans["start_chars"][:, 0], -1)
    end = tf.where(answer, spans["end_chars"][:, 0], -1)
    return start, end, diffs

"""Packing token segments into BERT inputs: [CLS] A [SEP] B [SEP] ..., padded.

Only core TensorFlow ops are used (no tensorflow-text trimmer or combiner), so an
exported graph that packs runs on every TF Serving build: tf-text's RoundRobinTrimmer
ops are missing from the official TF Serving 2.12-2.20 binaries.
"""

import tensorflow as tf


def check_same_batch(segments, names=None):
    """Raises (statically, or in the graph) unless every segment has the same row count.

    `segments` are ragged or dense tensors whose first axis is the batch. Mismatched
    batches would otherwise be paired row by row with missing rows read as garbage.
    """
    names = names or [f"segment {i}" for i in range(len(segments))]
    rows = [s.nrows() if isinstance(s, tf.RaggedTensor) else tf.shape(s)[0] for s in segments]
    static = [tf.get_static_value(r) for r in rows]
    if all(r is not None for r in static):
        if len(set(int(r) for r in static)) > 1:
            sizes = ", ".join(f"{n}: {int(r)}" for n, r in zip(names, static))
            raise ValueError(
                f"Segments have different batch sizes ({sizes}); every "
                "segment needs one entry per example."
            )
        return []
    checks = []
    for name, r in zip(names[1:], rows[1:]):
        checks.append(
            tf.debugging.assert_equal(
                tf.cast(r, tf.int64),
                tf.cast(rows[0], tf.int64),
                message=f"Segments have different batch sizes: {names[0]} vs {name} "
                "(every segment needs one entry per example)",
            )
        )
    return checks


def trimmed_lengths(lengths, budget):
    """Per-segment lengths after longest-first truncation to a total of `budget`.

    `lengths` is (batch, segments). Removing one token at a time from the end of the
    currently longest segment (ties: the later one) is the same as giving each segment
    `min(length, level)` tokens, `level` the largest with a total within budget, plus
    one more token to the first segments still longer than `level` while budget remains.
    """
    lengths = tf.cast(lengths, tf.int32)
    levels = tf.range(budget + 1, dtype=tf.int32)  # (levels,)
    totals = tf.reduce_sum(tf.minimum(lengths[:, :, None], levels), axis=1)  # (batch, levels)
    level = tf.reduce_sum(tf.cast(totals <= budget, tf.int32), axis=1) - 1  # (batch,)
    kept = tf.minimum(lengths, level[:, None])
    spare = budget - tf.reduce_sum(kept, axis=1, keepdims=True)  # (batch, 1)
    longer = tf.cast(lengths > level[:, None], tf.int32)
    earlier_longer = tf.cumsum(longer, axis=1, exclusive=True)
    extra = longer * tf.cast(earlier_longer < spare, tf.int32)
    return kept + extra


def pack_segments(segments, sequence_length, cls_id, sep_id, pad_id):
    """Packs ragged (batch, None) id segments into the backbone's input dict.

    Truncation is longest-first: tokens are removed from the end of the currently
    longest segment (ties: the later segment) until `[CLS]`, the segments and one
    `[SEP]` after each fit in `sequence_length`. Segment i gets segment id i. All
    segments must have the same number of rows (checked, with both sizes in the error).

    Returns int32 `token_ids`, `segment_ids`, `padding_mask`, each (batch, sequence_length).
    """
    segments = [
        s if isinstance(s, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(s) for s in segments
    ]
    segments = [tf.cast(s, tf.int32) for s in segments]
    for i, s in enumerate(segments):
        if s.ragged_rank != 1 or s.values.shape.rank != 1:
            raise ValueError(f"Segment {i} must be (batch, None) ids, not of shape {s.shape}.")
    budget = sequence_length - 1 - len(segments)
    if budget < len(segments):
        raise ValueError(
            f"sequence_length {sequence_length} leaves no room for {len(segments)} "
            "segment(s) after [CLS] and [SEP]."
        )
    with tf.control_dependencies(check_same_batch(segments)):
        lengths = tf.stack([tf.cast(s.row_lengths(), tf.int32) for s in segments], axis=1)
    keep = trimmed_lengths(lengths, budget)  # (batch, segments)
    seps = tf.cumsum(keep + 1, axis=1)  # (batch, segments): where each [SEP] goes

    # Dense (batch, sequence_length) work, a few ops per segment: ragged concatenation
    # builds many times the graph, and packing is traced in every input pipeline and
    # export signature.
    position = tf.range(sequence_length)[None, :]
    token_ids = tf.where(tf.equal(position, 0), cls_id, pad_id)
    segment_ids = tf.zeros_like(position)
    previous = tf.zeros_like(seps[:, :1])  # (batch, 1): the [SEP] before the segment
    for i, s in enumerate(segments):
        sep = seps[:, i : i + 1]
        inside = (position > previous) & (position < sep)
        index = tf.cast(s.row_starts()[:, None], tf.int32) + position - previous - 1
        index = tf.clip_by_value(index, 0, tf.size(s.values))  # the last: a padding slot
        values = tf.concat([s.values, [pad_id]], axis=0)
        token_ids = tf.where(inside, tf.gather(values, index), token_ids)
        token_ids = tf.where(tf.equal(position, sep), sep_id, token_ids)
        segment_ids = tf.where((position > previous) & (position <= sep), i, segment_ids)
        previous = sep
    return {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": tf.cast(position <= previous, tf.int32),
    }


def trim_padding(features, multiple=8):
    """`features` cut along their last (sequence) axis to the batch's longest row,
    rounded up to a multiple of `multiple` and never longer than they were.

    Every tensor with `padding_mask`'s static shape is cut (the backbone's inputs and
    any per-token companions, such as a window's `token_starts`); the others are kept.
    A row's length is one past its last real token. An empty batch keeps `multiple`
    positions. The encoder's cost grows with the padded length, and most requests are
    far shorter than the sequence length; multiples of 8 keep the distinct shapes (and
    compiled programs) few.

    Example:
    >>> mask = tf.constant([[1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
    >>> trim_padding({"padding_mask": mask, "token_ids": mask * 7})["token_ids"].shape
    TensorShape([1, 8])
    """
    mask = features["padding_mask"]
    full = tf.shape(mask)[-1]
    ends = row_ends(mask)
    longest = tf.reduce_max(tf.concat([tf.reshape(ends, [-1]), [1]], axis=0))
    width = tf.minimum(full, (longest + multiple - 1) // multiple * multiple)
    shape = mask.shape
    return {
        k: v[..., :width] if v.shape.rank == shape.rank and v.shape[1:-1] == shape[1:-1] else v
        for k, v in features.items()
    }


def row_ends(padding_mask):
    """int32, one past each row's last real token (`padding_mask` (..., length))."""
    positions = tf.range(1, tf.shape(padding_mask)[-1] + 1, dtype=tf.int32)
    return tf.reduce_max(tf.cast(padding_mask != 0, tf.int32) * positions, axis=-1)

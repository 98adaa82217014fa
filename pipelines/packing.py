"""Packing token segments into BERT inputs: [CLS] A [SEP] B [SEP] ..., padded."""

import tensorflow as tf
import tensorflow_text as tf_text


def pack_segments(segments, sequence_length, cls_id, sep_id, pad_id):
    """Packs ragged (batch, None) id segments into the backbone's input dict.

    Truncation is longest-first: tokens are removed from the end of the currently
    longest segment (ties: the later segment) until `[CLS]`, the segments and one
    `[SEP]` after each fit in `sequence_length`. Segment i gets segment id i.

    Returns int32 `token_ids`, `segment_ids`, `padding_mask`, each (batch, sequence_length).
    """
    segments = [tf.cast(s, tf.int32) for s in segments]
    budget = sequence_length - 1 - len(segments)
    if budget < len(segments):
        raise ValueError(
            f"sequence_length {sequence_length} leaves no room for {len(segments)} "
            "segment(s) after [CLS] and [SEP]."
        )
    # Round-robin allocation of the budget from the front keeps the same lengths as
    # removing tokens from the longest segment one at a time.
    trimmed = tf_text.RoundRobinTrimmer(max_seq_length=budget).trim(segments)
    token_ids, segment_ids = tf_text.combine_segments(trimmed, cls_id, sep_id)
    token_ids, padding_mask = tf_text.pad_model_inputs(
        token_ids, max_seq_length=sequence_length, pad_value=pad_id
    )
    segment_ids, _ = tf_text.pad_model_inputs(segment_ids, max_seq_length=sequence_length)
    return {
        "token_ids": tf.cast(token_ids, tf.int32),
        "segment_ids": tf.cast(segment_ids, tf.int32),
        "padding_mask": tf.cast(padding_mask, tf.int32),
    }

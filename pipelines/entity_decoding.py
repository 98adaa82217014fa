"""Entity spans from tag ids in TF graph ops (serving), with `tag_schemes.entities`'
conlleval rules: an entity starts at B-/S-, or at I-/E- after O, after an ended entity
(E-, S-) or after another type; it ends after E-/S-, or before O, B-, S- or another type.
"""

import tensorflow as tf

from pipelines.tag_schemes import split_tag

_PREFIX = {"O": 0, "B": 1, "I": 2, "E": 3, "S": 4}


def tag_tables(label_names):
    """(prefix code per tag id, type id per tag id, type names) for `entity_spans`."""
    parts = [split_tag(name) for name in label_names]
    types = sorted({kind for _, kind in parts} - {""})
    return ([_PREFIX[p] for p, _ in parts], [types.index(k) if k else -1 for _, k in parts], types)


def entity_spans(tag_ids, label_names):
    """Entities of each sentence from ragged (batch, words) tag ids.

    Returns ragged (batch, entities) int32 `types` (index into the sorted type names),
    `first` and `last` (word positions in the sentence, inclusive), and the type names.

    Example:
    >>> names = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    >>> ids = tf.ragged.constant([[2, 2, 1, 0, 4], [3]])
    >>> types, first, last, kinds = entity_spans(ids, names)
    >>> first.to_list(), last.to_list(), kinds
    ([[0, 2, 4], [0]], [[1, 2, 4], [0]], ['LOC', 'PER'])
    """
    prefixes, type_ids, types = tag_tables(label_names)
    flat = tf.cast(tag_ids.flat_values, tf.int32)
    prefix = tf.gather(tf.constant(prefixes, tf.int32), flat)
    kind = tf.gather(tf.constant(type_ids, tf.int32), flat)
    index = tf.range(tf.size(flat))
    starts = tf.cast(tag_ids.row_starts(), tf.int32)
    rows = tf.cast(tag_ids.value_rowids(), tf.int32)
    at_start = tf.equal(index, tf.gather(starts, rows))
    at_end = tf.equal(index, tf.gather(starts + tf.cast(tag_ids.row_lengths(), tf.int32), rows) - 1)
    previous = tf.where(at_start, 0, tf.roll(prefix, 1, 0))
    previous_kind = tf.where(at_start, -1, tf.roll(kind, 1, 0))
    following = tf.where(at_end, 0, tf.roll(prefix, -1, 0))
    following_kind = tf.where(at_end, -1, tf.roll(kind, -1, 0))
    inside = prefix > 0
    begins = inside & (
        (prefix == 1)
        | (prefix == 4)
        | (previous == 0)
        | (previous == 3)
        | (previous == 4)
        | (previous_kind != kind)
    )
    closes = inside & (
        (prefix == 3)
        | (prefix == 4)
        | (following == 0)
        | (following == 1)
        | (following == 4)
        | (following_kind != kind)
    )
    first = tf.boolean_mask(index, begins) - tf.boolean_mask(tf.gather(starts, rows), begins)
    last = tf.boolean_mask(index, closes) - tf.boolean_mask(tf.gather(starts, rows), closes)
    owner = tf.boolean_mask(rows, begins)
    nrows = tag_ids.nrows(out_type=tf.int32)

    def ragged(values, rows_of):
        return tf.RaggedTensor.from_value_rowids(values, rows_of, nrows=nrows)

    return (
        ragged(tf.boolean_mask(kind, begins), owner),
        ragged(first, owner),
        ragged(last, tf.boolean_mask(rows, closes)),
        types,
    )

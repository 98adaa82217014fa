"""Distributed input: each replica's share of every global batch, and full static batches
for TPUs.

Every dataset builder makes global batches (the `--batch-size` a user gives). Under a
tf.distribute strategy, `replica_batches` turns that stream into the per-replica
batches one input pipeline (one worker) feeds its local replicas: global batch `t` is
cut into `num_replicas_in_sync` near-equal slices, and this pipeline yields its own
replicas' slices, in replica order. The replicas of a step therefore train on exactly
the examples a single device would see at step `t`, padded alike (length buckets give
every replica of a step the same shape), whatever the number of workers.

Each worker reads and tokenizes the whole stream and keeps its slices (sharding by data).
Pretraining on many files shards by file instead (see `pretraining_dataset`).
"""

import tensorflow as tf

from pipelines.plain_graphs import plain


def replica_batches(dataset, input_context):
    """This input pipeline's per-replica batches from a dataset of global batches.

    Example:
    >>> context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
    ...                                      num_replicas_in_sync=4)
    >>> data = tf.data.Dataset.range(16).batch(8)
    >>> [b.numpy().tolist() for b in replica_batches(data, context)]
    [[4, 5], [6, 7], [12, 13], [14, 15]]

    Args:
        dataset: tf.data.Dataset of global batches (any nesting of tensors whose first
            axis is the batch).
        input_context: tf.distribute.InputContext or None (then `dataset` is returned).

    Returns:
        tf.data.Dataset of per-replica batches. When the global batch size is static and
        divides evenly, the slices keep a static batch size (as TPUs need).
    """
    if input_context is None:
        return dataset
    replicas = input_context.num_replicas_in_sync
    count = replicas // input_context.num_input_pipelines
    first = input_context.input_pipeline_id * count
    if replicas == 1:
        return dataset
    static = tf.nest.flatten(dataset.element_spec)[0].shape[0]  # The global batch.
    even = static is not None and static % replicas == 0

    def piece(tensor, index):
        size, index = tf.shape(tensor, tf.int64)[0], tf.cast(index, tf.int64)
        start = (index * size) // replicas
        end = ((index + 1) * size) // replicas
        part = tensor[start:end]
        if even:
            part = tf.ensure_shape(part, [static // replicas] + tensor.shape[1:].as_list())
        return part

    def split(*batch):
        element = batch if isinstance(dataset.element_spec, tuple) else batch[0]
        indices = tf.data.Dataset.range(first, first + count)
        return indices.map(plain(lambda i: tf.nest.map_structure(lambda t: piece(t, i), element)))

    return dataset.flat_map(plain(split))


def static_batches(dataset, batch_size):
    """Batches of exactly `batch_size` rows with a static shape (what a TPU compiles for):
    the rows of `dataset`'s batches regrouped, a last partial batch left out.

    Example:
    >>> data = tf.data.Dataset.range(7).batch(3)
    >>> [b.numpy().tolist() for b in static_batches(data, 2)]
    [[0, 1], [2, 3], [4, 5]]
    """
    return dataset.unbatch().batch(batch_size, drop_remainder=True)

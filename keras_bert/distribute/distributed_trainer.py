"""DistributedTrainer: a training loop on `strategy.run` for any tf.distribute strategy.

Keras 3's `fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585: the
symbolic build meets `PerReplica` values and scalar logs are reduced on axis 0). This
loop runs the model's own compiled loss, optimizer and metrics, one `strategy.run` per
step, and gives `fit`'s callbacks (progress bar, TensorBoard, History) the same logs.
"""

import contextlib

import keras


class DistributedTrainer:
    """Trains a compiled model under a tf.distribute strategy, like `model.fit`.

    Build and compile the model inside `strategy.scope()`. Each call of `fit` trains
    `steps` steps on the per-replica batches `dataset_fn(input_context)` yields (see
    `pipelines.replica_batches`) and returns the logs of the last step: the loss and the
    compiled metrics, reduced over every replica of every worker.

    A step equals one device's step on the whole global batch: the gradients are summed
    over replicas before the optimizer clips them, and a batch-mean loss is weighted by
    each replica's rows when a last partial batch does not split evenly; a
    `WeightedCrossEntropy` (a token tagger's loss) divides by the global batch's weights
    itself. (A dict of losses mixing the two, as the pretrainer's, needs batches that
    divide evenly.)

    Example:
    >>> import keras_bert, numpy as np, tensorflow as tf
    >>> strategy = keras_bert.distribute.auto("none", verbose=False)
    >>> with strategy.scope():
    ...     model = keras_bert.build("tiny", task="classification", num_classes=2,
    ...                              vocabulary_size=50, total_steps=2)
    >>> x = {"token_ids": np.ones((4, 7), "int32"), "segment_ids": np.zeros((4, 7), "int32"),
    ...      "padding_mask": np.ones((4, 7), "int32")}
    >>> data = lambda context: tf.data.Dataset.from_tensors((x, np.array([0, 1, 0, 1]))).repeat()
    >>> logs = DistributedTrainer(model, strategy).fit(data, steps=2, verbose=0)
    >>> sorted(logs)
    ['accuracy', 'loss']

    Args:
        model: a compiled keras.Model, built in `strategy.scope()`.
        strategy: tf.distribute.Strategy.
    """

    def __init__(self, model, strategy):
        import tensorflow as tf

        self.model, self.strategy = model, strategy
        self._tf = tf
        self._step_function = None
        inner = getattr(model.optimizer, "inner_optimizer", model.optimizer)
        self._all_reduce = inner._all_reduce_sum_gradients  # Keras's, used before clipping.
        if not model.optimizer.built:
            with strategy.scope():
                # keras#23085: AdamW's slots created while tracing under a strategy become
                # placeholders; built here, eagerly, they are ordinary variables.
                model.optimizer.build(model.trainable_variables)

    def fit(self, dataset_fn, steps, initial_epoch=0, callbacks=None, verbose=1):
        """Trains `steps` steps as one epoch numbered `initial_epoch` (for callbacks).

        Args:
            dataset_fn: callable(tf.distribute.InputContext) -> tf.data.Dataset of
                per-replica `(x, y)` or `(x, y, sample_weight)` batches, at least
                `steps` of them.
            steps: int, steps to train.
            initial_epoch: int, the epoch number the callbacks see.
            callbacks: list of keras.callbacks.Callback (a progress bar is added).
            verbose: int, 0 silent, 1 a progress bar, 2 a line at the end.

        Returns:
            dict, the logs after the last step (Python floats).
        """
        model = self.model
        self._build(dataset_fn)
        data = iter(self.strategy.distribute_datasets_from_function(dataset_fn))
        callbacks = keras.callbacks.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=model,
            verbose=verbose,
            epochs=initial_epoch + 1,
            steps=steps,
        )
        model.stop_training = False
        callbacks.on_train_begin()
        callbacks.on_epoch_begin(initial_epoch)
        model.reset_metrics()
        logs = {}
        for batch in range(steps):
            callbacks.on_train_batch_begin(batch)
            try:
                inputs = next(data)
            except StopIteration:
                raise ValueError(
                    f"The dataset ran out after {batch} of the {steps} steps; "
                    "give a dataset with at least `steps` batches."
                ) from None
            logs = self._train_step(inputs)
            callbacks.on_train_batch_end(batch, logs)
        logs = {k: float(v) for k, v in logs.items()}
        callbacks.on_epoch_end(initial_epoch, logs)
        callbacks.on_train_end(logs)
        return logs

    def _build(self, dataset_fn):
        """Creates the compiled loss's and metrics' variables eagerly, from the inputs'
        specs, as `fit` does: created while tracing, they would break the step."""
        if getattr(self, "_built", False):
            return
        dataset = dataset_fn(self._tf.distribute.InputContext())
        if type(self.strategy).__name__.startswith("TPU"):
            check_static(dataset, "the TPU's input")
        spec = dataset.element_spec
        with self.strategy.scope():
            self.model._symbolic_build(data_batch=spec)
        self._built = True

    def _train_step(self, batch):
        if self._step_function is None:
            self._step_function = self._tf.function(self._distributed_step, autograph=False)
        with _gradients_summed_already(self.model.optimizer):
            return self._step_function(batch)

    def _distributed_step(self, batch):
        self.strategy.run(self._replica_step, args=(batch,))
        # Cross-replica context: metric variables are summed over every replica.
        return self.model.get_metrics_result()

    def _uneven_share(self, size, dtype):
        """1 when the replicas hold equal slices or the loss divides by the global
        batch's weights itself (`WeightedCrossEntropy`); otherwise what makes a
        batch-mean loss weight each replica by its rows (a last partial batch that does
        not divide)."""
        from keras_bert.weighted_cross_entropy import WeightedCrossEntropy

        tf = self._tf
        replicas = self.strategy.num_replicas_in_sync
        if replicas == 1 or isinstance(self.model.loss, WeightedCrossEntropy):
            return tf.constant(1, dtype)
        rows = tf.cast(size, tf.float32)
        total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, rows)
        return tf.cast(tf.math.divide_no_nan(rows * replicas, total), dtype)

    def _replica_step(self, batch):
        from keras.src.losses import loss as loss_module
        from keras.src.trainers.data_adapters import data_adapter_utils

        tf, model = self._tf, self.model
        x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(batch)
        size = tf.shape(tf.nest.flatten(x)[0])[0]
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            # Keras divides each replica's mean loss by the replica count: its share of
            # the global loss when the replicas hold equal slices of the batch.
            loss = model.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            scaled = model.optimizer.scale_loss(loss * self._uneven_share(size, loss.dtype))
        variables = model.trainable_variables
        gradients = tape.gradient(scaled, variables)
        # Summed over the replicas before the optimizer clips them: BERT's global-norm
        # clipping then sees the global batch's gradient (Keras would clip each replica's
        # share, then sum).
        # Variables without a gradient (the pooler under a span head) are left out; the
        # embeddings' sparse gradients are made dense, whose size every replica shares
        # (the collective ops fail on slices of unequal row counts).
        reduced = self._all_reduce(
            [(tf.convert_to_tensor(g), v) for g, v in zip(gradients, variables) if g is not None]
        )
        model.optimizer.apply_gradients(reduced)
        model._loss_tracker.update_state(
            loss_module.unscale_loss_for_distribution(loss), sample_weight=size
        )
        model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


@contextlib.contextmanager
def _gradients_summed_already(optimizer):
    """While the step runs (and is traced), `optimizer` (and the one it wraps) takes the
    gradients as given, the trainer having summed them; as before afterwards, so that
    `fit` still sums its own."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    each = {id(optimizer): optimizer, id(inner): inner}.values()
    for one in each:
        one._all_reduce_sum_gradients = list
    try:
        yield
    finally:
        for one in each:
            del one._all_reduce_sum_gradients


def check_static(dataset, where="the dataset"):
    """Raises ValueError naming the field when an element has a string or a dimension
    unknown before running (a TPU compiles one program per shape and takes no strings).

    Example:
    >>> import tensorflow as tf
    >>> check_static(tf.data.Dataset.from_tensors({"token_ids": tf.zeros([2, 8], tf.int32)}))
    >>> check_static(tf.data.Dataset.from_tensors({"text": tf.constant(["a"])}))
    Traceback (most recent call last):
    ...
    ValueError: the dataset: field 'text' holds strings; tokenize in tf.data before the model
    """
    import tensorflow as tf

    for path, spec in _named(dataset.element_spec):
        if spec.dtype == tf.string:
            raise ValueError(
                f"{where}: field {path!r} holds strings; tokenize in tf.data before the model"
            )
        if not spec.shape.is_fully_defined():
            raise ValueError(
                f"{where}: field {path!r} has shape {spec.shape}, not static; "
                "use fixed-length padding (no buckets) and full batches "
                "(drop_remainder) on TPU"
            )


def _named(structure, prefix=""):
    """(path, leaf) pairs of a nested dict/tuple, paths like "0/token_ids"."""
    if isinstance(structure, dict):
        items = structure.items()
    elif isinstance(structure, (tuple, list)):
        items = enumerate(structure)
    else:
        return [(prefix, structure)]
    return [
        pair
        for key, value in items
        for pair in _named(value, f"{prefix}/{key}" if prefix else str(key))
    ]

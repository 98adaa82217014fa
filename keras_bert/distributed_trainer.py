"""DistributedTrainer: a training loop on `strategy.run` for any tf.distribute strategy.

Keras 3's `fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585: the
symbolic build meets `PerReplica` values and scalar logs are reduced on axis 0). This
loop runs the model's own compiled loss, optimizer and metrics, one `strategy.run` per
step, and gives `fit`'s callbacks (progress bar, TensorBoard, History) the same logs.
"""

import keras


class DistributedTrainer:
    """Trains a compiled model under a tf.distribute strategy, like `model.fit`.

    Build and compile the model inside `strategy.scope()`. Each call of `fit` trains
    `steps` steps on the per-replica batches `dataset_fn(input_context)` yields (see
    `pipelines.replica_batches`) and returns the logs of the last step: the loss and the
    compiled metrics, reduced over every replica of every worker.

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
        data = iter(self.strategy.distribute_datasets_from_function(dataset_fn))
        callbacks = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=model,
            verbose=verbose, epochs=initial_epoch + 1, steps=steps)
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
                raise ValueError(f"The dataset ran out after {batch} of the {steps} steps; "
                                 "give a dataset with at least `steps` batches.") from None
            logs = self._train_step(inputs)
            callbacks.on_train_batch_end(batch, logs)
        logs = {k: float(v) for k, v in logs.items()}
        callbacks.on_epoch_end(initial_epoch, logs)
        callbacks.on_train_end(logs)
        return logs

    def _train_step(self, batch):
        if self._step_function is None:
            self._step_function = self._tf.function(self._distributed_step)
        return self._step_function(batch)

    def _distributed_step(self, batch):
        self.strategy.run(self._replica_step, args=(batch,))
        # Cross-replica context: metric variables are summed over every replica.
        return self.model.get_metrics_result()

    def _replica_step(self, batch):
        from keras.src.losses import loss as loss_module
        from keras.src.trainers.data_adapters import data_adapter_utils

        tf, model = self._tf, self.model
        x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(batch)
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            # Per replica: its share of the global loss (Keras divides by the replicas).
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                      training=True)
            scaled = model.optimizer.scale_loss(loss)
        variables = model.trainable_variables
        gradients = tape.gradient(scaled, variables)
        # Keras's optimizer all-reduces (sums) the gradients over the replicas.
        model.optimizer.apply_gradients(zip(gradients, variables))
        size = tf.shape(tf.nest.flatten(x)[0])[0]
        model._loss_tracker.update_state(loss_module.unscale_loss_for_distribution(loss),
                                         sample_weight=size)
        model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

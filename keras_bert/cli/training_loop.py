"""The segmented fit loop every training command uses: `fit` a segment of steps, run the
segment's follow-up (e.g. validation), write an atomic checkpoint, repeat. Killed at
any moment, a run re-run with the same `--out` continues from its last checkpoint."""

import warnings

import keras

from keras_bert.cli.common import UsageError, log

# Tasks on `sequence_output` (SQuAD, NER) leave the pooler without gradients; Keras then
# warns, suggesting a missing loss. That is expected here, so the CLI does not show it.
warnings.filterwarnings(
    "ignore",
    message=r"Gradients do not exist for variables "
    r"\['pooler_dense/kernel', 'pooler_dense/bias'\]",
)


def train_in_segments(
    model,
    folder,
    step,
    total_steps,
    next_stop,
    segment_data,
    verbose=1,
    after_segment=None,
    state=None,
    trainer=None,
):
    """Trains from `step` to `total_steps`; returns the last segment's metrics.

    Args:
        model: a compiled keras.Model.
        folder: RunFolder, for checkpoints and TensorBoard logs.
        step: int, the step to start from (0, or the resumed step).
        total_steps: int.
        next_stop: callable(step) -> the step where the segment starting at `step` ends
            (a checkpoint interval, an epoch end).
        segment_data: callable(step, count, input_context) -> a dataset of at least
            `count` global batches positioned at `step` (input_context None), or of this
            input pipeline's per-replica slices of them (see `replica_batches`).
        verbose: int, Keras progress (1 a bar, 2 a line per segment).
        after_segment: callable(step) -> dict of state to save, run after each segment
            and before its checkpoint (validation, best model); None for nothing.
        state: dict, the run state to save with every checkpoint (settings, ...);
            `segments` counts the segments done (TensorBoard's x axis).
        trainer: DistributedTrainer, to train on several replicas (each gets its slice
            of every global batch), or None to train with `fit`.
    """
    state = dict(state or {})
    callbacks = [
        keras.callbacks.TensorBoard(folder.logs),
        _SegmentProgress(_count_segments(next_stop, total_steps)),
    ]
    history = {}
    while step < total_steps:
        stop = min(next_stop(step), total_steps)
        count, segment = stop - step, state.get("segments", 0)
        log(f"steps {step + 1}..{stop} of {total_steps}")
        history = _train(
            model,
            trainer,
            lambda context, step=step, count=count: segment_data(step, count, context),
            count,
            segment,
            callbacks,
            verbose,
        )
        _check_finite(history, stop, folder)
        step = stop
        state["segments"] = segment + 1
        if after_segment is not None:
            state.update(after_segment(step))
        folder.save(model, step, **state)
    if trainer is not None:  # Every worker's replicas must hold the same weights.
        log(f"weights fingerprint {fingerprint(model)}")
    return history


def _check_finite(logs, step, folder):
    """A loss that became NaN or infinite ends the run before its checkpoint: the
    folder keeps its last finite model instead of a diverged one."""
    import math
    import os

    bad = {k: v for k, v in logs.items() if isinstance(v, float) and not math.isfinite(v)}
    if bad:
        kept = (
            f"{folder.model_path} is the last good checkpoint"
            if os.path.exists(folder.model_path)
            else "no checkpoint was written"
        )
        values = ", ".join(f"{k} {v}" for k, v in bad.items())
        raise UsageError(
            f"training diverged by step {step} ({values}); nothing of it was "
            f"saved ({kept}). Check the labels and scores, or lower "
            "--learning-rate"
        )


def fingerprint(model):
    """A short hash of the model's weights (equal on workers that agree bit for bit)."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()[:16]


def _train(model, trainer, data, count, segment, callbacks, verbose):
    """One segment of `count` steps; the logs of its last step."""
    if trainer is None:
        result = model.fit(
            data(None),
            steps_per_epoch=count,
            initial_epoch=segment,
            epochs=segment + 1,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
        return {k: float(v[-1]) for k, v in result.history.items()}
    return trainer.fit(data, count, initial_epoch=segment, callbacks=callbacks, verbose=verbose)


def _count_segments(next_stop, total_steps):
    count, step = 0, 0
    while step < total_steps:
        step, count = min(next_stop(step), total_steps), count + 1
    return count


class _SegmentProgress(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, numbering segments out of the run's total ("Epoch 3/12",
    and "Epoch 1/1" for a one-segment run), not out of the one `fit` call each
    segment is."""

    def __init__(self, total_segments):
        super().__init__()
        self.total_segments = total_segments

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.total_segments

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        if self.verbose and self.epochs == 1:  # Keras numbers only runs of 2 or more.
            print(f"Epoch {epoch + 1}/1", flush=True)

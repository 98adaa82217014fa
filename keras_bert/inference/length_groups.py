"""Inference on rows grouped by length: each batch padded only to its own longest row.

Packed inputs are padded to the run's sequence length, but most texts are much shorter;
the encoder's cost grows with the padded length. Sorting rows by length, cutting each
batch's padding down to its longest row (rounded up to a multiple of 8, which keeps the
number of distinct shapes, and so of compiled programs, small) and putting the outputs
back in order gives the same answers for a fraction of the work.
"""

import keras
import numpy as np
from keras import ops

SEQUENCE_INPUTS = ("token_ids", "segment_ids", "padding_mask")
MULTIPLE = 8


def row_lengths(padding_mask):
    """(rows,) the length each row needs: one past its last real token (of several
    choices per row, the longest)."""
    mask = np.asarray(padding_mask)
    mask = mask.reshape(len(mask), int(np.prod(mask.shape[1:-1])), mask.shape[-1]) != 0
    positions = np.arange(1, mask.shape[-1] + 1)
    return (mask * positions).max(axis=-1, initial=0).max(axis=-1, initial=0)


def batch_width(lengths, full, multiple=MULTIPLE):
    """The padded length of a batch of rows of `lengths`: the longest, rounded up to a
    multiple of `multiple`, at most `full` (and at least one multiple)."""
    longest = max(int(np.max(lengths, initial=0)), 1)
    return min(full, -(-longest // multiple) * multiple)


def predict_by_length(runner, arrays, batch_size=32, verbose=0, fill_value=0):
    """`runner(batch)` over `arrays` (the backbone's three inputs, (rows, ..., length))
    in batches of rows of similar length, each cut to `batch_width`; the outputs joined
    in the input order, per-token outputs padded back to `length` with `fill_value`.

    Args:
        runner: callable on a dict batch, with a `model` (a keras.Model) whose outputs
            say which are per-token (axis 1 without a fixed size).
        arrays: dict of arrays, `padding_mask` among them.
        batch_size: int.
        verbose: 0 silent, else a progress bar.
        fill_value: number, per-token outputs past a batch's width.
    """
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    full = arrays["padding_mask"].shape[-1]
    lengths = row_lengths(arrays["padding_mask"])
    order = np.argsort(lengths, kind="stable")
    per_token = keras.tree.map_structure(
        lambda t: len(t.shape) >= 2 and t.shape[1] is None, runner.model.output
    )
    progress = keras.utils.Progbar(None) if verbose else None
    pieces = []
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = batch_width(lengths[rows], full)
        outputs = runner({k: v[rows][..., :width] for k, v in arrays.items()})
        outputs = keras.tree.map_structure(ops.convert_to_numpy, outputs)
        pieces.append(
            keras.tree.map_structure(
                lambda out, token: _pad_to(out, full, fill_value) if token else out,
                outputs,
                per_token,
            )
        )
        if progress:
            progress.add(1)
    if not pieces:
        raise ValueError("predict: the data has no rows.")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts)[inverse], *pieces)


def _pad_to(output, length, fill_value):
    missing = length - output.shape[1]
    if missing <= 0:
        return output
    widths = [(0, 0), (0, missing)] + [(0, 0)] * (output.ndim - 2)
    return np.pad(output, widths, constant_values=fill_value)

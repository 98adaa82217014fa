"""One harness for every task model (beside model_checks.py for every model): the tiny
config, fit on arrays and on tf.data, the pipeline's structure against the model's,
metric names, .keras round trip with optimizer state, and mixed precision."""

import os

import keras
import numpy as np
import tensorflow as tf

import keras_bert
from tests.tiny import SEQ, TINY  # noqa: F401  (re-exported for the task tests)


def tiny_inputs(batch=4, seq=SEQ, seed=0, vocabulary_size=TINY["vocabulary_size"]):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), "int32")
    mask[1, 5:] = 0
    return {
        "token_ids": rng.integers(5, vocabulary_size, (batch, seq)).astype("int32") * mask,
        "segment_ids": (np.arange(seq) > 3).astype("int32")[None].repeat(batch, 0),
        "padding_mask": mask,
    }


def build_tiny(task, **options):
    return keras_bert.build("tiny", task=task, **dict(TINY, **options))


def _structure(tree):
    return keras.tree.map_structure(lambda _: None, tree)


def run_task_checks(task, x, y, tmp_path, metric_names, **options):
    """Checks what every task model must do; returns the fitted model."""
    model = build_tiny(task, total_steps=6, **options)

    # fit on arrays lowers the loss on a batch it sees again and again.
    first = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=3, batch_size=len(next(iter(keras.tree.flatten(x)))), verbose=0)

    # A tf.data pipeline's (x, y) structure is the model's inputs/outputs structure.
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
    spec_x, spec_y = dataset.element_spec
    assert _structure(spec_x) == _structure(dict(model.input))
    assert _structure(spec_y) == _structure(model.output)
    model.fit(dataset, epochs=1, verbose=0)

    # evaluate reports the task's metric names.
    results = model.evaluate(dataset, verbose=0, return_dict=True)
    assert set(metric_names) | {"loss"} <= set(results), sorted(results)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] < first

    # .keras keeps weights and optimizer state.
    path = os.path.join(tmp_path, "task.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(model) and restored.get_config() == model.get_config()
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) > 0
    for a, b in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(
        keras.tree.flatten(restored.predict(x, verbose=0)),
        keras.tree.flatten(model.predict(x, verbose=0)),
    ):
        np.testing.assert_allclose(a, b, atol=1e-6)

    # mixed_bfloat16 trains, with float32 outputs.
    mixed = build_tiny(task, total_steps=2, dtype="mixed_bfloat16", **options)
    history = mixed.fit(x, y, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert all(
        np.asarray(o).dtype == np.float32 for o in keras.tree.flatten(mixed.predict(x, verbose=0))
    )
    return model

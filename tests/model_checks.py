"""One harness for every model: config round trip, .keras save/load, eager vs compiled,
tf.data, and variable sequence lengths."""

import os

import keras
import numpy as np
import tensorflow as tf


def _flat(outputs):
    return [np.asarray(x) for x in keras.tree.flatten(outputs)]


def assert_all_close(a, b, atol=1e-6, rtol=1e-6):
    fa, fb = _flat(a), _flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        np.testing.assert_allclose(x, y, atol=atol, rtol=rtol)


def run_model_checks(model, inputs, tmp_path, variable_length_inputs=None):
    """Checks every generic property a keras_bert model must have; returns the outputs."""
    expected = model(inputs, training=False)

    # Config round trip: same config, and the same outputs once weights are copied.
    clone = model.__class__.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    assert_all_close(clone(inputs, training=False), expected)

    # .keras save/load gives identical outputs.
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert_all_close(restored(inputs, training=False), expected, atol=0, rtol=0)

    # Compiled with XLA gives the same outputs as eager.
    compiled = tf.function(lambda x: model(x, training=False), jit_compile=True)
    assert_all_close(compiled(inputs), expected, atol=2e-5, rtol=2e-5)

    # tf.data: predict over a batched dataset matches a direct call.
    batch = int(keras.tree.flatten(inputs)[0].shape[0])
    dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(2)
    predicted = model.predict(dataset, verbose=0)
    assert_all_close(predicted, expected, atol=2e-5, rtol=2e-5)
    assert keras.tree.flatten(predicted)[0].shape[0] == batch

    # Dropout is off at inference and on in training.
    assert_all_close(model(inputs, training=False), expected, atol=0, rtol=0)
    if variable_length_inputs is not None:
        outputs = model(variable_length_inputs, training=False)
        assert all(np.all(np.isfinite(x)) for x in _flat(outputs))
    return expected

"""`FrozenInference`: the model's numbers on a snapshot of its weights, at any shape;
kernels that keep their weights (bfloat16 dense, int8) only inside it; later changes to
the model not seen by it, seen by a new one; `predict` (datasets, arrays) as the
model's."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert.kernels import constant_matmul, int8_matmul
from tests import cpu_kernels
from tests.task_checks import TINY, tiny_inputs

# float32 is the model's own call; bf16's kernels may round a last bit differently.
TOLERANCE = {"float32": 1e-6, "bfloat16": 0.05, "mixed_bfloat16": 0.05, "int8": 1e-5}


def tiny_model(kind, task=None, **options):
    keras.utils.set_random_seed(4)
    dtype = "float32" if kind == "int8" else kind
    model = keras_bert.build("tiny", task=task, dtype=dtype, **TINY, **options)
    if kind == "int8":
        keras_bert.quantize_int8(model)
    return model


def as_float(outputs):
    return [
        np.asarray(keras.ops.convert_to_numpy(t), "float32") for t in keras.tree.flatten(outputs)
    ]


def assert_close(got, want, tolerance):
    for a, b in zip(as_float(got), as_float(want)):
        assert a.shape == b.shape
        assert np.abs(a - b).max() <= tolerance * max(1.0, np.abs(b).max()), np.abs(a - b).max()


def test_the_kept_weights_kernels_run_where_the_cpu_has_them():
    # TensorFlow's x86 builds carry them. The bfloat16 one needs AVX-512 BF16 or AMX
    # (elsewhere it is not tried: oneDNN would abort the process); int8 gives its exact
    # numbers with VNNI. Where they do not run, the models run as usual (tests below).
    known = [
        (module, cpu_kernels.expected(kind))
        for module, kind in ((constant_matmul, "bf16"), (int8_matmul, "int8"))
        if cpu_kernels.expected(kind) is not None
    ]
    if not known:
        pytest.skip("neither answer is known for this CPU")
    for module, want in known:
        assert module.available() is want, (module.__name__, sorted(cpu_kernels.FLAGS))


def test_a_kept_weights_dense_layer_takes_an_activation_or_a_residual_not_both():
    x = tf.ones((3, 4), tf.bfloat16)
    kernel, bias = tf.ones((4, 5), tf.bfloat16), tf.zeros((5,), tf.bfloat16)
    with pytest.raises(ValueError, match="not both"):
        constant_matmul.dense(x, kernel, bias, activation="gelu", residual=tf.ones((3, 5)))


@pytest.mark.parametrize("kind", ["float32", "bfloat16", "mixed_bfloat16", "int8"])
def test_gives_the_models_outputs_at_any_shape(kind):
    model = tiny_model(kind)
    frozen = keras_bert.FrozenInference(model)
    # New shapes after the first call: the kept weights serve other row counts too.
    for batch, seq, seed in ((4, 7, 0), (3, 5, 1), (6, 9, 2), (4, 7, 3)):
        inputs = tiny_inputs(batch, seq, seed)
        want = model(inputs, training=False)
        got = frozen(inputs)
        assert set(got) == set(want) >= {"sequence_output", "pooled_output"}
        assert_close(got, want, TOLERANCE[kind])


@pytest.mark.parametrize("kind", ["float32", "bfloat16", "int8"])
def test_later_changes_to_the_model_do_not_reach_a_snapshot(kind):
    model = tiny_model(kind)
    inputs = tiny_inputs()
    frozen = keras_bert.FrozenInference(model)
    before = as_float(frozen(inputs))
    rng = np.random.default_rng(9)
    for variable in model.variables:  # Reassigned, and updated in place as Adam does.
        value = keras.ops.convert_to_numpy(variable)
        if np.issubdtype(value.dtype, np.floating):
            variable.assign((value + rng.normal(size=value.shape) * 0.5).astype(value.dtype))
            variable.assign_add(np.full(value.shape, 0.25, value.dtype))
        elif value.dtype == np.int8:
            variable.assign(np.clip(value.astype("int32") + 3, -127, 127).astype("int8"))
    changed = model(inputs, training=False)
    assert max(np.abs(a - b).max() for a, b in zip(as_float(changed), before)) > 0.1
    for a, b in zip(as_float(frozen(inputs)), before):
        np.testing.assert_array_equal(a, b)
    assert_close(keras_bert.FrozenInference(model)(inputs), changed, TOLERANCE[kind])


def _graph_ops(function, inputs, op_type):
    inputs = {k: tf.constant(v) for k, v in inputs.items()}
    graph = function.get_concrete_function(inputs).graph
    return [op for op in graph.get_operations() if op.type == op_type]


@pytest.mark.parametrize("cls_row_alone", [False, True])
def test_bfloat16_dense_layers_keep_their_weights_only_when_frozen(monkeypatch, cls_row_alone):
    # The graphs are traced, never run: the wiring is checked on any CPU.
    monkeypatch.setattr(constant_matmul, "_AVAILABLE", True)
    model = tiny_model("bfloat16", cls_row_alone=cls_row_alone)
    inputs = tiny_inputs()
    kept = _graph_ops(keras_bert.FrozenInference(model)._function, inputs, "_MklNativeFusedMatMul")
    assert kept and all(op.get_attr("is_filter_const") for op in kept)
    fused = sorted(tuple(o.decode() for o in op.get_attr("fused_ops")) for op in kept)
    layers, row = TINY["num_layers"], int(cls_row_alone)
    # Per block: query, key, value; the two residual layers; the intermediate with GELU
    # (and with the [CLS]-row fold, the last block's row: its query, residual and
    # intermediate layers).
    assert fused.count(("BiasAdd",)) == 3 * layers + row
    assert fused.count(("BiasAdd", "Add")) == 2 * layers + 2 * row
    assert fused.count(("BiasAdd", "GeluExact")) == layers + row
    # The model's own functions never ask for kept weights: its variables may change.
    plain = tf.function(lambda x: model(x, training=False))
    assert not _graph_ops(plain, inputs, "_MklNativeFusedMatMul")


def test_int8_kernels_keep_their_weights_only_when_frozen(monkeypatch):
    monkeypatch.setattr(int8_matmul, "_AVAILABLE", True)  # Traced only, as above.
    model = tiny_model("int8")
    inputs = tiny_inputs()
    frozen = _graph_ops(keras_bert.FrozenInference(model)._function, inputs, "_QuantizedMatMul")
    plain = _graph_ops(tf.function(lambda x: model(x, training=False)), inputs, "_QuantizedMatMul")
    assert frozen and all(op.get_attr("is_weight_const") for op in frozen)
    assert plain and not any(op.get_attr("is_weight_const") for op in plain)


def test_predict_on_a_dataset_is_the_models_predict():
    model = tiny_model("bfloat16", task="classification", num_classes=3)
    x = tiny_inputs(batch=5)
    y = np.array([0, 1, 2, 1, 0])
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)  # (inputs, labels) batches
    got = keras_bert.FrozenInference(model).predict(data)
    want = model.predict(data, verbose=0)
    assert got.shape == (5, 3)
    assert_close(got, want, TOLERANCE["bfloat16"])
    with pytest.raises(ValueError, match="no batches"):
        keras_bert.FrozenInference(model).predict(data.take(0))


def test_predict_on_arrays_cuts_batches_and_keeps_the_output_structure():
    model = tiny_model("int8", task="question_answering")
    x = tiny_inputs(batch=5)
    got = keras_bert.FrozenInference(model).predict(x, batch_size=2)  # 2 + 2 + 1 rows
    want = model.predict(x, batch_size=2, verbose=0)
    assert set(got) == set(want) == {"start_logits", "end_logits"}
    assert got["start_logits"].shape == (5, x["token_ids"].shape[1])
    assert_close(got, want, TOLERANCE["int8"])


def test_an_unbuilt_model_is_refused():
    with pytest.raises(ValueError, match="not built"):
        keras_bert.FrozenInference(keras.Sequential([keras.layers.Dense(2)]))

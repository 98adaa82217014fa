"""The `bilstm` option of the fine-tuning heads (`--bilstm`): a BiLSTM between encoder
and head, checked against a NumPy LSTM, on every head that takes it."""

import keras
import numpy as np
import pytest

import keras_bert
from keras_bert.layers import SequenceBiLSTM
from tests.test_backbone import tiny_inputs
from tests.tiny import tiny


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_lstm(x, kernel, recurrent, bias):
    """Keras's LSTM (gates i, f, c, o; tanh and sigmoid) over the rows of `x` (steps,
    features), from zero states: every step's output."""
    units = recurrent.shape[0]
    h, c, outputs = np.zeros(units), np.zeros(units), []
    for step in x:
        z = step @ kernel + h @ recurrent + bias
        i, f, g, o = (z[k * units : (k + 1) * units] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.array(outputs)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_reads_the_real_tokens_forward_and_backward(return_sequences):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 6)).astype("float32")
    mask = np.ones((3, 7), "int32")
    mask[1, 4:], mask[2, 6:] = 0, 0
    layer = SequenceBiLSTM(return_sequences)
    got = np.asarray(layer(x, padding_mask=mask))
    forward, backward = layer.bilstm.forward_layer.cell, layer.bilstm.backward_layer.cell
    for row in range(3):
        real = x[row, : mask[row].sum()]
        weights = [np.asarray(w) for w in (forward.kernel, forward.recurrent_kernel, forward.bias)]
        ahead = numpy_lstm(real, *weights)
        weights = [
            np.asarray(w) for w in (backward.kernel, backward.recurrent_kernel, backward.bias)
        ]
        behind = numpy_lstm(real[::-1], *weights)[::-1]
        if return_sequences:
            want = np.concatenate([ahead, behind], axis=-1)  # (real, hidden)
            np.testing.assert_allclose(got[row, : len(real)], want, atol=1e-5)
        else:  # The forward LSTM at the last real token, the backward one at the first.
            want = np.concatenate([ahead[-1], behind[0]])
            np.testing.assert_allclose(got[row], want, atol=1e-5)
    with pytest.raises(ValueError, match="even hidden size"):
        SequenceBiLSTM()(np.ones((1, 2, 5), "float32"), padding_mask=np.ones((1, 2), "int32"))


TASKS = [
    ("classification", dict(num_classes=3)),
    ("token_classification", dict(num_classes=3)),
    ("question_answering", {}),
    ("multiple_choice", dict(num_choices=2)),
]


@pytest.mark.parametrize("task, options", TASKS)
def test_every_fine_tuning_head_takes_it(task, options, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras_bert.build("tiny", task=task, bilstm=True, **tiny(dropout=0.0), **options)
    assert model.bilstm and not model.backbone.cls_row_alone  # The head reads every row.
    inputs = tiny_inputs()
    if task == "multiple_choice":
        inputs = {k: np.stack([v, v[::-1]], 1) for k, v in inputs.items()}
    out = model(inputs)
    path = str(tmp_path / "model.keras")
    model.save(path)
    again = keras.saving.load_model(path)
    assert again.bilstm
    for a, b in zip(keras.tree.flatten(out), keras.tree.flatten(again(inputs))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    plain = keras_bert.build("tiny", task=task, **tiny(dropout=0.0), **options)
    assert len(model.trainable_weights) == len(plain.trainable_weights) + 6  # 2 x 3 LSTM

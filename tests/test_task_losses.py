"""Every task's compiled loss against NumPy: token taggers average over labelled pieces
(as transformers' `ignore_index` mean does), whatever a batch's padded length, in value
and gradient; the sentence-level heads average over examples."""

import keras
import numpy as np
import pytest

import keras_bert
from tests.tiny import tiny

TINY = tiny(vocabulary_size=23, num_layers=1, max_sequence_length=16, dropout=0.0)


def _numpy_cross_entropy(logits, labels):
    """-log softmax(logits)[label], in float64."""
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -np.take_along_axis(log_probs, np.asarray(labels)[..., None], -1)[..., 0]


def _token_batch(length, rng):
    """Two sentences of 5 and 3 real pieces, padded to `length`; labels on some pieces
    (the first pieces of words), weight 0 on [CLS], [SEP], later pieces and padding."""
    real = (5, 3)
    token_ids = np.zeros((2, length), "int32")
    padding_mask = np.zeros((2, length), "int32")
    labels = np.zeros((2, length), "int32")
    weights = np.zeros((2, length), "float32")
    for row, count in enumerate(real):
        token_ids[row, :count] = rng.integers(1, 23, count)
        padding_mask[row, :count] = 1
        labels[row, :count] = rng.integers(0, 3, count)
    weights[0, [1, 3]] = 1  # word-first pieces of row 0 (piece 2 continues word 1)
    weights[1, [1]] = 1
    x = {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": padding_mask,
    }
    return x, labels, weights


def _loss_and_gradients(model, x, y, weights):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=weights)
    return (
        float(loss),
        [
            tf.convert_to_tensor(g).numpy()
            for g in tape.gradient(loss, model.trainable_variables)
            if g is not None
        ],
        y_pred,
    )


@pytest.mark.parametrize(
    "task, options",
    [
        ("token_classification", {}),
        (
            "feature_tagging",
            {"features": "last", "lstm_units": 4, "lstm_layers": 1, "head_dropout": 0.0},
        ),
    ],
)
def test_token_loss_is_the_mean_over_labelled_pieces_at_any_padding(task, options):
    keras.utils.set_random_seed(3)
    if task == "token_classification":
        options = dict(options, head_dropout=0.0)
    model = keras_bert.build("tiny", task=task, num_classes=3, total_steps=10, **options, **TINY)
    rng = np.random.default_rng(0)
    short = _token_batch(7, rng)
    x_long, y_long, w_long = _token_batch(11, np.random.default_rng(0))
    results = []
    for x, y, w in (short, (x_long, y_long, w_long)):
        loss, gradients, logits = _loss_and_gradients(model, x, y, w)
        expected = (_numpy_cross_entropy(logits.numpy(), y) * w).sum() / w.sum()
        assert loss == pytest.approx(expected, rel=1e-5)
        results.append((loss, gradients))
    (short_loss, short_grads), (long_loss, long_grads) = results
    assert long_loss == pytest.approx(short_loss, rel=1e-5)  # padding does not dilute it
    for a, b in zip(short_grads, long_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)


def test_token_loss_gradient_equals_the_numpy_gradient():
    """d loss / d (head kernel) = sum over labelled pieces of h (softmax - onehot) / N."""
    keras.utils.set_random_seed(4)
    model = keras_bert.build(
        "tiny", task="token_classification", num_classes=3, head_dropout=0.0, total_steps=10, **TINY
    )
    x, y, w = _token_batch(9, np.random.default_rng(1))
    _, _, logits = _loss_and_gradients(model, x, y, w)
    import tensorflow as tf

    kernel = model.output_dense.kernel
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True), sample_weight=w)
    got = tape.gradient(loss, kernel).numpy()
    hidden = model.backbone(x)["sequence_output"].numpy().astype(np.float64)
    logits = logits.numpy().astype(np.float64)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    delta = (probs - np.eye(3)[y]) * w[..., None] / w.sum()
    np.testing.assert_allclose(got, np.einsum("bsh,bsc->hc", hidden, delta), rtol=1e-4, atol=1e-7)


def test_sentence_level_losses_are_the_mean_over_examples():
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(2)
    x = {
        "token_ids": rng.integers(1, 23, (3, 7)).astype("int32"),
        "segment_ids": np.zeros((3, 7), "int32"),
        "padding_mask": np.ones((3, 7), "int32"),
    }
    x["padding_mask"][1, 5:] = 0
    classifier = keras_bert.build(
        "tiny", task="classification", num_classes=4, head_dropout=0.0, total_steps=10, **TINY
    )
    labels = np.array([0, 3, 1])
    loss, _, logits = _loss_and_gradients(classifier, x, labels, None)
    assert loss == pytest.approx(_numpy_cross_entropy(logits.numpy(), labels).mean(), rel=1e-5)

    spans = keras_bert.build("tiny", task="question_answering", total_steps=10, **TINY)
    targets = {"start_logits": np.array([1, 2, 0]), "end_logits": np.array([3, 4, 0])}
    loss, _, outputs = _loss_and_gradients(spans, x, targets, None)
    expected = np.mean(
        [_numpy_cross_entropy(outputs[k].numpy(), targets[k]).mean() for k in targets]
    )  # run_squad: (start + end) / 2
    assert loss == pytest.approx(expected, rel=1e-5)

    chooser = keras_bert.build(
        "tiny", task="multiple_choice", num_choices=2, head_dropout=0.0, total_steps=10, **TINY
    )
    choices = {k: np.stack([v, v[::-1]], axis=1) for k, v in x.items()}  # (3, 2, 7)
    loss, _, logits = _loss_and_gradients(chooser, choices, labels % 2, None)
    assert loss == pytest.approx(_numpy_cross_entropy(logits.numpy(), labels % 2).mean(), rel=1e-5)

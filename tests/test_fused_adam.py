"""BERT's AdamW on TensorFlow's fused kernels (keras_bert/fused_adam.py) against a NumPy
AdamW with Adam's Algorithm 1 (PyTorch's AdamW) and against PyTorch's AdamW itself:
global-norm clipping, decoupled weight decay except on biases and LayerNorm,
bias-corrected Adam with epsilon added to sqrt(v / (1 - beta_2^t)), the schedule."""

import keras
import numpy as np
import pytest

from keras_bert.training import make_optimizer
from tests.tiny import tiny

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the fused kernels are TensorFlow's"
)


def numpy_adamw(weights, steps, names, peak, total, wd=0.01, eps=1e-6, clip=1.0, b1=0.9, b2=0.999):
    weights = [w.astype("float64") for w in weights]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for t, grads in enumerate(steps):
        lr = peak * (total - t) / total  # No warmup: linear decay from the peak.
        norm = np.sqrt(sum(float(np.sum(g.astype("float64") ** 2)) for g in grads))
        grads = [g * min(1.0, clip / norm) for g in grads]
        for i, g in enumerate(grads):
            if names[i] not in ("bias", "gamma", "beta"):
                weights[i] = weights[i] - weights[i] * wd * lr
            m[i] = m[i] + (g - m[i]) * (1 - b1)
            v[i] = v[i] + (g * g - v[i]) * (1 - b2)
            m_hat, v_hat = m[i] / (1 - b1 ** (t + 1)), v[i] / (1 - b2 ** (t + 1))
            weights[i] = weights[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return weights


def test_numpy_reference_is_pytorchs_adamw():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    start = [rng.normal(size=(4, 3)), rng.normal(size=(3,))]
    # Tiny gradients, where epsilon's place matters most.
    steps = [[rng.normal(size=w.shape) * 1e-5 for w in start] for _ in range(4)]
    params = [torch.tensor(w, requires_grad=True) for w in start]
    optimizer = torch.optim.AdamW(
        [{"params": params[:1], "weight_decay": 0.01}, {"params": params[1:], "weight_decay": 0.0}],
        lr=0.1,
        eps=1e-6,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: (4 - t) / 4)
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        optimizer.step()
        schedule.step()
    expected = numpy_adamw(start, steps, ["kernel", "bias"], peak=0.1, total=4, clip=1e9)
    for p, want in zip(params, expected):
        np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-12, atol=1e-12)


def test_fused_adamw_matches_numpy():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    names = ["kernel", "bias", "gamma", "embeddings"]
    shapes = [(7, 5), (5,), (5,), (11, 5)]
    start = [rng.normal(size=s).astype("float32") for s in shapes]
    # Norms above and below the clip (1.0), so both branches are taken.
    steps = [
        [rng.normal(size=s).astype("float32") * scale for s in shapes] for scale in (2.0, 0.01, 0.5)
    ]
    variables = [keras.Variable(w, name=n) for w, n in zip(start, names)]
    optimizer = make_optimizer(learning_rate=0.1, total_steps=10, warmup_steps=0)
    optimizer.build(variables)
    assert all(optimizer._fused(v.value) for v in variables)

    @tf.function
    def apply(grads):
        optimizer.apply_gradients(zip(grads, variables))

    for grads in steps:
        apply([tf.constant(g) for g in grads])
    expected = numpy_adamw(start, steps, names, peak=0.1, total=10)
    for variable, want, name in zip(variables, expected, names):
        np.testing.assert_allclose(np.asarray(variable), want, rtol=2e-6, atol=2e-7, err_msg=name)
    assert int(optimizer.iterations) == 3
    # The step's scalars are made once and shared by the four updates (a step's graph
    # then grows by the fused update alone per variable).
    graph = apply.get_concrete_function([tf.constant(g) for g in steps[0]]).graph
    assert [op.type for op in graph.get_operations()].count("Pow") == 2  # beta_1^t, beta_2^t


def test_fused_and_keras_steps_agree_on_a_model():
    """A BERT classifier trained a few steps with the fused step and with the portable
    step of other backends (`training.adam_step`, Keras's clipping) ends with the same
    weights."""
    import keras_bert

    x = {
        "token_ids": np.arange(35).reshape(5, 7) % 29 + 1,
        "segment_ids": np.zeros((5, 7), "int32"),
        "padding_mask": np.ones((5, 7), "int32"),
    }
    y = np.array([0, 1, 1, 0, 1])
    weights = {}
    for fused in (True, False):
        keras.utils.set_random_seed(0)
        model = keras_bert.build(
            "tiny",
            task="classification",
            num_classes=2,
            **tiny(num_layers=1, vocabulary_size=30, dropout=0.0),
            total_steps=4,
        )
        if not fused:
            model.optimizer._fused = lambda variable: False
            model.optimizer._clip_gradients = lambda grads, model=model: (
                keras.optimizers.AdamW._clip_gradients(model.optimizer, grads)
            )
        model.fit(x, y, batch_size=5, epochs=3, verbose=0)
        weights[fused] = [np.asarray(w) for w in model.weights]
    for a, b in zip(weights[True], weights[False]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

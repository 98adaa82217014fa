"""Calibration metrics against independent references: the likelihood against PyTorch's
cross-entropy, the fitted temperature against SciPy's bounded minimiser, the ECE against
a bin-edge loop."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from keras_bert.metrics.calibration import (
    calibration_report,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    softmax,
)


def _overconfident(rng, n=301, classes=5, scale=6.0):
    """Logits whose argmax is right about 70% of the time but whose softmax claims
    more: scaled-up noisy scores."""
    labels = rng.integers(0, classes, n)
    scores = rng.normal(0, 1, (n, classes))
    scores[np.arange(n), labels] += 1.2
    return scores * scale, labels


def _torch_nll(logits, labels, temperature):
    import torch  # Here, not at the top: collecting the suite (both test processes
    # import every test file) need not load PyTorch.

    return float(
        torch.nn.functional.cross_entropy(
            torch.tensor(logits / temperature, dtype=torch.float64), torch.tensor(labels)
        )
    )


def _reference_ece(probabilities, labels, bins):
    confidence = probabilities.max(-1)
    correct = probabilities.argmax(-1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lower, upper in zip(edges[:-1], edges[1:]):
        inside = (confidence > lower) & (confidence <= upper)
        if inside.any():
            gap = abs(correct[inside].mean() - confidence[inside].mean())
            total += inside.mean() * gap
    return total


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
def test_negative_log_likelihood_equals_torch_cross_entropy(temperature):
    logits, labels = _overconfident(np.random.default_rng(0))
    got = negative_log_likelihood(logits, labels, temperature)
    assert got == pytest.approx(_torch_nll(logits, labels, temperature), rel=1e-12)


@pytest.mark.parametrize("seed,scale", [(0, 6.0), (1, 0.4), (2, 1.0)])
def test_fitted_temperature_is_scipys_minimum(seed, scale):
    logits, labels = _overconfident(np.random.default_rng(seed), scale=scale)
    got = fit_temperature(logits, labels)
    want = minimize_scalar(
        lambda t: _torch_nll(logits, labels, t),
        bounds=(0.05, 20.0),
        method="bounded",
        options={"xatol": 1e-10},
    ).x
    assert got == pytest.approx(want, rel=1e-4)
    if scale > 2:  # over-confident logits are cooled
        assert got > 1.5


def test_ece_equals_the_bin_edge_loop_and_temperature_lowers_it():
    rng = np.random.default_rng(3)
    logits, labels = _overconfident(rng)
    for bins in (1, 10, 15):
        probabilities = softmax(logits)
        assert expected_calibration_error(probabilities, labels, bins) == pytest.approx(
            _reference_ece(probabilities, labels, bins), abs=1e-12
        )
    report = calibration_report(logits, labels)
    assert report["temperature"] == pytest.approx(fit_temperature(logits, labels))
    assert report["ece_after"] < report["ece_before"] / 2
    assert report["nll_after"] < report["nll_before"]
    assert report["bins"] == 15 and report["examples"] == len(labels)
    # A temperature never changes a prediction.
    assert (softmax(logits, report["temperature"]).argmax(-1) == logits.argmax(-1)).all()


def test_ece_edges_and_no_examples():
    # A confidence of exactly 0.6 belongs to the bin (0.533, 0.6]; 1.0 to the last bin.
    probabilities = np.array([[0.6, 0.4], [1.0, 0.0], [0.6, 0.4]])
    labels = np.array([0, 0, 1])
    want = _reference_ece(probabilities, labels, 15)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(want)
    assert np.isnan(expected_calibration_error(np.zeros((0, 2)), np.zeros(0, int)))
    with pytest.raises(ValueError, match="no examples"):
        fit_temperature(np.zeros((0, 2)), np.zeros(0, int))

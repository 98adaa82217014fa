"""Metrics against scikit-learn and SciPy (the official GLUE evaluation's libraries)."""

import warnings

import keras
import numpy as np
import pytest
import scipy.stats
import sklearn.metrics

from keras_bert.metrics import BinaryF1, MatthewsCorrelation, PearsonCorrelation, scores


def random_cases(seed, classes=2, n=200):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, classes, n))
    return y_true, y_pred


HAND_WORKED = [
    ([1, 1, 1, 1], [1, 1, 1, 1]),  # Constant and all right.
    ([0, 1, 0, 1], [0, 0, 0, 0]),  # Constant prediction: MCC 0, F1 0.
    ([0, 0, 0], [0, 0, 0]),  # No positives anywhere.
    ([0, 1, 1, 0, 1], [1, 1, 0, 0, 1]),
    ([1, 0], [0, 1]),  # All wrong: MCC -1.
]


@pytest.mark.parametrize("case", [random_cases(s) for s in range(5)] + HAND_WORKED)
def test_classification_scores_match_sklearn(case):
    y_true, y_pred = map(np.asarray, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert scores.accuracy(y_true, y_pred) == pytest.approx(
            sklearn.metrics.accuracy_score(y_true, y_pred)
        )
        assert scores.f1(y_true, y_pred) == pytest.approx(
            sklearn.metrics.f1_score(y_true, y_pred, zero_division=0)
        )
        assert scores.matthews_corrcoef(y_true, y_pred) == pytest.approx(
            sklearn.metrics.matthews_corrcoef(y_true, y_pred)
        )


@pytest.mark.parametrize("seed", range(3))
def test_multiclass_mcc_matches_sklearn(seed):
    y_true, y_pred = random_cases(seed, classes=3)
    assert scores.matthews_corrcoef(y_true, y_pred) == pytest.approx(
        sklearn.metrics.matthews_corrcoef(y_true, y_pred)
    )


@pytest.mark.parametrize("seed", range(4))
def test_correlations_match_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 11, 150) / 2.0  # STS-B-like 0..5 in halves: many ties.
    predictions = labels + rng.normal(0, 1.0, 150)
    predictions[:20] = np.round(predictions[:20])  # Ties in the predictions too.
    assert scores.pearson(predictions, labels) == pytest.approx(
        scipy.stats.pearsonr(predictions, labels)[0], abs=1e-12
    )
    assert scores.spearman(predictions, labels) == pytest.approx(
        scipy.stats.spearmanr(predictions, labels)[0], abs=1e-12
    )
    np.testing.assert_allclose(scores.rank(labels), scipy.stats.rankdata(labels))


def test_constant_input_correlation_is_nan_like_scipy():
    assert np.isnan(scores.pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    assert np.isnan(scores.spearman([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(scipy.stats.spearmanr([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])[0])


def test_mismatched_or_empty_inputs_are_errors():
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        scores.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="No examples"):
        scores.f1([], [])


def _logits(predicted, classes):
    return keras.ops.one_hot(np.asarray(predicted), classes) * 4.0 - 2.0


@pytest.mark.parametrize("case", [random_cases(7, n=101)] + HAND_WORKED)
def test_streaming_f1_and_mcc_equal_the_exact_scores_over_batches(case):
    y_true, y_pred = map(np.asarray, case)
    f1, mcc = BinaryF1(), MatthewsCorrelation()
    for start in range(0, len(y_true), 17):  # Uneven batches.
        part = slice(start, start + 17)
        for metric in (f1, mcc):
            metric.update_state(y_true[part], _logits(y_pred[part], 2))
    assert float(f1.result()) == pytest.approx(scores.f1(y_true, y_pred), abs=1e-6)
    assert float(mcc.result()) == pytest.approx(scores.matthews_corrcoef(y_true, y_pred), abs=1e-6)
    mcc.reset_state()
    assert float(mcc.result()) == 0.0


def test_streaming_pearson_is_close_to_scipy():
    rng = np.random.default_rng(1)
    labels = rng.uniform(0, 5, 300)
    predictions = labels + rng.normal(0, 0.8, 300)
    metric = PearsonCorrelation()
    for start in range(0, 300, 32):
        metric.update_state(labels[start : start + 32], predictions[start : start + 32])
    assert float(metric.result()) == pytest.approx(
        scipy.stats.pearsonr(predictions, labels)[0], abs=1e-4
    )


def test_streaming_metrics_during_fit_and_evaluate():
    import keras_bert
    from tests.task_checks import TINY, tiny_inputs

    model = keras_bert.build(
        "tiny",
        task="classification",
        num_classes=2,
        total_steps=4,
        metrics=[BinaryF1(), MatthewsCorrelation()],
        **TINY,
    )
    x, y = tiny_inputs(batch=8), np.array([0, 1, 1, 0, 1, 0, 0, 1], "int32")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    result = model.evaluate(x, y, batch_size=3, verbose=0, return_dict=True)
    predicted = model.predict(x, verbose=0).argmax(-1)
    assert result["f1"] == pytest.approx(scores.f1(y, predicted), abs=1e-6)
    assert result["mcc"] == pytest.approx(scores.matthews_corrcoef(y, predicted), abs=1e-6)

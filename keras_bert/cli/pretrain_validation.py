"""Held-out scores of a pretraining run (`keras-bert pretrain --validation FILES`): the
LM's loss, accuracy and perplexity over one pass of the held-out text, and NSP's
accuracy where the objective has it. Computed with the model's forward pass and NumPy,
on whichever worker calls it (no collective op: every worker may, the chief does)."""

import numpy as np

from keras_bert.cli.common import UsageError


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def held_out_scores(model, dataset, objective, files):
    """`{"lm_loss", "lm_accuracy", "perplexity", "predictions"[, "nsp_accuracy"]}` of
    `model` over `dataset` (`(x, y, sample_weight)` batches of `objective`). The loss is
    the mean over every real prediction of the pass (a weighted mean, as in training),
    the perplexity its exponential."""
    lm = "lm" if objective == "ltr" else "mlm"
    loss = correct = count = 0.0
    nsp_correct = nsp_count = 0
    for x, y, weights in dataset:
        logits = model(x, training=False)
        scores = _log_softmax(np.asarray(logits[lm], "float64"))
        labels, weight = np.asarray(y[lm]), np.asarray(weights[lm], "float64")
        picked = np.take_along_axis(scores, labels[..., None], axis=-1)[..., 0]
        loss -= float((picked * weight).sum())
        correct += float(((scores.argmax(-1) == labels) * weight).sum())
        count += float(weight.sum())
        if "nsp" in y:
            guesses = np.asarray(logits["nsp"]).argmax(-1)
            nsp_correct += int((guesses == np.asarray(y["nsp"])).sum())
            nsp_count += len(guesses)
    if not count:
        raise UsageError(
            f"--validation {' '.join(files)}: no full batch of held-out examples (the "
            "held-out text must fill at least one --batch-size batch)"
        )
    scores = {
        "lm_loss": loss / count,
        "lm_accuracy": correct / count,
        "perplexity": float(np.exp(loss / count)),
        "predictions": int(count),
    }
    if nsp_count:
        scores["nsp_accuracy"] = nsp_correct / nsp_count
    return scores

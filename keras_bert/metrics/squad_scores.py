"""SQuAD's official scores: exact match and F1 (v1.1 and v2.0), v2.0's HasAns / NoAns
breakdown and best no-answer thresholds, computed as the official scripts do.

Answers are normalized before comparison: lowercase, ASCII punctuation removed, the
articles a / an / the removed as words, whitespace collapsed. A question's score is the
maximum over its gold answers. Differences between the two official scripts kept here:
- v1.1 scores a question missing from the predictions 0 and keeps it in the count;
  v2.0 leaves it out. v2.0 gives an unanswerable question the gold answer "", so it
  scores 1 only when the prediction normalizes to empty; its F1 is 1 or 0 when either
  side is empty, where v1.1's is 0.
- v2.0 with no-answer probabilities (`null_odds.json`) first turns predictions whose
  probability exceeds `na_prob_thresh` (1.0) into "no answer", and reports
  `best_exact` / `best_f1`: the score with the best threshold, found by starting from
  "no answer everywhere" and walking the questions by increasing probability, moving
  the threshold only on a strict improvement.
"""

import collections
import re
import string

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text):
    """Lowercase, drop punctuation and articles, collapse whitespace.

    Example:
    >>> normalize_answer("The  Eiffel-Tower, a landmark!")
    'eiffeltower landmark'
    """
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction, gold, v2=False):
    """Token F1 of normalized answers (v2: 1/0 when either side is empty)."""
    predicted, truth = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if v2 and (not predicted or not truth):
        return float(predicted == truth)
    common = sum((collections.Counter(predicted) & collections.Counter(truth)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def _raw_scores(gold, predictions, v2):
    exact, f1s = {}, {}
    for qid, answers in gold.items():
        if qid not in predictions:
            if not v2:
                exact[qid] = f1s[qid] = 0.0
            continue
        answers = [a for a in answers if normalize_answer(a)] if v2 else list(answers)
        answers = answers or [""]
        prediction = predictions[qid]
        exact[qid] = max(exact_match(prediction, a) for a in answers)
        f1s[qid] = max(f1(prediction, a, v2) for a in answers)
    return exact, f1s


def squad_v1(gold, predictions):
    """{"exact_match", "f1"} in percent, as evaluate-v1.1.py.

    Args:
        gold: {question id: list of answer texts}.
        predictions: {question id: predicted text}.

    Example:
    >>> squad_v1({"q": ["the cat", "a dog"]}, {"q": "Cat"})
    {'exact_match': 100.0, 'f1': 100.0}
    """
    exact, f1s = _raw_scores(gold, predictions, v2=False)
    total = len(gold)
    return {
        "exact_match": 100.0 * sum(exact.values()) / total,
        "f1": 100.0 * sum(f1s.values()) / total,
    }


def _thresholded(scores, na_probs, has_answer, threshold):
    return {
        qid: (float(not has_answer[qid]) if na_probs[qid] > threshold else s)
        for qid, s in scores.items()
    }


def _best_threshold(predictions, scores, na_probs, has_answer):
    current = best = sum(1 for qid in scores if not has_answer[qid])
    threshold = 0.0
    for qid in sorted(na_probs, key=lambda q: na_probs[q]):
        if qid not in scores:
            continue
        if has_answer[qid]:
            current += scores[qid]
        else:
            current += -1 if predictions[qid] else 0
        if current > best:
            best, threshold = current, na_probs[qid]
    return 100.0 * best / len(scores), threshold


def _summary(exact, f1s, qids):
    if not qids:
        return {}
    return {
        "exact": 100.0 * sum(exact[q] for q in qids) / len(qids),
        "f1": 100.0 * sum(f1s[q] for q in qids) / len(qids),
        "total": len(qids),
    }


def squad_v2(gold, predictions, na_probs=None, na_prob_thresh=1.0):
    """The dict evaluate-v2.0.py prints (percentages).

    Args:
        gold: {question id: list of answer texts}; an empty list = unanswerable.
        predictions: {question id: predicted text}; "" = no answer.
        na_probs: {question id: no-answer score} (`null_odds.json`), or None.
        na_prob_thresh: float, predictions with a higher no-answer score count as
            "no answer" (only with `na_probs`).

    Returns:
        {"exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total",
        "NoAns_exact", ...} and with `na_probs` also "best_exact",
        "best_exact_thresh", "best_f1", "best_f1_thresh".

    Example:
    >>> out = squad_v2({"a": ["Paris"], "b": []}, {"a": "paris", "b": ""})
    >>> out["exact"], out["HasAns_exact"], out["NoAns_total"]
    (100.0, 100.0, 1)
    """
    has_answer = {qid: bool(answers) for qid, answers in gold.items()}
    exact, f1s = _raw_scores(gold, predictions, v2=True)
    if na_probs is None:
        na_probs = {qid: 0.0 for qid in gold}
        best = False
    else:
        best = True
    exact_t = _thresholded(exact, na_probs, has_answer, na_prob_thresh)
    f1_t = _thresholded(f1s, na_probs, has_answer, na_prob_thresh)
    scored = list(exact)  # v2.0 scores only the questions that were predicted.
    out = dict(_summary(exact_t, f1_t, scored))
    for name, wanted in (("HasAns", True), ("NoAns", False)):
        part = _summary(exact_t, f1_t, [q for q in scored if has_answer[q] == wanted])
        out.update({f"{name}_{k}": v for k, v in part.items()})
    if best:
        out["best_exact"], out["best_exact_thresh"] = _best_threshold(
            predictions, exact, na_probs, has_answer
        )
        out["best_f1"], out["best_f1_thresh"] = _best_threshold(
            predictions, f1s, na_probs, has_answer
        )
    return out

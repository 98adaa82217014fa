"""Entity-level precision, recall and F1 as conlleval reports them.

An entity counts as found only when its type and both boundaries match a gold entity.
The scores take entity spans (e.g. from `pipelines.tag_schemes.entities`, which reads
tags with conlleval's rules); per type and overall ("micro": every entity counts once).
"""

import collections


def _prf(correct, predicted, gold):
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": gold}


def entity_scores(gold, predicted):
    """Scores of predicted entity spans against gold ones.

    Args:
        gold: list (one per sentence) of lists of (type, first, last) spans.
        predicted: the same for the predictions, sentence by sentence.

    Returns:
        {"precision", "recall", "f1", "support", "per_type": {type: {...}}}, as
        fractions (conlleval prints them x 100).

    Example:
    >>> gold = [[("PER", 0, 1), ("LOC", 3, 3)]]
    >>> out = entity_scores(gold, [[("PER", 0, 1), ("LOC", 2, 3)]])
    >>> out["precision"], out["recall"], out["per_type"]["PER"]["f1"]
    (0.5, 0.5, 1.0)
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted.")
    counts = collections.defaultdict(lambda: [0, 0, 0])  # type -> correct, predicted, gold
    for g, p in zip(gold, predicted):
        g, p = set(g), set(p)
        for kind, *_ in g & p:
            counts[kind][0] += 1
        for kind, *_ in p:
            counts[kind][1] += 1
        for kind, *_ in g:
            counts[kind][2] += 1
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    out = _prf(*total)
    out["per_type"] = {kind: _prf(*counts[kind]) for kind in sorted(counts)}
    return out

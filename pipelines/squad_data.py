"""SQuAD examples -> windows (training batches, prediction inputs) and logits -> answers.

The windows of a file are computed once by `SquadWindower` in the graph and kept as
NumPy arrays (`squad_windows`); training shuffles and batches them, evaluation runs the
model on them and `decode_answers` maps the logits back to answer texts with
`span_decoding`, the same ops an exported model runs.
"""

import numpy as np
import tensorflow as tf

from pipelines import span_decoding
from pipelines.classification import ordered
from pipelines.plain_graphs import kept_function, plain
from pipelines.replica_batches import replica_batches

MODEL_INPUTS = ("token_ids", "segment_ids", "padding_mask")


def squad_windows(examples, windower, batch_size=64):
    """All windows of `SquadExamples` as a dict of NumPy arrays, windows in example order.

    Besides the windower's features, `example_index` (windows,) says which question a
    window belongs to. Training labels come from each question's first answer.
    """
    spans = examples.first_answers()
    source = tf.data.Dataset.from_tensor_slices(
        (
            tf.constant(examples.questions, tf.string),
            tf.constant(examples.contexts, tf.string),
            tf.constant([s for s, _ in spans], tf.int32),
            tf.constant([e for _, e in spans], tf.int32),
            tf.range(len(examples), dtype=tf.int32),
        )
    )

    run = _windows_function(windower)
    data = source.flat_map(
        plain(lambda *example: tf.data.Dataset.from_tensor_slices(run(*example)))
    )
    parts = [element for element in data.batch(batch_size).as_numpy_iterator()]
    if not parts:
        raise ValueError(f"{examples.source}: no questions to window.")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _windows_function(windower):
    """The windows of one example with its `example_index`, traced once per windower (a
    run windows its training file, its validation file and what it predicts, each in a
    new dataset; tracing the tokenizer and windowing again would take a second each)."""
    text, number = tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32)

    def make(windower):
        def windows(question, context, start, end, index):
            out = windower(question, context, start, end)
            out["example_index"] = tf.fill(tf.shape(out["start_positions"]), index)
            return out

        return windows

    return kept_function(
        windower, ("windows",), make, input_signature=[text, text, number, number, number]
    )


def training_dataset(
    windows,
    batch_size,
    shuffle=True,
    seed=None,
    repeat=False,
    drop_remainder=False,
    input_context=None,
):
    """(features, {"start_logits": start positions, "end_logits": end positions}) in
    global batches (or, with `input_context`, this pipeline's per-replica slices)."""
    features = {k: windows[k] for k in MODEL_INPUTS}
    labels = {"start_logits": windows["start_positions"], "end_logits": windows["end_positions"]}
    data = ordered(
        tf.data.Dataset.from_tensor_slices((features, labels)),
        len(windows["token_ids"]),
        shuffle,
        seed,
        repeat,
    )
    data = data.batch(batch_size, drop_remainder=drop_remainder)
    return replica_batches(data, input_context).prefetch(tf.data.AUTOTUNE)


_DECODERS = {}


def _decoder(n_best_size, max_answer_length):
    """One traced decoder per setting for the process (no retracing per call)."""
    key = (n_best_size, max_answer_length)
    if key not in _DECODERS:
        _DECODERS[key] = tf.function(
            lambda *a: span_decoding.best_spans(
                *a, n_best_size=n_best_size, max_answer_length=max_answer_length
            ),
            reduce_retracing=True,
            autograph=False,
        )
    return _DECODERS[key]


def decode_answers(
    examples,
    windows,
    start_logits,
    end_logits,
    n_best_size=20,
    max_answer_length=30,
    null_score_diff_threshold=None,
    chunk=256,
):
    """Answers of every question from the logits of its windows.

    Args:
        examples: SquadExamples the windows were made from.
        windows: dict from `squad_windows`.
        start_logits, end_logits: (windows, seq) arrays from the model.
        n_best_size, max_answer_length: run_squad.py's decoding limits.
        null_score_diff_threshold: None (SQuAD v1.1: always the best span) or a float
            (v2.0: no answer when null score - best span score exceeds it).
        chunk: questions decoded per graph call.

    Returns:
        (predictions {id: text}, null_odds {id: null - best span score},
        nbest {id: list of {"text", "start_char", "end_char", "score"}}).
    """
    decode = _decoder(n_best_size, max_answer_length)
    owner = windows["example_index"]
    predictions, null_odds, nbest = {}, {}, {}
    for first in range(0, len(examples), chunk):
        last = min(first + chunk, len(examples))
        rows = np.flatnonzero((owner >= first) & (owner < last))
        spans = decode(
            start_logits[rows],
            end_logits[rows],
            windows["token_starts"][rows],
            windows["token_ends"][rows],
            windows["max_context"][rows],
            owner[rows] - first,
            last - first,
        )
        start, end, diffs = span_decoding.choose_answers(spans, null_score_diff_threshold)
        spans = {k: v.numpy() for k, v in spans.items()}
        for i in range(last - first):
            n = first + i
            context, qid = examples.contexts[n], examples.ids[n]
            s, e = int(start[i]), int(end[i])
            predictions[qid] = context[s:e] if s >= 0 else ""
            null_odds[qid] = float(diffs[i])
            nbest[qid] = [
                {
                    "text": context[a:b],
                    "start_char": int(a),
                    "end_char": int(b),
                    "score": float(score),
                }
                for score, a, b in zip(
                    spans["scores"][i], spans["start_chars"][i], spans["end_chars"][i]
                )
                if a >= 0
            ]
    return predictions, null_odds, nbest

"""SQuAD: the reader, windows against a plain-Python run_squad.py reference, hand-worked
offset cases, span decoding against a Python reference, and the official scores."""

import json
import os

import numpy as np
import pytest

from keras_bert.metrics import squad_scores
from pipelines import BertTokenizer
from pipelines.span_decoding import best_spans, choose_answers
from pipelines.squad import SquadExamples, read_squad, write_squad
from pipelines.squad_data import decode_answers, squad_windows
from pipelines.squad_windows import SquadWindower
from tests.conftest import DATA, SHARED_SAMPLES

VOCAB = os.path.join(DATA, "vocab.txt")
WORDS = (
    "the quick brown fox jumps over lazy dog cat news market stock price fell rose "
    "good bad day tokenizer unwanted running Café straße istanbul 日本"
).split()


@pytest.fixture(scope="module")
def tokenizer():
    return BertTokenizer(VOCAB, lowercase=True)


def _write(tmp_path, qas_by_context, version="v2.0", name="squad.json"):
    data = {
        "version": version,
        "data": [
            {"title": "t", "paragraphs": [{"context": c, "qas": qas} for c, qas in qas_by_context]}
        ],
    }
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _qa(qid, question, context, answer=None, impossible=False):
    answers = [] if answer is None else [{"text": answer, "answer_start": context.index(answer)}]
    return {"id": qid, "question": question, "answers": answers, "is_impossible": impossible}


# --- reader ---------------------------------------------------------------------------


def test_reader_reads_v2_fields_and_real_sample():
    examples = read_squad(os.path.join(SHARED_SAMPLES, "SQUAD/dev-v2.0.json"))
    assert examples.version == "v2.0" and examples.has_impossible
    first = examples.answers[0][0]
    assert examples.contexts[0][first[1] : first[1] + len(first[0])] == first[0]
    assert all(not a for a, imp in zip(examples.answers, examples.impossible) if imp)


def test_reader_errors_name_the_question(tmp_path):
    context = "Paris is in France."
    bad = {"id": "q-bad", "question": "Where?", "answers": [{"text": "Spain", "answer_start": 12}]}
    path = _write(tmp_path, [(context, [_qa("q1", "Where?", context, "France"), bad])])
    with pytest.raises(
        ValueError,
        match=r"question q-bad, answer 0: answer text 'Spain' "
        r"does not match the context at answer_start 12",
    ):
        read_squad(path)
    skipped = read_squad(path, on_error="skip")
    assert skipped.ids == ["q1"] and skipped.skipped == 1 and "q-bad" in skipped.problems[0]
    missing = _write(tmp_path, [(context, [{"id": "q2", "answers": []}])], name="m.json")
    with pytest.raises(ValueError, match=r"question q2: missing field 'question'"):
        read_squad(missing)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"broken.json: not a SQuAD JSON file"):
        read_squad(str(tmp_path / "broken.json"))


# --- windows against a plain-Python reference -------------------------------------------


def _reference_windows(
    tokenizer, question, context, start_char, end_char, length, max_query, stride
):
    """run_squad.py's doc spans, max-context rule and answer positions, in Python."""
    q = [int(i) for i in tokenizer.tokenize(question).numpy()][:max_query]
    ids, starts, ends = (x.numpy().tolist() for x in tokenizer.tokenize_with_offsets(context))
    budget = length - len(q) - 3
    spans, offset = [], 0
    while True:
        size = min(len(ids) - offset, budget)
        spans.append((offset, size))
        if offset + size >= len(ids):
            break
        offset += min(size, stride)

    def is_max_context(w, piece):
        best, best_score = None, None
        for i, (s, n) in enumerate(spans):
            if s <= piece <= s + n - 1:
                score = min(piece - s, s + n - 1 - piece) + 0.01 * n
                if best_score is None or score > best_score:
                    best, best_score = i, score
        return best == w

    first = [i for i, e in enumerate(ends) if e > start_char]
    last = [i for i, s in enumerate(starts) if s < end_char]
    out = []
    for w, (s, n) in enumerate(spans):
        tokens = [2] + q + [3] + ids[s : s + n] + [3]
        context_at = [None] * (len(q) + 2) + list(range(s, s + n)) + [None]
        positions = (0, 0)
        if start_char >= 0 and first and last and s <= first[0] and last[-1] < s + n:
            positions = (first[0] - s + len(q) + 2, last[-1] - s + len(q) + 2)
        max_context = [c is not None and is_max_context(w, c) for c in context_at]
        out.append(
            (
                tokens,
                max_context,
                positions,
                [starts[c] if c is not None else -1 for c in context_at],
            )
        )
    return out


@pytest.mark.parametrize("length,max_query,stride", [(16, 4, 3), (20, 6, 5), (13, 3, 40)])
def test_windows_match_python_reference(tokenizer, length, max_query, stride):
    rng = np.random.default_rng(length)
    windower = SquadWindower(tokenizer, length, max_query, stride)
    for _ in range(12):
        context = " ".join(rng.choice(WORDS, rng.integers(1, 30)))
        question = " ".join(rng.choice(WORDS, rng.integers(1, 9))) + "?"
        a, b = sorted(rng.integers(0, len(context), 2))
        if rng.random() < 0.2:
            a = b = -1
        got = {k: v.numpy() for k, v in windower(question, context, a, b + 1).items()}
        expected = _reference_windows(
            tokenizer, question, context, a, b + 1, length, max_query, stride
        )
        assert len(got["token_ids"]) == len(expected)
        for w, (tokens, max_context, positions, starts) in enumerate(expected):
            n = len(tokens)
            assert got["token_ids"][w, :n].tolist() == tokens
            assert got["padding_mask"][w].sum() == n and not got["token_ids"][w, n:].any()
            assert got["max_context"][w, :n].tolist() == max_context
            assert got["token_starts"][w, :n].tolist() == starts
            assert (got["start_positions"][w], got["end_positions"][w]) == positions
            assert got["segment_ids"][w].tolist() == [0] * (
                n - 1 - len([s for s in starts if s >= 0])
            ) + [1] * (1 + len([s for s in starts if s >= 0])) + [0] * (length - n)


def _labelled_text(windows, w, context):
    s, e = windows["start_positions"][w], windows["end_positions"][w]
    return context[windows["token_starts"][w, s] : windows["token_ends"][w, e]]


def test_hand_worked_offsets(tokenizer):
    windower = SquadWindower(tokenizer, sequence_length=14, max_query_length=3, doc_stride=2)
    # An answer spanning word pieces ("un ##want ##ed"), after Unicode that shifts
    # character offsets (an emoji is one code point, "日本" two pieces).
    context = "日本 😀 café straße unwanted running dog."
    answer = "unwanted running"
    a = context.index(answer)
    w = {k: v.numpy() for k, v in windower("what?", context, a, a + len(answer)).items()}
    found = [w_ for w_ in range(len(w["token_ids"])) if w["start_positions"][w_] > 0]
    assert found, "some window holds the whole answer"
    for index in found:
        assert _labelled_text(w, index, context) == answer
        assert w["end_positions"][index] - w["start_positions"][index] == 4  # 5 pieces
    # At a window boundary: a window that holds only part of the answer points to [CLS].
    partial = [i for i in range(len(w["token_ids"])) if w["start_positions"][i] == 0]
    assert partial, "the stride leaves windows with part of the answer"
    # A context longer than several windows, and an impossible question.
    long_context = " ".join(["the dog"] * 30) + " market"
    m = long_context.index("market")
    w = {k: v.numpy() for k, v in windower("q", long_context, m, m + 6).items()}
    assert len(w["token_ids"]) > 5
    assert [
        _labelled_text(w, i, long_context)
        for i in range(len(w["token_ids"]))
        if w["start_positions"][i] > 0
    ] == ["market"]
    w = windower("q", long_context).copy()
    assert not w["start_positions"].numpy().any() and not w["end_positions"].numpy().any()
    # Every context piece is the maximum-context piece of exactly one window.
    counts = {}
    for starts, flags in zip(w["token_starts"].numpy(), w["max_context"].numpy()):
        for s in starts[flags]:
            counts[s] = counts.get(s, 0) + 1
    assert set(counts.values()) == {1}
    assert len(counts) == int(tokenizer.tokenize(long_context).shape[0])


# --- decoding against a Python reference ------------------------------------------------


def _reference_best(start, end, starts, ends, max_context, n_best, max_len):
    candidates = []
    for w in range(len(start)):
        top_s = np.argsort(-start[w], kind="stable")[:n_best]
        top_e = np.argsort(-end[w], kind="stable")[:n_best]
        for i in top_s:
            for j in top_e:
                if starts[w, i] < 0 or starts[w, j] < 0 or not max_context[w, i]:
                    continue
                if j < i or j - i + 1 > max_len:
                    continue
                candidates.append((start[w, i] + end[w, j], starts[w, i], ends[w, j]))
    candidates.sort(key=lambda c: -c[0])
    seen, out = set(), []
    for score, a, b in candidates:
        if (a, b) not in seen:
            seen.add((a, b))
            out.append((score, a, b))
    null = min(start[w, 0] + end[w, 0] for w in range(len(start)))
    return out[:n_best], null


def test_decoding_matches_python_reference():
    rng = np.random.default_rng(0)
    windows_per_example = [1, 3, 2, 4]
    seq, n_best, max_len = 12, 5, 4
    total = sum(windows_per_example)
    start = rng.standard_normal((total, seq)).astype("float32")
    end = rng.standard_normal((total, seq)).astype("float32")
    starts = np.full((total, seq), -1, "int32")
    for w in range(total):  # windows overlap: position p of window w is piece w + p - 3.
        starts[w, 3 : seq - 1] = 10 * (np.arange(3, seq - 1) - 3 + w)
    ends = np.where(starts >= 0, starts + 4, -1).astype("int32")
    max_context = (starts >= 0) & (rng.random((total, seq)) < 0.7)
    owner = np.repeat(np.arange(len(windows_per_example)), windows_per_example)
    out = best_spans(
        start, end, starts, ends, max_context, owner, len(windows_per_example), n_best, max_len
    )
    for e in range(len(windows_per_example)):
        rows = owner == e
        expected, null = _reference_best(
            start[rows], end[rows], starts[rows], ends[rows], max_context[rows], n_best, max_len
        )
        got = [
            (s, a, b)
            for s, a, b in zip(
                out["scores"][e].numpy(), out["start_chars"][e].numpy(), out["end_chars"][e].numpy()
            )
            if a >= 0
        ]
        assert [(a, b) for _, a, b in got] == [(a, b) for _, a, b in expected]
        np.testing.assert_allclose([s for s, _, _ in got], [s for s, _, _ in expected], rtol=1e-6)
        assert out["null_scores"][e].numpy() == pytest.approx(null)
    start_chars, _, diffs = choose_answers(out, null_score_diff_threshold=0.0)
    chosen = out["scores"][:, 0].numpy() >= out["null_scores"].numpy()
    assert ((start_chars.numpy() >= 0) == chosen).all()
    np.testing.assert_allclose(diffs, out["null_scores"] - out["scores"][:, 0], rtol=1e-6)


def test_logits_pointing_at_answers_decode_to_their_text(tokenizer, tmp_path):
    long_context = "the quick brown fox. " * 12 + "Straße 日本 market news fell."
    qas = [
        (
            long_context,
            [
                _qa("long", "where?", long_context, "日本 market"),
                _qa("none", "what?", long_context, impossible=True),
            ],
        ),
        (
            "Café unwanted running dog.",
            [_qa("pieces", "who?", "Café unwanted running dog.", "unwanted running")],
        ),
    ]
    examples = read_squad(_write(tmp_path, qas))
    windower = SquadWindower(tokenizer, sequence_length=24, max_query_length=4, doc_stride=5)
    windows = squad_windows(examples, windower)
    # A perfect model: high logits at the labelled positions, [CLS] otherwise.
    start = np.zeros(windows["token_ids"].shape, "float32")
    end = np.zeros_like(start)
    rows = np.arange(len(start))
    start[rows, windows["start_positions"]] = 10
    end[rows, windows["end_positions"]] = 10
    predictions, null_odds, nbest = decode_answers(
        examples, windows, start, end, null_score_diff_threshold=0.0
    )
    assert predictions == {"long": "日本 market", "none": "", "pieces": "unwanted running"}
    assert null_odds["none"] > 0 > null_odds["long"]
    assert nbest["long"][0]["text"] == "日本 market"
    v1, _, _ = decode_answers(examples, windows, start, end)  # v1.1: always a span
    assert v1["none"] != ""
    assert squad_scores.squad_v2(examples.gold_answers(), predictions, null_odds)["exact"] == 100.0


# --- official scores ---------------------------------------------------------------------


def test_normalization_and_scores_hand_worked():
    assert squad_scores.normalize_answer("  An apple, the PIE!  ") == "apple pie"
    assert squad_scores.normalize_answer("theory of a") == "theory of"
    assert squad_scores.f1("the cat sat", "cat sat down") == pytest.approx(0.8)
    gold = {
        "a": ["Denver Broncos", "The Denver Broncos"],
        "b": ["Santa Clara"],
        "c": ["1,000 feet"],
    }
    predictions = {"a": "the denver broncos!", "b": "Clara, California", "c": "1000 feet"}
    out = squad_scores.squad_v1(gold, predictions)
    # a: exact; b: F1 of (clara) vs (santa clara): P 1/2, R 1/2 -> 0.5; c: punctuation gone.
    assert out["exact_match"] == pytest.approx(200 / 3)
    assert out["f1"] == pytest.approx(100 * 2.5 / 3)
    # v1.1 counts a missing prediction as 0.
    assert squad_scores.squad_v1(gold, {"a": "Denver Broncos"})["exact_match"] == pytest.approx(
        100 / 3
    )


def test_squad_v2_breakdown_and_best_thresholds_hand_worked():
    gold = {"q1": ["Paris"], "q2": ["in 1990"], "q3": [], "q4": []}
    predictions = {"q1": "Paris", "q2": "1991", "q3": "", "q4": "somewhere"}
    na_probs = {"q1": 0.1, "q2": 0.7, "q3": 0.9, "q4": 0.4}
    out = squad_scores.squad_v2(gold, predictions, na_probs)
    assert out["HasAns_exact"] == 50.0 and out["HasAns_total"] == 2
    assert out["NoAns_exact"] == 50.0 and out["exact"] == 50.0
    # From "null everywhere" (2 of 4 right), by increasing no-answer probability:
    # q1 +1 -> 3 (threshold 0.1); q4 answered wrongly -1 -> 2; q2 +0; q3 +0. Best 75 @ 0.1.
    assert out["best_exact"] == 75.0 and out["best_exact_thresh"] == 0.1
    # F1: q2 "1991" vs "in 1990" is 0, so the same walk.
    assert out["best_f1"] == 75.0 and out["best_f1_thresh"] == 0.1
    # A no-answer probability above 1.0 turns a prediction into "no answer".
    thresholded = squad_scores.squad_v2(gold, predictions, dict(na_probs, q4=1.5))
    assert thresholded["NoAns_exact"] == 100.0
    # v2.0 leaves a missing prediction out of the count.
    assert squad_scores.squad_v2(gold, {"q1": "Paris"})["total"] == 1


def test_written_file_reads_back(tmp_path):
    examples = SquadExamples(["x"], ["q?"], ["An answer here."], [[("answer", 3)]], [False])
    again = read_squad(write_squad(str(tmp_path / "w.json"), examples))
    assert again.answers == [[("answer", 3)]] and again.version == "1.1"

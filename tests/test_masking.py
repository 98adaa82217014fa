import numpy as np
import tensorflow as tf

from pipelines.masking import MaskedLMMasker

CLS, SEP, PAD, MASK = 2, 3, 0, 4
SPECIAL = [PAD, CLS, SEP, MASK]


def packed(rows):
    """[CLS] row [SEP] padded with [PAD] to a common length."""
    width = max(len(r) for r in rows) + 2
    return np.array([[CLS] + r + [SEP] + [PAD] * (width - len(r) - 2) for r in rows], "int32")


def test_exact_output_with_full_selection_and_masking():
    masker = MaskedLMMasker(
        50,
        MASK,
        SPECIAL,
        max_predictions=6,
        selection_rate=1.0,
        mask_token_rate=1.0,
        random_token_rate=0.0,
    )
    ids = packed([[10, 11, 12], [20, 21, 22, 23, 24]])
    out = masker(ids, tf.constant([0, 1]))
    np.testing.assert_array_equal(out["token_ids"], [[2, 4, 4, 4, 3, 0, 0], [2, 4, 4, 4, 4, 4, 3]])
    np.testing.assert_array_equal(out["mask_positions"], [[1, 2, 3, 0, 0, 0], [1, 2, 3, 4, 5, 0]])
    np.testing.assert_array_equal(out["mask_ids"], [[10, 11, 12, 0, 0, 0], [20, 21, 22, 23, 24, 0]])
    np.testing.assert_array_equal(out["mask_weights"], [[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]])


def test_number_of_predictions_follows_the_formula():
    masker = MaskedLMMasker(500, MASK, SPECIAL, max_predictions=20)
    for n, expected in [(1, 1), (3, 1), (7, 1), (10, 2), (100, 15), (200, 20)]:
        ids = packed([list(range(100, 100 + n))])
        out = masker(ids, tf.constant([n, 0]))
        assert int(out["mask_weights"].numpy().sum()) == expected, n


def test_specials_are_never_chosen_and_positions_are_sorted():
    masker = MaskedLMMasker(50, MASK, SPECIAL, max_predictions=5, selection_rate=0.5)
    ids = packed([[10, 11, 12, 13], [20, 21], [30, 31, 32, 33, 34, 35, 36]])
    for seed in range(30):
        out = masker(ids, tf.constant([seed, 3]))
        weights = out["mask_weights"].numpy() > 0
        positions = out["mask_positions"].numpy()
        chosen = np.take_along_axis(ids, positions, 1)[weights]
        assert not np.isin(chosen, SPECIAL).any()
        for row, w in zip(positions, weights):
            assert list(row[w]) == sorted(row[w])


def test_rates_match_bert_on_thousands_of_sequences():
    vocab = 1000
    masker = MaskedLMMasker(vocab, MASK, SPECIAL, max_predictions=40)
    rng = np.random.default_rng(0)
    ids = packed([list(rng.integers(10, vocab, 100)) for _ in range(4000)])
    out = masker(ids, tf.constant([11, 12]))
    weights = out["mask_weights"].numpy() > 0
    assert weights.sum() == 4000 * 15  # 15% of 100 candidates per sequence.
    positions = out["mask_positions"].numpy()
    new = np.take_along_axis(out["token_ids"].numpy(), positions, 1)[weights]
    old = out["mask_ids"].numpy()[weights]
    masked, unchanged = (new == MASK).mean(), (new == old).mean()
    random = 1 - masked - unchanged
    assert abs(masked - 0.8) < 0.01 and abs(random - 0.1) < 0.01 and abs(unchanged - 0.1) < 0.01
    # Nothing outside the chosen positions changes.
    untouched = np.ones_like(ids, bool)
    np.put_along_axis(untouched, positions, False, 1)
    np.testing.assert_array_equal(out["token_ids"].numpy()[untouched], ids[untouched])


def test_whole_word_masking_takes_every_piece():
    continuation = [40, 41, 42]  # "##" pieces.
    masker = MaskedLMMasker(
        50,
        MASK,
        SPECIAL,
        max_predictions=4,
        selection_rate=0.3,
        mask_token_rate=1.0,
        random_token_rate=0.0,
        continuation_ids=continuation,
    )
    words = [[10, 40, 41], [11], [12, 42], [13], [14, 40], [15]]
    ids = packed([sum(words, [])])
    starts = [1, 4, 5, 7, 8, 10]  # Position of each word's first piece.
    for seed in range(40):
        out = masker(ids, tf.constant([seed, 0]))
        masked = out["token_ids"].numpy()[0] == MASK
        for start, word in zip(starts, words):
            span = masked[start : start + len(word)]
            assert span.all() or not span.any(), (seed, word)
        assert 1 <= masked.sum() <= 4


def test_same_seed_same_masks():
    masker = MaskedLMMasker(50, MASK, SPECIAL)
    ids = packed([list(range(10, 40))] * 3)
    a, b = masker(ids, tf.constant([1, 1])), masker(ids, tf.constant([1, 1]))
    c = masker(ids, tf.constant([2, 1]))
    np.testing.assert_array_equal(a["token_ids"], b["token_ids"])
    assert not np.array_equal(a["mask_positions"], c["mask_positions"])

"""The WordPiece vocabulary's threshold search (`vocab_builder.learn`): a vocabulary
within the size band, found with fewer passes of the learner than the library's own
halving search, on sizes that fall as a power of the threshold (as real corpora's do)
and on the real tensorflow-text learner."""

from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

from pipelines.vocab_builder import count_words, learn
from tests.test_cli_pretrain import CORPUS


def power_law(calls, scale, exponent):
    def learn_at(threshold):
        calls.append(threshold)
        return ["t"] * (round(scale * threshold**-exponent) + 120)

    return learn_at


def test_the_search_fits_the_band_in_fewer_passes(monkeypatch):
    words = [("w", 2), ("x", 60_000)]  # The thresholds searched: 2 .. 60,000.
    ours, halving = [], []
    for exponent in (0.6, 1.0):
        for size in (400, 2_000, 8_000):
            vocabulary = learn(words, size, learn_at=power_law(ours, 100_000, exponent))
            assert size * 0.95 <= len(vocabulary) <= size
            sizes = power_law(halving, 100_000, exponent)
            monkeypatch.setattr(learner, "learn_with_thresh", lambda w, t, p, sizes=sizes: sizes(t))
            params = learner.Params(None, 2, 4, None, 50, 1000, size, 0.05, True, "##", [])
            found = learner.learn_binary_search(words, 2, 60_000, params)
            assert size * 0.95 <= len(found) <= size
    assert 2 * len(ours) < len(halving)  # 26 passes of the learner instead of 65.


def test_where_no_threshold_fits_the_largest_vocabulary_within_the_size():
    sizes = {1: 300, 2: 180, 3: 90}  # Nothing between 190 and 200.
    vocabulary = learn([("w", 1), ("x", 3)], 200, min_count=1, learn_at=lambda t: ["t"] * sizes[t])
    assert len(vocabulary) == 180
    assert len(learn([("w", 1), ("x", 3)], 50, 1, learn_at=lambda t: ["t"] * sizes[t])) == 90


def test_the_real_learner_on_the_test_corpus():
    words = [(w.decode(), c) for w, c in count_words(CORPUS, lowercase=True).items()]
    vocabulary = learn(words, 100, min_count=1)
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(vocabulary) <= 100 and len(set(vocabulary)) == len(vocabulary)
    assert "the" in vocabulary

import numpy as np
import tensorflow as tf

from pipelines.next_sentence import make_pairs


def corpus(num_docs, sentences=4, length=5, seed=0):
    """Token = doc * 10000 + sentence * 100 + position: every token says where it came from."""
    rng = np.random.default_rng(seed)
    docs = []
    for d in range(num_docs):
        n = sentences if isinstance(sentences, int) else int(rng.integers(*sentences))
        docs.append([[d * 10000 + s * 100 + p for p in range(length)] for s in range(n)])
    return tf.ragged.constant(docs, dtype=tf.int32, ragged_rank=2)


def origin(token):
    return token // 10000, (token % 10000) // 100, token % 100


def document_order(tokens):
    """[(doc, sentence, position)] of a segment."""
    return [origin(t) for t in tokens]


def is_contiguous(tokens, length=5):
    positions = [(s * length + p) for _, s, p in document_order(tokens)]
    docs = {d for d, _, _ in document_order(tokens)}
    return len(docs) == 1 and positions == list(range(positions[0], positions[0] + len(tokens)))


def test_pairs_are_continuations_or_from_other_documents():
    a, b, labels = make_pairs(corpus(40), max_num_tokens=100, seed=tf.constant([3, 4]))
    assert len(labels) == 40  # One chunk per document: 20 tokens < the target.
    for first, second, label in zip(a.to_list(), b.to_list(), labels.numpy()):
        assert first and second and is_contiguous(first) and is_contiguous(second)
        doc_a, doc_b = origin(first[0])[0], origin(second[0])[0]
        if label == 0:
            assert doc_a == doc_b and second[0] == first[-1] + 100 - 4  # Next sentence.
        else:
            assert doc_a != doc_b


def test_same_seed_same_pairs_other_seed_other_pairs():
    docs = corpus(30, sentences=(2, 7))
    one = make_pairs(docs, 60, tf.constant([1, 2]))
    two = make_pairs(docs, 60, tf.constant([1, 2]))
    other = make_pairs(docs, 60, tf.constant([9, 9]))
    assert one[0].to_list() == two[0].to_list() and one[1].to_list() == two[1].to_list()
    assert (
        one[0].to_list() != other[0].to_list()
        or one[2].numpy().tolist() != other[2].numpy().tolist()
    )


def test_pairs_are_cut_to_the_budget_from_the_longer_segment():
    # Sentences of 20 tokens never fit a budget of 13: A (one sentence) is trimmed.
    a, b, _ = make_pairs(
        corpus(50, sentences=6, length=20),
        max_num_tokens=13,
        seed=tf.constant([5, 6]),
        short_seq_prob=0.0,
    )
    lengths = np.array([[len(x), len(y)] for x, y in zip(a.to_list(), b.to_list())])
    assert (lengths.sum(1) <= 13).all()
    assert (lengths.min(1) >= 1).all()
    cut = lengths.sum(1) == 13
    assert cut.all() and (lengths[:, 0] == 12).all()  # B got its budget of 1 token.
    fronts = np.array([origin(x[0])[2] for x in a.to_list()])
    assert (fronts > 0).any() and (fronts < 8).any()  # Trimmed at random ends.
    assert 2 < fronts.mean() < 6  # Binomial(8, 0.5) tokens off the front on average.
    for segment in a.to_list() + b.to_list():
        assert is_contiguous(segment, length=20)


def test_next_sentence_rate_is_half():
    _, _, labels = make_pairs(corpus(3000), 100, tf.constant([7, 7]))
    assert abs(labels.numpy().mean() - 0.5) < 0.03


def test_short_seq_prob_shortens_targets():
    docs = corpus(300, sentences=20, length=5)
    long = make_pairs(docs, 60, tf.constant([1, 1]), short_seq_prob=0.0)
    short = make_pairs(docs, 60, tf.constant([1, 1]), short_seq_prob=1.0)

    def mean(p):
        return np.mean([len(x) + len(y) for x, y in zip(p[0].to_list(), p[1].to_list())])

    assert mean(short) < 0.8 * mean(long)


def test_sentence_order_swaps_half_of_the_continuations():
    a, b, labels = make_pairs(corpus(2000), 100, tf.constant([2, 3]), sentence_order=True)
    assert abs(labels.numpy().mean() - 0.5) < 0.04
    for first, second, label in list(zip(a.to_list(), b.to_list(), labels.numpy()))[:200]:
        assert origin(first[0])[0] == origin(second[0])[0]
        earlier, later = (second, first) if label == 1 else (first, second)
        assert later[0] == earlier[-1] + 100 - 4


def test_single_document_batch_gives_only_continuations():
    _, _, labels = make_pairs(corpus(1, sentences=30), 12, tf.constant([1, 2]))
    assert len(labels) > 0 and labels.numpy().max() == 0

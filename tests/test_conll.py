"""CoNLL-2003: the column reader, tag schemes and entity spans against seqeval, entity
scores against seqeval, and word-piece windows that label every word exactly once."""

import os

import numpy as np
import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities

from keras_bert.metrics.entity_scores import entity_scores
from pipelines import BertTokenizer, tag_schemes
from pipelines.conll import read_conll, write_conll
from pipelines.token_labels import TokenLabeler
from tests.conftest import DATA, SHARED_SAMPLES

IOB1_FILE = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
to TO B-VP O
boycott VB I-VP O
British JJ B-NP I-MISC
lamb NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

In IN B-PP O
Sweden NNP B-NP I-LOC
Stockholm NNP I-NP B-LOC
"""


def _write(tmp_path, text, name="train.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_reader_detects_iob1_and_converts(tmp_path):
    data = read_conll(_write(tmp_path, IOB1_FILE))
    assert data.scheme == "iob1" and len(data) == 3
    assert data.words[1] == ["Peter", "Blackburn"] and data.lines == [3, 13, 18]
    assert data.tags[2] == ["O", "I-LOC", "B-LOC"]
    iob2 = read_conll(data.source, scheme="iob2")
    assert iob2.tags[2] == ["O", "B-LOC", "B-LOC"] and iob2.tags[1] == ["B-PER", "I-PER"]
    iobes = read_conll(data.source, scheme="iobes")
    assert iobes.tags[1] == ["B-PER", "E-PER"] and iobes.tags[2] == ["O", "S-LOC", "S-LOC"]
    assert read_conll(_write(tmp_path, "a B-X\nb E-X\n", "e.txt")).scheme == "iobes"


def test_reader_errors_name_file_and_line(tmp_path):
    bad_tag = _write(tmp_path, "EU NNP I-ORG\nrejects VBZ X-VERB\n", "bad.txt")
    with pytest.raises(ValueError, match=r"bad.txt:2: unknown tag 'X-VERB'"):
        read_conll(bad_tag)
    columns = _write(tmp_path, "EU NNP B-NP I-ORG\nrejects O\n", "cols.txt")
    with pytest.raises(ValueError, match=r"cols.txt:2: 2 columns where the file has 4"):
        read_conll(columns)
    with pytest.raises(ValueError, match=r"empty.txt: no sentences"):
        read_conll(_write(tmp_path, "-DOCSTART- O\n\n", "empty.txt"))
    sample = read_conll(os.path.join(SHARED_SAMPLES, "conll/sample.jsonl"))
    assert sample.scheme == "iob2" and sample.words[1] == ["CHICAGO", "AT", "ATLANTA"]


def _random_tags(rng, length, scheme):
    """Tag sequences including ill-formed ones (I- after O, types switching mid-entity)."""
    prefixes = {"iob1": "BIO", "iob2": "BIO", "iobes": "BIESO"}[scheme]
    tags = []
    for _ in range(length):
        p = rng.choice(list(prefixes), p=None)
        tags.append("O" if p == "O" else f"{p}-{rng.choice(['PER', 'LOC', 'ORG'])}")
    return tags


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "iobes"])
def test_entities_match_seqeval_on_random_tags(scheme):
    rng = np.random.default_rng(len(scheme))
    for _ in range(400):
        tags = _random_tags(rng, int(rng.integers(1, 12)), scheme)
        assert tag_schemes.entities(tags) == get_entities(tags), tags


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "iobes"])
def test_schemes_round_trip_entities(scheme):
    rng = np.random.default_rng(5)
    for _ in range(200):
        spans = tag_schemes.entities(_random_tags(rng, 10, "iob2"))
        tags = tag_schemes.to_tags(spans, 10, scheme)
        assert tag_schemes.entities(tags) == spans
        assert tag_schemes.detect_scheme([tags]) in (
            {"iob1", "iob2"} if scheme != "iobes" else {"iobes", "iob2"}
        )


def test_hand_worked_conlleval_rules():
    assert tag_schemes.entities(["O", "I-PER", "I-PER"]) == [("PER", 1, 2)]  # I after O
    assert tag_schemes.entities(["B-PER", "I-LOC"]) == [("PER", 0, 0), ("LOC", 1, 1)]
    assert tag_schemes.entities(["I-ORG", "B-ORG", "I-ORG"]) == [("ORG", 0, 0), ("ORG", 1, 2)]
    gold = [tag_schemes.entities(["B-PER", "I-PER", "O", "B-LOC"])]
    # Boundaries must match: a shorter PER is wrong, the LOC is right.
    out = entity_scores(gold, [tag_schemes.entities(["B-PER", "O", "O", "B-LOC"])])
    assert out["precision"] == 0.5 and out["recall"] == 0.5
    assert out["per_type"]["PER"]["f1"] == 0.0 and out["per_type"]["LOC"]["f1"] == 1.0


@pytest.mark.parametrize("scheme", ["iob1", "iob2"])
def test_entity_scores_match_seqeval(scheme):
    rng = np.random.default_rng(11)
    gold = [_random_tags(rng, int(rng.integers(1, 15)), scheme) for _ in range(300)]
    predicted = [
        [t if rng.random() < 0.7 else _random_tags(rng, 1, scheme)[0] for t in s] for s in gold
    ]
    ours = entity_scores(
        [tag_schemes.entities(s) for s in gold], [tag_schemes.entities(s) for s in predicted]
    )
    assert ours["precision"] == pytest.approx(precision_score(gold, predicted))
    assert ours["recall"] == pytest.approx(recall_score(gold, predicted))
    assert ours["f1"] == pytest.approx(f1_score(gold, predicted))
    report = classification_report(gold, predicted, output_dict=True)
    for kind, scores in ours["per_type"].items():
        for name in ("precision", "recall", "f1"):
            key = "f1-score" if name == "f1" else name
            assert scores[name] == pytest.approx(report[kind][key]), (kind, name)
        assert scores["support"] == report[kind]["support"]


@pytest.fixture(scope="module")
def tokenizer():
    return BertTokenizer(os.path.join(DATA, "vocab.txt"), lowercase=True)


def test_windows_label_every_word_once_and_decode_back(tokenizer):
    names = tag_schemes.label_names(["LOC", "PER"], "iob2")
    labeler = TokenLabeler(tokenizer, names, sequence_length=9)
    # 'unwanted' is 3 pieces; '\x07' is dropped by the tokenizer and becomes [UNK].
    words = [
        [
            "Istanbul",
            "unwanted",
            "running",
            "\x07",
            "news",
            "the",
            "dog",
            "Café",
            "unwanted",
            "straße",
            "market",
        ],
        ["dog"],
    ]
    tags = [["B-LOC", "O", "O", "B-PER", "O", "O", "O", "B-PER", "I-PER", "O", "B-LOC"], ["O"]]
    w = labeler.windows(words, tags)
    assert len(w["token_ids"]) > 3  # the long sentence needs several windows
    seen = sorted(
        (int(w["sentence_index"][r]), int(i))
        for r, i in zip(*np.nonzero(w["word_index"] >= 0))
        for i in [w["word_index"][r, i]]
    )
    assert seen == [(0, i) for i in range(11)] + [(1, 0)]
    assert (w["sample_weight"] == (w["word_index"] >= 0)).all()
    unk = w["token_ids"][w["word_index"] == 3]
    assert unk.tolist() == [tokenizer.unk_id]
    # Windows break between words: no window starts with a continuation piece.
    for row in range(len(w["token_ids"])):
        assert w["word_index"][row, 1] >= 0
    # Labels as predictions decode to the gold tags.
    assert labeler.word_tags(w, w["labels"], [11, 1]) == tags


def test_unknown_tag_for_the_model_names_the_sentence(tokenizer):
    labeler = TokenLabeler(tokenizer, ["O", "B-LOC", "I-LOC"], 16)
    with pytest.raises(ValueError, match=r"dev.txt:7: tag 'B-PER' is not one of the model"):
        labeler.windows([["Peter"]], [["B-PER"]], where=["dev.txt:7"])


def test_written_file_is_what_conlleval_reads(tmp_path):
    path = write_conll(
        str(tmp_path / "out.txt"),
        [["EU", "rejects"], ["Peter"]],
        [["B-ORG", "O"], ["B-PER"]],
        [["B-ORG", "O"], ["O"]],
    )
    assert open(path).read() == "EU B-ORG B-ORG\nrejects O O\n\nPeter B-PER O\n\n"


def test_graph_entity_decoding_matches_python_rules():
    import tensorflow as tf

    from pipelines.entity_decoding import entity_spans

    names = tag_schemes.label_names(["LOC", "ORG", "PER"], "iobes")
    rng = np.random.default_rng(3)
    sentences = [list(rng.integers(0, len(names), rng.integers(0, 12))) for _ in range(300)]
    types, first, last, kinds = entity_spans(tf.ragged.constant(sentences, tf.int32), names)
    got = [
        [(kinds[t], a, b) for t, a, b in zip(*row)]
        for row in zip(types.to_list(), first.to_list(), last.to_list())
    ]
    assert got == [tag_schemes.entities([names[i] for i in s]) for s in sentences]
